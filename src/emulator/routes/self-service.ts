/**
 * The client and key endpoints of Digdir's self-service API (protocol notes §6), on the emulator's origin.
 * Callers authenticate with a token from this emulator carrying `idporten:dcr.*` scopes and see only their own
 * organisation's clients.
 */
import { ArgumentError } from '../../errors.ts';
import { JWT_BEARER_GRANT_TYPE } from '../../protocol/constants.ts';
import type { EmulatorCore } from '../context.ts';
import { bearerToken, httpError, mediaType, type RequestContext, readBody, sendJson } from '../http.ts';
import type { EmulatedClient } from '../model.ts';
import { checkToken } from '../token-check.ts';
import type { Route } from './route.ts';

const READ = ['idporten:dcr.read', 'idporten:dcr.write', 'idporten:dcr.modify'];
const WRITE = ['idporten:dcr.write'];
const MODIFY = ['idporten:dcr.write', 'idporten:dcr.modify'];

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A client as the self-service API shows it. */
export function clientView(c: EmulatedClient): Record<string, unknown> {
  return {
    client_id: c.clientId,
    client_name: c.clientName,
    client_orgno: c.orgNo,
    description: c.description,
    scopes: c.scopes,
    integration_type: 'maskinporten',
    application_type: 'web',
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: [JWT_BEARER_GRANT_TYPE],
    access_token_lifetime: c.accessTokenLifetime,
    active: c.active,
    created: iso(c.createdAt),
    last_updated: iso(c.updatedAt),
  };
}

/** A client's key set as the self-service API shows it; `exp` (epoch seconds) is when each key stops working. */
export function jwksView(c: EmulatedClient): Record<string, unknown> {
  return {
    created: iso(c.keysCreatedAt),
    last_updated: iso(c.keysUpdatedAt),
    keys: c.keys.map((k) => ({ ...k.jwk, exp: Math.floor(k.expiresAt / 1000) })),
  };
}

/** Authenticates the caller; returns its organisation number. */
function authorize(core: EmulatorCore, ctx: RequestContext, anyOf: string[]): string {
  const check = checkToken(bearerToken(ctx), {
    key: core.state.maskinportenKey,
    issuer: core.issuer,
    nowMs: core.clock.now(),
  });
  if (!check.ok)
    throw httpError(401, 'invalid_token', check.reason, { 'www-authenticate': 'Bearer error="invalid_token"' });
  ctx.log.tokenClaims = check.claims;
  const granted = String(check.claims.scope ?? '').split(' ');
  if (!anyOf.some((s) => granted.includes(s))) {
    throw httpError(403, 'insufficient_scope', `This operation needs one of the scopes: ${anyOf.join(', ')}.`);
  }
  const consumer = check.claims.consumer as { ID?: string } | undefined;
  return String(consumer?.ID ?? '').replace(/^0192:/, '');
}

