/**
 * The client and key endpoints of Digdir's self-service API (Digdir's self-service API docs), on the emulator's origin
 * at `/api/v1/clients…` (the bare `/clients…` paths answer too, as aliases). Callers authenticate with a token from
 * this emulator carrying `idporten:dcr.*` scopes and see only their own organisation's clients.
 */
import { JWT_BEARER_GRANT_TYPE } from '../../protocol/constants.ts';
import type { EmulatorCore } from '../core.ts';
import { FieldError } from '../field-error.ts';
import { type RequestContext, send, sendJson } from '../http.ts';
import type { EmulatedClient } from '../model.ts';
import { API_V1, authorize, digdirError, readJson, selfServiceRoute, unknownApiPath } from './digdir-api.ts';
import type { Route } from './route.ts';
import { scopeRoutes } from './self-service-scopes.ts';

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

function ownClient(core: EmulatorCore, org: string, id: string): EmulatedClient {
  const client = core.state.client(id);
  if (!client?.active || client.orgNo !== org)
    throw digdirError(404, 'not_found', `No client with id ${id}.`, 'Client');
  return client;
}

const field = (name: string, message: string) => new FieldError('Client', name, message);

/** Checks a client body field by field, naming each field as the wire does. */
function checkClientBody(body: Record<string, unknown>, creating: boolean): void {
  if (
    (creating || body.client_name !== undefined) &&
    (typeof body.client_name !== 'string' || !body.client_name.trim())
  )
    throw field('client_name', 'client_name is required and must be a non-empty string.');
  if (body.integration_type !== undefined && body.integration_type !== 'maskinporten') {
    throw field('integration_type', 'integration_type must be "maskinporten".');
  }
  if (body.token_endpoint_auth_method !== undefined && body.token_endpoint_auth_method !== 'private_key_jwt') {
    throw field('token_endpoint_auth_method', 'token_endpoint_auth_method must be "private_key_jwt".');
  }
  if (
    body.grant_types !== undefined &&
    !(Array.isArray(body.grant_types) && body.grant_types.length === 1 && body.grant_types[0] === JWT_BEARER_GRANT_TYPE)
  ) {
    throw field('grant_types', `grant_types must be ["${JWT_BEARER_GRANT_TYPE}"].`);
  }
  if (
    body.scopes !== undefined &&
    (!Array.isArray(body.scopes) || body.scopes.some((s) => typeof s !== 'string' || !s || /\s/.test(s)))
  ) {
    throw field('scopes', 'scopes must be an array of scope names without whitespace.');
  }
  if (body.description !== undefined && typeof body.description !== 'string') {
    throw field('description', 'description must be a string.');
  }
  const lifetime = body.access_token_lifetime;
  if (lifetime !== undefined && (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 0)) {
    throw field(
      'access_token_lifetime',
      'access_token_lifetime must be a whole number of seconds (0 for the default).',
    );
  }
}

/**
 * The client and key-set routes. On `/api/v1` they answer as the live API (201 on POST of a key set, 204 on
 * DELETE, `use` required, no empty set); `legacy` gives the first edition's aliases on the bare paths, which
 * answer as before (200 on both, `use` optional, an empty set clears the keys) so older clients keep working.
 */
function clientRoutes(core: EmulatorCore, legacy: boolean): Route[] {
  const replaceKeys = (status: number) => async (ctx: RequestContext, params: Record<string, string>) => {
    const org = authorize(core, ctx, MODIFY);
    const client = ownClient(core, org, params.id!);
    const body = await readJson(ctx);
    core.state.replaceKeys(client.clientId, body.keys, !legacy);
    sendJson(ctx, status, jwksView(client));
  };
  const base = legacy ? '' : API_V1;
  return [
    selfServiceRoute(
      '/clients/?',
      'Client',
      {
        GET: (ctx) => sendJson(ctx, 200, core.state.clients(authorize(core, ctx, READ)).map(clientView)),
        POST: async (ctx) => {
          const org = authorize(core, ctx, WRITE);
          const body = await readJson(ctx);
          checkClientBody(body, true);
          const client = core.state.addClient({
            clientName: String(body.client_name),
            description: (body.description as string | undefined) ?? '',
            scopes: (body.scopes as string[] | undefined) ?? [],
            orgNo: org,
            ...(body.access_token_lifetime === undefined
              ? {}
              : { accessTokenLifetime: body.access_token_lifetime as number }),
            jwks: [],
          });
          sendJson(ctx, 201, clientView(client), { location: `${core.url}${base}/clients/${client.clientId}` });
        },
      },
      legacy,
    ),
    selfServiceRoute(
      '/clients/(?<id>[^/]+)',
      'Client',
      {
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
          sendJson(ctx, 200, clientView(core.state.updateClient(client.clientId, patch)));
        },
        DELETE: (ctx, p) => {
          const client = ownClient(core, authorize(core, ctx, MODIFY), p.id!);
          core.state.deactivateClient(client.clientId);
          if (legacy) sendJson(ctx, 200, clientView(client));
          else send(ctx, 204, '', 'application/json; charset=utf-8');
        },
      },
      legacy,
    ),
    selfServiceRoute(
      '/clients/(?<id>[^/]+)/jwks',
      'Jwks',
      {
        GET: (ctx, p) => sendJson(ctx, 200, jwksView(ownClient(core, authorize(core, ctx, READ), p.id!))),
        POST: replaceKeys(legacy ? 200 : 201),
        PUT: replaceKeys(200),
        ...(legacy
          ? {}
          : {
              DELETE: (ctx: RequestContext, p: Record<string, string>) => {
                const client = ownClient(core, authorize(core, ctx, MODIFY), p.id!);
                core.state.deleteKeys(client.clientId);
                send(ctx, 204, '', 'application/json; charset=utf-8');
              },
            }),
      },
      legacy,
    ),
  ];
}

/**
 * The routes of the self-service API: `/api/v1` (clients, key sets, scopes), then the bare-path aliases.
 *
 * @param core - The emulator's shared parts.
 * @returns The routes, canonical first.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function selfServiceRoutes(core: EmulatorCore): Route[] {
  return [
    ...clientRoutes(core, false),
    ...scopeRoutes(core, false),
    unknownApiPath(),
    ...clientRoutes(core, true),
    ...scopeRoutes(core, true),
  ];
}
