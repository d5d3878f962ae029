/**
 * The logger hook (pino-compatible, silent by default) and telemetry switches: the logger hears about fetches,
 * retries, background refresh failures and the discovery fallback, and no entry ever carries a token, a grant or a
 * key.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { inspect } from 'node:util';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { PRIVATE_MEMBERS } from '../../src/keys/jwk.ts';
import { createTelemetry, noTelemetry } from '../../src/telemetry.ts';
import type { AccessToken } from '../../src/token.ts';
import {
  count,
  FakeClock,
  flush,
  grants,
  recordingLogger,
  recordingRetryHooks,
  rejectsWith,
  waitFor,
} from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

const SCOPE = ['altinn:serviceowner/notifications.create'];

describe('client logger and telemetry', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock, resetEach: true });
  const created = useClient(emulator, { scopes: ['a', ...SCOPE] });

  const client = (options: MaskinportenClientOptions = {}) =>
    new MaskinportenClient(created.settings, { clock, retryHooks: recordingRetryHooks().retryHooks, ...options });

  it('tells the logger about fetches, retries, refresh failures and the discovery fallback — without secrets', async () => {
    const logger = recordingLogger();
    const tokens: AccessToken[] = [];
    emulator.faults.add({ endpoint: 'discovery', status: 500, times: 1 });
    emulator.faults.add({ endpoint: 'token', status: 503, times: 1 });
    const c = client({ logger });
    tokens.push(await c.getAccessToken(['a']));
    tokens.push(await c.getAltinnExchangedToken(SCOPE));

    emulator.faults.add({ endpoint: 'token', status: 500 });
    clock.advance(tokens[0]!.issuedAt.getTime() + 95_000 - clock.now());
    const failed = logger.next('warn', /background token refresh failed/);
    tokens.push(await c.getAccessToken(['a']));
    await failed;

    const messages = logger.entries.map((e) => `${e.level}: ${e.msg}`);
    assert.ok(messages.includes('warn: discovery failed; using the authority as issuer'), messages.join('\n'));
    assert.ok(messages.includes('debug: retrying the token request'));
    assert.ok(messages.includes('debug: fetched a Maskinporten token'));
    assert.ok(messages.includes('warn: background token refresh failed; serving the cached token'));

    const fetched = logger.entries.find((e) => e.msg === 'fetched a Maskinporten token')!;
    assert.equal(fetched.obj.clientId, created.clientId);
    assert.deepEqual(fetched.obj.scopes, ['a']);
    assert.equal(typeof fetched.obj.expiresAt, 'string');
    const retry = logger.entries.find((e) => e.msg === 'retrying the token request')!;
    assert.equal(retry.obj.attempt, 2);
    const refresh = logger.entries.find((e) => e.msg?.startsWith('background'))!;
    assert.equal((refresh.obj.err as { code: string }).code, 'ERR_SERVER');
    assert.equal((refresh.obj.err as { status: number }).status, 500);

    // Nothing secret in any entry, however it is rendered.
    const rendered = [JSON.stringify(logger.entries), inspect(logger.entries, { depth: null })];
    const secrets: string[] = [];
    for (const t of tokens) secrets.push(t.value, t.value.split('.')[2]!.slice(0, 30));
    for (const m of PRIVATE_MEMBERS) {
      const v = (created.privateJwk as unknown as Record<string, unknown>)[m];
      if (typeof v === 'string') secrets.push(v.slice(0, 30));
    }
    secrets.push(created.jwkBase64!.slice(40, 80));
    for (const g of grants(emulator)) secrets.push(g.claims.jti as string);
    for (const text of rendered) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `a log entry contains a secret: ${secret}`);
    }
  });

  it('works with a logger that has only some methods, or none', async () => {
    const warns: unknown[] = [];
    emulator.faults.add({ endpoint: 'discovery', status: 500, times: 1 });
    await client({ logger: { warn: (obj) => warns.push(obj) } }).getAccessToken(['a']);
    assert.equal(warns.length, 1);
    emulator.faults.add({ endpoint: 'discovery', status: 500, times: 1 });
    await client({ logger: {} }).getAccessToken(['a']);
  });

  it('is silent by default: nothing reaches the console', async (t) => {
    const calls: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      t.mock.method(console, method, () => calls.push(method));
    }
    emulator.faults.add({ endpoint: 'discovery', status: 500, times: 1 });
    emulator.faults.add({ endpoint: 'token', status: 503, times: 1 });
    const c = client({ retry: { maxAttempts: 2 } });
    const token = await c.getAccessToken(['a']);
    emulator.faults.add({ endpoint: 'token', status: 500 });
    clock.advance(token.issuedAt.getTime() + 100_000 - clock.now());
    await c.getAccessToken(['a']); // starts a background refresh that fails twice
    await rejectsWith(c.getAccessToken(['b']), 'ERR_SERVER');
    await waitFor(() => count(emulator, 'token') === 6, 'the failed background refresh');
    await flush();
    mock.restoreAll();
    assert.deepEqual(calls, []);
  });

  it('runs with telemetry off, or on without @opentelemetry/api installed', async () => {
    for (const telemetry of [false, true, undefined]) {
      const c = client(telemetry === undefined ? {} : { telemetry });
      assert.ok((await c.getAccessToken(['a'])).value);
      await rejectsWith(c.getAccessToken(['nope']), 'ERR_INVALID_SCOPE');
    }
    const off = createTelemetry(false, '0.0.0');
    assert.equal(off, noTelemetry);
    assert.equal(await off.span('x', {}, async () => 42), 42);
    const lazy = createTelemetry(undefined, '0.0.0');
    await flush();
    assert.equal(await lazy.span('x', {}, async () => 7), 7, 'a no-op when the optional peer is missing');
    lazy.count('token', 'new');
  });
});
