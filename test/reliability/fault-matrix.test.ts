/**
 * The fault matrix: the client against a misbehaving Maskinporten and Altinn, driven by the emulator's faults and
 * one `ManualClock` shared by the emulator and the client. Deadlines, per-attempt timeouts, backoff and the
 * emulator's latency all run on that clock, which the harness moves only when nothing else can happen, so no row
 * waits for real time. For every row the caller is served from the cache or gets a coded MaskinportenError within
 * its deadline, measured exactly in clock time (a call that would need the clock past its deadline fails as a
 * hang), and no unhandled rejection or uncaught exception may occur anywhere in the file. A summary table is
 * printed at the end.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { sleep } from '../../src/clock.ts';
import {
  type CreatedClient,
  type Emulator,
  type FaultSpec,
  NOTIFICATIONS_SCOPE,
  startEmulator,
} from '../../src/emulator/index.ts';
import type { MaskinportenErrorCode } from '../../src/errors.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import type { AccessToken } from '../../src/token.ts';
import { count, lastGrant, recordingLogger, startProxy } from '../helpers/client-env.ts';
import { FakeTime } from '../helpers/fake-time.ts';
import {
  assertNoProcessFaults,
  coded,
  guardProcess,
  immediately,
  outcomeOf,
  Summary,
  served,
} from './matrix-helpers.ts';

// First of all: every unhandled rejection and uncaught exception of this file is recorded, and fails it.
const processFaults = guardProcess();
const summary = new Summary();

after(() => {
  console.log(`\n${summary.render()}\n`);
  assertNoProcessFaults(processFaults);
});

const SCOPE = ['a'];
const ALTINN_SCOPE = [NOTIFICATIONS_SCOPE];
/** Deadline of the calls whose faults answer at once (their backoff, on the clock, stays well within it). */
const DEADLINE_MS = 5000;
/** The rows with latency: per-attempt timeout, the emulator's delay and the call's deadline (clock time). */
const TIMEOUT_MS = 200;
const LATENCY_MS = 1000;
const SLOW_DEADLINE_MS = 2000;
const BACKGROUND_FAILED = /background token refresh failed/;

/**
 * A client on the fake clock with a recording logger. Its retry waits sleep on the clock as they would by default,
 * and are recorded; jitter is a fixed 0.5.
 */
function makeClient(
  time: FakeTime,
  settings: MaskinportenSettings,
  options: MaskinportenClientOptions = {},
): { client: MaskinportenClient; sleeps: number[]; logger: ReturnType<typeof recordingLogger> } {
  const sleeps: number[] = [];
  const logger = recordingLogger();
  const client = new MaskinportenClient(settings, {
    clock: time.clock,
    fetch: time.fetch,
    retryHooks: {
      sleep: (ms, signal) => {
        sleeps.push(ms);
        return sleep(time.clock, ms, signal);
      },
      random: () => 0.5,
    },
    deadlineMs: DEADLINE_MS,
    logger,
    ...options,
  });
  return { client, sleeps, logger };
}

/** Moves the clock to `at` (epoch ms), firing the timers on the way. */
async function moveTo(time: FakeTime, at: number): Promise<void> {
  assert.ok(at >= time.clock.now(), 'the clock only moves forward');
  await time.advance(at - time.clock.now());
}

/** The deadline column: how much clock time the call took, of its deadline. */
function held(result: { tookMs: number }, deadlineMs: number): string {
  return `held (${result.tookMs} of ${deadlineMs} ms)`;
}

/** Starts an emulator on the fake clock, its finished requests counted. */
async function emulatorOn(time: FakeTime, options: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, ...options, clock: time.serverClock });
  time.watch(emulator);
  return emulator;
}

/** Token-endpoint faults that answer at once, and what the caller must get when no token is cached. */
const TOKEN_FAULTS: {
  name: string;
  fault: Omit<FaultSpec, 'endpoint'>;
  code: MaskinportenErrorCode;
  attempts: number;
  status?: number;
  sleeps?: number[];
}[] = [
  { name: 'token 500', fault: { status: 500 }, code: 'ERR_SERVER', attempts: 3, status: 500 },
  { name: 'token 503', fault: { status: 503 }, code: 'ERR_SERVER', attempts: 3, status: 503 },
  {
    name: 'token 429, Retry-After: 2',
    fault: { status: 429, retryAfter: 2 },
    code: 'ERR_RATE_LIMITED',
    attempts: 3,
    status: 429,
    sleeps: [2000, 2000],
  },
  { name: 'token connection reset', fault: { reset: true }, code: 'ERR_NETWORK', attempts: 3 },
  { name: 'token truncated body', fault: { body: 'truncated' }, code: 'ERR_NETWORK', attempts: 3 },
  { name: 'token invalid JSON (200)', fault: { body: 'non-json' }, code: 'ERR_INVALID_RESPONSE', attempts: 1 },
  { name: 'token HTML error page (502)', fault: { body: 'html' }, code: 'ERR_SERVER', attempts: 3, status: 502 },
];

