/**
 * The clock seam: `ManualClock` (time and timers that move only when told), `resolveClock` (what a `clock` option
 * may be), timeout signals and sleeps on a clock, the one signal race, and `ServerClock` — the midpoint estimate of
 * a server's clock that the client, the self-service client and `doctor` share. The client and the self-service
 * client are checked end to end against the emulator, with a `fetch` that spends clock time on the way out and back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TokenStore } from '../../src/cache/store.ts';
import { MaskinportenClient } from '../../src/client.ts';
import { resolveClock, sleep, systemClock, timeoutController } from '../../src/clock.ts';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { AbortedError } from '../../src/errors.ts';
import * as root from '../../src/index.ts';
import { ManualClock } from '../../src/manual-clock.ts';
import { SelfServiceClient } from '../../src/self-service/index.ts';
import { ServerClock } from '../../src/server-clock.ts';
import { raceSignal } from '../../src/transport/race.ts';
import { throwsWith } from '../helpers/client-env.ts';

/** A whole second plus 250 ms, so `Date` headers (whole seconds) are predictable. */
const START = Date.UTC(2026, 0, 15, 12, 0, 0) + 250;

describe('ManualClock', () => {
  it('stands still, and fires due timers in order as it moves, each at its own time', () => {
    const clock = new ManualClock(START);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 200);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
    const cancelled = clock.setTimeout(() => fired.push(['never', clock.now()]), 150);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 200);
    clock.clearTimeout(cancelled);
    assert.equal(clock.now(), START);
    assert.equal(clock.pending, 3);
    assert.equal(clock.nextDueIn(), 100);
    clock.advance(150);
    assert.deepEqual(fired, [['a', START + 100]]);
    assert.equal(clock.now(), START + 150);
    assert.equal(clock.runNext(), true);
    assert.deepEqual(fired.slice(1), [
      ['b', START + 200],
      ['c', START + 200],
    ]);
    assert.equal(clock.runNext(), false, 'nothing pending');
    assert.equal(clock.monotonic(), 200);
  });

  it('runs a timer scheduled by a firing timer when it falls due within the same move', () => {
    const clock = new ManualClock(START);
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.monotonic());
      clock.setTimeout(() => fired.push(clock.monotonic()), 50);
    }, 100);
    clock.advance(200);
    assert.deepEqual(fired, [100, 150]);
  });

  it('setTime moves the time of day only: monotonic time and timers stay', () => {
    const clock = new ManualClock(START);
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, 1000);
    clock.setTime(START + 3_600_000);
    assert.equal(clock.now(), START + 3_600_000);
    assert.equal(clock.monotonic(), 0);
    assert.equal(fired, false);
    clock.setTime(new Date(START - 1000));
    assert.equal(clock.now(), START - 1000);
  });

  it('refuses a bad start, move or time with a coded error', () => {
    throwsWith(() => new ManualClock(Number.NaN), 'ERR_INVALID_ARGUMENT');
    const clock = new ManualClock(START);
    throwsWith(() => clock.advance(-1), 'ERR_INVALID_ARGUMENT');
    throwsWith(() => clock.advance(Number.POSITIVE_INFINITY), 'ERR_INVALID_ARGUMENT');
    throwsWith(() => clock.setTime(new Date('nonsense')), 'ERR_INVALID_ARGUMENT');
  });

  it('is exported from the package root, with ServerClock and the system clock', () => {
    assert.equal(root.ManualClock, ManualClock);
    assert.equal(root.ServerClock, ServerClock);
    assert.equal(root.systemClock, systemClock);
  });
});

