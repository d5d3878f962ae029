/**
 * The emulator's clock. Every time the emulator reasons about (grant `iat`/`exp`, token lifetimes, key expiry,
 * the `Date` header) comes from here, so tests drive time instead of sleeping, and skew is one offset away.
 */

import { type Clock, resolveClock, type Timekeeper } from '../clock.ts';
import { ArgumentError, ConfigError } from '../errors.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../protocol/constants.ts';

/** Largest distance (ms) from the epoch a JavaScript `Date` can hold (ECMA-262, Time Values). */
export const MAX_DATE_MS = 8.64e15;

/** True for epoch milliseconds a `Date` can hold, so `new Date(ms).toISOString()` cannot throw. */
export function isDateMs(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

export type { Clock } from '../clock.ts';

/**
 * A clock that can be moved: the base clock plus an offset that tests and the admin route control. Its timers
 * (the latency of a fault) and monotonic time are the base clock's, so a fake base clock drives them too.
 */
export class EmulatorClock implements Timekeeper {
  readonly #base: Timekeeper;
  #offsetMs = 0;

  /**
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` (`clock`) when `base` has no `now()`, or only one of the timer
   *   functions: a bad `startEmulator()` option, reported as its other options are
   */
  constructor(base?: Clock) {
    try {
      this.#base = resolveClock(base);
    } catch (err) {
      if (err instanceof ConfigError) throw new ArgumentError(err.message, { setting: 'clock' });
      throw err;
    }
  }

  /** Monotonic time of the base clock (ms), unaffected by the offset. */
  monotonic(): number {
    return this.#base.monotonic();
  }

  /** A timer on the base clock. */
  setTimeout(callback: () => void, ms: number): unknown {
    return this.#base.setTimeout(callback, ms);
  }

  /** Cancels a timer of {@link EmulatorClock.setTimeout}. */
  clearTimeout(handle: unknown): void {
    this.#base.clearTimeout(handle);
  }

  /** The current emulated time in epoch milliseconds. */
  now(): number {
    return this.#base.now() + this.#offsetMs;
  }

  /** The current emulated time in whole epoch seconds, as JWT claims use it. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** How far (ms) the emulated clock runs ahead of its base clock; negative when behind. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Sets the offset from the base clock, e.g. `setOffset(30_000)` makes the emulator 30 s fast. */
  setOffset(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new ArgumentError(`clock offset must be a finite number of ms, got ${String(ms)}`);
    }
    // An offset that puts the clock outside what a Date can hold would make every later answer throw; one within
    // a token lifetime of the limit would issue tokens whose `exp` no Date can hold.
    const now = this.#base.now() + ms;
    if (!isDateMs(now) || !isDateMs(now + MAX_TOKEN_LIFETIME_SECONDS * 1000)) {
      throw new ArgumentError(
        `clock offset ${ms} ms moves the emulator's clock outside the Date range (±${MAX_DATE_MS} ms from 1970, less the longest token lifetime of ${MAX_TOKEN_LIFETIME_SECONDS} s): use a smaller offset`,
      );
    }
    this.#offsetMs = ms;
  }

  /** Moves the emulated clock forward (or backward, with a negative value). */
  advance(ms: number): void {
    this.setOffset(this.#offsetMs + ms);
  }

  /** Makes the emulated clock read `time` now (and run on from there). */
  set(time: Date | number): void {
    const target = typeof time === 'number' ? time : time instanceof Date ? time.getTime() : Number.NaN;
    if (!isDateMs(target)) {
      throw new ArgumentError(
        `the clock can only be set to a valid date (epoch ms within ±${MAX_DATE_MS}), got ${String(time)}`,
      );
    }
    this.setOffset(target - this.#base.now());
  }
}