describe('fault matrix: Maskinporten token endpoint', () => {
  const time = new FakeTime();
  let emulator: Emulator;
  let created: CreatedClient;
  const make = (options: MaskinportenClientOptions = {}) => makeClient(time, created.settings, options);

  before(async () => {
    emulator = await emulatorOn(time);
    created = await emulator.createClient({ scopes: SCOPE }); // tokens live 120 s
  });
  beforeEach(() => {
    emulator.faults.clear();
    emulator.requests.clear();
  });
  after(() => emulator.close());

  for (const row of TOKEN_FAULTS) {
    it(`${row.name}, nothing cached: a coded ${row.code} after ${row.attempts} attempt(s)`, async () => {
      const { client, sleeps } = make();
      await client.metadata();
      emulator.requests.clear();
      emulator.faults.add({ endpoint: 'token', ...row.fault });
      const result = await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, row.name);
      const err = coded(result, row.code, row.name);
      const attempts = count(emulator, 'token');
      assert.equal(attempts, row.attempts, 'bounded attempts');
      assert.equal(err.attempts ?? 1, attempts, 'err.attempts matches the request log');
      if (row.status !== undefined) assert.equal(err.status, row.status);
      if (row.code === 'ERR_RATE_LIMITED') assert.equal(err.retryAfterMs, 2000);
      // Backoff 0.5 × 200 ms × 2^(n−1), or the server's Retry-After.
      assert.deepEqual(sleeps, row.sleeps ?? [100, 200].slice(0, row.attempts - 1));
      summary.add({
        fault: `${row.name}; nothing cached`,
        outcome: outcomeOf(result),
        attempts: String(attempts),
        deadline: held(result, DEADLINE_MS),
      });
    });

    it(`${row.name}, token cached and due for refresh: served from the cache; past the margin ${row.code}`, async () => {
      const { client, logger } = make();
      const token = await client.getAccessToken(SCOPE);
      emulator.requests.clear();
      emulator.faults.add({ endpoint: 'token', ...row.fault });
      await moveTo(time, token.issuedAt.getTime() + 90_000); // the refresh point: 0.75 × 120 s

      const failed = logger.next('warn', BACKGROUND_FAILED);
      const got = await immediately(client.getAccessToken(SCOPE), row.name);
      assert.equal(got, token, 'the cached token, at once');
      const warning = served(await time.run(failed, DEADLINE_MS, 'the background refresh'), 'the refresh');
      assert.equal((warning.obj.err as { code?: string }).code, row.code, 'the refresh failed quietly, logged');
      const background = count(emulator, 'token');
      assert.equal(background, row.attempts, 'one background refresh, with its bounded retries');

      // At exp − margin the cached token is no longer handed out: the caller waits for a new one, which fails.
      await moveTo(time, token.expiresAt.getTime() - 10_000);
      const late = await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, `${row.name} (late)`);
      coded(late, row.code, `${row.name} past the margin`);
      summary.add({
        fault: `${row.name}; token cached, refresh due`,
        outcome: 'served from cache (refresh failed quietly)',
        attempts: `${background} (background)`,
        deadline: 'held (no wait)',
      });
      summary.add({
        fault: `${row.name}; cached token at exp − margin`,
        outcome: `${outcomeOf(late)} (stale token not served)`,
        attempts: String(count(emulator, 'token') - background),
        deadline: held(late, DEADLINE_MS),
      });
    });
  }

  it('token latency past the per-attempt timeout, nothing cached: ERR_TIMEOUT within the deadline', async () => {
    const { client } = make({ timeoutMs: TIMEOUT_MS, deadlineMs: SLOW_DEADLINE_MS });
    await client.metadata();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', latencyMs: LATENCY_MS });
    const result = await time.run(client.getAccessToken(SCOPE), SLOW_DEADLINE_MS, 'slow token');
    const err = coded(result, 'ERR_TIMEOUT', 'slow token');
    assert.equal(err.attempts, 3);
    assert.match(err.message, /timed out after 200 ms/);
    assert.equal(result.tookMs, 3 * TIMEOUT_MS + 100 + 200, 'three attempts cut at their timeout, and two backoffs');
    // The emulator logs each abandoned request when the client hangs up.
    assert.equal(count(emulator, 'token'), 3);
    summary.add({
      fault: `token latency ${LATENCY_MS} ms > timeout ${TIMEOUT_MS} ms; nothing cached`,
      outcome: outcomeOf(result),
      attempts: String(err.attempts),
      deadline: held(result, SLOW_DEADLINE_MS),
    });
  });

  it('token latency past the per-attempt timeout, token cached and due: served at once, refresh times out', async () => {
    const { client, logger } = make({ timeoutMs: TIMEOUT_MS, deadlineMs: SLOW_DEADLINE_MS });
    const token = await client.getAccessToken(SCOPE);
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', latencyMs: LATENCY_MS });
    await moveTo(time, token.issuedAt.getTime() + 90_000);
    const failed = logger.next('warn', BACKGROUND_FAILED);
    assert.equal(await immediately(client.getAccessToken(SCOPE), 'slow refresh'), token);
    const warning = served(await time.run(failed, SLOW_DEADLINE_MS, 'the slow refresh'), 'the slow refresh');
    assert.equal((warning.obj.err as { code?: string }).code, 'ERR_TIMEOUT');
    assert.equal(count(emulator, 'token'), 3, 'three attempts, each abandoned at its timeout');
    summary.add({
      fault: `token latency ${LATENCY_MS} ms > timeout ${TIMEOUT_MS} ms; token cached, refresh due`,
      outcome: 'served from cache (refresh timed out quietly)',
      attempts: '3 (background)',
      deadline: 'held (no wait)',
    });
  });
});

