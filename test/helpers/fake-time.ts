/**
 * Runs the client and the emulator on one `ManualClock`, so deadlines, per-attempt timeouts, backoff and the
 * emulator's latency faults happen in clock time, never in real time. The harness knows when nothing can happen
 * without the clock moving — every request the client started is either held by a latency fault or finished and
 * read — and only then moves the clock to its next timer. No test waits for real time or allows a real-time margin.
 */
import assert from 'node:assert/strict';
import type { Clock } from '../../src/clock.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { ManualClock } from '../../src/manual-clock.ts';

/** How a driven call ended. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The shared clock, the emulator's view of it, a counting `fetch` for clients, and the driver. */
export class FakeTime {
  /** The clock the client and (through {@link FakeTime.serverClock}) the emulator run on. */
  readonly clock: ManualClock;
  /** Pass to `startEmulator({ clock })`: the same clock, counting the timers the emulator waits on. */
  readonly serverClock: Clock;
  readonly #held = new Set<unknown>();
  #calls = 0;
  #inflight = 0;
  #finished = 0;

  /** Starts at `start`, or at the current whole second plus 250 ms (so `Date` headers are predictable). */
  constructor(start: number = Math.floor(Date.now() / 1000) * 1000 + 250) {
    const clock = new ManualClock(start);
    this.clock = clock;
    const held = this.#held;
    this.serverClock = {
      now: () => clock.now(),
      monotonic: () => clock.monotonic(),
      setTimeout: (callback, ms) => {
        const handle = clock.setTimeout(() => {
          held.delete(handle);
          callback();
        }, ms);
        held.add(handle);
        return handle;
      },
      clearTimeout: (handle) => {
        held.delete(handle);
        clock.clearTimeout(handle);
      },
    };
  }

  /** Counts the requests `emulator` finishes (answered, or closed by the client). Call once it has started. */
  watch(emulator: Emulator): () => void {
    return emulator.requests.subscribe(() => {
      this.#finished++;
    });
  }

  /** A `fetch` that counts requests from the call until the body has been read. Give it to every client. */
  readonly fetch: typeof fetch = async (input, init) => {
    this.#inflight++;
    this.#calls++;
    try {
      const res = await fetch(input, init);
      const body = await res.arrayBuffer();
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    } finally {
      this.#inflight--;
    }
  };

  /** Requests the client has started. */
  get calls(): number {
    return this.#calls;
  }

  /** Requests the emulator holds on a latency fault right now. */
  get held(): number {
    return this.#held.size;
  }

  /**
   * True when nothing can happen until the clock moves: every request started is finished or held by the
   * emulator, and every request still in flight on the client's side is one of those held.
   */
  quiet(): boolean {
    return this.#calls === this.#finished + this.#held.size && this.#inflight === this.#held.size;
  }

  /** Lets I/O and microtasks run until {@link FakeTime.quiet} holds. */
  async settle(what = 'the requests in flight'): Promise<void> {
    for (let turn = 0; turn < 1_000_000; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.quiet()) {
        // Once more, so what the last I/O callback started has begun.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.quiet()) return;
      }
    }
    assert.fail(`${what} never settled`);
  }

  /**
   * Drives `promise` to its end: settles, and while it is pending moves the clock to the next timer. Fails when it
   * would need the clock to move more than `limitMs` from now — the call hung past its deadline — or when it is
   * pending with nothing left to wait for.
   * @returns how it ended, and how long (clock ms) it took
   */
  async run<T>(promise: Promise<T>, limitMs: number, what: string): Promise<Settled<T> & { tookMs: number }> {
    let result: Settled<T> | undefined;
    promise.then(
      (value) => {
        result = { ok: true, value };
      },
      (error: unknown) => {
        result = { ok: false, error };
      },
    );
    const start = this.clock.monotonic();
    for (;;) {
      await this.settle(what);
      if (result) return { ...result, tookMs: this.clock.monotonic() - start };
      const due = this.clock.nextDueIn();
      assert.ok(due !== undefined, `${what} is pending with no timer left: it hangs`);
      const at = this.clock.monotonic() + due - start;
      assert.ok(at <= limitMs, `${what} did not settle within ${limitMs} ms of clock time: it hung past its deadline`);
      this.clock.runNext();
    }
  }

  /**
   * {@link FakeTime.run} for a call expected to end within `limitMs` of clock time: resolves or rejects as it does.
   */
  async drive<T>(promise: Promise<T>, limitMs: number, what = 'the call'): Promise<T> {
    const result = await this.run(promise, limitMs, what);
    if (!result.ok) throw result.error;
    return result.value;
  }

  /** Moves the clock on, timer by timer, until no request is in flight or held (abandoned requests land). */
  async drain(): Promise<void> {
    for (;;) {
      await this.settle('the requests in flight');
      if (this.#inflight === 0 && this.#held.size === 0) return;
      assert.ok(this.clock.runNext(), 'requests are in flight with no timer left');
    }
  }

  /**
   * Settles, then moves the clock forward by `ms`: timers due on the way fire in order, each followed by a settle,
   * and it settles again at the end.
   */
  async advance(ms: number): Promise<void> {
    await this.settle();
    for (;;) {
      const due = this.clock.nextDueIn();
      if (due === undefined || due > ms) break;
      this.clock.advance(due);
      ms -= due;
      await this.settle();
    }
    this.clock.advance(ms);
    await this.settle();
  }
}
