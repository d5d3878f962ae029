/**
 * The token cache: one in-flight fetch per key however many callers ask at once, an expiry margin, refresh-ahead
 * (past a point of a token's life callers get the cached token at once while exactly one background refresh runs;
 * a failed refresh keeps serving the still-valid token and is retried with backoff), a bounded size with
 * least-recently-used eviction, and an optional shared store. Errors are never cached. Knows nothing of HTTP.
 */
import { systemClock, type Timekeeper } from '../clock.ts';
import { ConfigError } from '../errors.ts';
import { type AccessToken, expiresWithinBound } from '../token.ts';
import { fetchThroughStore, type SourcedToken, type TokenSource, toStored } from './shared-fetch.ts';
import type { StoreContext, TokenStore } from './store.ts';

/** How long (ms) before its `exp` a token is treated as expired, unless told otherwise: 10 seconds. */
export const DEFAULT_EXPIRY_MARGIN_MS = 10_000;

/** The first wait (ms) before a failed background refresh is tried again; it doubles per failure. */
const REFRESH_RETRY_BASE_MS = 1000;
/** The longest wait (ms) between background refresh attempts. */
const REFRESH_RETRY_MAX_MS = 30_000;

export type { TokenSource } from './shared-fetch.ts';

/** Options of a {@link TokenCache}. */
export interface TokenCacheOptions {
  /** Source of the current time (epoch ms). */
  clock: { now(): number };
  /** The timers a wait on another process's fetch (through `store`) runs on; the system's by default. */
  timers?: Timekeeper;
  /** A token is treated as expired this long (ms) before its `exp`; 10000 by default. */
  expiryMarginMs?: number;
  /**
   * Fraction of a token's life after which it is refreshed in the background; 0.75 by default. 1 disables. For a
   * token so short-lived that this point falls past `exp − expiryMarginMs`, the fraction of that usable life.
   */
  refreshAhead?: number;
  /** Most entries kept in memory; 1000 by default. */
  maxEntries?: number;
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
  /** What the shared store is told for this key. */
  context: StoreContext | undefined;
}

/** A fetch in flight for one key. */
interface InFlight {
  promise: Promise<SourcedToken>;
  context: StoreContext | undefined;
  /** Invalidated while in flight: its result goes to its callers but is not stored. */
  stale: boolean;
  /** Still may answer with the shared store's token (which a forced refresh must not get). */
  mayServeStored: boolean;
}

/** How a token was obtained, for telemetry. */
export type CacheOutcome = 'cached' | 'new';

/**
 * A token with how it was obtained: `source` is `memory`, the shared store's name (e.g. `redis`), `wait` (after
 * waiting on another process's fetch) or `upstream`.
 */
export interface CacheResult {
  token: AccessToken;
  outcome: CacheOutcome;
  source: Exclude<TokenSource, 'store'> | string;
}

/** A fetch of a new token. */
export type TokenFetcher = () => Promise<AccessToken>;

