/**
 * Altinn's side: the exchange of a Maskinporten token for an Altinn token (protocol notes §5) and the Altinn
 * issuer's published keys.
 */
import { randomUUID } from 'node:crypto';
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
import type { EmulatorCore } from '../context.ts';
import { bearerToken, type HttpError, problem, type RequestContext, send, sendJson } from '../http.ts';
import { checkToken } from '../token-check.ts';
import type { Route } from './route.ts';

/** Claims of a Maskinporten token that the Altinn token does not copy. */
const NOT_COPIED = new Set(['aud', 'iss', 'client_amr', 'sid', 'iat', 'nbf', 'exp']);

/** Altinn's answers are ASP.NET ProblemDetails, with the RFC 9110 section as `type`. */
function altinnProblem(status: number, title: string, detail: string): HttpError {
  return problem(status, title, detail, {
    type: `https://tools.ietf.org/html/rfc9110#section-15.5.${status === 401 ? 2 : 11}`,
    ...(status === 401 ? { wwwAuthenticate: 'Bearer' } : {}),
  });
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

async function exchange(core: EmulatorCore, ctx: RequestContext): Promise<void> {
  if (ctx.req.headers[ALTINN_ENTERPRISE_USER_HEADER] !== undefined) {
    throw altinnProblem(410, 'Gone', 'Enterprise user authentication is no longer supported.');
  }
  const nowMs = core.clock.now();
  const check = checkToken(bearerToken(ctx), { key: core.state.maskinportenKey, issuer: core.issuer, nowMs });
  if (!check.ok) throw altinnProblem(401, 'Unauthorized', check.reason);
  const mpClaims = check.claims;
  ctx.log.tokenClaims = mpClaims;
  if (typeof mpClaims.client_id === 'string') ctx.log.clientId = mpClaims.client_id;
  const consumer = mpClaims.consumer as { authority?: unknown; ID?: unknown } | undefined;
  if (
    consumer?.authority !== ORG_AUTHORITY ||
    typeof consumer.ID !== 'string' ||
    !consumer.ID.startsWith(NORWEGIAN_ORG_PREFIX)
  ) {
    throw altinnProblem(401, 'Unauthorized', `the token's consumer must be an ${ORG_AUTHORITY} organisation`);
  }
  const claims = altinnClaims(mpClaims, core, {
    nowSeconds: Math.floor(nowMs / 1000),
    test: ctx.url.searchParams.get('test') === 'true',
  });
  const token = await signCompactAsync(
    { alg: 'RS256', kid: core.state.altinnKey.kid, typ: 'JWT' },
    claims,
    core.state.altinnKey.privateKey,
  );
  // Test instrumentation (see secret-hook.ts): the signature is what makes the token usable.
  secretRegistry()?.register(signatureOf(token), 'Altinn token (emulator)');
  const accept = (ctx.req.headers.accept ?? '').toLowerCase();
  // ASP.NET answers a string result as JSON when only JSON is acceptable; real clients must cope with both.
  if (accept.includes('application/json') && !accept.includes('text/plain') && !accept.includes('*/*')) {
    send(ctx, 200, JSON.stringify(token), 'application/json; charset=utf-8');
  } else {
    send(ctx, 200, token, 'text/plain; charset=utf-8');
  }
}

/** The routes of the Altinn side. */
export function altinnRoutes(core: EmulatorCore): Route[] {
  const openid = ALTINN_OPENID_PATH.replaceAll('/', '\\/');
  return [
    {
      pattern: new RegExp(`^${ALTINN_EXCHANGE_PATH.replaceAll('/', '\\/')}$`),
      endpoint: 'exchange',
      methods: { GET: (ctx) => exchange(core, ctx) },
    },
    {
      pattern: new RegExp(`^${openid}\\.well-known\\/openid-configuration$`),
      endpoint: 'altinn-jwks',
      methods: {
        GET: (ctx) =>
          sendJson(ctx, 200, {
            issuer: core.altinnIssuer,
            jwks_uri: `${core.altinnIssuer}.well-known/openid-configuration/jwks`,
            id_token_signing_alg_values_supported: ['RS256'],
          }),
      },
    },
    {
      pattern: new RegExp(`^${openid}\\.well-known\\/openid-configuration\\/jwks$`),
      endpoint: 'altinn-jwks',
      methods: { GET: (ctx) => sendJson(ctx, 200, { keys: [core.state.altinnKey.publicJwk] }) },
    },
  ];
}
