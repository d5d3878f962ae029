/**
 * Retries, timeouts and aborts, driven by the emulator's faults on one fake clock shared with the client: timeouts,
 * deadlines and the emulator's latency happen in clock time, never in real time. Backoff waits are recorded through
 * retryHooks.sleep (one test lets them run on the clock) and jitter is fixed through retryHooks.random.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { UnavailableError } from '../../src/errors.ts';
import { count, flush, recordingRetryHooks, rejectsWith, startProxy } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { FakeTime } from '../helpers/fake-time.ts';
import { payloadOf } from '../helpers/http.ts';

const SCOPE = ['altinn:serviceowner/notifications.create'];

describe('client retries', () => {
  const time = new FakeTime();
  const clock = time.clock;
  const emulator = useEmulator({ time, resetEach: true });
  const created = useClient(emulator, { scopes: ['a', ...SCOPE] });

  /** A client whose retries record their waits in `sleeps` instead of sleeping. */
  const client = (options: MaskinportenClientOptions = {}, random = 0.5) => {
    const hooks = recordingRetryHooks(random);
    const c = new MaskinportenClient(created.settings, {
      clock,
      fetch: time.fetch,
      retryHooks: hooks.retryHooks,
      ...options,
    });
    return { c, sleeps: hooks.sleeps };
  };

  it('retries 500 and 503 with exponential backoff and full jitter, then recovers', async () => {
    // The proxy sees every attempt's grant (the emulator logs none for a faulted request).
    const jtis: unknown[] = [];
    const proxy = await startProxy(emulator, {
      tokenForm: (form) => {
        jtis.push(payloadOf(form.get('assertion') ?? '').jti);
        return form;
      },
    });
    try {
      const hooks = recordingRetryHooks();
      const c = new MaskinportenClient(
        { ...created.settings, authority: proxy.url },
        { clock, fetch: time.fetch, retryHooks: hooks.retryHooks },
      );
      emulator.faults.add({ endpoint: 'token', status: 500, times: 1 });
      emulator.faults.add({ endpoint: 'token', status: 503, times: 1 });
      const token = await c.getAccessToken(['a']);
      assert.ok(token.value);
      assert.equal(count(emulator, 'token'), 3);
      // random 0.5 × 200 ms × 2^(n−1)
      assert.deepEqual(hooks.sleeps, [100, 200]);
      assert.equal(jtis.length, 3);
      assert.equal(new Set(jtis).size, 3, 'every attempt sends a new grant');
    } finally {
      await proxy.close();
    }
  });

  it('caps the backoff at maxDelayMs and scales it by the jitter', async () => {
    const retry = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 2500 };
    for (const [random, expected] of [
      [0.5, [500, 1000, 1250, 1250]],
      [0, [0, 0, 0, 0]],
      [0.9, [900, 1800, 2250, 2250]],
    ] as const) {
      emulator.faults.clear();
      emulator.faults.add({ endpoint: 'token', status: 500, times: 4 });
      const { c, sleeps } = client({ retry, deadlineMs: 60_000 }, random);
      await c.getAccessToken(['a']);
      assert.deepEqual(sleeps, expected);
    }
  });

  it('honours Retry-After on 429 and 503', async () => {
    const { c, sleeps } = client();
    emulator.faults.add({ endpoint: 'token', status: 429, retryAfter: 3, times: 1 });
    emulator.faults.add({ endpoint: 'token', status: 503, retryAfter: 2, times: 1 });
    await c.getAccessToken(['a']);
    assert.deepEqual(sleeps, [3000, 2000], 'the server asked for longer than the backoff');
    assert.equal(count(emulator, 'token'), 3);
  });

  it('gives up at once when Retry-After exceeds the cap (maxRetryAfterMs)', async () => {
    const { c, sleeps } = client();
    emulator.faults.add({ endpoint: 'token', status: 429, retryAfter: 60 });
    const err = await rejectsWith(c.getAccessToken(['a']), 'ERR_RATE_LIMITED');
    assert.ok(err instanceof UnavailableError);
    assert.equal(err.status, 429);
    assert.equal(err.retryAfterMs, 60_000);
    assert.deepEqual(sleeps, []);
    assert.equal(count(emulator, 'token'), 1);

    const patient = client({ retry: { maxRetryAfterMs: 120_000 }, deadlineMs: 300_000 });
    emulator.faults.clear();
    emulator.faults.add({ endpoint: 'token', status: 429, retryAfter: 60, times: 1 });
    await patient.c.getAccessToken(['a']);
    assert.deepEqual(patient.sleeps, [60_000]);
  });

  it('makes a bounded number of attempts and reports them (err.attempts)', async () => {
    const { c, sleeps } = client({ retry: { maxAttempts: 4 } });
    emulator.faults.add({ endpoint: 'token', status: 500 });
    const err = await rejectsWith(c.getAccessToken(['a']), 'ERR_SERVER');
    assert.equal(err.attempts, 4);
    assert.equal(err.status, 500);
    assert.equal(err.error, 'server_error');
    assert.equal(err.errorDescription, 'An unexpected error occurred.');
    assert.equal(count(emulator, 'token'), 4);
    assert.equal(sleeps.length, 3);

    emulator.requests.clear();
    const once = client({ retry: false });
    await rejectsWith(once.c.getAccessToken(['a']), 'ERR_SERVER');
    assert.equal(count(emulator, 'token'), 1, 'retry: false makes one attempt');
    assert.deepEqual(once.sleeps, []);
  });

  it('never retries a 4xx other than 429', async () => {
    for (const status of [400, 401, 403, 404, 408, 409, 422]) {
      emulator.faults.clear();
      emulator.requests.clear();
      emulator.faults.add({ endpoint: 'token', status });
      const { c, sleeps } = client();
      const err = await c.getAccessToken(['a']).then(
        () => assert.fail('should fail'),
        (e: unknown) => e as { status?: number; attempts?: number },
      );
      assert.equal(err.status, status);
      assert.equal(count(emulator, 'token'), 1, `${status} is final`);
      assert.deepEqual(sleeps, []);
    }
    // Real refusals are final too.
    emulator.faults.clear();
    emulator.requests.clear();
    const { c } = client();
    await rejectsWith(c.getAccessToken(['not-registered']), 'ERR_INVALID_SCOPE');
    assert.equal(count(emulator, 'token'), 1);
  });

  it('maps a reset connection to ERR_NETWORK, and retries it', async () => {
    const once = client({ retry: false });
    emulator.faults.add({ endpoint: 'token', reset: true, times: 1 });
    const err = await rejectsWith(once.c.getAccessToken(['a']), 'ERR_NETWORK');
    assert.ok(err instanceof UnavailableError);
    assert.match(err.message, /network error/);

    const { c, sleeps } = client();
    emulator.faults.add({ endpoint: 'token', reset: true, times: 2 });
    assert.ok((await c.getAccessToken(['a'])).value);
    assert.equal(sleeps.length, 2);
  });

  it('maps a truncated body to a coded error, and retries it', async () => {
    const once = client({ retry: false });
    emulator.faults.add({ endpoint: 'token', body: 'truncated', times: 1 });
    // The body stops short of its Content-Length: the connection failed mid-answer.
    const err = await rejectsWith(once.c.getAccessToken(['a']), 'ERR_NETWORK');
    assert.ok(err instanceof UnavailableError);

    const { c } = client();
    emulator.faults.add({ endpoint: 'token', body: 'truncated', times: 1 });
    assert.ok((await c.getAccessToken(['a'])).value);
  });

  it('maps an HTML error page to ERR_SERVER (retried), and a non-JSON 200 to ERR_INVALID_RESPONSE (final)', async () => {
    const { c, sleeps } = client();
    emulator.faults.add({ endpoint: 'token', body: 'html' });
    const html = await rejectsWith(c.getAccessToken(['a']), 'ERR_SERVER');
    assert.equal(html.status, 502);
    assert.equal(html.attempts, 3);
    assert.equal(sleeps.length, 2);

    emulator.faults.clear();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', body: 'html', status: 400 });
    const page = await rejectsWith(client().c.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
    assert.equal(page.status, 400);
    assert.equal(count(emulator, 'token'), 1);

    emulator.faults.clear();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'token', body: 'non-json' });
    const text = await rejectsWith(client().c.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
    assert.equal(text.status, 200);
    assert.match(text.message, /not JSON/);
    assert.equal(count(emulator, 'token'), 1);
  });

  it('times out each attempt after timeoutMs (ERR_TIMEOUT), retrying the timeouts', async () => {
    const { c } = client({ timeoutMs: 100, retry: { maxAttempts: 2 } });
    await c.metadata(); // discovery done, so the attempts are the token requests alone
    emulator.faults.add({ endpoint: 'token', latencyMs: 500 });
    const started = clock.monotonic();
    const err = await rejectsWith(time.drive(c.getAccessToken(['a']), 30_000), 'ERR_TIMEOUT');
    assert.ok(err instanceof UnavailableError);
    assert.match(err.message, /timed out after 100 ms/);
    assert.equal(err.attempts, 2);
    assert.equal(clock.monotonic() - started, 200, 'two attempts of 100 ms (the backoff is recorded)');
    // The emulator logs an abandoned request when the client hangs up.
    assert.equal(count(emulator, 'token'), 2);

    emulator.faults.clear();
    const recovered = client({ timeoutMs: 100 });
    await recovered.c.metadata();
    emulator.faults.add({ endpoint: 'token', latencyMs: 500, times: 1 });
    const token = await time.drive(recovered.c.getAccessToken(['a']), 30_000);
    assert.ok(token.value, 'the second attempt is not slow');
    assert.equal(count(emulator, 'token'), 4);
  });

  it('backs off on the client clock by default: no real time passes', async () => {
    const c = new MaskinportenClient(created.settings, { clock, fetch: time.fetch, retryHooks: { random: () => 0.5 } });
    await c.metadata();
    emulator.faults.add({ endpoint: 'token', status: 503, times: 2 });
    const started = clock.monotonic();
    const pending = c.getAccessToken(['a']);
    await time.settle();
    assert.equal(count(emulator, 'token'), 1, 'the second attempt waits for the clock');
    assert.equal(clock.nextDueIn(), 100, 'the first backoff: 0.5 × 200 ms');
    assert.ok((await time.drive(pending, 30_000)).value);
    assert.equal(clock.monotonic() - started, 300, 'backoffs of 100 and 200 ms, in clock time');
    assert.equal(count(emulator, 'token'), 3);
  });

  it('stops at the overall deadline (deadlineMs) with ERR_TIMEOUT', async () => {
    const { c } = client({ timeoutMs: 5000, deadlineMs: 100 });
    await c.metadata();
    emulator.faults.add({ endpoint: 'token', latencyMs: 500, times: 1 });
    const started = clock.monotonic();
    const err = await rejectsWith(time.drive(c.getAccessToken(['a']), 100), 'ERR_TIMEOUT');
    assert.match(err.message, /100 ms deadline/);
    assert.equal(clock.monotonic() - started, 100, 'cut exactly at the deadline');
    assert.equal(count(emulator, 'token'), 1, 'the abandoned request');
  });

  it('does not start a wait that would pass the deadline', async () => {
    const { c, sleeps } = client({ deadlineMs: 5000 });
    emulator.faults.add({ endpoint: 'token', status: 503, retryAfter: 10 });
    const err = await rejectsWith(c.getAccessToken(['a']), 'ERR_SERVER');
    assert.equal(err.retryAfterMs, 10_000);
    assert.deepEqual(sleeps, []);
    assert.equal(count(emulator, 'token'), 1);
  });

  it('rejects an aborted caller with ERR_ABORTED while other callers of the same fetch get the token', async () => {
    const { c } = client();
    emulator.faults.add({ endpoint: 'token', latencyMs: 200, times: 1 });
    const controller = new AbortController();
    const aborted = c.getAccessToken(['a'], { signal: controller.signal });
    const patient = c.getAccessToken(['a']);
    controller.abort(new Error('user gave up'));
    const err = await rejectsWith(aborted, 'ERR_ABORTED');
    assert.equal((err.cause as Error).message, 'user gave up');
    const token = await time.drive(patient, 200);
    assert.ok(token.value);
    assert.equal(count(emulator, 'token'), 1, 'one shared fetch');
    assert.equal(await c.getAccessToken(['a']), token, 'and its token is cached');
  });

  it('an already-aborted signal fails at once, without a request', async () => {
    let fetches = 0;
    const { c } = client({
      fetch: (input, init) => {
        fetches++;
        return fetch(input, init);
      },
    });
    await rejectsWith(c.getAccessToken(['a'], { signal: AbortSignal.abort() }), 'ERR_ABORTED');
    await rejectsWith(c.getAltinnExchangedToken(SCOPE, { signal: AbortSignal.abort() }), 'ERR_ABORTED');
    await flush();
    assert.equal(fetches, 0, 'nothing was started');
  });

  it('an abort during a retry wait rejects the caller; the shared fetch carries on', async () => {
    let release: (() => void) | undefined;
    const waits: number[] = [];
    const c = new MaskinportenClient(created.settings, {
      clock,
      fetch: time.fetch,
      retryHooks: {
        random: () => 0.5,
        sleep: (ms) => {
          waits.push(ms);
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      },
    });
    emulator.faults.add({ endpoint: 'token', status: 503, times: 1 });
    const controller = new AbortController();
    const call = c.getAccessToken(['a'], { signal: controller.signal });
    await time.settle();
    assert.ok(release, 'the retry wait began');
    controller.abort();
    await rejectsWith(call, 'ERR_ABORTED');
    release();
    await time.settle();
    assert.equal(count(emulator, 'token'), 2, 'the retried request');
    const token = await c.getAccessToken(['a']);
    assert.ok(token.value);
    assert.equal(count(emulator, 'token'), 2, 'the retry completed in the background and was cached');
    assert.deepEqual(waits, [100]);
  });

  it('retries the Altinn exchange on 5xx and 429, and bounds it', async () => {
    const { c, sleeps } = client();
    emulator.faults.add({ endpoint: 'exchange', status: 503, times: 1 });
    emulator.faults.add({ endpoint: 'exchange', status: 429, retryAfter: 4, times: 1 });
    const token = await c.getAltinnExchangedToken(SCOPE);
    assert.equal(token.kind, 'altinn');
    assert.deepEqual(sleeps, [100, 4000]);
    assert.equal(count(emulator, 'exchange'), 3);
    assert.equal(count(emulator, 'token'), 1, 'the Maskinporten token came from the cache each time');

    emulator.faults.add({ endpoint: 'exchange', status: 500 });
    const failing = client();
    const err = await rejectsWith(failing.c.getAltinnExchangedToken(SCOPE), 'ERR_SERVER');
    assert.equal(err.attempts, 3);
    assert.equal(err.status, 500);
  });

  it('times out a slow exchange (ERR_TIMEOUT)', async () => {
    const { c } = client({ timeoutMs: 100, retry: false });
    await c.getAccessToken(SCOPE); // the Maskinporten token is cached: only the exchange is slow
    emulator.faults.add({ endpoint: 'exchange', latencyMs: 500, times: 1 });
    await rejectsWith(time.drive(c.getAltinnExchangedToken(SCOPE), 100), 'ERR_TIMEOUT');
    assert.equal(count(emulator, 'exchange'), 1, 'the abandoned request');
  });
});
