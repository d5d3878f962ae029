/**
 * The one race between a promise and an abort signal (a caller's abort, a call's deadline): used wherever a wait
 * must end when a signal fires while the work behind it goes on (a fetch shared with other callers).
 */

/**
 * Waits for `promise`, but rejects with `onAbort(reason)` as soon as `signal` aborts (at once when it already
 * has). A later rejection of `promise` is handled, so abandoning it never surfaces as an unhandled rejection.
 * @param promise the work to wait for (it is not cancelled)
 * @param signal ends the wait; none waits for `promise` alone
 * @param onAbort the error to reject with, from the signal's reason
 * @returns what `promise` resolves to
 * @see https://developer.mozilla.org/en-US/docs/Web/API/AbortSignal
 */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | null | undefined,
  onAbort: (reason: unknown) => unknown,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(onAbort(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(onAbort(signal.reason));
    signal.addEventListener('abort', aborted, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', aborted);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', aborted);
        reject(err);
      },
    );
  });
}
