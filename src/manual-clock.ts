/**
 * A clock for tests: its time and its timers move only when told, so a test of deadlines, timeouts, backoff,
 * refresh-ahead or the settings watcher runs in microseconds and never depends on how busy the machine is.
 * @module
 */

import type { Timekeeper } from './clock.ts';
import { ArgumentError } from './errors.ts';

interface Timer {
  id: number;
  /** When it fires, in this clock's monotonic time. */
  at: number;
  callback: () => void;
}

function checkMs(name: string, ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new ArgumentError(`${name} must be a finite number of milliseconds ≥ 0, got ${String(ms)}`);
  }
}

/**
 * A {@link Clock} that stands still until moved. Pass the same one to the client (`clock`), the emulator
 * (`startEmulator({ clock })`), the verifier or the settings watcher, then move it with {@link ManualClock.advance}
 * or {@link ManualClock.runNext}: timers due on the way fire in order, each seeing the time it was due at.
 *
 * @example
 * const clock = new ManualClock();
 * const client = new MaskinportenClient(settings, { clock, timeoutMs: 200 });
 * const pending = client.getAccessToken(scopes); // against a server that never answers
 * clock.advance(200); // the attempt times out now, not in 200 real milliseconds
 * @see {@link Clock}
 */
export class ManualClock implements Timekeeper {
  #wall: number;
  #monotonic = 0;
  #nextId = 1;
  /** Pending timers, kept sorted by due time (then by creation). */
  #timers: Timer[] = [];

  /**
   * Creates a clock standing still at `start` until moved.
   * @param start the time of day to start at (epoch ms or a Date); the current time by default
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` when `start` is not a valid time
   */
  constructor(start: number | Date = Date.now()) {
    const ms = start instanceof Date ? start.getTime() : start;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new ArgumentError(`ManualClock: start must be epoch milliseconds or a Date, got ${String(start)}`);
    }
    this.#wall = ms;
  }

  /** The time of day. @returns Epoch ms. */
  now(): number {
    return this.#wall + this.#monotonic;
  }

  /** Milliseconds moved since the clock was made. @returns Elapsed ms (never jumps back). */
  monotonic(): number {
    return this.#monotonic;
  }

  /**
   * Schedules `callback` for `ms` from now on this clock.
   * @param callback - What to call. @param ms - The delay. @returns The timer's handle.
   */
  setTimeout(callback: () => void, ms: number): unknown {
    const timer: Timer = { id: this.#nextId++, at: this.#monotonic + Math.max(0, Number(ms) || 0), callback };
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return timer.id;
  }

  /** Cancels a pending timer (an unknown or fired handle is ignored). @param handle - The timer's handle. */
  clearTimeout(handle: unknown): void {
    const i = this.#timers.findIndex((t) => t.id === handle);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#timers.length;
  }

  /** How long until the next timer is due. @returns Ms, or undefined when none is pending. */
  nextDueIn(): number | undefined {
    const next = this.#timers[0];
    return next === undefined ? undefined : next.at - this.#monotonic;
  }

  /**
   * Moves the clock forward by `ms`, firing every timer due on the way in order (a timer scheduled by one that
   * fires is run too when it falls due within the move). Callbacks run synchronously; what they resolve runs after.
   * @param ms - How far to move.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` when `ms` is negative or not finite
   */
  advance(ms: number): void {
    checkMs('advance(ms)', ms);
    const target = this.#monotonic + ms;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      this.#monotonic = next.at;
      next.callback();
    }
    this.#monotonic = target;
  }

  /**
   * Moves the clock to the next pending timer and fires it (and any others due at that same moment).
   * @returns whether a timer was pending
   */
  runNext(): boolean {
    const wait = this.nextDueIn();
    if (wait === undefined) return false;
    this.advance(wait);
    return true;
  }

  /**
   * Sets the time of day without moving monotonic time or firing timers, like a system clock being adjusted.
   * @param time - The new time of day (epoch ms or a Date).
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` when `time` is not a valid time
   */
  setTime(time: number | Date): void {
    const ms = time instanceof Date ? time.getTime() : time;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new ArgumentError(`ManualClock: setTime takes epoch milliseconds or a Date, got ${String(time)}`);
    }
    this.#wall = ms - this.#monotonic;
  }
}
