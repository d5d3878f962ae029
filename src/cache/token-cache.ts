/**
 * The token cache: one in-flight fetch per key however many callers ask at once, an expiry margin, refresh-ahead
 * (past a point of a token's life callers get the cached token at once while exactly one background refresh runs;
 * a failed refresh keeps serving the still-valid token and is retried with backoff), a bounded size with
 * least-recently-used eviction, and an optional shared store. Errors are never cached. Knows nothing of HTTP.
 */
import { ConfigError } from '../errors.ts';
import { AccessToken } from '../token.ts';
import type { StoredToken, TokenStore } from './store.ts';

/** Options of a {@link TokenCache}. */
export interface TokenCacheOptions {
  /** Source of the current time (epoch ms). */
  clock: { now(): number };
  /** A token is treated as expired this long (ms) before its `exp`; 10000 by default. */
  expiryMarginMs?: number;
  /**
   * Fraction of a token's life after which it is refreshed in the background; 0.75 by default. 1 disables. For a
   * token so short-lived that this point falls past `exp − expiryMarginMs`, the fraction of that usable life.
   */
  refreshAhead?: number;
  /** Most entries kept in memory; 1000 by default. */
  maxEntries?: number;
  /** First wait (ms) before retrying a failed background refresh; doubles per failure up to 30 s. 1000 by default. */
  refreshRetryBaseMs?: number;
  /** A shared store consulted when the in-memory cache misses. */
  store?: TokenStore;
  /** Told about background refresh failures (the caller already got a valid token). */
  onBackgroundError?: (err: unknown, key: string) => void;
  /** Told when a token lives too briefly to be cached (its whole life is inside the expiry margin). */
  onUncacheable?: (token: AccessToken, key: string) => void;
}

interface Entry {
  token: AccessToken;
  /** Epoch ms after which the token is no longer handed out. */
  usableUntil: number;
  /** Epoch ms after which a background refresh starts. */
  refreshAt: number;
  /** Earliest epoch ms of the next background refresh attempt after failures. */
  nextAttemptAt: number;
  failures: number;
  lastUsed: number;
}

/** A fetch in flight for one key. */
interface InFlight {
  promise: Promise<AccessToken>;
  /** Invalidated while in flight: its result goes to its callers but is not stored. */
  stale: boolean;
  /** Still may answer with the shared store's token (which a forced refresh must not get). */
  mayServeStored: boolean;
}

/** How a token was obtained, for telemetry. */
export type CacheOutcome = 'cached' | 'new';

/** A fetch of a new token. */
export type TokenFetcher = () => Promise<AccessToken>;

function toStored(token: AccessToken): StoredToken {
  return {
    value: token.value,
    kind: token.kind,
    expiresAt: token.expiresAt.getTime(),
    issuedAt: token.issuedAt.getTime(),
    scopes: [...token.scopes],
  };
}

function fromStored(s: StoredToken): AccessToken {
  return AccessToken.fromJwt(s.value, s.kind, {
    expiresAt: new Date(s.expiresAt),
    issuedAt: new Date(s.issuedAt),
    scope: s.scopes.join(' '),
  });
}

/** See the module comment. */
export class TokenCache {
  readonly #clock: { now(): number };
  readonly #margin: number;
  readonly #refreshAhead: number;
  readonly #maxEntries: number;
  readonly #retryBase: number;
  readonly #store: TokenStore | undefined;
  readonly #onBackgroundError: ((err: unknown, key: string) => void) | undefined;
  readonly #onUncacheable: ((token: AccessToken, key: string) => void) | undefined;
  /** Keys already reported as uncacheable, so the warning is given once per key, not once per call. */
  readonly #reportedUncacheable = new Set<string>();
  readonly #entries = new Map<string, Entry>();
  /**
   * The fetch in flight per key. Invalidation marks it stale (so its result is handed to its callers but never
   * stored) and removes it; nothing is kept per key once its fetch settles, so no map grows with every key ever seen.
   */
  readonly #inflight = new Map<string, InFlight>();
  #useCounter = 0;