describe('fault matrix: token answers (proxy in front of the emulator)', () => {
  const time = new FakeTime();
  let emulator: Emulator;
  let created: CreatedClient;
  let shortLived: CreatedClient;

  before(async () => {
    emulator = await emulatorOn(time);
    created = await emulator.createClient({ scopes: SCOPE });
    shortLived = await emulator.createClient({ scopes: SCOPE, accessTokenLifetime: 5 }); // 5 s < 10 s margin
  });
  beforeEach(() => {
    emulator.faults.clear();
    emulator.requests.clear();
  });
  after(() => emulator.close());

  it('a non-JWT access token with expires_in: served, expiry from expires_in, cached', async () => {
    const proxy = await startProxy(emulator, { tokenBody: (b) => ({ ...b, access_token: 'opaque-0123456789' }) });
    try {
      const { client } = makeClient(time, { ...created.settings, authority: proxy.url });
      const result = await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, 'opaque token');
      const token = served(result, 'opaque token');
      assert.equal(token.value, 'opaque-0123456789');
      assert.equal(token.expiresAt.getTime(), time.clock.now() + 120_000, 'expiry from expires_in');
      assert.deepEqual(token.claims, {});
      assert.equal(await immediately(client.getAccessToken(SCOPE), 'opaque token again'), token, 'cached');
      assert.equal(count(emulator, 'token'), 1);
      summary.add({
        fault: 'non-JWT access token, with expires_in',
        outcome: 'new token (expiry from expires_in), then cached',
        attempts: '1',
        deadline: 'held',
      });
    } finally {
      await proxy.close();
    }
  });

  it('a non-JWT access token without expires_in: ERR_INVALID_RESPONSE, not retried', async () => {
    const proxy = await startProxy(emulator, {
      tokenBody: (b) => ({ ...b, access_token: 'opaque-0123456789', expires_in: undefined }),
    });
    try {
      const { client, sleeps } = makeClient(time, { ...created.settings, authority: proxy.url });
      const result = await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, 'opaque, no expiry');
      const err = coded(result, 'ERR_INVALID_RESPONSE', 'opaque token without expires_in');
      assert.match(err.message, /not a JWT/);
      assert.equal(count(emulator, 'token'), 1);
      assert.deepEqual(sleeps, []);
      summary.add({
        fault: 'non-JWT access token, no expires_in',
        outcome: outcomeOf(result),
        attempts: '1',
        deadline: 'held',
      });
    } finally {
      await proxy.close();
    }
  });

  it('a token that expires inside the expiry margin: served while valid, never cached, one fetch per burst', async () => {
    const { client } = makeClient(time, shortLived.settings); // margin 10 s, tokens live 5 s
    const first = served(await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, 'short'), 'short');
    assert.equal(first.expiresAt.getTime() - first.issuedAt.getTime(), 5000);
    assert.ok(first.expiresAt.getTime() > time.clock.now(), 'the caller got a token that is still valid');
    const second = served(await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, 'short'), 'short');
    assert.notEqual(second, first, 'not cached: it would be past exp − margin at once');
    assert.equal(count(emulator, 'token'), 2);
    const burst = await time.run(
      Promise.all(Array.from({ length: 20 }, () => client.getAccessToken(SCOPE))),
      DEADLINE_MS,
      'short burst',
    );
    assert.equal(new Set(served(burst, 'short burst')).size, 1, 'concurrent callers share one fetch');
    assert.equal(count(emulator, 'token'), 3);
    summary.add({
      fault: 'token life 5 s < expiry margin 10 s',
      outcome: 'new token each call (served, not cached)',
      attempts: '1 per call; 1 per concurrent burst',
      deadline: 'held',
    });
  });
});

