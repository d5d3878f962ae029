/**
 * The one seam for time. Everything that reads the time of day, measures elapsed time, sleeps or times out — the
 * client's deadlines and backoff, discovery timeouts, the settings watcher, the self-service client, the token
 * verifier and the emulator (token times and its latency fault) — goes through a {@link Clock}, so a test (or a
 * user's test) drives all of it by moving one fake clock instead of waiting.
 *
 * A clock that gives only `now()` (the `{ now }` objects the `clock` options have always taken) moves the time of
 * day alone: elapsed time and timers stay on the system's. A clock that also gives `setTimeout` and
 * `clearTimeout` — such as `ManualClock` — carries the timers too: then deadlines, timeouts and sleeps fire
 * only when it moves.
 * @module
 */
import { ConfigError } from './errors.ts';

/**
 * A source of time: the time of day (`now`, epoch ms, like `Date.now`) and, optionally, elapsed time and timers.
 * Give `setTimeout` and `clearTimeout` together or not at all.
 * @see `ManualClock`, a clock whose time and timers move only when told
 * @see https://developer.mozilla.org/en-US/docs/Web/API/Performance/now (monotonic time)
 */
export interface Clock {
  /** The time of day. @returns Epoch milliseconds. */
  now(): number;
  /**
   * Milliseconds on a clock that never jumps, for measuring elapsed time; `performance.now()` by default, or
   * `now()` when the clock has its own timers.
   * @returns Milliseconds from an arbitrary origin.
   */
  monotonic?(): number;
  /**
   * Calls `callback` once `ms` have passed on this clock.
   * @param callback - What to call. @param ms - The delay. @returns A handle for {@link Clock.clearTimeout}.
   */
  setTimeout?(callback: () => void, ms: number): unknown;
  /** Cancels a timer made by {@link Clock.setTimeout}. @param handle - What `setTimeout` returned. */
  clearTimeout?(handle: unknown): void;
}

/**
 * A clock with every part filled in: what the code behind the seam works with.
 * @see {@link Clock}
 */
export type Timekeeper = Required<Clock>;

/**
 * The system's clock: `Date.now`, `performance.now` and the global timers.
 * @see https://developer.mozilla.org/en-US/docs/Web/API/Performance/now
 */
export const systemClock: Timekeeper = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback: () => void, ms: number): unknown => setTimeout(callback, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/**
 * Fills in a clock: the system's for a missing clock; system timers and `performance.now` for a clock that gives
 * only `now`; `now` as monotonic time for a clock with timers but no `monotonic`.
 * @param clock the clock given in options, if any
 * @param setting the option's name, for the error
 * @returns a clock with every part
 * @throws ConfigError `ERR_CONFIG` (`setting`) when `now` is not a function, or only one of the timer functions is given
 */
export function resolveClock(clock: Clock | undefined, setting = 'clock'): Timekeeper {
  if (clock === undefined) return systemClock;
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function') {
    throw new ConfigError(`${setting} must be an object with a now() method returning epoch milliseconds`, {
      setting,
    });
  }
  const hasSet = typeof clock.setTimeout === 'function';
  if (hasSet !== (typeof clock.clearTimeout === 'function')) {
    throw new ConfigError(`${setting} must give setTimeout and clearTimeout together, or neither`, { setting });
  }
  const now = () => clock.now();
  if (!hasSet) {
    return {
      now,
      monotonic: typeof clock.monotonic === 'function' ? () => clock.monotonic!() : systemClock.monotonic,
      setTimeout: systemClock.setTimeout,
      clearTimeout: systemClock.clearTimeout,
    };
  }
  return {
    now,
    monotonic: typeof clock.monotonic === 'function' ? () => clock.monotonic!() : now,
    setTimeout: (callback, ms) => clock.setTimeout!(callback, ms),
    clearTimeout: (handle) => clock.clearTimeout!(handle),
  };
}

/** The reason a timeout signal aborts with, as `AbortSignal.timeout` gives it. */
function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** A timeout's signal and the function that disarms it. */
export interface TimeoutController {
  /** Aborts `ms` after the controller was made, with a `TimeoutError` as `AbortSignal.timeout` does. */
  readonly signal: AbortSignal;
  /** Disarms the timeout (its signal then never aborts) and drops its timer. */
  clear(): void;
}

/**
 * A timeout of `ms` on `clock`. Unlike `AbortSignal.timeout`, whose timer (holding its signal) stays queued for the
 * whole `ms` however soon the work ends, {@link TimeoutController.clear} drops the timer as soon as the work is over,
 * so a request leaves nothing behind; call it in a `finally`. A system timer does not keep the process alive, as
 * `AbortSignal.timeout`'s does not.
 * @param clock the clock whose timers fire it
 * @param ms how long from now (ms)
 * @returns the signal and its `clear`
 * @see https://developer.mozilla.org/en-US/docs/Web/API/AbortSignal/timeout_static
 */
export function timeoutController(clock: Timekeeper, ms: number): TimeoutController {
  const controller = new AbortController();
  const handle = clock.setTimeout(() => controller.abort(timeoutReason()), ms);
  (handle as { unref?: () => void } | undefined)?.unref?.();
  return { signal: controller.signal, clear: () => clock.clearTimeout(handle) };
}

/**
 * Waits `ms` on `clock`; rejects with the signal's reason when `signal` aborts first (the timer is then cancelled).
 * @param clock the clock whose timers end the wait
 * @param ms how long (ms)
 * @param signal ends the wait early
 * @returns a promise that resolves after `ms`
 */
export function sleep(clock: Timekeeper, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal!.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