  constructor(options: TokenCacheOptions) {
    this.#clock = options.clock;
    this.#margin = options.expiryMarginMs ?? 10_000;
    this.#refreshAhead = options.refreshAhead ?? 0.75;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#retryBase = options.refreshRetryBaseMs ?? 1000;
    this.#store = options.store;
    this.#onBackgroundError = options.onBackgroundError;
    this.#onUncacheable = options.onUncacheable;
    if (!(this.#margin >= 0)) throw new ConfigError(`cache.expiryMarginMs must be ≥ 0, got ${this.#margin}`);
    if (!(this.#refreshAhead > 0 && this.#refreshAhead <= 1)) {
      throw new ConfigError(`cache.refreshAhead must be in (0, 1], got ${this.#refreshAhead}`);
    }
    if (!(Number.isInteger(this.#maxEntries) && this.#maxEntries >= 1)) {
      throw new ConfigError(`cache.maxEntries must be a whole number ≥ 1, got ${this.#maxEntries}`);
    }
  }

  /**
   * The usable cached token for `key`, without waiting, or undefined. Starts a background refresh with `fetch`
   * when the token is past its refresh point.
   */
  peek(key: string, fetch: TokenFetcher): AccessToken | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.#clock.now();
    if (now >= entry.usableUntil) return undefined;
    entry.lastUsed = ++this.#useCounter;
    if (now >= entry.refreshAt && now >= entry.nextAttemptAt && !this.#inflight.has(key))
      this.#refreshInBackground(key, entry, fetch);
    return entry.token;
  }

  /** The token for `key`: cached when usable, otherwise from the one in-flight fetch (started if needed). */
  async get(key: string, fetch: TokenFetcher): Promise<{ token: AccessToken; outcome: CacheOutcome }> {
    const cached = this.peek(key, fetch);
    if (cached) return { token: cached, outcome: 'cached' };
    return { token: await this.#fetchShared(key, fetch, true), outcome: 'new' };
  }

  /**
   * A new token for `key`, never the cached or stored one (after the API refused it, say). Concurrent refreshes of
   * one key share one fetch: a fetch already in flight that will ask the server (not the shared store) is joined;
   * otherwise the cached token is dropped, any other fetch in flight is left to its callers but no longer stored, and
   * one new fetch starts.
   */
  refresh(key: string, fetch: TokenFetcher): Promise<AccessToken> {
    const running = this.#inflight.get(key);
    if (running && !running.mayServeStored) return running.promise;
    this.#entries.delete(key);
    if (running) {
      running.stale = true;
      this.#inflight.delete(key);
    }
    return this.#fetchShared(key, fetch, false, true);
  }

  /** Forgets the token for `key` (or every token), here and in the shared store. */
  async invalidate(key?: string): Promise<void> {
    const keys = key === undefined ? [...new Set([...this.#entries.keys(), ...this.#inflight.keys()])] : [key];
    for (const k of keys) {
      this.#entries.delete(k);
      const running = this.#inflight.get(k);
      if (running) {
        running.stale = true;
        this.#inflight.delete(k);
      }
    }
    if (this.#store) await Promise.all(keys.map((k) => this.#store!.delete(k)));
  }

  /** Number of tokens held in memory. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether a fetch for `key` is in flight. */
  isFetching(key: string): boolean {
    return this.#inflight.has(key);
  }

  /** Number of keys with per-key bookkeeping (cached tokens and fetches in flight), for checking the bound. */
  get trackedKeys(): number {
    return new Set([...this.#entries.keys(), ...this.#inflight.keys()]).size;
  }

  #refreshInBackground(key: string, entry: Entry, fetch: TokenFetcher): void {
    this.#fetchShared(key, fetch, false).catch((err: unknown) => {
      entry.failures += 1;
      const wait = Math.min(30_000, this.#retryBase * 2 ** (entry.failures - 1));
      entry.nextAttemptAt = this.#clock.now() + wait;
      this.#onBackgroundError?.(err, key);
    });
  }

  #fetchShared(key: string, fetch: TokenFetcher, consultStore: boolean, dropStored = false): Promise<AccessToken> {
    const running = this.#inflight.get(key);
    if (running) return running.promise;
    const flight: InFlight = {
      promise: undefined as unknown as Promise<AccessToken>,
      stale: false,
      mayServeStored: consultStore && this.#store !== undefined,
    };
    flight.promise = (async () => {
      if (dropStored && this.#store) await this.#store.delete(key).catch(() => undefined);
      if (flight.mayServeStored && this.#store) {
        const stored = await this.#store.get(key).catch(() => undefined);
        const token = stored && this.#usableStored(stored);
        if (token) {
          this.#remember(key, token, flight);
          return token;
        }
        flight.mayServeStored = false;
      }
      const token = await fetch();
      if (this.#remember(key, token, flight) && this.#store) {
        const ttl = token.expiresAt.getTime() - this.#clock.now();
        // A shared store failing must not fail the caller, who already has a good token.
        await this.#store.set(key, toStored(token), ttl).catch(() => undefined);
      }
      return token;
    })();
    this.#inflight.set(key, flight);
    const clear = () => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    };
    flight.promise.then(clear, clear);
    return flight.promise;
  }

  /** A token from the shared store, if it is well formed and usable now; a malformed entry is ignored, not thrown. */
  #usableStored(stored: StoredToken): AccessToken | undefined {
    if (!(stored.expiresAt - this.#margin > this.#clock.now())) return undefined;
    try {
      return fromStored(stored);
    } catch {
      return undefined;
    }
  }

  /** Stores a fresh token unless the key was invalidated meanwhile; false when not stored. */
  #remember(key: string, token: AccessToken, flight: InFlight): boolean {
    if (flight.stale) return false;
    const exp = token.expiresAt.getTime();
    const usableUntil = exp - this.#margin;
    const now = this.#clock.now();
    if (usableUntil <= now) {
      // Too short-lived to cache: the caller still gets it, but every call will fetch anew — worth saying once.
      if (this.#onUncacheable && !this.#reportedUncacheable.has(key) && this.#reportedUncacheable.size < 1000) {
        this.#reportedUncacheable.add(key);
        this.#onUncacheable(token, key);
      }
      return false;
    }
    const issued = Math.min(token.issuedAt.getTime(), now);
    // Refresh-ahead at its fraction of the token's life; when the margin leaves no room for that (a short-lived
    // token: margin ≥ (1 − refreshAhead) × life), at the same fraction of its usable life instead, so that callers
    // still get the cached token while one background refresh runs (refreshAhead 1 still turns it off).
    const nominal = issued + (exp - issued) * this.#refreshAhead;
    const refreshAt = nominal < usableUntil ? nominal : issued + (usableUntil - issued) * this.#refreshAhead;
    this.#entries.delete(key);
    this.#entries.set(key, {
      token,
      usableUntil,
      refreshAt,
      nextAttemptAt: 0,
      failures: 0,
      lastUsed: ++this.#useCounter,
    });
    if (this.#entries.size > this.#maxEntries) this.#evict();
    return true;
  }

  /** Drops the least recently used entry (a scan only when the cache is over capacity). */
  #evict(): void {
    let oldestKey: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [k, e] of this.#entries) {
      if (e.lastUsed < oldest) {
        oldest = e.lastUsed;
        oldestKey = k;
      }
    }
    if (oldestKey !== undefined) this.#entries.delete(oldestKey);
  }
}