/** See the module comment. */
export class TokenCache {
  readonly #clock: { now(): number };
  readonly #timers: Timekeeper;
  readonly #margin: number;
  readonly #refreshAhead: number;
  readonly #maxEntries: number;
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
    this.#timers = options.timers ?? systemClock;
    this.#margin = options.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS;
    this.#refreshAhead = options.refreshAhead ?? 0.75;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#store = options.store;
    this.#onBackgroundError = options.onBackgroundError;
    this.#onUncacheable = options.onUncacheable;
    // Another process invalidated a token: stop serving it here (the store already dropped its entry).
    this.#store?.onInvalidate?.((key, holds) => {
      const entry = this.#entries.get(key);
      if (holds !== undefined && entry !== undefined && !holds(entry.token.value)) return;
      this.#forget(key);
      // Kept, never served, so that a forced refresh here still knows which token it replaces (and so neither
      // deletes nor refuses a newer one another process has stored).
      if (entry !== undefined) {
        entry.usableUntil = Number.NEGATIVE_INFINITY;
        this.#entries.set(key, entry);
      }
    });
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
  peek(key: string, fetch: TokenFetcher, context?: StoreContext): AccessToken | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.#clock.now();
    if (now >= entry.usableUntil) return undefined;
    entry.lastUsed = ++this.#useCounter;
    if (now >= entry.refreshAt && now >= entry.nextAttemptAt && !this.#inflight.has(key))
      this.#refreshInBackground(key, entry, fetch, context ?? entry.context);
    return entry.token;
  }

  /**
   * The token for `key`: cached when usable, otherwise from the one in-flight fetch (started if needed), which
   * consults the shared store first. `source` says where it came from.
   */
  async get(key: string, fetch: TokenFetcher, context?: StoreContext): Promise<CacheResult> {
    const cached = this.peek(key, fetch, context);
    if (cached) return { token: cached, outcome: 'cached', source: 'memory' };
    return this.#outcome(await this.#fetchShared(key, fetch, true, { context }));
  }

  /**
   * A new token for `key`, never the cached or stored one (after the API refused it, say). Concurrent refreshes of
   * one key share one fetch: a fetch already in flight that will ask the server (not the shared store) is joined;
   * otherwise the cached token is dropped, any other fetch in flight is left to its callers but no longer stored, and
   * one new fetch starts.
   */
  async refresh(key: string, fetch: TokenFetcher, context?: StoreContext): Promise<CacheResult> {
    const running = this.#inflight.get(key);
    if (running && !running.mayServeStored) return this.#outcome(await running.promise);
    // With a shared store, another process may already have replaced the refused token: one newer than it will do.
    const refused = this.#entries.get(key)?.token;
    this.#entries.delete(key);
    if (running) {
      running.stale = true;
      this.#inflight.delete(key);
    }
    return this.#outcome(
      await this.#fetchShared(key, fetch, false, { context, dropStored: true, newerThan: refused ?? null }),
    );
  }

  /** Forgets the token for `key` (or every token), here and in the shared store (which tells other processes). */
  async invalidate(key?: string, context?: StoreContext): Promise<void> {
    const keys = key === undefined ? [...new Set([...this.#entries.keys(), ...this.#inflight.keys()])] : [key];
    const contexts = keys.map(
      (k) => (k === key && context) || this.#entries.get(k)?.context || this.#inflight.get(k)?.context,
    );
    // The token held is the one invalidated everywhere; with none held, whatever the store holds.
    const held = keys.map((k) => this.#entries.get(k)?.token);
    for (const k of keys) this.#forget(k);
    // A store failing must not fail the invalidation here (a shared store applies it once it is back).
    if (this.#store) {
      await Promise.all(
        keys.map((k, i) => this.#store!.delete(k, contexts[i], held[i] && toStored(held[i])).catch(() => undefined)),
      );
    }
  }

  #forget(key: string): void {
    this.#entries.delete(key);
    const running = this.#inflight.get(key);
    if (running) {
      running.stale = true;
      this.#inflight.delete(key);
    }
  }

  /** The result with its source labelled for telemetry: a store's token by the store's name (e.g. `redis`). */
  #outcome({ token, source }: SourcedToken): CacheResult {
    const label = source === 'store' ? (this.#store?.name ?? 'store') : source;
    return { token, outcome: source === 'upstream' ? 'new' : 'cached', source: label };
  }

  /** Number of keys with per-key bookkeeping (cached tokens and fetches in flight), for checking the bound. */
  get trackedKeys(): number {
    return new Set([...this.#entries.keys(), ...this.#inflight.keys()]).size;
  }

  #refreshInBackground(key: string, entry: Entry, fetch: TokenFetcher, context: StoreContext | undefined): void {
    // A refresh takes another process's token only when it is newer than the one held.
    this.#fetchShared(key, fetch, true, { context, newerThan: entry.token }).catch((err: unknown) => {
      entry.failures += 1;
      const wait = Math.min(REFRESH_RETRY_MAX_MS, REFRESH_RETRY_BASE_MS * 2 ** (entry.failures - 1));
      entry.nextAttemptAt = this.#clock.now() + wait;
      this.#onBackgroundError?.(err, key);
    });
  }

  /**
   * The one fetch in flight for `key` in this process. With a shared store it is coordinated with other processes
   * (see shared-fetch.ts): `consultStore` lets it answer with a stored token — a usable one, or with `newerThan` one
   * newer than that token — and `dropStored` deletes the stored entry first (a forced refresh).
   */
  #fetchShared(
    key: string,
    fetch: TokenFetcher,
    consultStore: boolean,
    how: { context: StoreContext | undefined; dropStored?: boolean; newerThan?: AccessToken | null },
  ): Promise<SourcedToken> {
    const running = this.#inflight.get(key);
    if (running) return running.promise;
    const store = this.#store;
    const { context } = how;
    const flight: InFlight = {
      promise: undefined as unknown as Promise<SourcedToken>,
      context,
      stale: false,
      mayServeStored: consultStore && store !== undefined,
    };
    flight.promise = (async (): Promise<SourcedToken> => {
      if (!store) {
        const token = await fetch();
        this.#remember(key, token, flight);
        return { token, source: 'upstream' };
      }
      // Only the refused token, when it is known: a newer one another process has just stored is kept (and taken,
      // being newer). With none held here, whatever the store holds may be the refused one.
      if (how.dropStored) {
        await store.delete(key, context, how.newerThan ? toStored(how.newerThan) : undefined).catch(() => undefined);
      }
      // A forced refresh with no token held (`null`) takes no stored token; otherwise one newer than the one held.
      const newerThan =
        how.newerThan === undefined ? undefined : (how.newerThan?.expiresAt.getTime() ?? Number.POSITIVE_INFINITY);
      const sourced = await fetchThroughStore({
        store,
        key,
        context,
        timers: this.#timers,
        fetch: () => {
          flight.mayServeStored = false;
          return fetch();
        },
        // The same expiry bound as for a token from the endpoint: an entry past it is a miss, and dropped.
        sane: (s) => expiresWithinBound(s.expiresAt, this.#clock.now()),
        accept: (s) =>
          s.expiresAt - this.#margin > this.#clock.now() && (newerThan === undefined || s.expiresAt > newerThan),
        // Entries expire in the store when the token stops being usable; a stale fetch's token is not shared.
        ttlFor: (token) => (flight.stale ? 0 : token.expiresAt.getTime() - this.#margin - this.#clock.now()),
      });
      this.#remember(key, sourced.token, flight);
      return sourced;
    })();
    this.#inflight.set(key, flight);
    const clear = () => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    };
    flight.promise.then(clear, clear);
    return flight.promise;
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
      context: flight.context,
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
