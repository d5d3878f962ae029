/**
 * Test helpers for the client suite: a fake clock shared by the emulator and the client, recording hooks for
 * retries and logging, an in-memory shared token store, tiny local HTTP servers (a fake or a proxy in front of the
 * emulator), and assertions on coded errors. Nothing here stands in for the client's own protocol code.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoreContext, StoredToken, TokenStore } from '../../src/cache/store.ts';
import type { MaskinportenClientOptions } from '../../src/client.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { MaskinportenError, type MaskinportenErrorCode } from '../../src/errors.ts';
import type { Logger } from '../../src/telemetry.ts';

export { waitFor } from './wait.ts';

/** A clock that only moves when told to. Shared by the emulator (`startEmulator({ clock })`) and the client. */
export class FakeClock {
  t: number;

  /** Starts at `start`, or at the current whole second plus 250 ms (so `Date` headers are predictable). */
  constructor(start: number = Math.floor(Date.now() / 1000) * 1000 + 250) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
  }
}

/** Retry hooks that never sleep: they record each requested wait. Jitter is a fixed 0.5. */
export function recordingRetryHooks(random = 0.5): {
  sleeps: number[];
  retryHooks: NonNullable<MaskinportenClientOptions['retryHooks']>;
} {
  const sleeps: number[] = [];
  return {
    sleeps,
    retryHooks: {
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      random: () => random,
    },
  };
}

/** One entry a logger received. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A pino-compatible logger that records every entry and can wait for one. */
export function recordingLogger(): Logger & {
  entries: LogEntry[];
  next(level: LogEntry['level'], msg: RegExp): Promise<LogEntry>;
} {
  const entries: LogEntry[] = [];
  const waiters: { level: string; msg: RegExp; resolve: (e: LogEntry) => void }[] = [];
  const record = (level: LogEntry['level']) => (obj: Record<string, unknown>, msg?: string) => {
    const entry = { level, obj, msg };
    entries.push(entry);
    for (const w of [...waiters]) {
      if (w.level === level && w.msg.test(msg ?? '')) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  };
  return {
    entries,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    /** Resolves with the next entry (from now on) of `level` whose message matches `msg`. */
    next(level, msg) {
      return new Promise((resolve) => waiters.push({ level, msg, resolve }));
    },
  };
}

/** Lets every pending microtask and already-due I/O callback run. */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** How many requests the emulator logged for `endpoint`. */
export function count(emulator: Emulator, endpoint: 'token' | 'exchange' | 'discovery'): number {
  return emulator.requests.entries({ endpoint }).length;
}

/** The decoded grants the emulator received, oldest first. */
export function grants(emulator: Emulator): { header: Record<string, unknown>; claims: Record<string, unknown> }[] {
  return emulator.requests
    .entries({ endpoint: 'token' })
    .map((e) => e.grant)
    .filter((g) => g !== undefined);
}

/** The last grant the emulator received. */
export function lastGrant(emulator: Emulator): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const all = grants(emulator);
  const last = all[all.length - 1];
  assert.ok(last, 'the emulator received no grant');
  return last;
}

/** Awaits `promise`, asserts it rejects with a {@link MaskinportenError} of `code`, and returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: MaskinportenErrorCode): Promise<MaskinportenError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MaskinportenError, `expected a MaskinportenError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a rejection with ${code}`);
}

/** Calls `fn`, asserts it throws a {@link MaskinportenError} of `code`, and returns the error. */
export function throwsWith(fn: () => unknown, code: MaskinportenErrorCode): MaskinportenError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MaskinportenError, `expected a MaskinportenError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a throw with ${code}`);
}

/** A shared token store in memory, as a Redis store would behave, counting its calls. */
export class MemoryStore implements TokenStore {
  readonly map = new Map<string, { token: StoredToken; ttlMs: number }>();
  gets = 0;
  sets = 0;

  async get(key: string): Promise<StoredToken | undefined> {
    this.gets++;
    return this.map.get(key)?.token;
  }

