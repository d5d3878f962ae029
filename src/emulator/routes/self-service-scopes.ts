/**
 * The scope endpoints of Digdir's self-service API (Digdir's self-service API docs): the public scope list, and the
 * API-provider side — create, change and delete scopes, grant and withdraw organisations' access — which needs
 * `idporten:scopes.write`. A scope created here has an owner and an access list that the token endpoint honours
 * (MP-250 for an organisation without access, Digdir's error list).
 */
import type { EmulatorCore } from '../core.ts';
import { FieldError } from '../field-error.ts';
import { type RequestContext, sendJson } from '../http.ts';
import type { ScopeAccess, ScopeDefinition } from '../model.ts';
import type { ScopePatch } from '../scope-registry.ts';
import { authorize, digdirError, readJson, selfServiceRoute } from './digdir-api.ts';
import type { Route } from './route.ts';

const ADMIN = ['idporten:scopes.write'];
const READ_ACCESS = ['idporten:dcr.read', 'idporten:dcr.write', 'idporten:dcr.modify', 'idporten:scopes.write'];

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** A scope as the self-service API shows it (the full object of `GET /api/v1/scopes/all`). */
export function scopeView(s: ScopeDefinition): Record<string, unknown> {
  const colon = s.name.indexOf(':');
  return {
    prefix: colon < 0 ? s.name : s.name.slice(0, colon),
    subscope: colon < 0 ? '' : s.name.slice(colon + 1),
    name: s.name,
    description: s.description ?? '',
    long_description: s.longDescription ?? '',
    token_type: s.tokenType ?? 'SELF_CONTAINED',
    visibility: s.visibility ?? 'PUBLIC',
    allowed_integration_types: s.allowedIntegrationTypes ?? ['maskinporten'],
    delegation_source: s.delegationSource ?? null,
    at_max_age: s.atMaxAge ?? 0,
    authorization_max_lifetime: s.authorizationMaxLifetime ?? 0,
    accessible_for_all: s.accessibleForAll ?? false,
    requires_user_consent: s.requiresUserConsent ?? false,
    requires_user_authentication: s.requiresUserAuthentication ?? false,
    requires_pseudonymous_tokens: s.requiresPseudonymousTokens ?? false,
    active: s.active ?? true,
    owner_orgno: s.ownerOrgNo ?? null,
    created: iso(s.createdAt),
    last_updated: iso(s.updatedAt),
  };
}

/** An access grant as the self-service API shows it. */
export function accessView(a: ScopeAccess, ownerOrgNo: string | undefined): Record<string, unknown> {
  return {
    consumer_orgno: a.consumerOrgNo,
    owner_orgno: ownerOrgNo ?? null,
    scope: a.scope,
    state: a.state,
    created: iso(a.createdAt),
    last_updated: iso(a.updatedAt),
  };
}

const field = (name: string, message: string) => new FieldError('Scope', name, message);
const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SUBSCOPE = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

/** The wire fields a scope body may carry, with how each is checked and where it goes in the model. */
const FIELDS: [wire: string, model: keyof ScopePatch, check: (v: unknown) => boolean, expect: string][] = [
  ['description', 'description', (v) => typeof v === 'string', 'a string'],
  ['long_description', 'longDescription', (v) => typeof v === 'string', 'a string'],
  ['token_type', 'tokenType', (v) => v === 'SELF_CONTAINED' || v === 'OPAQUE', 'SELF_CONTAINED or OPAQUE'],
  [
    'visibility',
    'visibility',
    (v) => v === 'PUBLIC' || v === 'PRIVATE' || v === 'INTERNAL',
    'PUBLIC, PRIVATE or INTERNAL',
  ],
  [
    'allowed_integration_types',
    'allowedIntegrationTypes',
    (v) => Array.isArray(v) && v.every((t) => typeof t === 'string' && t.length > 0),
    'an array of integration types, e.g. ["maskinporten"]',
  ],
  ['delegation_source', 'delegationSource', (v) => typeof v === 'string', 'the Altinn portal issuer URL, or null'],
  ['at_max_age', 'atMaxAge', (v) => Number.isInteger(v) && (v as number) >= 0, 'a whole number of seconds ≥ 0'],
  [
    'authorization_max_lifetime',
    'authorizationMaxLifetime',
    (v) => Number.isInteger(v) && (v as number) >= 0,
    'a whole number of seconds ≥ 0',
  ],
  ['accessible_for_all', 'accessibleForAll', (v) => typeof v === 'boolean', 'true or false'],
  ['requires_user_consent', 'requiresUserConsent', (v) => typeof v === 'boolean', 'true or false'],
  ['requires_user_authentication', 'requiresUserAuthentication', (v) => typeof v === 'boolean', 'true or false'],
  ['requires_pseudonymous_tokens', 'requiresPseudonymousTokens', (v) => typeof v === 'boolean', 'true or false'],
  ['active', 'active', (v) => typeof v === 'boolean', 'true or false'],
];

