/**
 * One timeout for many Redis commands, on one timer: a command that gets no reply within the timeout is rejected
 * (the caller goes on without Redis), but no timer is made and cleared per command, which on a store read costs
 * as much as the rest of the read. Every command gets the same timeout, so the order they start in is the order
 * they expire in: a sweep looks only at the oldest. A command expires between one and 1¼ timeouts after it starts;
 * the sweep's timer runs only while commands are pending.
 */
import { performance } from 'node:perf_hooks';

interface Pending {
  readonly expiresAt: number;
  readonly expire: () => void;
}

/** See the module comment. */
export class Deadlines {
  readonly #timeoutMs: number;
  readonly #sweepMs: number;
  /** In start order, which is expiry order. */
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#sweepMs = Math.max(1, Math.ceil(timeoutMs / 4));
  }

  /** `work`'s outcome, or `timedOut()` as a rejection once the timeout has passed without one. */
  bound<T>(work: Promise<T>, timedOut: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        expiresAt: performance.now() + this.#timeoutMs,
        // Rejected a turn later (after pending I/O is read): a reply that arrived while this process was too busy
        // to read it is not a timeout, only one Redis did not send is.
        expire: () => setImmediate(() => reject(timedOut())),
      };
      this.#pending.add(entry);
      this.#timer ??= setInterval(() => this.#sweep(), this.#sweepMs);
      work.then(
        (value) => {
          this.#pending.delete(entry);
          resolve(value);
        },
        (err: unknown) => {
          this.#pending.delete(entry);
          reject(err);
        },
      );
    });
  }

  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#pending) {
      if (entry.expiresAt > now) break;
      this.#pending.delete(entry);
      entry.expire();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
