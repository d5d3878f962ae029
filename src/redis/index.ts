/**
 * `maskinporten/redis`: a shared token cache on Redis, so every replica of a service makes one upstream token
 * request per key per token lifetime. Bring a connected client of `redis` (node-redis) v5 or `ioredis` v5; neither
 * package is imported by this module.
 *
 * @example
 * import { createClient } from 'redis';
 * import { createRedisTokenStore } from 'maskinporten/redis';
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const client = new MaskinportenClient(settings, { cache: { store: createRedisTokenStore(redis) } });
 */
import { connectionOf } from './connection.ts';
import { type RedisTokenStoreOptions, resolveRedisOptions } from './options.ts';
import { RedisStore } from './store.ts';

export type {
  InvalidationListener,
  StoreContext,
  StoredToken,
  StoreLock,
  TokenStore,
} from '../cache/store.ts';
export type { RedisTokenStoreOptions } from './options.ts';

/**
 * A token store on Redis; `close()` ends its pub/sub connection (the client passed in stays the caller's).
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export type RedisTokenStore = RedisStore;
export type { RedisStore };

/**
 * Creates a shared token store on a connected `redis` v5 or `ioredis` v5 client, for
 * `new MaskinportenClient(settings, { cache: { store } })`. Tokens are shared across processes, fetched once per
 * key across processes (a lock with owner and TTL; waiters woken by pub/sub, bounded), refreshed ahead by one
 * process, invalidated everywhere, sealed with AES-256-GCM under hashed key names; a failing Redis never fails a
 * token call.
 *
 * @param redis - A connected `redis` (node-redis) v5 or `ioredis` v5 client; it stays the caller's to close.
 * @param options - Key prefix, lock TTL, waits, per-command timeout, logger, and an `encryptionKey` (by default the
 *   key is derived from each client's private key).
 * @returns The store, for `cache.store`; `close()` ends its own pub/sub connection.
 * @throws ConfigError `ERR_CONFIG` for something that is not a `redis` or `ioredis` client, or an option out of
 *   range (naming it).
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/ (single-instance lock: SET NX PX, compare-and-delete)
 */
export function createRedisTokenStore(redis: unknown, options?: RedisTokenStoreOptions): RedisTokenStore {
  return new RedisStore(connectionOf(redis), resolveRedisOptions(options));
}