async function readJson(ctx: RequestContext): Promise<Record<string, unknown>> {
  if (mediaType(ctx) !== 'application/json')
    throw httpError(415, 'invalid_request', 'Send the body as application/json.');
  const text = (await readBody(ctx)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw httpError(400, 'invalid_request', 'The body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw httpError(400, 'invalid_request', 'The body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

function ownClient(core: EmulatorCore, org: string, id: string): EmulatedClient {
  const client = core.state.client(id);
  if (!client?.active || client.orgNo !== org) throw httpError(404, 'not_found', `No client with id ${id}.`);
  return client;
}

/** Maps validation errors from the state to 400 answers. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ArgumentError) throw httpError(400, 'invalid_request', err.message);
    throw err;
  }
}

function checkClientBody(body: Record<string, unknown>, creating: boolean): void {
  const bad = (msg: string) => {
    throw httpError(400, 'invalid_client_metadata', msg);
  };
  if (
    (creating || body.client_name !== undefined) &&
    (typeof body.client_name !== 'string' || !body.client_name.trim())
  )
    bad('client_name is required and must be a non-empty string.');
  if (body.integration_type !== undefined && body.integration_type !== 'maskinporten') {
    bad('integration_type must be "maskinporten".');
  }
  if (body.token_endpoint_auth_method !== undefined && body.token_endpoint_auth_method !== 'private_key_jwt') {
    bad('token_endpoint_auth_method must be "private_key_jwt".');
  }
  if (
    body.grant_types !== undefined &&
    !(Array.isArray(body.grant_types) && body.grant_types.length === 1 && body.grant_types[0] === JWT_BEARER_GRANT_TYPE)
  ) {
    bad(`grant_types must be ["${JWT_BEARER_GRANT_TYPE}"].`);
  }
  if (body.scopes !== undefined && !Array.isArray(body.scopes)) bad('scopes must be an array of scope names.');
  if (body.description !== undefined && typeof body.description !== 'string') bad('description must be a string.');
}

/** The routes of the self-service API. */
export function selfServiceRoutes(core: EmulatorCore): Route[] {
  const replaceKeys = async (ctx: RequestContext, params: Record<string, string>) => {
    const org = authorize(core, ctx, MODIFY);
    const client = ownClient(core, org, params.id!);
    const body = await readJson(ctx);
    guarded(() => core.state.replaceKeys(client.clientId, body.keys));
    sendJson(ctx, 200, jwksView(client));
  };
  return [
    {
      pattern: /^\/clients\/?$/,
      endpoint: 'self-service',
      methods: {
        GET: (ctx) => sendJson(ctx, 200, core.state.clients(authorize(core, ctx, READ)).map(clientView)),
        POST: async (ctx) => {
          const org = authorize(core, ctx, WRITE);
          const body = await readJson(ctx);
          checkClientBody(body, true);
          const client = guarded(() =>
            core.state.addClient({
              clientName: String(body.client_name),
              description: (body.description as string | undefined) ?? '',
              scopes: (body.scopes as string[] | undefined) ?? [],
              orgNo: org,
              ...(body.access_token_lifetime === undefined
                ? {}
                : { accessTokenLifetime: body.access_token_lifetime as number }),
              jwks: [],
            }),
          );
          sendJson(ctx, 201, clientView(client), { location: `${core.url}/clients/${client.clientId}` });
        },
      },
    },
    {
      pattern: /^\/clients\/(?<id>[^/]+)$/,
      endpoint: 'self-service',
      methods: {
        GET: (ctx, p) => sendJson(ctx, 200, clientView(ownClient(core, authorize(core, ctx, READ), p.id!))),
        PUT: async (ctx, p) => {
          const client = ownClient(core, authorize(core, ctx, MODIFY), p.id!);
          const body = await readJson(ctx);
          checkClientBody(body, false);
          const patch: Parameters<typeof core.state.updateClient>[1] = {};
          if (body.client_name !== undefined) patch.clientName = String(body.client_name);
          if (body.description !== undefined) patch.description = body.description as string;
          if (body.scopes !== undefined) patch.scopes = body.scopes as string[];
          if (body.access_token_lifetime !== undefined)
            patch.accessTokenLifetime = body.access_token_lifetime as number;
          sendJson(ctx, 200, clientView(guarded(() => core.state.updateClient(client.clientId, patch))));
        },
        DELETE: (ctx, p) => {
          const client = ownClient(core, authorize(core, ctx, MODIFY), p.id!);
          core.state.deactivateClient(client.clientId);
          sendJson(ctx, 200, clientView(client));
        },
      },
    },
    {
      pattern: /^\/clients\/(?<id>[^/]+)\/jwks$/,
      endpoint: 'self-service',
      methods: {
        GET: (ctx, p) => sendJson(ctx, 200, jwksView(ownClient(core, authorize(core, ctx, READ), p.id!))),
        POST: replaceKeys,
        PUT: replaceKeys,
      },
    },
    {
      pattern: /^\/scopes\/all$/,
      endpoint: 'self-service',
      methods: {
        GET: (ctx) => {
          authorize(core, ctx, [...READ, 'idporten:scopes.write']);
          sendJson(
            ctx,
            200,
            core.state.scopes().map((s) => ({
              name: s.name,
              description: s.description ?? '',
              at_max_age: s.atMaxAge ?? 0,
              accessible_for_all: s.accessibleForAll ?? false,
            })),
          );
        },
      },
    },
  ];
}
