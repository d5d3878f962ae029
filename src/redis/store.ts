/**
 * The shared token store on Redis: tokens sealed at rest under hashed names, a fetch lock per key with an owner
 * and a TTL (SET NX PX; released by compare-and-delete in Lua, so only its owner releases it), and one pub/sub
 * channel that wakes waiters the moment a lock holder stores its token or lets go, and carries invalidations to
 * every process. Waiters also poll (every `pollIntervalMs`), because pub/sub delivers at most once: a message lost
 * to a reconnect costs one poll interval, never a stuck caller. Every command has a short timeout; any failure
 * marks Redis unavailable for a moment (see health.ts), and the cache serves memory and fetches directly.
 */
import { randomBytes } from 'node:crypto';
import { entryName, open, type SealKeys, seal, sealKeys, secretFor, userSecret } from '../cache/sealed.ts';
import type { StoreContext, StoredToken, StoreLock, TokenStore } from '../cache/store.ts';
import type { Logger } from '../telemetry.ts';
import type { RedisConnection } from './connection.ts';
import { Health, StoreUnavailable } from './health.ts';
import type { RedisStoreSettings } from './options.ts';

/** Deletes the lock only when it still holds this owner's id. */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
/** Names remembered (to map invalidation messages back to keys); the oldest are forgotten past this. */
const MAX_NAMES = 10_000;

/** See the module comment. Made by `createRedisTokenStore`. */
export class RedisStore implements TokenStore {
  readonly name = 'redis';
  readonly maxWaitMs: number;
  readonly #conn: RedisConnection;
  readonly #o: RedisStoreSettings;
  readonly #health: Health;
  readonly #secret: Uint8Array | undefined;
  /** Tags this process's messages, so it ignores its own invalidations. */
  readonly #origin = randomBytes(9).toString('base64url');
  readonly #names = new Map<string, string>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #listeners: ((key: string) => void)[] = [];
  #contextLogger: Logger | undefined;
  #subscription: { close(): void } | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(conn: RedisConnection, settings: RedisStoreSettings) {
    this.#conn = conn;
    this.#o = settings;
    this.maxWaitMs = settings.maxWaitMs;
    this.#secret = userSecret(settings.encryptionKey, 'createRedisTokenStore options.encryptionKey');
    this.#health = new Health(settings.retryAfterFailureMs, () => this.#o.logger ?? this.#contextLogger);
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

  async get(key: string, context?: StoreContext): Promise<StoredToken | undefined> {
    const { keys, name } = this.#resolve(key, context);
    const value = await this.#run(['GET', `${this.#o.prefix}t:${name}`]);
    if (value === null || value === undefined) return undefined;
    return open(keys, name, String(value));
  }

  async set(key: string, token: StoredToken, ttlMs: number, context?: StoreContext): Promise<void> {
    const { keys, name } = this.#resolve(key, context);
    const ttl = String(Math.max(1, Math.floor(ttlMs)));
    await this.#run(['SET', `${this.#o.prefix}t:${name}`, seal(keys, name, token), 'PX', ttl]);
    await this.#publish('c', name);
  }

  async delete(key: string, context?: StoreContext): Promise<void> {
    const { name } = this.#resolve(key, context);
    await this.#run(['DEL', `${this.#o.prefix}t:${name}`]);
    await this.#publish('i', name);
  }

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

  onInvalidate(listener: (key: string) => void): void {
    this.#listeners.push(listener);
  }

  /** Ends the store's own pub/sub connection (the client passed in stays open: it is the caller's). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#subscription?.close();
    this.#subscription = undefined;
    for (const waiting of [...this.#waiters.values()]) for (const done of [...waiting]) done();
  }

  toString(): string {
    return `RedisTokenStore(${this.#conn.library}, ${this.#o.prefix})`;
  }

  #resolve(key: string, context: StoreContext | undefined): { keys: SealKeys; name: string } {
    if (context?.logger) this.#contextLogger = context.logger;
    const keys = sealKeys(secretFor(this.#secret, context, 'The Redis token store'));
    const name = entryName(keys, key);
    if (!this.#names.has(name)) {
      this.#names.set(name, key);
      if (this.#names.size > MAX_NAMES) this.#names.delete(this.#names.keys().next().value as string);
    }
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
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        this.#conn.command(args),
        new Promise<never>((_, reject) => {
          // Rejected a turn later (after pending I/O is read): a reply that arrived while this process was too
          // busy to read it is not a timeout, only one Redis did not send is.
          const late = () =>
            reject(new StoreUnavailable(`Redis did not answer within ${this.#o.operationTimeoutMs} ms`));
          timer = setTimeout(() => setImmediate(late), this.#o.operationTimeoutMs);
        }),
      ]);
      this.#health.succeeded();
      return result;
    } catch (err) {
      this.#health.failed(err);
      throw err instanceof StoreUnavailable ? err : new StoreUnavailable('a Redis command failed', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Tells every process (waiters: `c`hanged; caches: `i`nvalidated). Best effort: waiters also poll. */
  async #publish(type: 'c' | 'i', name: string): Promise<void> {
    await this.#run(['PUBLISH', `${this.#o.prefix}events`, `${type}:${this.#origin}:${name}`]).catch(() => undefined);
  }

  #onMessage(message: string): void {
    const [type, origin, name] = message.split(':');
    if (!name) return;
    const waiting = this.#waiters.get(name);
    if (waiting) for (const done of [...waiting]) done();
    if (type !== 'i' || origin === this.#origin) return;
    const key = this.#names.get(name);
    if (key !== undefined) for (const listener of this.#listeners) listener(key);
  }

  #subscribe(): void {
    if (this.#closed) return;
    const subscription = this.#conn.subscribe(`${this.#o.prefix}events`, (m) => this.#onMessage(m));
    this.#subscription = subscription;
    subscription.ready.catch(() => {
      if (this.#closed || this.#subscription !== subscription) return;
      // Not subscribed (Redis down at start): waiters poll meanwhile; try again shortly.
      this.#retryTimer = setTimeout(() => this.#subscribe(), this.#o.retryAfterFailureMs);
      this.#retryTimer.unref();
    });
  }
}
