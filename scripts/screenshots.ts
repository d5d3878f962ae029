/**
 * Generates the README's screenshots of the emulator console (docs/assets/console-*.png): starts the built
 * emulator, sets up integrations, keys, Altinn data and a fault, sends real requests (a token, a refused grant, a
 * request meeting an injected 503 and its retry), drives the page in Debian's chromium, and captures each view.
 *
 * Run: `npm run build && npx node scripts/screenshots.ts` (or `npm run screenshots`). Never edit the images by hand.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startEmulator } from '../src/emulator/index.ts';
import { MaskinportenClient } from '../src/index.ts';
import { importPrivateJwk } from '../src/keys/jwk.ts';
import { signCompact } from '../src/keys/jws.ts';

const OUT = fileURLToPath(new URL('../docs/assets/', import.meta.url));
const DAY_MS = 86_400_000;

mkdirSync(OUT, { recursive: true });
const emulator = await startEmulator();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const scope = 'altinn:serviceowner/notifications.create';
  const app = await emulator.createClient({ scopes: [scope], clientName: 'Notifications sender' });
  // A second integration whose key is close to its expiry: registered 340 days ago on the emulator's clock.
  emulator.clock.advance(-340 * DAY_MS);
  await emulator.createClient({ scopes: ['test:reports.read'], clientName: 'Nightly report job', orgNo: '910000001' });
  emulator.clock.setOffset(0);
  emulator.defineScope({ name: scope, atMaxAge: 120, description: 'Send notifications' });
  emulator.addDelegation({ consumerOrg: '910000001', supplierOrg: '991825827', scope });
  emulator.addSystemUser({ org: '910000002', clientIds: [app.clientId], externalRef: 'accounting' });
  emulator.addConsent({ from: 'urn:altinn:person:identifier-no:01017012345', toOrg: '991825827' });

  const client = new MaskinportenClient(app.settings);
  await client.getAccessToken({ scopes: [scope] });
  // A grant with the token endpoint as its audience, as a common mistake has it.
  const now = Math.floor(emulator.clock.now() / 1000);
  const grant = signCompact(
    { alg: 'RS256', kid: app.kid! },
    { aud: 'https://example.com/token', iss: app.clientId, scope, iat: now, exp: now + 60, jti: crypto.randomUUID() },
    importPrivateJwk(app.privateJwk!),
  );
  await fetch(emulator.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: grant }),
  });
  emulator.faults.add({ endpoint: 'token', status: 503, retryAfter: 0, times: 1 });
  await client.getAccessToken({ scopes: [scope] }, { forceRefresh: true });
  emulator.faults.add({ endpoint: 'exchange', latencyMs: 1500 });

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const shot = async (view: string, name: string) => {
    await page.goto(`${emulator.url}/#${view}`);
    await page.locator(`#${view}:not([hidden])`).waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: `${OUT}console-${name}.png`, fullPage: false });
  };
  await shot('integrations', 'integrations');
  await page.goto(`${emulator.url}/#requests`);
  await page.getByText('live', { exact: true }).waitFor();
  // Open the refused request's decoded grant, as a reader would.
  await page.locator('li.entry.error').first().locator('summary').click();
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: `${OUT}console-requests.png` });
  await shot('altinn', 'altinn');
  await shot('faults', 'faults');
  await page.goto(`${emulator.url}/#try`);
  await page.locator('form[data-try] select[name=clientId]').selectOption(app.clientId);
  await page.getByRole('button', { name: 'Get a token' }).click();
  await page.locator('.try-result').waitFor();
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: `${OUT}console-try.png` });
  console.log(`screenshots: wrote ${OUT}console-{integrations,requests,altinn,faults,try}.png`);
} finally {
  await browser.close();
  await emulator.close();
}
