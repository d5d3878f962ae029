/**
 * One caller's abort signal raced against a fetch that other callers share: the caller stops waiting, the shared
 * fetch goes on for the others.
 */
import { AbortedError } from '../errors.ts';

/** `promise`, or an `AbortedError` naming `what` as soon as `signal` aborts (the promise itself is left running). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new AbortedError(`${what} was aborted`, { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(`${what} was aborted`, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
