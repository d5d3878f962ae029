/**
 * Refresh-ahead, driven by a fake clock (timers included) that the emulator and the client share; nothing waits
 * for real time, and "nothing was fetched" is checked once every request has settled, not after a pause. Past the
 * refresh point callers get the cached token at once while exactly one background refresh runs; a failed refresh
 * keeps the valid token in service and is retried with backoff; past expiry minus the margin callers wait for a
 * new token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { count, recordingLogger, recordingRetryHooks, rejectsWith } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { FakeTime } from '../helpers/fake-time.ts';

const SCOPE = ['altinn:serviceowner/notifications.create'];

describe('client refresh-ahead (injected clock)', () => {
  const time = new FakeTime();
  const clock = time.clock;
  const emulator = useEmulator({ time, resetEach: true });
  const created = useClient(emulator, { scopes: ['a', ...SCOPE] });

  const client = (options: MaskinportenClientOptions = {}) =>
    new MaskinportenClient(created.settings, { clock, fetch: time.fetch, ...options });

  it('past the refresh point serves the cached token at once while exactly one background refresh runs', async () => {
    const logger = recordingLogger();
    const c = client({ logger });
    const t = await c.getAccessToken(['a']);
    assert.equal(t.expiresAt.getTime() - t.issuedAt.getTime(), 120_000);
    await time.advance(t.issuedAt.getTime() + 90_000 - 1 - clock.now()); // refresh point: 0.75 × 120 s after iat
    assert.equal(await c.getAccessToken(['a']), t);
    await time.settle();
    assert.equal(count(emulator, 'token'), 1, 'before the refresh point nothing is fetched');

    await time.advance(1);
    const fetched = logger.next('debug', /fetched a Maskinporten token/);
    const served = await Promise.all(Array.from({ length: 200 }, () => c.getAccessToken(['a'])));
    for (const s of served) assert.equal(s, t, 'every caller got the cached token without waiting');
    await fetched;
    await time.settle();
    assert.equal(count(emulator, 'token'), 2, 'exactly one background refresh for 200 callers');
    const next = await c.getAccessToken(['a']);
    assert.notEqual(next, t);
    assert.ok(next.expiresAt > t.expiresAt);
    assert.equal(await c.getAccessToken(['a']), next);
    await time.settle();
    assert.equal(count(emulator, 'token'), 2, 'the fresh token is not refreshed again');
  });

  it('keeps serving the valid token when the refresh fails, retrying with growing backoff', async () => {
    const logger = recordingLogger();
    const c = client({ logger, retry: false });
    const t = await c.getAccessToken(['a']);
    emulator.faults.add({ endpoint: 'token', status: 500 });

    await time.advance(90_000);
    let failed = logger.next('warn', /background token refresh failed/);
    assert.equal(await c.getAccessToken(['a']), t);
    const warning = await failed;
    assert.equal((warning.obj.err as { code?: string }).code, 'ERR_SERVER');
    assert.equal(count(emulator, 'token'), 2);

    // Backoff 1 s, then 2 s, then 4 s: no attempt before each wait is over, exactly one once it is.
    for (const wait of [1000, 2000, 4000]) {
      const before = count(emulator, 'token');
      await time.advance(wait - 1);
      assert.equal(await c.getAccessToken(['a']), t);
      await time.settle();
      assert.equal(count(emulator, 'token'), before, `no retry before ${wait} ms`);
      await time.advance(1);
      failed = logger.next('warn', /background token refresh failed/);
      assert.equal(await c.getAccessToken(['a']), t, 'the still-valid token is served');
      await failed;
      assert.equal(count(emulator, 'token'), before + 1, `one retry after ${wait} ms`);
    }

    emulator.faults.clear();
    await time.advance(8000);
    const fetched = logger.next('debug', /fetched a Maskinporten token/);
    assert.equal(await c.getAccessToken(['a']), t);
    await fetched;
    await time.settle();
    const next = await c.getAccessToken(['a']);
    assert.notEqual(next, t, 'the recovered refresh replaced the token');
    assert.equal(count(emulator, 'token'), 6);
  });

  it('retries inside a background refresh too, without the caller waiting', async () => {
    const logger = recordingLogger();
    const { retryHooks, sleeps } = recordingRetryHooks();
    const c = client({ logger, retryHooks });
    const t = await c.getAccessToken(['a']);
    emulator.faults.add({ endpoint: 'token', status: 503, times: 2 });
    await time.advance(95_000);
    const fetched = logger.next('debug', /fetched a Maskinporten token/);
    assert.equal(await c.getAccessToken(['a']), t);
    await fetched;
    await time.settle();
    assert.equal(count(emulator, 'token'), 4, 'the first fetch, two failed attempts, the success');
    assert.equal(sleeps.length, 2);
    assert.notEqual(await c.getAccessToken(['a']), t);
  });

  it('past expiry minus the margin makes callers wait for a new token (and fail if there is none)', async () => {
    const logger = recordingLogger();
    const c = client({ logger, retry: false });
    const t = await c.getAccessToken(['a']);
    emulator.faults.add({ endpoint: 'token', status: 500 });
    await time.advance(90_000);
    const failed = logger.next('warn', /background token refresh failed/);
    assert.equal(await c.getAccessToken(['a']), t);
    await failed;
    await time.advance(t.expiresAt.getTime() - 10_000 - clock.now()); // exactly at exp − margin
    await rejectsWith(c.getAccessToken(['a']), 'ERR_SERVER');
    emulator.faults.clear();
    const waited = await Promise.all(Array.from({ length: 100 }, () => c.getAccessToken(['a'])));
    assert.equal(new Set(waited).size, 1);
    assert.notEqual(waited[0], t);
    assert.ok(waited[0]!.expiresAt.getTime() - clock.now() >= 119_000, 'a brand-new token');
  });

  it('a caller past the margin joins a background refresh already in flight', async () => {
    const c = client();
    const t = await c.getAccessToken(['a']);
    emulator.faults.add({ endpoint: 'token', latencyMs: 5000, times: 1 });
    await time.advance(t.expiresAt.getTime() - 11_000 - clock.now());
    assert.equal(await c.getAccessToken(['a']), t, 'background refresh started');
    await time.advance(1000); // at exp − 10 s while the refresh is still on its way (its answer takes 5 s)
    assert.equal(time.held, 1, 'the refresh is in flight');
    const next = await time.drive(c.getAccessToken(['a']), 4000, 'the caller past the margin');
    assert.notEqual(next, t);
    assert.equal(count(emulator, 'token'), 2, 'the waiting caller joined the refresh in flight');
  });

  it('honours a configured refresh point, and refreshAhead: 1 turns refresh-ahead off', async () => {
    const logger = recordingLogger();
    const early = client({ cache: { refreshAhead: 0.5 }, logger });
    const t = await early.getAccessToken(['a']);
    await time.advance(t.issuedAt.getTime() + 60_000 - 1 - clock.now());
    await early.getAccessToken(['a']);
    await time.settle();
    assert.equal(count(emulator, 'token'), 1);
    await time.advance(1);
    const fetched = logger.next('debug', /fetched a Maskinporten token/);
    assert.equal(await early.getAccessToken(['a']), t);
    await fetched;
    assert.equal(count(emulator, 'token'), 2);

    emulator.requests.clear();
    const never = client({ cache: { refreshAhead: 1 } });
    const n = await never.getAccessToken(['a']);
    await time.advance(n.expiresAt.getTime() - 10_000 - 1 - clock.now());
    assert.equal(await never.getAccessToken(['a']), n);
    await time.settle();
    assert.equal(count(emulator, 'token'), 1, 'no background refresh before the margin');
  });

  it('refreshes a token whose margin leaves no refresh-ahead room at that fraction of its usable life', async () => {
    // 16 s tokens with the default 10 s margin: usable 6 s, so 0.75 × 16 s would fall past the margin.
    const brief = await emulator.createClient({ scopes: ['a'], accessTokenLifetime: 16 });
    const c = new MaskinportenClient(brief.settings, { clock, fetch: time.fetch });
    const t = await c.getAccessToken(['a']);
    const usableUntil = t.expiresAt.getTime() - 10_000;
    const refreshAt = t.issuedAt.getTime() + 0.75 * (usableUntil - t.issuedAt.getTime());
    await time.advance(refreshAt - 1 - clock.now());
    assert.equal(await c.getAccessToken(['a']), t);
    await time.settle();
    assert.equal(count(emulator, 'token'), 1, 'before the refresh point nothing is fetched');
    await time.advance(1);
    const served = await Promise.all(Array.from({ length: 50 }, () => c.getAccessToken(['a'])));
    for (const s of served) assert.equal(s, t, 'every caller got the cached token without waiting');
    await time.settle();
    assert.equal(count(emulator, 'token'), 2, 'exactly one background refresh');
    assert.notEqual(await c.getAccessToken(['a']), t);
  });

  it('refreshes an Altinn token ahead of its own 30-minute expiry, with a fresh Maskinporten token', async () => {
    const logger = recordingLogger();
    const c = client({ logger });
    const altinn = await c.getAltinnExchangedToken(SCOPE);
    assert.equal(altinn.expiresAt.getTime() - altinn.issuedAt.getTime(), 30 * 60_000);
    await time.advance(20 * 60_000);
    assert.equal(await c.getAltinnExchangedToken(SCOPE), altinn, 'the Maskinporten token expired long ago');
    await time.settle();
    assert.equal(count(emulator, 'exchange'), 1);
    await time.advance(3 * 60_000); // past 22.5 min
    const fetched = logger.next('debug', /fetched a Maskinporten token/);
    assert.equal(await c.getAltinnExchangedToken(SCOPE), altinn);
    await fetched;
    await time.settle();
    assert.equal(count(emulator, 'token'), 2);
    assert.equal(count(emulator, 'exchange'), 2);
    const next = await c.getAltinnExchangedToken(SCOPE);
    assert.notEqual(next, altinn);
  });
});
