/**
 * One small surface over either Redis client people run: `redis` (node-redis) v5 and `ioredis` v5, told apart by
 * shape, so neither package is imported here (the caller brings a connected client). Raw commands keep both paths
 * identical; pub/sub runs on a duplicate connection, because a subscribed connection can do nothing else.
 */
import { ConfigError } from '../errors.ts';

/** What the store needs from a Redis client. */
export interface RedisConnection {
  readonly library: 'redis' | 'ioredis';
  /** Whether the client is connected and ready (commands would otherwise sit in its offline queue). */
  ready(): boolean;
  command(args: string[]): Promise<unknown>;
  /** Calls `listener` with the client's connection errors. */
  onError(listener: (err: unknown) => void): void;
  /** Calls `listener` whenever the client has (re)connected and is ready. */
  onReady(listener: () => void): void;
  /** Calls `listener` when the client is closed for good (so the store's own connection closes with it). */
  onEnd(listener: () => void): void;
  /**
   * Subscribes a duplicate connection to `channel`. `ready` settles once subscribed (or failed); `close` ends the
   * connection, also while it is still connecting. The client resubscribes by itself after a reconnect.
   */
  subscribe(channel: string, onMessage: (message: string) => void): { ready: Promise<void>; close(): void };
}

interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
}

interface NodeRedisLike extends Emitter {
  isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  destroy(): void;
}

interface IoRedisLike extends Emitter {
  status: string;
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(): IoRedisLike;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
}

function isNodeRedis(c: Record<string, unknown>): boolean {
  return typeof c.sendCommand === 'function' && typeof c.duplicate === 'function' && 'isReady' in c;
}

function isIoRedis(c: Record<string, unknown>): boolean {
  return typeof c.call === 'function' && typeof c.duplicate === 'function' && typeof c.status === 'string';
}

/** Adapts a client; a ConfigError naming both packages when it is neither. */
export function connectionOf(client: unknown): RedisConnection {
  const c = (client ?? {}) as Record<string, unknown>;
  if (typeof client === 'object' && client !== null && isNodeRedis(c)) return nodeRedis(client as NodeRedisLike);
  if (typeof client === 'object' && client !== null && isIoRedis(c)) return ioRedis(client as IoRedisLike);
  throw new ConfigError(
    'createRedisTokenStore needs a client of the `redis` package v5 (createClient(), connected) or of `ioredis` v5 (new Redis()); install one of them',
  );
}

function nodeRedis(client: NodeRedisLike): RedisConnection {
  return {
    library: 'redis',
    ready: () => client.isReady,
    command: (args) => client.sendCommand(args),
    onError: (listener) => void client.on('error', listener),
    onEnd: (listener) => void client.on('end', listener),
    onReady: (listener) => void client.on('ready', listener),
    subscribe(channel, onMessage) {
      const sub = client.duplicate();
      sub.on('error', () => undefined); // outages are seen on the main client
      const close = () => {
        try {
          sub.destroy();
        } catch {
          // already closed
        }
      };
      const ready = (async () => {
        await sub.connect();
        await sub.subscribe(channel, (message) => onMessage(String(message)));
      })();
      ready.catch(close);
      return { ready, close };
    },
  };
}

function ioRedis(client: IoRedisLike): RedisConnection {
  return {
    library: 'ioredis',
    ready: () => client.status === 'ready',
    command: ([name, ...args]) => client.call(name!, ...args),
    onError: (listener) => void client.on('error', listener),
    onEnd: (listener) => void client.on('end', listener),
    onReady: (listener) => void client.on('ready', listener),
    subscribe(channel, onMessage) {
      const sub = client.duplicate();
      sub.on('error', () => undefined); // outages are seen on the main client
      sub.on('message', ((ch: string, message: string) => {
        if (ch === channel) onMessage(String(message));
      }) as never);
      const close = () => sub.disconnect();
      const ready = sub.subscribe(channel).then(() => undefined);
      ready.catch(close);
      return { ready, close };
    },
  };
}
