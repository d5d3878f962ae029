/**
 * Test helpers for the HTTP adapters: a small API on 127.0.0.1 (a free port) that records what it received and
 * behaves by path, plus the emulator and a MaskinportenClient for it. A second server is a second origin.
 *
 * Paths of the API:
 * - `/stale…`: the first bearer token it sees (since `reset()`) is stale: that token gets 401, any other 200;
 * - `/401…`: always 401 (with `?quiet`, the echo leaves the authorization out);
 * - `/redirect?to=URL[&status=302]`: a redirect to `URL`; `to` given twice sends two `Location` headers, and
 *   `&raw=utf8` writes them as raw UTF-8 bytes (which fetch decodes as UTF-8);
 * - anything else: 200.
 * Every answer is JSON `{ path, method, authorization, body }` (a 401 too), and the whole request body is read first.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import { type CreatedClient, type Emulator, startEmulator } from '../../src/emulator/index.ts';

/** One request the API received. */
export interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the API answers, parsed. */
export interface Echo {
  path: string;
  method: string;
  authorization: string | null;
  body: string;
}

/** A running API. */
export interface TestApi {
  /** The origin, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every request received since the last `reset()`, in order of arrival. */
  seen: Seen[];
  /** Forgets the requests and the stale token. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts the API on 127.0.0.1, port 0. */
export async function startApi(): Promise<TestApi> {
  const seen: Seen[] = [];
  let stale: string | undefined;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const authorization = req.headers.authorization;
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method ?? '', path: url.pathname, authorization, headers: req.headers, body });
    let status = 200;
    if (url.pathname.startsWith('/redirect')) {
      const to = url.searchParams.getAll('to');
      const raw = url.searchParams.get('raw') === 'utf8';
      const locations = (to.length > 0 ? to : ['/']).map((l) => (raw ? Buffer.from(l, 'utf8').toString('latin1') : l));
      res.statusCode = Number(url.searchParams.get('status') ?? 302);
      res.setHeader('location', locations.length === 1 ? locations[0]! : locations);
      res.end();
      return;
    }
    if (url.pathname.startsWith('/401')) status = 401;
    if (url.pathname.startsWith('/stale') && authorization !== undefined) {
      stale ??= authorization;
      if (authorization === stale) status = 401;
    }
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {}),
    });
    const echoed = url.searchParams.has('quiet') ? null : (authorization ?? null);
    res.end(JSON.stringify({ path: url.pathname, method: req.method, authorization: echoed, body }));
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    reset() {
      seen.length = 0;
      stale = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A fresh client (empty cache) for an emulator client; `altinnTest` so Altinn tokens act as `ttd`. */
export function newClient(created: CreatedClient): MaskinportenClient {
  return new MaskinportenClient(created.settings, { altinnTest: true });
}

/** Token requests (`token`) or Altinn exchanges (`exchange`) the emulator answered so far. */
export function upstream(emulator: Emulator, endpoint: 'token' | 'exchange'): number {
  return emulator.requests.entries({ endpoint }).length;
}

/** The token in a `Bearer …` header. */
export function bearerOf(header: string | null | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** The claims of a JWT, unverified (the tests check what was sent, the emulator checks validity). */
export function claimsOf(token: string | undefined): Record<string, unknown> {
  if (!token) return {};
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A Notifications order body. */
export const ORDER = { recipients: [{ emailAddress: 'someone@example.com' }] };

/** The scope of the Notifications stand-in. */
export const NOTIFY = 'altinn:serviceowner/notifications.create';

/** The shared setup of the adapter tests: an emulator with one client, the client, and two local APIs (two origins). */
export interface HttpFixture {
  emulator: Emulator;
  created: CreatedClient;
  client: MaskinportenClient;
  api: TestApi;
  other: TestApi;
}

/**
 * Registers the hooks of the shared setup in the current suite — started before its tests, the APIs' records reset
 * before each, everything closed after — and returns the fixture, filled in once the `before` hook has run.
 */
export function useHttpFixture(scopes: string[]): HttpFixture {
  const f = {} as HttpFixture;
  before(async () => {
    f.emulator = await startEmulator();
    f.created = await f.emulator.createClient({ scopes });
    f.client = newClient(f.created);
    [f.api, f.other] = await Promise.all([startApi(), startApi()]);
  });
  beforeEach(() => {
    f.api.reset();
    f.other.reset();
  });
  after(async () => {
    await Promise.all([f.api?.close(), f.other?.close()]);
    await f.emulator?.close();
  });
  return f;
}
