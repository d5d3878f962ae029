/**
 * The shared token store on Redis: tokens sealed at rest under hashed names, a fetch lock per key with an owner
 * and a TTL (SET NX PX; released by compare-and-delete in Lua, so only its owner releases it), and one pub/sub
 * channel that wakes waiters the moment a lock holder stores its token or lets go, and carries invalidations to
 * every process. Waiters also poll (every `pollIntervalMs`), because pub/sub delivers at most once: a message lost
 * to a reconnect costs one poll interval, never a stuck caller. Every command has a short timeout; any failure
 * marks Redis unavailable for a moment (see health.ts), and the cache serves memory and fetches directly.
 *
 * A read is one GET; an entry equal to the one last opened under its name is not opened again (sealed.ts).
 * An invalidation names the token it is about: in one Lua script the entry is deleted only if it still holds that
 * token (so a refresh never deletes a newer token another process has just stored), a tombstone with the token's
 * fingerprint is left for its lifetime, and every process is told, and forgets the token if it holds that one.
 * One made while Redis is unavailable is kept (pending.ts) and applied when Redis is back; and a process coming
 * back from an outage looks up the tombstones of the tokens it holds, since it may have missed messages meanwhile.
 */
import { randomBytes } from 'node:crypto';
import {
  entryName,
  fingerprint,
  OpenedEntries,
  type SealKeys,
  seal,
  sealedPrefix,
  sealKeys,
  secretFor,
  userSecret,
} from '../cache/sealed.ts';
import type { InvalidationListener, StoreContext, StoredToken, StoreLock, TokenStore } from '../cache/store.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../protocol/constants.ts';
import type { Logger } from '../telemetry.ts';
import type { RedisConnection } from './connection.ts';
import { Deadlines } from './deadlines.ts';
import { Health, StoreUnavailable } from './health.ts';
import type { RedisStoreSettings } from './options.ts';
import { type PendingInvalidation, PendingInvalidations } from './pending.ts';

/** Deletes the lock only when it still holds this owner's id. */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
/**
 * An invalidation. KEYS: the entry, its tombstone. ARGV: the start of entries holding the invalidated token (empty:
 * any entry), the tombstone's fingerprint and lifetime (ms), the channel, the message. Returns 1 if it deleted.
 */
const INVALIDATE_SCRIPT = `local gone = 0
local v = redis.call('get', KEYS[1])
if v and (ARGV[1] == '' or string.sub(v, 1, #ARGV[1]) == ARGV[1]) then gone = redis.call('del', KEYS[1]) end
if ARGV[2] ~= '' then redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
redis.call('publish', ARGV[4], ARGV[5])
return gone`;
/** Names remembered (to map invalidation messages back to keys); the oldest are forgotten past this. */
const MAX_NAMES = 10_000;
/** Tombstones looked up per command after an outage. */
const TOMBSTONE_BATCH = 500;

/** How long an invalidated token can still be served somewhere: its whole life, within the protocol's bound. */
function tombstoneMs(token: StoredToken | undefined): number {
  const max = MAX_TOKEN_LIFETIME_SECONDS * 1000;
  if (!token) return max;
  const life = token.expiresAt - token.issuedAt;
  return Number.isFinite(life) ? Math.min(max, Math.max(1000, Math.ceil(life))) : max;
}

