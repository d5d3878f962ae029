/**
 * Altinn's side: the exchange of a Maskinporten token for an Altinn token (Altinn's token exchange docs) and the Altinn
 * issuer's published keys.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { signatureOf, signCompactAsync } from '../../keys/jws.ts';
import { secretRegistry } from '../../keys/secret-hook.ts';
import {
  ALTINN_ENTERPRISE_USER_HEADER,
  ALTINN_EXCHANGE_PATH,
  ALTINN_OPENID_PATH,
  ALTINN_TOKEN_LIFETIME_SECONDS,
  NORWEGIAN_ORG_PREFIX,
  ORG_AUTHORITY,
} from '../../protocol/constants.ts';
import type { EmulatorCore } from '../core.ts';
import { HttpError, type RequestContext, send, sendJson } from '../http.ts';
import { checkToken } from '../token-check.ts';
import type { Route } from './route.ts';

/** Claims of a Maskinporten token that the Altinn token does not copy. */
const NOT_COPIED = new Set(['aud', 'iss', 'client_amr', 'sid', 'iat', 'nbf', 'exp']);

/** An ASP.NET Core trace id as ProblemDetails carry it: a W3C `traceparent`. */
function aspNetTraceId(ctx: RequestContext): string {
  return `00-${ctx.traceId.padEnd(32, '0').slice(0, 32)}-${randomBytes(8).toString('hex')}-00`;
}

/** ASP.NET's answer to `Unauthorized()` under `[ApiController]`: ProblemDetails with no `detail`, no WWW-Authenticate. */
function unauthorized(ctx: RequestContext, reason: string): HttpError {
  // The reason goes to the request log only, as Altinn writes it to its own log.
  ctx.log.errorDescription = reason;
  return new HttpError(
    401,
    {
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.2',
      title: 'Unauthorized',
      status: 401,
      traceId: aspNetTraceId(ctx),
    },
    { 'content-type': 'application/problem+json' },
  );
}

/** `[FromQuery] bool test` as ASP.NET binds it: absent is false; `bool.TryParse` (trimmed, any case); else a 400. */
function bindTest(ctx: RequestContext): boolean {
  const values = ctx.url.searchParams.getAll('test');
  if (values.length === 0) return false;
  const value = values[0]!;
  const word = value.trim().toLowerCase();
  if (word === 'true') return true;
  if (word === 'false') return false;
  throw new HttpError(
    400,
    {
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
      title: 'One or more validation errors occurred.',
      status: 400,
      errors: { test: [value === '' ? "The value '' is invalid." : `The value '${value}' is not valid.`] },
      traceId: aspNetTraceId(ctx),
    },
    { 'content-type': 'application/problem+json' },
  );
}

/** The bearer token as the controller reads it: `Bearer ` in any case, the rest trimmed. */
function bearer(ctx: RequestContext): string | undefined {
  const header = ctx.req.headers.authorization;
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return undefined;
  return header.slice('Bearer '.length).trim() || undefined;
}

/** `JwtSecurityTokenHandler.CanReadToken`: a compact JWS (or JWE) of base64url parts. */
const READABLE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)?$/;

/**
 * Claims as they come out of .NET's `JwtSecurityTokenHandler`: a top-level array becomes one claim per element, so an
 * array of one is written back as that element (an exchanged system-user token's `authorization_details` is an
 * object) and an empty array disappears.
 */
