/**
 * A single value fetched on demand and kept fresh: one fetch in flight at a time, refreshed in the background once
 * stale (callers keep the last good value meanwhile), and a fallback served at once for a while after a failure, so
 * an outage does not make every caller wait for a fetch that will fail. Used for the discovery document.
 */

/** Options of a {@link RefreshingValue}. */
export interface RefreshingValueOptions<T> {
  fetch: () => Promise<T>;
  /** Served when there is no good value and the fetch fails. */
  fallback: () => T;
  clock: { now(): number };
  /** After this long (ms) a good value is refreshed in the background. */
  staleAfterMs: number;
  /** After a failed first fetch, the fallback is served for this long (ms) before fetching again. */
  retryAfterFailureMs: number;
  /** Told about failures (the caller got the last good value or the fallback). */
  onError?: (err: unknown) => void;
}

/** See the module comment. */
export class RefreshingValue<T> {
  readonly #o: RefreshingValueOptions<T>;
  #value: { value: T; fetchedAt: number } | undefined;
  #inflight: Promise<T> | undefined;
  #failedAt: number | undefined;

  constructor(options: RefreshingValueOptions<T>) {
    this.#o = options;
  }

  /** The current value: the good one (refreshing it when stale), else a fetch, else the fallback. */
  async get(): Promise<T> {
    const now = this.#o.clock.now();
    if (this.#value) {
      if (now - this.#value.fetchedAt >= this.#o.staleAfterMs) void this.#fetch().catch(() => undefined);
      return this.#value.value;
    }
    if (this.#failedAt !== undefined && now - this.#failedAt < this.#o.retryAfterFailureMs) return this.#o.fallback();
    try {
      return await this.#fetch();
    } catch {
      return this.#o.fallback();
    }
  }

  /** The good value, if one was fetched. */
  get current(): T | undefined {
    return this.#value?.value;
  }

  #fetch(): Promise<T> {
    this.#inflight ??= this.#o
      .fetch()
      .then(
        (value) => {
          this.#value = { value, fetchedAt: this.#o.clock.now() };
          this.#failedAt = undefined;
          return value;
        },
        (err: unknown) => {
          // A failed refresh keeps the last good value; only a failed first fetch starts the fallback window.
          if (!this.#value) this.#failedAt = this.#o.clock.now();
          this.#o.onError?.(err);
          throw err;
        },
      )
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }
}