describe('fault matrix: clock skew', () => {
  const time = new FakeTime();
  let emulator: Emulator;
  let created: CreatedClient;

  before(async () => {
    // The documented rules: ±30 s of skew breaks a grant there (live, an iat 30 s old is still accepted).
    emulator = await emulatorOn(time, { rules: 'documented' });
    created = await emulator.createClient({ scopes: SCOPE });
  });
  beforeEach(() => {
    emulator.faults.clear();
    emulator.requests.clear();
    emulator.clock.setOffset(0);
  });
  after(() => emulator.close());

  for (const offset of [30_000, -30_000]) {
    const label = `clock skew ${offset > 0 ? '+' : '−'}30 s (emulator ${offset > 0 ? 'ahead' : 'behind'})`;

    it(`${label}, correctClockSkew off: ERR_CLOCK_SKEW with the measured offset, not retried`, async () => {
      emulator.clock.setOffset(offset);
      const { client } = makeClient(time, created.settings);
      const result = await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, label);
      const err = coded(result, 'ERR_CLOCK_SKEW', label);
      assert.equal(err.mpCode, 'MP-130');
      assert.ok(err.clockOffsetMs !== undefined && Math.abs(err.clockOffsetMs - offset) < 1000, 'offset measured');
      assert.match(err.message, offset > 0 ? /ahead of/ : /behind/);
      assert.equal(count(emulator, 'token'), 1);
      summary.add({ fault: `${label}; no correction`, outcome: outcomeOf(result), attempts: '1', deadline: 'held' });
    });

    it(`${label}, correctClockSkew on: a token, cached on the server's clock`, async () => {
      emulator.clock.setOffset(offset);
      const { client } = makeClient(time, created.settings, { correctClockSkew: true });
      const result = await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, label);
      const token = served(result, label);
      assert.ok(client.clockOffsetMs !== undefined && Math.abs(client.clockOffsetMs - offset) < 1000);
      const serverNow = emulator.clock.now();
      assert.ok(token.expiresAt.getTime() - serverNow > 110_000, 'valid on the server clock');
      assert.equal(await immediately(client.getAccessToken(SCOPE), `${label} again`), token, 'cached');
      assert.equal(count(emulator, 'token'), 1);
      summary.add({
        fault: `${label}; correctClockSkew`,
        outcome: outcomeOf(result, 'new token, then cached'),
        attempts: '1',
        deadline: 'held',
      });
    });
  }
});

