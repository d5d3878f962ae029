/**
 * The console's routes: the page at `/`, its assets under `/console/`, and under `/_emulator/` (beside the other
 * admin routes, never faulted, never logged) the live request stream, the view fragments and the three writes the
 * admin routes lacked: deactivating an integration and adding or removing one of its public keys.
 */
import { ArgumentError } from '../../errors.ts';
import { hasPrivateMembers } from '../../keys/jwk.ts';
import type { EmulatorCore } from '../core.ts';
import { httpError, jsonBody, type RequestContext, send, sendJson } from '../http.ts';
import type { Route } from '../routes/route.ts';
import { refuseCrossSite } from '../same-origin.ts';
import { consoleAssets } from './assets.ts';
import { openEventStream } from './events.ts';
import { renderPage, renderView, VIEWS, type ViewData, type ViewId } from './render.ts';
import type { RequestFilter } from './render-requests.ts';
import { integrationView, overview, pageEntry } from './views.ts';

/** Headers of every console page: its own origin only, no framing, no inline script. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Refuses a request sent by a page of another origin (a browser names it in `Origin`). */
function sameOrigin(core: EmulatorCore, ctx: RequestContext): void {
  refuseCrossSite(ctx.req, core.url, 'The console');
}

function filterOf(url: URL): RequestFilter {
  const filter: RequestFilter = {};
  for (const name of ['client', 'endpoint', 'outcome'] as const) {
    const value = url.searchParams.get(name);
    if (value) filter[name] = value.slice(0, 200);
  }
  return filter;
}

function viewData(core: EmulatorCore, ctx: RequestContext): ViewData {
  return { overview: overview(core), entries: core.log.entries().map(pageEntry), filter: filterOf(ctx.url) };
}

function editableClient(core: EmulatorCore, id: string) {
  const client = core.state.client(id);
  if (!client?.active) throw httpError(404, 'not_found', `No active integration with client id ${id}.`);
  if (id === core.state.admin.clientId)
    throw httpError(400, 'invalid_request', 'The emulator’s own self-service administrator cannot be changed here.');
  return client;
}

/** Replaces a client's keys with `jwks`, keeping the dates of the keys that stay (only a new key gets a new year). */
function setKeys(core: EmulatorCore, clientId: string, jwks: unknown[]): void {
  // The self-service API refuses an empty set (its DELETE removes the last key); the console does what it means.
  if (jwks.length === 0) {
    core.state.deleteKeys(clientId);
    return;
  }
  const before = new Map(core.state.client(clientId)!.keys.map((k) => [`${k.jwk.kid}\u0000${k.jwk.n}`, k]));
  const client = core.state.replaceKeys(clientId, jwks);
  for (const k of client.keys) {
    const kept = before.get(`${k.jwk.kid}\u0000${k.jwk.n}`);
    if (kept) Object.assign(k, { createdAt: kept.createdAt, expiresAt: kept.expiresAt });
  }
  core.state.persist();
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ArgumentError || err instanceof RangeError) throw httpError(400, 'invalid_request', err.message);
    throw err;
  }
}

/**
 * The console's routes.
 *
 * @see https://www.w3.org/TR/CSP3/
 */
export function consoleRoutes(core: EmulatorCore): Route[] {
  const route = (pattern: RegExp, methods: Route['methods']): Route => ({ pattern, endpoint: 'admin', methods });
  const viewIds = new Set<string>(VIEWS.map((v) => v.id));
  return [
    route(/^\/$/, {
      GET: (ctx) => {
        sameOrigin(core, ctx);
        send(ctx, 200, renderPage(viewData(core, ctx)).value, 'text/html; charset=utf-8', PAGE_HEADERS);
      },
    }),
    route(/^\/console\/(?<name>[a-z0-9-]+\.[a-z]+)$/, {
      GET: (ctx, p) => {
        const asset = consoleAssets().get(p.name!);
        if (!asset) throw httpError(404, 'not_found', `No console asset ${p.name}.`);
        send(ctx, 200, asset.body, asset.contentType, {
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-cache',
        });
      },
    }),
    route(/^\/_emulator\/events$/, {
      GET: (ctx) => {
        sameOrigin(core, ctx);
        openEventStream(core, ctx);
      },
    }),
    route(/^\/_emulator\/overview$/, { GET: (ctx) => sendJson(ctx, 200, overview(core)) }),
    route(/^\/_emulator\/console\/views\/(?<view>[a-z]+)$/, {
      GET: (ctx, p) => {
        sameOrigin(core, ctx);
        if (!viewIds.has(p.view!)) throw httpError(404, 'not_found', `No console view ${p.view}.`);
        const body = renderView(p.view as ViewId, viewData(core, ctx)).value;
        send(ctx, 200, body, 'text/html; charset=utf-8', PAGE_HEADERS);
      },
    }),
    route(/^\/_emulator\/clients\/(?<id>[^/]+)$/, {
      DELETE: (ctx, p) => {
        sameOrigin(core, ctx);
        const client = editableClient(core, p.id!);
        core.state.deactivateClient(client.clientId);
        sendJson(ctx, 200, { deactivated: client.clientId });
      },
    }),
    route(/^\/_emulator\/clients\/(?<id>[^/]+)\/keys$/, {
      POST: async (ctx, p) => {
        sameOrigin(core, ctx);
        const client = editableClient(core, p.id!);
        const body = await jsonBody(ctx);
        const jwk = body.jwk;
        if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk))
          throw httpError(400, 'invalid_request', 'Send {"jwk": {…}} with the public JWK to register.');
        if (hasPrivateMembers(jwk as Record<string, unknown>))
          throw httpError(
            400,
            'invalid_request',
            'This JWK holds private key members (d, p, q, dp, dq, qi): register only its public half (kty, kid, n, e, use). The key was not stored.',
          );
        guarded(() => setKeys(core, client.clientId, [...client.keys.map((k) => k.jwk), jwk]));
        sendJson(ctx, 201, integrationView(client, core.clock.now(), core.state.admin.clientId));
      },
    }),
    route(/^\/_emulator\/clients\/(?<id>[^/]+)\/keys\/(?<kid>[^/]+)$/, {
      DELETE: (ctx, p) => {
        sameOrigin(core, ctx);
        const client = editableClient(core, p.id!);
        let kid: string;
        try {
          kid = decodeURIComponent(p.kid!);
        } catch {
          throw httpError(400, 'invalid_request', 'The kid in the path is not valid percent-encoding.');
        }
        const rest = client.keys.filter((k) => k.jwk.kid !== kid).map((k) => k.jwk);
        if (rest.length === client.keys.length) throw httpError(404, 'not_found', `No key with kid ${kid} on ${p.id}.`);
        guarded(() => setKeys(core, client.clientId, rest));
        sendJson(ctx, 200, integrationView(client, core.clock.now(), core.state.admin.clientId));
      },
    }),
  ];
}