function asDotNetClaims(claims: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (!Array.isArray(value))
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else if (value.length === 1)
      Object.defineProperty(out, name, { value: value[0], enumerable: true, writable: true, configurable: true });
    else if (value.length > 1)
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Builds the Altinn token's claims from a verified Maskinporten token's claims. */
export function altinnClaims(
  mpClaims: Record<string, unknown>,
  core: EmulatorCore,
  options: { nowSeconds: number; test: boolean },
): Record<string, unknown> {
  // fromEntries defines own properties: a claim named `__proto__` is copied like any other, not made the prototype.
  const claims: Record<string, unknown> = Object.fromEntries(
    Object.entries(mpClaims).filter(([k]) => !NOT_COPIED.has(k)),
  );
  const consumer = mpClaims.consumer as { ID: string };
  const orgNumber = consumer.ID.slice(consumer.ID.indexOf(':') + 1);
  claims['urn:altinn:orgNumber'] = orgNumber;
  claims['urn:altinn:authenticatemethod'] = 'maskinporten';
  claims['urn:altinn:authlevel'] = 3;
  const scope = typeof mpClaims.scope === 'string' ? mpClaims.scope : '';
  const orgCode = core.orgCodes.get(orgNumber);
  if (orgCode && scope.includes('altinn:serviceowner')) {
    // With ?test=true, Digdir's service-owner tokens act as Testdepartementet (ttd), as Altinn does.
    claims['urn:altinn:org'] = options.test && orgCode === 'digdir' ? 'ttd' : orgCode;
  }
  claims.iss = core.altinnIssuer;
  claims.sid = randomUUID();
  claims.nbf = options.nowSeconds;
  claims.iat = options.nowSeconds;
  claims.exp = options.nowSeconds + ALTINN_TOKEN_LIFETIME_SECONDS;
  return claims;
}

/**
 * `GET /authentication/api/v1/exchange/{tokenProvider}` in altinn-authentication's order: a missing or
 * unreadable token is 401 before anything else, the provider is matched case-insensitively (an unknown one is a 400
 * text), the token is validated (401 on any failure), and only then does the enterprise-user header give 410.
 */
async function exchange(core: EmulatorCore, ctx: RequestContext, provider: string): Promise<void> {
  const test = bindTest(ctx);
  const token = bearer(ctx);
  if (!token) throw unauthorized(ctx, 'no bearer token in the Authorization header');
  if (!READABLE.test(token)) throw unauthorized(ctx, 'the bearer token is not a JWT');
  const name = provider.toLowerCase();
  if (name !== 'maskinporten') {
    if (name === 'id-porten' || name === 'altinnstudio') {
      throw unauthorized(ctx, `the emulator issues no ${provider} tokens, so none validates`);
    }
    const message = `Invalid token provider: ${provider}. Trusted token providers are 'Maskinporten', 'Id-porten' and 'AltinnStudio'.`;
    ctx.log.errorDescription = message;
    ctx.log.outcome = 'error';
    send(ctx, 400, message, 'text/plain; charset=utf-8');
    return;
  }
  const nowMs = core.clock.now();
  const check = checkToken(token, { key: core.state.maskinportenKey, issuer: core.issuer, nowMs });
  if (!check.ok) throw unauthorized(ctx, check.reason);
  const mpClaims = check.claims;
  ctx.log.tokenClaims = mpClaims;
  if (typeof mpClaims.client_id === 'string') ctx.log.clientId = mpClaims.client_id;
  const consumer = mpClaims.consumer as { authority?: unknown; ID?: unknown } | undefined;
  if (
    consumer?.authority !== ORG_AUTHORITY ||
    typeof consumer.ID !== 'string' ||
    !consumer.ID.startsWith(NORWEGIAN_ORG_PREFIX)
  ) {
    throw unauthorized(ctx, `the token's consumer must be an ${ORG_AUTHORITY} organisation`);
  }
  if (ctx.req.headers[ALTINN_ENTERPRISE_USER_HEADER]) {
    throw new HttpError(
      410,
      {
        type: 'https://docs.altinn.studio',
        title: 'Virksomhetsbruker is no longer available',
        status: 410,
        detail:
          'Virksomhetsbruker (enterprise user) is no longer available. It has been replaced by Systembruker (system user) or ID-porten, depending on the use case. See https://docs.altinn.studio for migration guidance.',
      },
      { 'content-type': 'application/problem+json' },
    );
  }
  const claims = asDotNetClaims(altinnClaims(mpClaims, core, { nowSeconds: Math.floor(nowMs / 1000), test }));
  const key = core.state.altinnKey;
  const altinnToken = await signCompactAsync(
    { alg: 'RS256', kid: key.kid, x5t: key.x5t, typ: 'JWT' },
    claims,
    key.privateKey,
  );
  // Test instrumentation (see secret-hook.ts): the signature is what makes the token usable.
  secretRegistry()?.register(signatureOf(altinnToken), 'Altinn token (emulator)');
  const accept = (ctx.req.headers.accept ?? '').toLowerCase();
  // ASP.NET answers a string result as JSON when only JSON is acceptable; real clients must cope with both.
  if (accept.includes('application/json') && !accept.includes('text/plain') && !accept.includes('*/*')) {
    send(ctx, 200, JSON.stringify(altinnToken), 'application/json; charset=utf-8');
  } else {
    send(ctx, 200, altinnToken, 'text/plain; charset=utf-8');
  }
}

/** altinn-authentication's OpenID discovery document (OpenIdController.cs, GeneralSettings.cs). */
function altinnDiscovery(core: EmulatorCore): Record<string, unknown> {
  const base = `${core.altinnPlatformUrl}/authentication/api/v1`;
  return {
    issuer: core.altinnIssuer,
    authorization_endpoint: `${base}/authorize/`,
    token_endpoint: `${base}/token/`,
    jwks_uri: `${core.altinnIssuer}.well-known/openid-configuration/jwks`,
    response_types_supported: ['token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    end_session_endpoint: `${base}/openid/logout/`,
  };
}

/** The routes of the Altinn side. ASP.NET matches routes case-insensitively; so does the exchange here. */
export function altinnRoutes(core: EmulatorCore): Route[] {
  const openid = ALTINN_OPENID_PATH.replaceAll('/', '\\/');
  const exchangeBase = ALTINN_EXCHANGE_PATH.slice(0, ALTINN_EXCHANGE_PATH.lastIndexOf('/')).replaceAll('/', '\\/');
  return [
    {
      pattern: new RegExp(`^${exchangeBase}\\/(?<provider>[^/]+)$`, 'i'),
      endpoint: 'exchange',
      methods: { GET: (ctx, p) => exchange(core, ctx, safeDecode(p.provider!)) },
    },
    {
      pattern: new RegExp(`^${openid}\\.well-known\\/openid-configuration$`),
      endpoint: 'altinn-jwks',
      methods: { GET: (ctx) => sendJson(ctx, 200, altinnDiscovery(core)) },
    },
    {
      pattern: new RegExp(`^${openid}\\.well-known\\/openid-configuration\\/jwks$`),
      endpoint: 'altinn-jwks',
      methods: { GET: (ctx) => sendJson(ctx, 200, { keys: [core.state.altinnKey.publicJwk] }) },
    },
  ];
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