/** Reads the changeable fields of a scope body; `null` leaves a field at its default. */
function scopePatch(body: Record<string, unknown>): ScopePatch {
  const patch: Record<string, unknown> = {};
  for (const [wire, model, check, expect] of FIELDS) {
    const value = body[wire];
    if (value === undefined || value === null) continue;
    if (!check(value)) throw field(wire, `${wire} must be ${expect}, got ${JSON.stringify(value)}`);
    patch[model] = value;
  }
  return patch as ScopePatch;
}

/** The scope name a body gives (`prefix` and `subscope`, or `name`), checked against `?scope=` when present. */
function scopeName(body: Record<string, unknown>, query: string | null): string {
  const { prefix, subscope, name } = body;
  if (prefix !== undefined && (typeof prefix !== 'string' || !PART.test(prefix)))
    throw field('prefix', `prefix must be letters, digits, '.', '_' or '-', got ${JSON.stringify(prefix)}`);
  if (subscope !== undefined && (typeof subscope !== 'string' || !SUBSCOPE.test(subscope)))
    throw field(
      'subscope',
      `subscope must be letters, digits, '.', '_', '-', ':' or '/', got ${JSON.stringify(subscope)}`,
    );
  const fromParts = prefix !== undefined && subscope !== undefined ? `${prefix}:${subscope}` : undefined;
  if (name !== undefined && (typeof name !== 'string' || (fromParts !== undefined && name !== fromParts)))
    throw field('name', `name must be "<prefix>:<subscope>", got ${JSON.stringify(name)}`);
  const resolved = fromParts ?? (name as string | undefined) ?? query ?? undefined;
  if (!resolved || !/^[A-Za-z0-9][A-Za-z0-9._-]*:[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(resolved))
    throw field('subscope', 'give the scope as prefix and subscope (e.g. "prefix": "myorg", "subscope": "api.read")');
  if (query !== null && query !== resolved)
    throw field('scope', `the query parameter scope (${query}) and the body (${resolved}) name different scopes`);
  return resolved;
}

function queryScope(ctx: RequestContext, required: true): string;
function queryScope(ctx: RequestContext, required: false): string | null;
function queryScope(ctx: RequestContext, required: boolean): string | null {
  const scope = ctx.url.searchParams.get('scope');
  if (required && !scope) throw field('scope', 'the query parameter scope is required, e.g. ?scope=myorg:api.read');
  return scope;
}

/**
 * The routes of the scope part of the self-service API. `legacy` gives only the first edition's `/scopes/all`
 * alias, which (as before) needs a token and shows name, description, `at_max_age` and `accessible_for_all`.
 *
 * @param core - The emulator's shared parts.
 * @param legacy - Build the bare-path alias instead of the `/api/v1` routes.
 * @returns The routes.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export function scopeRoutes(core: EmulatorCore, legacy: boolean): Route[] {
  const registry = core.state.scopeRegistry;
  if (legacy) {
    const list = (ctx: RequestContext) => {
      authorize(core, ctx, READ_ACCESS);
      const shown = registry.list().filter((s) => s.active !== false);
      sendJson(
        ctx,
        200,
        shown.map((s) => ({
          name: s.name,
          description: s.description ?? '',
          at_max_age: s.atMaxAge ?? 0,
          accessible_for_all: s.accessibleForAll ?? false,
        })),
      );
    };
    return [selfServiceRoute('/scopes/all', 'Scope', { GET: list }, true)];
  }

  /**
   * The scope named by `?scope=`, owned by the caller's organisation (404 otherwise). A scope without an owner
   * (defined from code) may be read by any administrator, and the first to change it or its access claims it.
   */
  const ownScope = (ctx: RequestContext, org: string, changing = false): ScopeDefinition => {
    const name = queryScope(ctx, true);
    const scope = registry.get(name);
    if (scope && scope.ownerOrgNo === undefined) return changing ? registry.claim(name, org) : scope;
    if (scope?.ownerOrgNo !== org)
      throw digdirError(404, 'not_found', `No scope ${name} owned by organisation ${org}.`, 'Scope');
    return scope;
  };

  const flag = (ctx: RequestContext): boolean | undefined => {
    const raw = ctx.url.searchParams.get('accessible_for_all');
    if (raw === null) return undefined;
    if (!/^(true|false)$/i.test(raw))
      throw field('accessible_for_all', `accessible_for_all must be true or false, got ${JSON.stringify(raw)}`);
    return raw.toLowerCase() === 'true';
  };

  return [
    selfServiceRoute('/scopes/all', 'Scope', {
      // Public, as Digdir's: no token needed to see which scopes exist.
      GET: (ctx) => {
        const only = flag(ctx);
        const listed = registry
          .list()
          .filter((s) => s.active !== false && s.visibility !== 'PRIVATE')
          .filter((s) => only === undefined || (s.accessibleForAll ?? false) === only);
        sendJson(ctx, 200, listed.map(scopeView));
      },
    }),
    selfServiceRoute('/scopes/access/all', 'ScopeAccess', {
      // The scopes the caller's organisation may use: its grants, and with ?accessible_for_all=true the open ones.
      GET: (ctx) => {
        const org = authorize(core, ctx, READ_ACCESS);
        const granted = registry
          .accessOf(org)
          .filter((a) => a.state === 'APPROVED')
          .map((a) => accessView(a, registry.get(a.scope)?.ownerOrgNo));
        const open = flag(ctx)
          ? registry
              .list()
              .filter((s) => s.accessibleForAll && s.active !== false)
              .map((s) => ({
                consumer_orgno: org,
                owner_orgno: s.ownerOrgNo ?? null,
                scope: s.name,
                state: 'APPROVED',
              }))
          : [];
        sendJson(ctx, 200, [...granted, ...open]);
      },
    }),
    selfServiceRoute('/scopes/access', 'ScopeAccess', {
      GET: (ctx) => {
        const scope = ownScope(ctx, authorize(core, ctx, ADMIN));
        sendJson(
          ctx,
          200,
          registry.accessTo(scope.name).map((a) => accessView(a, scope.ownerOrgNo)),
        );
      },
    }),
    selfServiceRoute('/scopes/access/(?<org>[^/]+)', 'ScopeAccess', {
      PUT: (ctx, p) => {
        const scope = ownScope(ctx, authorize(core, ctx, ADMIN), true);
        sendJson(ctx, 200, accessView(registry.grant(scope.name, p.org!), scope.ownerOrgNo));
      },
      DELETE: (ctx, p) => {
        const scope = ownScope(ctx, authorize(core, ctx, ADMIN), true);
        sendJson(ctx, 200, accessView(registry.withdraw(scope.name, p.org!), scope.ownerOrgNo));
      },
    }),
    selfServiceRoute('/scopes', 'Scope', {
      GET: (ctx) => {
        const org = authorize(core, ctx, ADMIN);
        if (queryScope(ctx, false) !== null) {
          sendJson(ctx, 200, scopeView(ownScope(ctx, org)));
          return;
        }
        const inactive = ctx.url.searchParams.get('inactive') === 'true';
        const own = registry.list().filter((s) => s.ownerOrgNo === org && (inactive || s.active !== false));
        sendJson(ctx, 200, own.map(scopeView));
      },
      POST: async (ctx) => {
        const org = authorize(core, ctx, ADMIN);
        const body = await readJson(ctx);
        const name = scopeName(body, queryScope(ctx, false));
        const prefix = name.slice(0, name.indexOf(':'));
        const taken = registry
          .list()
          .find((s) => s.name.startsWith(`${prefix}:`) && s.ownerOrgNo !== undefined && s.ownerOrgNo !== org);
        if (taken) throw field('prefix', `the prefix ${prefix} belongs to another organisation: use your own prefix`);
        const created = registry.create({ name, ...scopePatch(body) }, org);
        sendJson(ctx, 201, scopeView(created));
      },
      PUT: async (ctx) => {
        const org = authorize(core, ctx, ADMIN);
        const scope = ownScope(ctx, org);
        const body = await readJson(ctx);
        // The name cannot change; a body that names the scope must name this one.
        if (body.prefix !== undefined || body.subscope !== undefined || body.name !== undefined)
          scopeName(body, scope.name);
        const patch = scopePatch(body);
        if (scope.ownerOrgNo === undefined) registry.claim(scope.name, org);
        sendJson(ctx, 200, scopeView(registry.update(scope.name, patch)));
      },
      DELETE: (ctx) => {
        const scope = ownScope(ctx, authorize(core, ctx, ADMIN), true);
        // Deleting deactivates, as for clients: the scope stays known, and no one gets tokens with it.
        sendJson(ctx, 200, scopeView(registry.update(scope.name, { active: false })));
      },
    }),
  ];
}
