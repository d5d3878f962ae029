/**
 * Whether Redis is usable, so an outage costs callers nothing: after a failure the store is skipped (its calls
 * fail at once and the cache serves memory and fetches directly) until a retry time, when the next call probes
 * it again. Each outage is logged once when it starts and once when it ends; no error text from Redis is logged
 * beyond its name and code.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../telemetry.ts';

/** Thrown (and caught by the cache) while Redis is being skipped. */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

function describe(err: unknown): Record<string, string> {
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const out: Record<string, string> = { name: typeof e?.name === 'string' ? e.name : 'Error' };
  if (typeof e?.code === 'string') out.code = e.code;
  // Redis error replies start with an upper-case word (READONLY, OOM, NOSCRIPT): that word says what happened.
  const word = typeof e?.message === 'string' ? /^[A-Z]{3,}\b/.exec(e.message)?.[0] : undefined;
  if (word) out.reply = word;
  return out;
}

/** See the module comment. */
export class Health {
  readonly #retryMs: number;
  readonly #logger: () => Logger | undefined;
  readonly #onRecovered: () => void;
  #down = false;
  #retryAt = 0;

  /** `onRecovered` is called when an outage ends. */
  constructor(retryMs: number, logger: () => Logger | undefined, onRecovered: () => void = () => undefined) {
    this.#retryMs = retryMs;
    this.#logger = logger;
    this.#onRecovered = onRecovered;
  }

  /** Whether a call may go to Redis now (healthy, or due for a probe). */
  get usable(): boolean {
    return !this.#down || performance.now() >= this.#retryAt;
  }

  /** Whether an outage is in progress. */
  get down(): boolean {
    return this.#down;
  }

  failed(err: unknown): void {
    this.#retryAt = performance.now() + this.#retryMs;
    if (this.#down) return;
    this.#down = true;
    this.#logger()?.warn?.(
      { err: describe(err) },
      'Redis token store unavailable; serving from memory and fetching tokens directly until it is back',
    );
  }

  succeeded(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#logger()?.info?.({}, 'Redis token store available again; sharing tokens across processes');
    this.#onRecovered();
  }
}
