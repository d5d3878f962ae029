/** Options of `createRedisTokenStore`, with their defaults and checks. */
import { ConfigError } from '../errors.ts';
import type { Logger } from '../telemetry.ts';

/** Options of `createRedisTokenStore`; every one optional.
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/ */
export interface RedisTokenStoreOptions {
  /** Prefix of every Redis key and of the pub/sub channel; `maskinporten:` by default. */
  prefix?: string;
  /**
   * The secret entries are sealed under (≥ 16 bytes, the same in every process). By default each client derives one
   * from its private key, so processes sharing a key share tokens with no new configuration.
   */
  encryptionKey?: string | Uint8Array;
  /** Each Redis command fails after this long (ms), and the call goes on without Redis; 500 by default. */
  operationTimeoutMs?: number;
  /** The fetch lock expires after this long (ms), so a process that died holding it blocks others only that long; 10000. */
  lockTtlMs?: number;
  /** The longest (ms) a caller waits for another process's fetch before fetching itself; 10000 by default. */
  maxWaitMs?: number;
  /** How often (ms) a waiter re-checks Redis besides pub/sub wake-ups; 100 by default. */
  pollIntervalMs?: number;
  /** After a failure, Redis is skipped for this long (ms) before it is tried again; 1000 by default. */
  retryAfterFailureMs?: number;
  /** Told once when an outage starts and once when it ends; the client's logger by default. */
  logger?: Logger;
}

/** Resolved options. */
export interface RedisStoreSettings extends Required<Omit<RedisTokenStoreOptions, 'encryptionKey' | 'logger'>> {
  logger: Logger | undefined;
  encryptionKey: string | Uint8Array | undefined;
}

function positive(options: RedisTokenStoreOptions, name: keyof RedisTokenStoreOptions, fallback: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 3_600_000) {
    throw new ConfigError(
      `createRedisTokenStore options.${name} must be a whole number of milliseconds from 1 to 3600000, got ${String(value)}`,
    );
  }
  return value;
}

/** Applies defaults; a ConfigError naming the option when one is out of range. */
export function resolveRedisOptions(options: RedisTokenStoreOptions = {}): RedisStoreSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('createRedisTokenStore options must be an object');
  }
  const prefix = options.prefix ?? 'maskinporten:';
  if (typeof prefix !== 'string' || prefix.length > 100 || /[\s\0]/.test(prefix)) {
    throw new ConfigError(
      'createRedisTokenStore options.prefix must be a string of at most 100 characters without spaces',
    );
  }
  return {
    prefix,
    encryptionKey: options.encryptionKey,
    operationTimeoutMs: positive(options, 'operationTimeoutMs', 500),
    lockTtlMs: positive(options, 'lockTtlMs', 10_000),
    maxWaitMs: positive(options, 'maxWaitMs', 10_000),
    pollIntervalMs: positive(options, 'pollIntervalMs', 100),
    retryAfterFailureMs: positive(options, 'retryAfterFailureMs', 1000),
    logger: options.logger,
  };
}