  async set(key: string, token: StoredToken, ttlMs: number): Promise<void> {
    this.sets++;
    this.map.set(key, { token, ttlMs });
  }

  /** As every store: a delete naming a token removes the entry only while it holds that token. */
  async delete(key: string, _context?: StoreContext, token?: StoredToken): Promise<void> {
    if (token === undefined || this.map.get(key)?.token.value === token.value) this.map.delete(key);
  }
}

/** A stored token holding only `value`: enough for a store, which keeps (or seals) whatever it is given. */
export function storedToken(value: string): StoredToken {
  return { value, kind: 'maskinporten', expiresAt: 2e12, issuedAt: 2e12 - 60_000, scopes: [] };
}

/**
 * The {@link TokenStore} contract of `delete(key, context, token)`: the entry goes only while it holds that token, so
 * an invalidation never removes a newer token another replica stored. `reader` sees what `store` wrote (another
 * replica's connection, for a shared store).
 */
export async function assertConditionalDelete(
  store: TokenStore,
  context?: StoreContext,
  reader: TokenStore = store,
): Promise<void> {
  await store.set('k', storedToken('t2'), 60_000, context);
  await store.delete('k', context, storedToken('t1'));
  assert.equal((await reader.get('k', context))?.value, 't2', 'kept: it holds another token');
  await store.delete('k', context, storedToken('t2'));
  assert.equal(await reader.get('k', context), undefined, 'deleted: it held that token');
}

/** A tiny local HTTP server on 127.0.0.1. */
export interface LocalServer {
  url: string;
  /** Requests received: method, path (with query) and headers. */
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** Starts a local HTTP server on a free loopback port with `handler`. */
export async function startLocalServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>,
): Promise<LocalServer> {
  const requests: LocalServer['requests'] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    try {
      await handler(req, res, Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Changes the discovery document (after `token_endpoint` has been pointed at the proxy). */
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** Changes the form of a token request before it is forwarded. */
  tokenForm?: (form: URLSearchParams) => URLSearchParams;
  /** Changes a successful token response body before it is returned. */
  tokenBody?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** Answers the exchange with the Altinn token as a JSON string (`application/json`). */
  exchangeAsJson?: boolean;
}

/**
 * A proxy in front of the emulator: forwards every request to it, except that the discovery document's
 * `token_endpoint` points back at the proxy, and the hooks may change what passes through.
 */
export async function startProxy(emulator: Emulator, options: ProxyOptions = {}): Promise<LocalServer> {
  let self = '';
  const proxy = await startLocalServer(async (req, res, body) => {
    const path = req.url ?? '/';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    }
    let forwardBody: string | undefined = req.method === 'GET' ? undefined : body;
    if (path === '/token' && forwardBody !== undefined && options.tokenForm) {
      forwardBody = options.tokenForm(new URLSearchParams(forwardBody)).toString();
    }
    const upstream = await fetch(`${emulator.url}${path}`, {
      method: req.method ?? 'GET',
      headers,
      ...(forwardBody === undefined ? {} : { body: forwardBody }),
    });
    let text = await upstream.text();
    let contentType = upstream.headers.get('content-type') ?? 'text/plain';
    if (path.startsWith('/.well-known/') && upstream.status === 200) {
      let doc = JSON.parse(text) as Record<string, unknown>;
      doc.token_endpoint = `${self}/token`;
      if (options.discovery) doc = options.discovery(doc);
      text = JSON.stringify(doc);
    }
    if (path === '/token' && upstream.status === 200 && options.tokenBody) {
      text = JSON.stringify(options.tokenBody(JSON.parse(text) as Record<string, unknown>));
    }
    if (path.startsWith('/authentication/api/v1/exchange/') && upstream.status === 200 && options.exchangeAsJson) {
      text = JSON.stringify(text);
      contentType = 'application/json; charset=utf-8';
    }
    const out: Record<string, string> = { 'content-type': contentType };
    const date = upstream.headers.get('date');
    if (date) out.date = date;
    res.writeHead(upstream.status, out);
    res.end(text);
  });
  self = proxy.url;
  return proxy;
}
