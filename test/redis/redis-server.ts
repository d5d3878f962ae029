/**
 * A real `redis-server` for tests: started on a free loopback port (found by binding port 0 and closing it, since
 * redis-server has no `--port 0`), no persistence, in a temporary directory; stoppable and restartable on the same
 * port mid-test (a failover), pausable (SIGSTOP: a server that stops answering), and clients of both libraries.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Each library is loaded only when used: a replica process loads only its own (a faster start).
const nodeRedis = () => import('redis');

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A free loopback port (free when this returns; the caller binds it at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A running redis-server owned by a test. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server stops answering without closing connections. */
  pause(): void;
  resume(): void;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** Starts a redis-server on a free loopback port. */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'maskinporten-redis-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    proc = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${port}`);
      if (await accepts(port)) return;
      await sleep(25);
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async () => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    pause: () => proc?.kill('SIGSTOP'),
    resume: () => proc?.kill('SIGCONT'),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The client libraries the store supports. */
export const LIBRARIES = ['redis', 'ioredis'] as const;
export type Library = (typeof LIBRARIES)[number];

/**
 * The options of every node-redis client made here, of one shape. node-redis builds a client class for the options
 * it is given and keeps only the last one, compared as JSON: clients made with two shapes of options in turn (a
 * replica's connection, then `admin`'s, then a replica's) rebuild it every time, about 60 ms of CPU each.
 */
function nodeRedisOptions(url: string) {
  return { url, socket: { reconnectStrategy: () => 100, connectTimeout: 1000 } };
}

/** A connected client of `library` with a fast reconnect, and its closer. */
export async function connect(library: Library, url: string): Promise<{ client: unknown; close(): Promise<void> }> {
  if (library === 'redis') {
    const { createClient } = await nodeRedis();
    const client = createClient(nodeRedisOptions(url));
    client.on('error', () => undefined);
    await client.connect();
    return { client, close: async () => client.destroy() };
  }
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { retryStrategy: () => 100, maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => undefined);
  await client.connect();
  return { client, close: async () => client.disconnect() };
}

/** Every key in the server and its string value (for checks on what is stored in clear). */
export async function dump(url: string): Promise<Map<string, string>> {
  const { createClient } = await nodeRedis();
  const client = createClient(nodeRedisOptions(url));
  client.on('error', () => undefined); // a failed command still rejects
  await client.connect();
  try {
    const out = new Map<string, string>();
    for (const key of await client.keys('*')) out.set(key, String(await client.get(key)));
    return out;
  } finally {
    client.destroy();
  }
}

/** One raw command on a fresh connection (for CONFIG, REPLICAOF, FLUSHALL in tests). */
export async function admin(url: string, ...args: string[]): Promise<unknown> {
  const { createClient } = await nodeRedis();
  const client = createClient(nodeRedisOptions(url));
  client.on('error', () => undefined); // a failed command still rejects
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}