describe('resolveClock, timeoutController, sleep', () => {
  it('keeps a { now } clock on the system timers, and a clock with timers on its own', () => {
    const wall = resolveClock({ now: () => 42 });
    assert.equal(wall.now(), 42);
    assert.equal(wall.setTimeout, systemClock.setTimeout, 'no timers given: the system ones');
    const manual = new ManualClock(START);
    const full = resolveClock(manual);
    manual.advance(10);
    assert.equal(full.monotonic(), 10);
    assert.equal(resolveClock(undefined), systemClock);
  });

  it('refuses a clock without now(), or with only one of the timer functions, naming the setting', () => {
    const err = throwsWith(() => resolveClock({} as never, 'clock'), 'ERR_CONFIG');
    assert.equal(err.setting, 'clock');
    throwsWith(() => resolveClock({ now: () => 1, setTimeout: () => 1 }), 'ERR_CONFIG');
    throwsWith(() => new MaskinportenClient({} as never, { clock: { now: 5 } as never }), 'ERR_CONFIG');
  });

  it('a timeout signal and a sleep on a manual clock fire only when it moves', async () => {
    const clock = new ManualClock(START);
    const { signal } = timeoutController(clock, 100);
    let slept = false;
    const nap = sleep(clock, 50).then(() => {
      slept = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(signal.aborted, false);
    assert.equal(slept, false);
    clock.advance(50);
    await nap;
    assert.equal(slept, true);
    assert.equal(signal.aborted, false);
    clock.advance(50);
    assert.equal(signal.aborted, true);
    assert.equal((signal.reason as DOMException).name, 'TimeoutError', 'as AbortSignal.timeout aborts');
  });

  it('a cleared timeout drops its timer and never aborts', () => {
    const clock = new ManualClock(START);
    const timeout = timeoutController(clock, 100);
    assert.equal(clock.pending, 1);
    timeout.clear();
    assert.equal(clock.pending, 0);
    clock.advance(1000);
    assert.equal(timeout.signal.aborted, false);
  });

  it('a sleep ends early with the signal, and its timer is cancelled', async () => {
    const clock = new ManualClock(START);
    const controller = new AbortController();
    const nap = sleep(clock, 1000, controller.signal);
    assert.equal(clock.pending, 1);
    controller.abort(new Error('enough'));
    await assert.rejects(nap, /enough/);
    assert.equal(clock.pending, 0);
    await assert.rejects(sleep(clock, 1, controller.signal), /enough/, 'an aborted signal fails at once');
  });
});

describe('raceSignal', () => {
  it('rejects with the error made from the reason, and leaves the work running with its rejection handled', async () => {
    const controller = new AbortController();
    let fail: (err: Error) => void = () => undefined;
    const work = new Promise<string>((_, reject) => {
      fail = reject;
    });
    const raced = raceSignal(work, controller.signal, (reason) => new AbortedError('gave up', { cause: reason }));
    controller.abort('user');
    const err = await raced.then(
      () => assert.fail('should reject'),
      (e: unknown) => e as AbortedError,
    );
    assert.equal(err.code, 'ERR_ABORTED');
    assert.equal(err.cause, 'user');
    fail(new Error('late')); // handled: no unhandled rejection fails the run
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await raceSignal(Promise.resolve(1), undefined, () => 'x'), 1);
    await assert.rejects(
      raceSignal(Promise.resolve(1), AbortSignal.abort('pre'), (r) => new Error(`aborted ${String(r)}`)),
      /aborted pre/,
    );
  });
});

describe('ServerClock', () => {
  it('takes the Date header plus half a second at the midpoint of sending and receiving', () => {
    const ours = new ManualClock(START);
    const server = new ServerClock(ours);
    assert.equal(server.offsetMs, undefined);
    assert.equal(server.now(), START, 'ours until measured');
    // Sent at START, received 2 s later; the server stamped 12:00:31 (it runs about 30 s ahead).
    const date = new Date(Date.UTC(2026, 0, 15, 12, 0, 31)).toUTCString();
    assert.equal(server.observe(date, START, START + 2000), Date.UTC(2026, 0, 15, 12, 0, 31) + 500 - (START + 1000));
    assert.equal(server.offsetMs, 30_250);
    assert.equal(server.now(), START + 30_250);
    assert.equal(server.observe(null, START), undefined, 'no header changes nothing');
    assert.equal(server.observe('not a date', START), undefined);
    assert.equal(server.offsetMs, 30_250);
  });
});

describe('the server clock of the client and the self-service client (midpoint)', () => {
  const clock = new ManualClock(START);
  let emulator: Emulator;

  /** A fetch whose request takes 1 s of clock time to arrive and its answer 1 s to come back. */
  const slowFetch: typeof fetch = async (input, init) => {
    clock.advance(1000);
    const res = await fetch(input, init);
    clock.advance(1000);
    return res;
  };

  before(async () => {
    emulator = await startEmulator({ clock });
  });
  after(() => emulator.close());

  for (const offset of [0, 30_000, -30_000]) {
    it(`measures a server ${offset / 1000} s off within the header's half second, not a whole round trip off`, async () => {
      emulator.clock.setOffset(offset);
      const client = new MaskinportenClient(
        {
          authority: emulator.issuer,
          clientId: emulator.adminClient.clientId,
          jwkBase64: emulator.adminClient.jwkBase64,
        },
        { clock, fetch: slowFetch },
      );
      await client.metadata();
      // The server stamps its answer 1 s after we send; the midpoint of the 2 s round trip is that moment.
      assert.ok(client.clockOffsetMs !== undefined);
      assert.ok(Math.abs(client.clockOffsetMs - offset) <= 500, `client: ${client.clockOffsetMs} for ${offset}`);

      const api = new SelfServiceClient(client, { clock, fetch: slowFetch });
      await api.listPublicScopes();
      assert.ok(api.clockOffsetMs !== undefined);
      assert.ok(Math.abs(api.clockOffsetMs - offset) <= 500, `self-service: ${api.clockOffsetMs} for ${offset}`);
      assert.equal(api.serverNow(), clock.now() + api.clockOffsetMs);
    });
  }

  it("waits on another process's store lock on the client's clock, and fetches itself when the wait is up", async () => {
    emulator.clock.setOffset(0);
    // A shared store whose fetch lock another process holds (and never releases, nor stores a token).
    const held: TokenStore = {
      get: async () => undefined,
      set: async () => undefined,
      delete: async () => undefined,
      lock: async () => null,
      // Ten minutes: only a wait on the client's clock can be over within this test.
      maxWaitMs: 600_000,
    };
    const client = new MaskinportenClient(
      {
        authority: emulator.issuer,
        clientId: emulator.adminClient.clientId,
        jwkBase64: emulator.adminClient.jwkBase64,
      },
      { clock, cache: { store: held } },
    );
    await client.metadata();
    let got: string | undefined;
    const pending = client.getAccessToken(emulator.adminClient.scopes).then((token) => {
      got = token.kind;
    });
    // Until the wait's first poll is queued on the client's clock.
    for (let i = 0; i < 1000 && clock.pending === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(got, undefined, 'waiting on the lock holder');
    clock.advance(600_000);
    // A generous bound for the upstream round trip (real HTTP), far below the ten-minute wait on the system clock.
    await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    assert.equal(got, 'maskinporten', 'fetched upstream once the clock passed the wait bound');
  });

  it('discovery leaves no timer queued once it has answered', async () => {
    emulator.clock.setOffset(0);
    const own = new ManualClock(START);
    const client = new MaskinportenClient(
      {
        authority: emulator.issuer,
        clientId: emulator.adminClient.clientId,
        jwkBase64: emulator.adminClient.jwkBase64,
      },
      { clock: own },
    );
    await client.metadata();
    assert.equal(own.pending, 0, 'the discovery timeout was disarmed');
  });
});