describe('fault matrix: discovery down', () => {
  const time = new FakeTime();
  let emulator: Emulator;
  let created: CreatedClient;

  before(async () => {
    emulator = await emulatorOn(time);
    created = await emulator.createClient({ scopes: SCOPE });
  });
  beforeEach(() => {
    emulator.faults.clear();
    emulator.requests.clear();
  });
  after(() => emulator.close());

  it('discovery 503: the client falls back to authority + "/" and still gets tokens', async () => {
    emulator.faults.add({ endpoint: 'discovery', status: 503 });
    const { client, logger } = makeClient(time, { ...created.settings, authority: emulator.url }); // no slash
    const warned = logger.next('warn', /discovery failed/);
    const result = await time.run(client.getAccessToken(SCOPE), DEADLINE_MS, 'discovery down');
    const token = served(result, 'discovery down');
    served(await time.run(warned, DEADLINE_MS, 'the discovery warning'), 'the discovery warning');
    assert.equal(token.kind, 'maskinporten');
    assert.equal(lastGrant(emulator).claims.aud, `${emulator.url}/`);
    assert.deepEqual(await client.metadata(), { issuer: `${emulator.url}/`, tokenEndpoint: `${emulator.url}/token` });
    assert.ok(served(await time.run(client.getAccessToken(['a', 'a']), DEADLINE_MS, 'again'), 'again'));
    assert.equal(count(emulator, 'discovery'), 1, 'no discovery per call while it is down');
    summary.add({
      fault: 'discovery 503',
      outcome: 'new token (issuer = authority + "/")',
      attempts: `${count(emulator, 'discovery')} discovery + ${count(emulator, 'token')} token`,
      deadline: 'held',
    });
  });

  it('discovery latency past the timeout: falls back after the timeout, no token attempt lost to it', async () => {
    emulator.faults.add({ endpoint: 'discovery', latencyMs: LATENCY_MS });
    const settings = { ...created.settings, authority: emulator.url };
    const timing = { timeoutMs: TIMEOUT_MS, deadlineMs: SLOW_DEADLINE_MS };
    const { client, sleeps } = makeClient(time, settings, timing);
    const result = await time.run(client.getAccessToken(SCOPE), SLOW_DEADLINE_MS, 'slow discovery');
    served(result, 'slow discovery');
    assert.equal(lastGrant(emulator).claims.aud, `${emulator.url}/`);
    assert.deepEqual(sleeps, [], 'the slow discovery did not time out the first token attempt');
    assert.equal(count(emulator, 'token'), 1);

    // With a single attempt the fallback still gets the token.
    const single = makeClient(time, settings, { ...timing, retry: false });
    const once = await time.run(single.client.getAccessToken(SCOPE), SLOW_DEADLINE_MS, 'retry off');
    served(once, 'slow discovery, retry: false');
    assert.equal(count(emulator, 'token'), 2);
    assert.equal(count(emulator, 'discovery'), 2, 'each abandoned discovery logged when the client hung up');
    summary.add({
      fault: `discovery latency ${LATENCY_MS} ms > timeout ${TIMEOUT_MS} ms (also with retry: false)`,
      outcome: 'new token (issuer = authority + "/")',
      attempts: '1 discovery + 1 token per client',
      deadline: held(once, SLOW_DEADLINE_MS),
    });
  });
});