/**
 * See the module comment. Made by `createRedisTokenStore`.
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export class RedisStore implements TokenStore {
  readonly name = 'redis';
  readonly maxWaitMs: number;
  readonly #conn: RedisConnection;
  readonly #o: RedisStoreSettings;
  readonly #health: Health;
  readonly #deadlines: Deadlines;
  readonly #secret: Uint8Array | undefined;
  /** Tags this process's messages, so it ignores its own invalidations. */
  readonly #origin = randomBytes(9).toString('base64url');
  readonly #channel: string;
  /** Entry name → the cache key and keys it was derived from (to map messages back to keys). */
  readonly #names = new Map<string, { key: string; keys: SealKeys }>();
  readonly #opened = new OpenedEntries(MAX_NAMES);
  readonly #pending = new PendingInvalidations(MAX_NAMES);
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #listeners: InvalidationListener[] = [];
  #contextLogger: Logger | undefined;
  #subscription: { close(): void } | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #pendingTimer: NodeJS.Timeout | undefined;
  #recheckTimer: NodeJS.Timeout | undefined;
  #flushing = false;
  #closed = false;

  /**
   * Use {@link createRedisTokenStore}, which detects the client library and validates the options.
   *
   * @param conn - The client, behind one interface for both libraries.
   * @param settings - The validated options.
   */
  constructor(conn: RedisConnection, settings: RedisStoreSettings) {
    this.#conn = conn;
    this.#o = settings;
    this.maxWaitMs = settings.maxWaitMs;
    this.#channel = `${settings.prefix}events`;
    this.#secret = userSecret(settings.encryptionKey, 'createRedisTokenStore options.encryptionKey');
    this.#deadlines = new Deadlines(settings.operationTimeoutMs);
    this.#health = new Health(
      settings.retryAfterFailureMs,
      () => this.#o.logger ?? this.#contextLogger,
      () => this.#recovered(),
    );
    // A Redis outage shows up as the client's `error` events; listening also keeps them from crashing the process.
    conn.onError((err) => this.#health.failed(err));
    conn.onReady(() => this.#health.succeeded());
    // The store lives as long as the client it was given: its pub/sub connection must not outlive it.
    conn.onEnd(() => void this.close());
    this.#subscribe();
  }

  /** Which client library the store drives. */
  get library(): 'redis' | 'ioredis' {
    return this.#conn.library;
  }

  /**
   * Reads and opens the sealed entry of `key`.
   *
   * @param key - The cache key (its HMAC names the entry in Redis).
   * @param context - The client's derived secret (the sealing key, unless `encryptionKey` was given).
   * @returns The token, or `undefined` when there is none or it does not open.
   * @throws ConfigError `ERR_CONFIG` when neither `encryptionKey` nor a context secret is there to seal with; any
   *   Redis failure rejects too (the client then serves from memory).
   */
  async get(key: string, context?: StoreContext): Promise<StoredToken | undefined> {
    const { keys, name } = this.#resolve(key, context);
    const value = await this.#run(['GET', `${this.#o.prefix}t:${name}`]);
    if (value === null || value === undefined) return undefined;
    return this.#opened.open(keys, name, typeof value === 'string' ? value : String(value));
  }

  /**
   * Seals and stores the entry of `key`, expiring with the token, and wakes processes waiting for it.
   *
   * @param key - The cache key.
   * @param token - The token and its times.
   * @param ttlMs - How long Redis keeps the entry.
   * @param context - The client's derived secret.
   */
  async set(key: string, token: StoredToken, ttlMs: number, context?: StoreContext): Promise<void> {
    const { keys, name } = this.#resolve(key, context);
    const ttl = String(Math.max(1, Math.floor(ttlMs)));
    const sealed = seal(keys, name, token);
    this.#opened.remember(keys, name, sealed, token);
    await this.#run(['SET', `${this.#o.prefix}t:${name}`, sealed, 'PX', ttl]);
    await this.#publish('c', name);
  }

  /**
   * Forgets the entry — only while it holds `token`, when given — and tells every process to stop serving that
   * token (or any token of `key`). While Redis is unavailable the invalidation is kept and applied once it is back.
   *
   * @param key - The cache key.
   * @param context - The client's derived secret.
   * @param token - The token to stop serving; any token of `key` when left out.
   */
  async delete(key: string, context?: StoreContext, token?: StoredToken): Promise<void> {
    const { keys, name } = this.#resolve(key, context);
    const fp = token ? fingerprint(keys, token.value) : '';
    const ttlMs = tombstoneMs(token);
    try {
      await this.#invalidate(name, fp, ttlMs);
    } catch (err) {
      this.#pending.add(name, fp, ttlMs);
      this.#flushLater();
      throw err;
    }
  }

  /**
   * Takes the fetch lock of `key` (`SET NX PX` with this process as owner); it expires after the lock TTL.
   *
   * @param key - The cache key.
   * @param context - The client's derived secret.
   * @returns The lock, released by compare-and-delete, or `null` when another process holds it.
   */
  async lock(key: string, context?: StoreContext): Promise<StoreLock | null> {
    const { name } = this.#resolve(key, context);
    const lockKey = `${this.#o.prefix}l:${name}`;
    const owner = randomBytes(12).toString('base64url');
    const taken = await this.#run(['SET', lockKey, owner, 'NX', 'PX', String(this.#o.lockTtlMs)]);
    if (String(taken) !== 'OK') return null;
    return {
      release: async () => {
        await this.#run(['EVAL', RELEASE_SCRIPT, '1', lockKey, owner]);
        await this.#publish('c', name);
      },
    };
  }

  /**
   * Resolves when another process stores the entry of `key` or releases its lock (pub/sub, with polling as a
   * fallback), or after `maxMs`.
   *
   * @param key - The cache key.
   * @param maxMs - The longest to wait (ms).
   * @param context - The client's derived secret.
   */
  changed(key: string, maxMs: number, context?: StoreContext): Promise<void> {
    const { name } = this.#resolve(key, context);
    return new Promise((resolve) => {
      const waiting = this.#waiters.get(name) ?? new Set();
      const done = () => {
        clearTimeout(timer);
        waiting.delete(done);
        if (waiting.size === 0 && this.#waiters.get(name) === waiting) this.#waiters.delete(name);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, Math.min(maxMs, this.#o.pollIntervalMs)));
      waiting.add(done);
      this.#waiters.set(name, waiting);
    });
  }

  /**
   * Registers a listener told which key another process invalidated.
   *
   * @param listener - Called with the cache key (and the token invalidated, when known).
   */
  onInvalidate(listener: InvalidationListener): void {
    this.#listeners.push(listener);
  }

  /** Ends the store's own pub/sub connection (the client passed in stays open: it is the caller's). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#pendingTimer);
    clearTimeout(this.#recheckTimer);
    this.#subscription?.close();
    this.#subscription = undefined;
    for (const waiting of [...this.#waiters.values()]) for (const done of [...waiting]) done();
  }

  /**
   * A description without secrets.
   *
   * @returns `RedisTokenStore(<library>, <key prefix>)`.
   */
  toString(): string {
    return `RedisTokenStore(${this.#conn.library}, ${this.#o.prefix})`;
  }

  #resolve(key: string, context: StoreContext | undefined): { keys: SealKeys; name: string } {
    if (context?.logger) this.#contextLogger = context.logger;
    const keys = sealKeys(secretFor(this.#secret, context, 'The Redis token store'));
    const name = entryName(keys, key);
    // Least recently used first: a name in use moves to the end, so the bound drops the one unused the longest.
    const known = this.#names.get(name);
    if (known !== undefined) this.#names.delete(name);
    this.#names.set(name, known ?? { key, keys });
    if (this.#names.size > MAX_NAMES) this.#names.delete(this.#names.keys().next().value as string);
    return { keys, name };
  }

  /** One command, bounded by the operation timeout; every failure counts against Redis's health. */
  async #run(args: string[]): Promise<unknown> {
    if (this.#closed) throw new StoreUnavailable('the Redis token store is closed');
    if (!this.#health.usable) throw new StoreUnavailable('Redis is unavailable');
    if (!this.#conn.ready()) {
      const err = new StoreUnavailable('the Redis client is not connected');
      this.#health.failed(err);
      throw err;
    }
    try {
      const result = await this.#deadlines.bound(
        this.#conn.command(args),
        () => new StoreUnavailable(`Redis did not answer within ${this.#o.operationTimeoutMs} ms`),
      );
      this.#health.succeeded();
      return result;
    } catch (err) {
      this.#health.failed(err);
      throw err instanceof StoreUnavailable ? err : new StoreUnavailable('a Redis command failed', { cause: err });
    }
  }

  /** Applies an invalidation (see INVALIDATE_SCRIPT): compare-and-delete, tombstone, message, in one round trip. */
  async #invalidate(name: string, fp: string, ttlMs: number): Promise<void> {
    const p = this.#o.prefix;
    const message = `i:${this.#origin}:${name}${fp ? `:${fp}` : ''}`;
    const match = fp ? sealedPrefix(fp) : '';
    await this.#run([
      'EVAL',
      INVALIDATE_SCRIPT,
      '2',
      `${p}t:${name}`,
      `${p}x:${name}`,
      match,
      fp,
      String(ttlMs),
      this.#channel,
      message,
    ]);
  }

  /** Redis is back after an outage: apply what was invalidated meanwhile, and catch up on what others did. */
  #recovered(): void {
    if (this.#closed) return;
    void this.#flush();
    void this.#checkTombstones();
    // Once more a moment later: another process may apply its pending invalidations before this process's pub/sub
    // connection is subscribed again.
    clearTimeout(this.#recheckTimer);
    this.#recheckTimer = setTimeout(() => void this.#checkTombstones(), this.#o.retryAfterFailureMs);
    this.#recheckTimer.unref();
  }

  /** Applies the pending invalidations; those that fail again wait for the next try. */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#pending.size === 0) return;
    this.#flushing = true;
    const failed: PendingInvalidation[] = [];
    try {
      for (const p of this.#pending.take()) {
        // After one failure Redis is skipped for a while: keep the rest for the next try.
        if (failed.length > 0) failed.push(p);
        else await this.#invalidate(p.name, p.fp, p.ttlMs).catch(() => failed.push(p));
      }
    } finally {
      for (const p of failed) this.#pending.restore(p);
      this.#flushing = false;
    }
    this.#flushLater();
  }

  /** Tries the pending invalidations again after a while, also when no call comes to find Redis back. */
  #flushLater(): void {
    if (this.#closed || this.#pendingTimer || this.#pending.size === 0) return;
    this.#pendingTimer = setTimeout(() => {
      this.#pendingTimer = undefined;
      void this.#flush();
    }, this.#o.retryAfterFailureMs);
    this.#pendingTimer.unref();
  }

  /** Forgets, here, every token this process got through Redis that another process invalidated (tombstoned). */
  async #checkTombstones(): Promise<void> {
    const held = [...this.#opened.entries()];
    for (let i = 0; i < held.length && !this.#closed; i += TOMBSTONE_BATCH) {
      const batch = held.slice(i, i + TOMBSTONE_BATCH);
      const marks = await this.#run(['MGET', ...batch.map(([name]) => `${this.#o.prefix}x:${name}`)]).catch(() => []);
      if (!Array.isArray(marks)) return;
      batch.forEach(([name, keys, token], j) => {
        const fp = marks[j];
        if (typeof fp === 'string' && fingerprint(keys, token.value) === fp) this.#tell(name, fp);
      });
    }
  }

  /** Tells every process (waiters: `c`hanged; caches: `i`nvalidated). Best effort: waiters also poll. */
  async #publish(type: 'c' | 'i', name: string): Promise<void> {
    await this.#run(['PUBLISH', this.#channel, `${type}:${this.#origin}:${name}`]).catch(() => undefined);
  }

  #onMessage(message: string): void {
    const [type, origin, name, fp] = message.split(':');
    if (!name) return;
    const waiting = this.#waiters.get(name);
    if (waiting) for (const done of [...waiting]) done();
    if (type !== 'i' || origin === this.#origin) return;
    this.#tell(name, fp);
  }

  /** Tells the listeners that the token with fingerprint `fp` (any token, without one) of `name` is invalid. */
  #tell(name: string, fp: string | undefined): void {
    const known = this.#names.get(name);
    if (known === undefined) return;
    const holds = fp ? (value: string) => fingerprint(known.keys, value) === fp : undefined;
    for (const listener of this.#listeners) listener(known.key, holds);
  }

  #subscribe(): void {
    if (this.#closed) return;
    const subscription = this.#conn.subscribe(this.#channel, (m) => this.#onMessage(m));
    this.#subscription = subscription;
    subscription.ready.catch(() => {
      if (this.#closed || this.#subscription !== subscription) return;
      // Not subscribed (Redis down at start): waiters poll meanwhile; try again shortly.
      this.#retryTimer = setTimeout(() => this.#subscribe(), this.#o.retryAfterFailureMs);
      this.#retryTimer.unref();
    });
  }
}
