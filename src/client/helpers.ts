/**
 * Small pieces the client class uses: the memo key of a scope list, the package version for telemetry, racing a
 * shared fetch against one caller's abort signal, and a secret-free description of an error for logs.
 */
import { readFileSync } from 'node:fs';
import { AbortedError, MaskinportenError } from '../errors.ts';

/** The memo key of a scope array: its elements NUL-joined; undefined when one is not a string or holds a NUL. */
export function scopeListKey(scopes: readonly unknown[]): string | undefined {
  for (const s of scopes) if (typeof s !== 'string' || s.includes('\u0000')) return undefined;
  return scopes.join('\u0000');
}

let version: string | undefined;

/** The package's version, read once and only when asked (telemetry names its tracer and meter with it). */
export function packageVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      version = pkg.version;
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}

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

/** A description of an error for log entries: code, message, status, MP code — never a secret. */
export function describe(err: unknown): Record<string, unknown> {
  if (err instanceof MaskinportenError)
    return { code: err.code, message: err.message, status: err.status, mpCode: err.mpCode };
  return { message: err instanceof Error ? err.message : String(err) };
}