describe('fault matrix: Altinn exchange', () => {
  const time = new FakeTime();
  let emulator: Emulator;
  let created: CreatedClient;
  const make = (options: MaskinportenClientOptions = {}) => makeClient(time, created.settings, options);

  before(async () => {
    emulator = await emulatorOn(time);
    created = await emulator.createClient({ scopes: ALTINN_SCOPE });
  });
  beforeEach(() => {
    emulator.faults.clear();
    emulator.requests.clear();
  });
  after(() => emulator.close());

  it('exchange 401: retried once with a fresh Maskinporten token, then ERR_ALTINN_EXCHANGE', async () => {
    const { client } = make();
    await client.metadata();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'exchange', status: 401 });
    const result = await time.run(client.getAltinnExchangedToken(ALTINN_SCOPE), DEADLINE_MS, '401');
    const err = coded(result, 'ERR_ALTINN_EXCHANGE', 'exchange 401');
    assert.equal(err.status, 401);
    assert.equal(count(emulator, 'exchange'), 2, 'the 401 is retried once');
    assert.equal(count(emulator, 'token'), 2, 'with a fresh Maskinporten token');
    summary.add({
      fault: 'exchange 401 (persistent)',
      outcome: outcomeOf(result),
      attempts: '2 exchange + 2 token',
      deadline: 'held',
    });

    emulator.faults.clear();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'exchange', status: 401, times: 1 });
    const once = await time.run(make().client.getAltinnExchangedToken(ALTINN_SCOPE), DEADLINE_MS, '401');
    assert.equal(served(once, 'exchange 401 once').kind, 'altinn');
    assert.equal(count(emulator, 'exchange'), 2);
    summary.add({
      fault: 'exchange 401 once',
      outcome: 'new token (after a fresh Maskinporten token)',
      attempts: `${count(emulator, 'exchange')} exchange + ${count(emulator, 'token')} token`,
      deadline: 'held',
    });
  });

  it('exchange 500, nothing cached: ERR_SERVER after bounded retries', async () => {
    const { client, sleeps } = make();
    await client.getAccessToken(ALTINN_SCOPE);
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'exchange', status: 500 });
    const result = await time.run(client.getAltinnExchangedToken(ALTINN_SCOPE), DEADLINE_MS, '500');
    const err = coded(result, 'ERR_SERVER', 'exchange 500');
    assert.equal(err.status, 500);
    assert.equal(err.attempts, 3);
    assert.equal(count(emulator, 'exchange'), 3);
    assert.equal(count(emulator, 'token'), 0, 'the cached Maskinporten token served every attempt');
    assert.deepEqual(sleeps, [100, 200]);
    summary.add({ fault: 'exchange 500; nothing cached', outcome: outcomeOf(result), attempts: '3', deadline: 'held' });
  });

  it('exchange 503, Altinn token cached and due: served from the cache; past the margin ERR_SERVER', async () => {
    const { client, logger } = make();
    const altinn = await client.getAltinnExchangedToken(ALTINN_SCOPE);
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'exchange', status: 503 });
    await moveTo(time, altinn.issuedAt.getTime() + 0.75 * 30 * 60_000);
    const failed = logger.next('warn', BACKGROUND_FAILED);
    assert.equal(await immediately(client.getAltinnExchangedToken(ALTINN_SCOPE), 'exchange 503'), altinn);
    const warning = served(await time.run(failed, DEADLINE_MS, 'the background exchange'), 'the refresh');
    assert.equal((warning.obj.err as { code?: string }).code, 'ERR_SERVER');
    assert.equal(count(emulator, 'exchange'), 3);
    assert.equal(count(emulator, 'token'), 1, 'one new Maskinporten token for the refresh');
    const background = count(emulator, 'exchange') + count(emulator, 'token');

    await moveTo(time, altinn.expiresAt.getTime() - 10_000);
    const late = await time.run(client.getAltinnExchangedToken(ALTINN_SCOPE), DEADLINE_MS, 'late');
    coded(late, 'ERR_SERVER', 'exchange 503 past the margin');
    summary.add({
      fault: 'exchange 503; Altinn token cached, refresh due',
      outcome: 'served from cache (refresh failed quietly)',
      attempts: `${background} (background: 3 exchange + 1 token)`,
      deadline: 'held (no wait)',
    });
    summary.add({
      fault: 'exchange 503; cached Altinn token at exp − margin',
      outcome: `${outcomeOf(late)} (stale token not served)`,
      attempts: String(count(emulator, 'exchange') + count(emulator, 'token') - background),
      deadline: 'held',
    });
  });

  it('exchange latency past the per-attempt timeout: ERR_TIMEOUT within the deadline', async () => {
    const { client } = make({ timeoutMs: TIMEOUT_MS, deadlineMs: SLOW_DEADLINE_MS });
    await client.getAccessToken(ALTINN_SCOPE);
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'exchange', latencyMs: LATENCY_MS });
    const result = await time.run(client.getAltinnExchangedToken(ALTINN_SCOPE), SLOW_DEADLINE_MS, 'slow exchange');
    const err = coded(result, 'ERR_TIMEOUT', 'slow exchange');
    assert.equal(err.attempts, 3);
    assert.equal(result.tookMs, 3 * TIMEOUT_MS + 100 + 200, 'three attempts cut at their timeout, and two backoffs');
    assert.equal(count(emulator, 'exchange'), 3, 'each abandoned exchange logged when the client hung up');
    summary.add({
      fault: `exchange latency ${LATENCY_MS} ms > timeout ${TIMEOUT_MS} ms`,
      outcome: outcomeOf(result),
      attempts: '3',
      deadline: held(result, SLOW_DEADLINE_MS),
    });
  });

  it('token endpoint 503 under an Altinn call: ERR_SERVER, the exchange does not multiply the retries', async () => {
    const { client } = make();
    await client.metadata();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', status: 503 });
    const result = await time.run(client.getAltinnExchangedToken(ALTINN_SCOPE), DEADLINE_MS, 'mp down');
    const err = coded(result, 'ERR_SERVER', 'token 503 under the exchange');
    assert.equal(err.status, 503);
    const attempts = count(emulator, 'token');
    assert.equal(attempts, 3, 'maxAttempts token requests, not maxAttempts²');
    assert.equal(count(emulator, 'exchange'), 0);
    summary.add({
      fault: 'token 503 under an Altinn call',
      outcome: outcomeOf(result),
      attempts: `${attempts} token + 0 exchange`,
      deadline: 'held',
    });
  });

  it('token endpoint slow under an Altinn call: ERR_TIMEOUT within the one deadline of the call', async () => {
    const deadlineMs = 800;
    const { client } = make({ timeoutMs: 250, deadlineMs });
    await client.metadata();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', latencyMs: LATENCY_MS });
    const result = await time.run(
      client.getAltinnExchangedToken(ALTINN_SCOPE),
      deadlineMs,
      'slow token under the exchange',
    );
    coded(result, 'ERR_TIMEOUT', 'slow token under the exchange');
    emulator.faults.clear();
    await time.drain();
    // Attempts at 0 and 350 ms (after a 100 ms backoff), each cut at 250 ms; a third would start past the deadline.
    assert.equal(result.tookMs, 600, 'given up when the next backoff would reach the deadline');
    const attempts = count(emulator, 'token');
    assert.equal(attempts, 2, 'at most maxAttempts token requests, and none that could not finish in time');
    assert.equal(count(emulator, 'exchange'), 0);
    summary.add({
      fault: 'token latency 1000 ms > timeout 250 ms under an Altinn call',
      outcome: outcomeOf(result),
      attempts: `${attempts} token + 0 exchange`,
      deadline: held(result, deadlineMs),
    });
  });

  it('token and exchange both slow but within the timeout: the Altinn call keeps to its one deadline', async () => {
    const deadlineMs = 1000;
    const { client } = make({ timeoutMs: 1000, deadlineMs });
    await client.metadata();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', latencyMs: 600, times: 1 });
    emulator.faults.add({ endpoint: 'exchange', latencyMs: 600, times: 1 });
    const result = await time.run(client.getAltinnExchangedToken(ALTINN_SCOPE), deadlineMs, 'slow token and exchange');
    coded(result, 'ERR_TIMEOUT', 'slow token and exchange');
    assert.equal(result.tookMs, deadlineMs, 'cut exactly at the deadline');
    assert.equal(count(emulator, 'exchange'), 1, 'the abandoned exchange, logged when the client hung up');
    assert.equal(count(emulator, 'token'), 1);
    summary.add({
      fault: 'token 600 ms + exchange 600 ms, timeout and deadline 1000 ms (Altinn call)',
      outcome: outcomeOf(result),
      attempts: '1 token + 1 exchange',
      deadline: held(result, deadlineMs),
    });
  });

  it('exchange 401 with a slow token endpoint: the retry with a fresh token keeps to the same deadline', async () => {
    const deadlineMs = 1000;
    const { client } = make({ timeoutMs: 1000, deadlineMs });
    await client.metadata();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', latencyMs: 600 });
    emulator.faults.add({ endpoint: 'exchange', status: 401 });
    const result = await time.run(
      client.getAltinnExchangedToken(ALTINN_SCOPE),
      deadlineMs,
      '401 with a slow token endpoint',
    );
    coded(result, 'ERR_TIMEOUT', '401 with a slow token endpoint');
    assert.equal(count(emulator, 'exchange'), 1, 'the first exchange was refused');
    assert.equal(result.tookMs, deadlineMs, 'cut exactly at the deadline');
    // The fresh Maskinporten token the retry waited for lands after the deadline (and is cached for later).
    assert.equal(count(emulator, 'token'), 1);
    await time.drain();
    assert.equal(count(emulator, 'token'), 2, 'the fresh token request finished at 1200 ms');
    emulator.faults.clear();
    emulator.requests.clear();
    assert.ok(served(await time.run(client.getAccessToken(ALTINN_SCOPE), 0, 'cached'), 'the fresh token, cached'));
    assert.equal(count(emulator, 'token'), 0, 'it was cached');
    summary.add({
      fault: 'exchange 401 + token latency 600 ms, deadline 1000 ms',
      outcome: outcomeOf(result),
      attempts: '2 token + 1 exchange',
      deadline: held(result, deadlineMs),
    });
  });
});

