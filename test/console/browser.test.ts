/**
 * The emulator console in a real browser (Debian's chromium through playwright-core, one browser for the file):
 * create an integration in the page, generate and register a key, get a token with the built CLI using that key and
 * see the request arrive live, inject a 503 from the page and see the CLI's retry, set up Altinn data, move the
 * clock, try a token and its exchange — and check that no page ever holds key material or a token.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Emulator } from '../../src/emulator/index.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { secrets } from '../setup/canary.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLI = join(ROOT, 'dist/cli/main.js');
const CHROMIUM = '/usr/bin/chromium';
const LIVE = { timeout: 15_000 };

/** Runs `maskinporten token …` (the built CLI); resolves with its exit code and output, never printing either. */
function cliToken(emulator: Emulator, clientId: string, keyFile: string, scope: string) {
  // No token cache: each run must ask the emulator (the second meets the injected 503).
  const args = ['token', '--no-cache', '--authority', emulator.issuer, '--client-id', clientId, '--key-file', keyFile];
  const child = spawn(NODE, [CLI, ...args, '--scope', scope], {
    cwd: ROOT,
    env: { PATH: dirname(NODE), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('exit', (code) => res({ code, stdout, stderr })),
  );
}

describe('emulator console in chromium', { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is not installed` }, () => {
  const emulator = useEmulator();
  let browser: Browser;
  let page: Page;
  let clientId = '';
  let keyFile = '';
  const dir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  /** Every request body the page sent, to show what never left it. */
  const sent: string[] = [];
  /** Every page and fragment the browser loaded, and every event it received. */
  const seen: string[] = [];

  before(async () => {
    assert.ok(existsSync(CLI), 'build first: npm run build');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const context = await browser.newContext({ acceptDownloads: true });
    page = await context.newPage();
    page.on('request', (req) => {
      const body = req.postData();
      if (body) sent.push(body);
    });
    page.on('response', (res) => {
      const type = res.headers()['content-type'] ?? '';
      if (type.startsWith('text/html') || type.startsWith('text/event-stream'))
        res.text().then(
          (t) => seen.push(t),
          () => undefined,
        );
    });
    page.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
    await page.goto(`${emulator.url}/`);
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every view's current markup, as the browser holds it. */
  async function everyView(): Promise<string> {
    const parts: string[] = [];
    for (const view of ['integrations', 'requests', 'altinn', 'faults', 'try']) {
      await page.goto(`${emulator.url}/#${view}`);
      parts.push(await page.content());
    }
    return parts.join('\n');
  }

  test('create an integration in the page', async () => {
    const create = page.locator('form[data-create-client]');
    await create.getByLabel('Name', { exact: true }).fill('Browser integration');
    await create.getByLabel('Scopes (space-separated)', { exact: true }).fill('test:browser');
    await create.getByRole('button', { name: 'Create integration' }).click();
    const article = page.locator('article.integration', { hasText: 'Browser integration' });
    await article.waitFor(LIVE);
    clientId = (await article.locator('code.client-id').textContent()) ?? '';
    assert.equal(emulator.getClient(clientId)?.clientName, 'Browser integration');
    assert.deepEqual(emulator.getClient(clientId)?.scopes, ['test:browser']);
    assert.equal(await article.locator('.key-count').textContent(), '0 of 5');
  });

  test('a pasted private JWK is refused with the reason and never sent', async () => {
    const article = page.locator('article.integration', { hasText: 'Browser integration' });
    await article.getByText('Add a key').click();
    const { generateRsaKeyPair } = await import('../../src/keys/jwk.ts');
    const { privateJwk } = await generateRsaKeyPair();
    await article.getByLabel('Public JWK (JSON)', { exact: true }).fill(JSON.stringify(privateJwk));
    await article.getByRole('button', { name: 'Register pasted key' }).click();
    await article.getByRole('alert').filter({ hasText: 'Refused: this is a private key' }).waitFor(LIVE);
    assert.ok(!sent.some((body) => body.includes(privateJwk.d)));
    assert.equal(emulator.getClient(clientId)!.keys.length, 0);
  });

  test('generate a key pair in the browser: public half registered, private half downloaded', async () => {
    const article = page.locator('article.integration', { hasText: 'Browser integration' });
    const download = page.waitForEvent('download');
    await article.getByRole('button', { name: 'Generate a key pair in the browser' }).click();
    const file = await download;
    keyFile = join(dir, file.suggestedFilename());
    await file.saveAs(keyFile);
    const jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, string>;
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) secrets.register(jwk[member], `browser key ${member}`);
    await page.locator('article.integration', { hasText: jwk.kid! }).waitFor(LIVE);
    const keys = emulator.getClient(clientId)!.keys;
    assert.deepEqual(
      keys.map((k) => k.jwk.kid),
      [jwk.kid],
    );
    assert.equal(keys[0]!.jwk.n, jwk.n);
    assert.ok(!sent.some((body) => body.includes(jwk.d!)), 'the private half was sent');
  });

  test('a token from the CLI with that key appears live in Requests', async () => {
    await page.goto(`${emulator.url}/#requests`);
    await page.getByText('live', { exact: true }).waitFor(LIVE);
    const run = await cliToken(emulator, clientId, keyFile, 'test:browser');
    assert.equal(run.code, 0, run.stderr);
    secrets.register(run.stdout.trim(), 'CLI token');
    const entry = page.locator(`li.entry[data-endpoint="token"][data-client="${clientId}"][data-outcome="ok"]`);
    await entry.first().waitFor(LIVE);
    await entry.first().getByText('Grant header and claims').click();
    const claims = JSON.parse((await entry.first().locator('pre.grant-claims').textContent())!) as Record<
      string,
      unknown
    >;
    assert.equal(claims.iss, clientId);
    assert.equal(claims.scope, 'test:browser');
  });

  test('filters by client, endpoint and outcome', async () => {
    await page.locator('form[data-filters] select[name=endpoint]').selectOption('discovery');
    const visible = page.locator('li.entry:visible');
    assert.ok((await visible.count()) >= 1);
    for (const endpoint of await visible.evaluateAll((els) => els.map((e) => e.getAttribute('data-endpoint'))))
      assert.equal(endpoint, 'discovery');
    assert.match(page.url(), /endpoint=discovery/);
    await page.locator('form[data-filters] select[name=endpoint]').selectOption('');
    await page.locator('form[data-filters] select[name=client]').selectOption(clientId);
    await page.locator('form[data-filters] select[name=outcome]').selectOption('error');
    assert.equal(await page.locator('li.entry:visible').count(), 0);
    await page.locator('form[data-filters] select[name=client]').selectOption('');
    await page.locator('form[data-filters] select[name=outcome]').selectOption('');
  });

  test('a 503 injected from the page: the CLI’s retry shows in the log', async () => {
    await page.goto(`${emulator.url}/#faults`);
    const form = page.locator('form', { hasText: 'Inject a fault' });
    await form.locator('select[name=endpoint]').selectOption('token');
    await form.getByLabel('Status', { exact: true }).fill('503');
    await form.getByLabel('Times', { exact: true }).fill('1');
    await form.getByRole('button', { name: 'Inject fault' }).click();
    await page.locator('tr[data-fault-id]', { hasText: 'status 503' }).waitFor(LIVE);
    assert.equal(emulator.faults.list()[0]?.status, 503);
    await page.goto(`${emulator.url}/#requests`);
    const run = await cliToken(emulator, clientId, keyFile, 'test:browser');
    assert.equal(run.code, 0, run.stderr);
    secrets.register(run.stdout.trim(), 'CLI token');
    const fault = page.locator('li.entry[data-endpoint="token"][data-outcome="fault"]');
    await fault.first().waitFor(LIVE);
    assert.match((await fault.first().textContent()) ?? '', /503[\s\S]*status 503[\s\S]*retries/);
    // The retry: the newest token entry is a success that came after the fault.
    const order = await page
      .locator('li.entry[data-endpoint="token"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
    assert.deepEqual(order.slice(0, 2), ['ok', 'fault']);
    assert.deepEqual(emulator.faults.list(), []);
  });

  test('scopes, delegations, system users and consents are created from the page', async () => {
    await page.goto(`${emulator.url}/#altinn`);
    const scope = page.locator('form', { hasText: 'Define a scope' });
    await scope.getByLabel('Name', { exact: true }).fill('test:open');
    await scope.getByLabel('Open to all clients', { exact: true }).check();
    await scope.getByRole('button', { name: 'Define scope' }).click();
    await page.locator('td', { hasText: 'test:open' }).waitFor(LIVE);
    const delegation = page.locator('form', { hasText: 'Add a delegation' });
    await delegation.getByLabel('Consumer organisation', { exact: true }).fill('910000001');
    await delegation.getByLabel('Supplier organisation', { exact: true }).fill('991825827');
    await delegation.getByLabel('Scope', { exact: true }).fill('test:browser');
    await delegation.getByRole('button', { name: 'Add delegation' }).click();
    await page.locator('td', { hasText: '910000001' }).waitFor(LIVE);
    const user = page.locator('form', { hasText: 'Add a system user' });
    await user.getByLabel('Party organisation', { exact: true }).fill('910000002');
    await user.locator('select[name=clientIds]').selectOption(clientId);
    await user.getByRole('button', { name: 'Add system user' }).click();
    await page.locator('td', { hasText: '910000002' }).waitFor(LIVE);
    const consent = page.locator('form', { hasText: 'Add a consent' });
    await consent.getByLabel('From (party URN)', { exact: true }).fill('urn:altinn:person:identifier-no:01017012345');
    await consent.getByLabel('To organisation', { exact: true }).fill('991825827');
    await consent.getByRole('button', { name: 'Add consent' }).click();
    await page.locator('td', { hasText: 'urn:altinn:person:identifier-no:01017012345' }).waitFor(LIVE);
    const refused = page.locator('form', { hasText: 'Add a delegation' });
    await refused.getByLabel('Consumer organisation', { exact: true }).fill('12');
    await refused.getByLabel('Supplier organisation', { exact: true }).fill('991825827');
    await refused.getByLabel('Scope', { exact: true }).fill('x');
    // The browser's own check (pattern) stops it first; the server's reason shows when that is bypassed.
    await refused.evaluate((f) => f.setAttribute('novalidate', ''));
    await refused.getByRole('button', { name: 'Add delegation' }).click();
    await refused.getByRole('alert').filter({ hasText: 'consumerOrg must be a nine-digit' }).waitFor(LIVE);
  });

  test('the clock: advancing it shows the key’s 30-day warning; the offset is shown and reset', async () => {
    await page.goto(`${emulator.url}/#faults`);
    const advance = page.locator('form', { hasText: 'Advance the clock' });
    await advance.getByLabel('Advance by (seconds, negative goes back)', { exact: true }).fill(String(340 * 86_400));
    await advance.getByRole('button', { name: 'Advance' }).click();
    await page.locator('[data-clock-offset]', { hasText: `${340 * 86_400_000} ms` }).waitFor(LIVE);
    await page.goto(`${emulator.url}/`);
    await page
      .locator('article.integration', { hasText: 'Browser integration' })
      .locator('.badge.warn', { hasText: /expires in 2\d days/ })
      .waitFor(LIVE);
    await page.goto(`${emulator.url}/#faults`);
    const shift = page.locator('form', { hasText: 'Shift the clock' });
    await shift.getByLabel('Offset from this machine (seconds)', { exact: true }).fill('0');
    await shift.getByRole('button', { name: 'Set offset' }).click();
    await page.locator('[data-clock-offset]', { hasText: /^0 ms$/ }).waitFor(LIVE);
    assert.equal(emulator.clock.offsetMs, 0);
  });

  test('try it: a token with a browser key, then its exchange; only claims are shown', async () => {
    await page.goto(`${emulator.url}/#try`);
    await page.locator('form[data-try] select[name=clientId]').selectOption(clientId);
    await page.getByRole('button', { name: 'Get a token' }).click();
    await page.locator('.try-result', { hasText: 'Maskinporten token claims' }).waitFor(LIVE);
    await page.getByRole('button', { name: 'Exchange for an Altinn token' }).click();
    await page.locator('.try-result', { hasText: 'Altinn token claims' }).waitFor(LIVE);
    const shown = await page.locator('[data-try-result]').textContent();
    assert.match(shown ?? '', new RegExp(`"client_id": "${clientId}"`));
    // The try-it key was registered for the request only.
    assert.equal(emulator.getClient(clientId)!.keys.length, 1);
  });

  test('keyboard: the views are reached with Tab and Enter; every field has a label', async () => {
    await page.goto(`${emulator.url}/`);
    await page.keyboard.press('Tab'); // skip link
    let reached = false;
    for (let i = 0; i < 10 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await page.evaluate('document.activeElement?.textContent')) === 'Faults & clock';
    }
    assert.ok(reached, 'the Faults & clock link is not reachable by Tab');
    await page.keyboard.press('Enter');
    await page.locator('#faults:not([hidden])').waitFor(LIVE);
    assert.equal(await page.evaluate('document.activeElement?.id'), 'h-faults');
    const unlabelled = await page.evaluate(`Array.from(document.querySelectorAll('input, select, textarea'))
      .filter((el) => !el.labels?.length && !el.getAttribute('aria-label'))
      .map((el) => el.outerHTML)`);
    assert.deepEqual(unlabelled, []);
  });

  test('contrast: text meets WCAG AA (4.5:1) against its background in every view, light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.goto(`${emulator.url}/`);
      // Run in the page (as a string: the tests are type-checked without the DOM's types).
      const low = await page.evaluate(`(() => {
      const rgb = (c) => (c.match(/[\\d.]+/g) ?? []).map(Number);
      const channel = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
      const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      const background = (el) => {
        for (; el; el = el.parentElement) {
          const c = rgb(getComputedStyle(el).backgroundColor);
          if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      for (const view of document.querySelectorAll('section.view')) view.hidden = false;
      const failures = [];
      for (const el of document.querySelectorAll('h1, h2, h3, p, dt, dd, td, th, label, a, button, .badge, code, summary')) {
        if (!el.textContent.trim() || el.disabled) continue;
        const a = lum(rgb(getComputedStyle(el).color));
        const b = lum(background(el));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) failures.push(ratio.toFixed(2) + ': ' + el.outerHTML.slice(0, 80));
      }
      return failures;
    })()`);
      assert.deepEqual(low, [], colorScheme);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('without JavaScript every list reads, and the request filters are a plain form', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const bare = await context.newPage();
      await bare.goto(`${emulator.url}/`);
      for (const heading of ['Integrations', 'Requests', 'Delegations', 'System users', 'Consents', 'Faults', 'Clock'])
        assert.ok(await bare.getByRole('heading', { name: heading, exact: true }).isVisible(), heading);
      assert.ok(await bare.locator('article.integration', { hasText: 'Browser integration' }).isVisible());
      assert.equal(await bare.getByRole('button', { name: 'Create integration' }).isVisible(), false);
      await bare.locator('form[data-filters] select[name=endpoint]').selectOption('token');
      await bare.getByRole('button', { name: 'Filter' }).click();
      await bare.waitForURL(/endpoint=token/);
      const endpoints = await bare
        .locator('li.entry')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-endpoint')));
      assert.ok(endpoints.length > 0);
      assert.deepEqual([...new Set(endpoints)], ['token']);
    } finally {
      await context.close();
    }
  });

  test('deactivate from the page', async () => {
    await page.goto(`${emulator.url}/`);
    await page.getByRole('button', { name: 'Deactivate Browser integration' }).click();
    await page
      .locator('article.integration', { hasText: 'Browser integration' })
      .waitFor({ state: 'detached', ...LIVE });
    assert.equal(emulator.getClient(clientId)!.active, false);
  });

  test('no page, fragment or event ever held key material or a token', async () => {
    const all = `${await everyView()}\n${seen.join('\n')}`;
    assert.ok(seen.length > 5);
    assert.deepEqual(secrets.kindsIn(all), []);
    assert.ok(!/"d"\s*:/.test(all), 'a private key member is on a page');
    assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(all), 'a JWT is on a page');
    assert.ok(!/-----BEGIN/.test(all));
  });
});
