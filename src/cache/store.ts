/**
 * The interface of a shared token store (e.g. Redis, or files on one machine), consulted when the in-process cache
 * misses, so several processes can share tokens. The in-process cache works without one. A store may also
 * coordinate processes: a fetch lock (one upstream request per key across processes), a way to wait for the lock
 * holder's result, and invalidations heard from other processes.
 */
import type { Logger } from '../telemetry.ts';
import type { TokenKind } from '../token.ts';

/**
 * A token as a shared store holds it: plain, serialisable data.
 * @see {@link TokenStore}
 */
export interface StoredToken {
  value: string;
  kind: TokenKind;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms. */
  issuedAt: number;
  scopes: string[];
}

/**
 * What the client tells a store with each call: key material that every process of the same client derives alike
 * (HKDF of the client's private key), so a store can encrypt entries and hash key names without new configuration,
 * and the client's logger.
 * @see {@link TokenStore}
 */
export interface StoreContext {
  /** 32 bytes, derived from the client's private key; never the key itself. */
  readonly secret: Uint8Array;
  readonly logger?: Logger | undefined;
}

/**
 * A held cross-process fetch lock.
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export interface StoreLock {
  /** Releases the lock if this process still owns it (compare-and-delete), and wakes waiters. */
  release(): Promise<void>;
}

/**
 * Told that another process invalidated `key`: the token whose value `holds` accepts, or (without `holds`) any
 * token of the key. Only keys this process has used are reported.
 * @see {@link TokenStore}
 */
export type InvalidationListener = (key: string, holds?: (tokenValue: string) => boolean) => void;

/**
 * A shared, asynchronous token store. Keys are opaque strings that already include the authority, client id, key
 * id, variant and request; a store must keep entries no longer than the given TTL. Every method may reject when
 * the store is unavailable: the cache then serves from memory and fetches directly.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_token
 */
export interface TokenStore {
  /** How tokens served from this store are labelled in counters and spans (e.g. `redis`, `file`); `store` if absent. */
  readonly name?: string;
  /**
   * Reads an entry.
   *
   * @param key - The cache key (opaque; a store should hash it before using it as a name).
   * @param context - What the client knows about the request (for deriving an encryption key), if anything.
   * @returns The stored token, or `undefined` when there is none or it has expired.
   */
  get(key: string, context?: StoreContext): Promise<StoredToken | undefined>;
  /**
   * Stores an entry for at most `ttlMs`.
   *
   * @param key - The cache key.
   * @param token - The token and its times.
   * @param ttlMs - How long the entry may be served: the token's lifetime less the expiry margin.
   * @param context - What the client knows about the request, if anything.
   */
  set(key: string, token: StoredToken, ttlMs: number, context?: StoreContext): Promise<void>;
  /**
   * Forgets the entry and tells other processes to stop serving it. With `token`, only that token is invalidated:
   * the entry is deleted only while it holds that token (a newer one another process stored stays), and other
   * processes stop serving only that token.
   *
   * @param key - The cache key.
   * @param context - What the client knows about the request, if anything.
   * @param token - The token invalidated, when known.
   */
  delete(key: string, context?: StoreContext, token?: StoredToken): Promise<void>;
  /**
   * Takes the cross-process fetch lock for `key`: the lock when taken, `null` when another process holds it. The
   * lock expires on its own (its TTL), so a process that dies holding it blocks others only that long.
   *
   * @param key - The cache key.
   * @param context - What the client knows about the request, if anything.
   * @returns The lock, or `null` when another process holds it.
   */
  lock?(key: string, context?: StoreContext): Promise<StoreLock | null>;
  /**
   * Resolves when `key` may have changed (a token stored, a lock released) or after `maxMs`, whichever is first.
   *
   * @param key - The cache key.
   * @param maxMs - The longest to wait (ms).
   * @param context - What the client knows about the request, if anything.
   */
  changed?(key: string, maxMs: number, context?: StoreContext): Promise<void>;
  /** The longest (ms) a caller waits on another process's fetch before fetching itself; 10000 if absent. */
  readonly maxWaitMs?: number;
  /**
   * Registers a listener told what another process invalidated (only keys this process has used).
   *
   * @param listener - Called with the cache key and, when only one token of it was invalidated, a test for that
   *   token, so the in-memory cache drops its copy.
   */
  onInvalidate?(listener: InvalidationListener): void;
}