describe('fault matrix: a 10-minute outage of token and exchange (simulated clock)', () => {
  const time = new FakeTime();
  let emulator: Emulator;
  let created: CreatedClient;

  before(async () => {
    emulator = await emulatorOn(time);
    created = await emulator.createClient({ scopes: ALTINN_SCOPE });
  });
  after(() => emulator.close());

  it('every caller gets the cached Altinn token at once; refreshes back off, bounded; recovery refreshes', async () => {
    const STEP_MS = 10_000;
    const CALLERS_PER_STEP = 5;
    const OUTAGE_MS = 10 * 60_000;
    const { client, logger } = makeClient(time, created.settings, {
      // Refresh from half-life (15 min), so the whole outage lies between the refresh point and exp − margin.
      cache: { refreshAhead: 0.5 },
    });
    const failuresAt: number[] = [];
    const noteFailures = () => {
      const n = logger.entries.filter((e) => e.level === 'warn' && BACKGROUND_FAILED.test(e.msg ?? '')).length;
      while (failuresAt.length < n) failuresAt.push(time.clock.now());
    };

    const altinn = await client.getAltinnExchangedToken(ALTINN_SCOPE);
    const issued = altinn.issuedAt.getTime();
    const usableUntil = altinn.expiresAt.getTime() - 10_000;
    await moveTo(time, issued + 14 * 60_000);
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', status: 503 });
    emulator.faults.add({ endpoint: 'exchange', status: 503 });
    const outageStart = time.clock.now();
    assert.ok(outageStart + OUTAGE_MS < usableUntil, 'the cached token outlives the outage');

    let callers = 0;
    while (time.clock.now() < outageStart + OUTAGE_MS) {
      const batch = Array.from({ length: CALLERS_PER_STEP }, () => client.getAltinnExchangedToken(ALTINN_SCOPE));
      const got = await immediately(Promise.all(batch), `callers at +${(time.clock.now() - outageStart) / 1000} s`);
      for (const token of got) assert.equal(token, altinn, 'the cached token');
      callers += got.length;
      await time.settle();
      noteFailures();
      await time.advance(STEP_MS);
    }

    const tokenAttempts = count(emulator, 'token');
    const exchangeAttempts = count(emulator, 'exchange');
    const refreshes = failuresAt.length;
    assert.equal(callers, (OUTAGE_MS / STEP_MS) * CALLERS_PER_STEP);
    assert.ok(failuresAt[0]! >= issued + 15 * 60_000, 'no upstream traffic before the refresh point');
    assert.ok(refreshes >= 5, `the refresh is retried through the outage (${refreshes})`);
    // Backoff 1, 2, 4, 8, 16 s, then every 30 s: ~20 refreshes in 9 minutes, one per 10 s step at most.
    assert.ok(refreshes <= 25, `background refreshes are bounded by the backoff (${refreshes})`);
    for (let i = 2; i < failuresAt.length; i++) {
      const gap = failuresAt[i]! - failuresAt[i - 1]!;
      assert.ok(gap >= failuresAt[i - 1]! - failuresAt[i - 2]!, 'the backoff never shrinks');
      assert.ok(gap <= 30_000 + STEP_MS, 'and is capped');
    }
    assert.ok(tokenAttempts <= 3 * refreshes, `at most maxAttempts token requests per refresh (${tokenAttempts})`);
    assert.equal(exchangeAttempts, 0, 'no exchange without a Maskinporten token');
    assert.ok(tokenAttempts + exchangeAttempts < callers / 2, 'upstream attempts are not one per caller');
    for (const e of logger.entries.filter((x) => x.level === 'warn')) {
      assert.equal((e.obj.err as { code?: string }).code, 'ERR_SERVER', 'each failure logged with its code');
    }

    // Recovery: the next refresh (once its backoff is over) succeeds; callers never waited.
    emulator.faults.clear();
    emulator.requests.clear();
    const recoveredAt = time.clock.now();
    let fresh: AccessToken | undefined;
    while (fresh === undefined) {
      const got = await immediately(client.getAltinnExchangedToken(ALTINN_SCOPE), 'after recovery');
      if (got !== altinn) {
        fresh = got;
        break;
      }
      await time.settle();
      const again = await immediately(client.getAltinnExchangedToken(ALTINN_SCOPE), 'after recovery');
      if (again !== altinn) fresh = again;
      else await time.advance(STEP_MS);
      assert.ok(time.clock.now() - recoveredAt <= 30_000 + STEP_MS, 'refreshed within one backoff period of recovery');
    }
    assert.ok(time.clock.now() < usableUntil, 'before the old token stopped being served');
    assert.ok(fresh.expiresAt > altinn.expiresAt);
    assert.equal(count(emulator, 'token'), 1, 'one Maskinporten token');
    assert.equal(count(emulator, 'exchange'), 1, 'one exchange');
    assert.equal(await immediately(client.getAltinnExchangedToken(ALTINN_SCOPE), 'fresh'), fresh, 'now cached');
    summary.add({
      fault: '10-min outage: token + exchange 503, Altinn token cached',
      outcome: `served from cache to ${callers} callers; new token ${(time.clock.now() - recoveredAt) / 1000} s after recovery`,
      attempts: `${tokenAttempts} token + ${exchangeAttempts} exchange in ${refreshes} background refreshes`,
      deadline: 'held (no caller waited)',
    });
  });
});

describe('fault matrix: the process', () => {
  it('saw no unhandled rejection and no uncaught exception', () => {
    assertNoProcessFaults(processFaults);
  });
});
