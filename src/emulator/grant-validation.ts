/**
 * Every rule Maskinporten applies to a JWT grant (Digdir's JWT grant page and error list), in the order a request meets
 * them. Each broken rule throws the {@link MpError} the real service answers with; a grant that passes comes back as
 * the facts the token issuer needs. Where the live server and the documentation disagree, `grant-rules.ts` holds both.
 */
import type { KeyObject } from 'node:crypto';
import { type DecodedJws, decodeCompact, isRsaAlgorithm, verifyDecoded } from '../keys/jws.ts';
import { IAT_SKEW_SECONDS, isOrgNumber } from '../protocol/constants.ts';
import { resolveAuthorizationDetails } from './authorization-details.ts';
import { checkAudience, checkTimes, type GrantRuleSet, parseResource } from './grant-rules.ts';
import type { EmulatedClient } from './model.ts';
import { mp } from './mp-errors.ts';
import type { ReplayGuard } from './replay-guard.ts';
import type { EmulatorState } from './state.ts';
import { keyFromX5c } from './x5c.ts';

/** The claims a grant may carry. Anything else is an undocumented claim and is refused. */
export const ALLOWED_GRANT_CLAIMS: ReadonlySet<string> = new Set([
  'aud',
  'iss',
  'iat',
  'exp',
  'jti',
  'scope',
  'resource',
  'consumer_org',
  'iss_onbehalfof',
  'pid',
  'authorization_details',
  // Tolerated because widely used clients send them: nbf (Microsoft's JWT handlers add it), sub (Altinn's example).
  'nbf',
  'sub',
]);

/** What a valid grant establishes. */
export interface ValidatedGrant {
  client: EmulatedClient;
  decoded: DecodedJws;
  scopes: string[];
  clientAmr: 'private_key_jwt' | 'virksomhetssertifikat';
  consumerOrg?: string;
  /** As asked for: the token's `aud` becomes this value. */
  resource?: string | string[];
  pid?: string;
  authorizationDetails?: Record<string, unknown>[];
}

/** What the validator needs from the emulator. */
export interface GrantContext {
  state: EmulatorState;
  issuer: string;
  /** The token endpoint URL, which the live server also accepts as `aud`. */
  tokenEndpoint: string;
  /** Which reading of the rules to apply. */
  rules: GrantRuleSet;
  nowMs: number;
  replay: ReplayGuard;
}

/** Decodes an assertion for logging and validation; malformed input is MP-011. */
export function decodeAssertion(assertion: string): DecodedJws {
  try {
    return decodeCompact(assertion);
  } catch {
    throw mp.badRequest('The assertion is not a compact JWT (three base64url parts separated by dots).');
  }
}

/** The key that verifies a grant, and how the client authenticated with it (the token's `client_amr`). */
interface ResolvedKey {
  key: KeyObject;
  amr: ValidatedGrant['clientAmr'];
}

function resolveKey(decoded: DecodedJws, client: EmulatedClient, ctx: GrantContext): ResolvedKey {
  const { kid, x5c } = decoded.header;
  if (kid !== undefined && x5c !== undefined && ctx.rules === 'documented') {
    throw mp.badRequest('The JWT header must carry either kid or x5c, not both.');
  }
  // Live, both together are accepted and the kid is used; a certificate-only client has no kid to use, so
  // its certificate is.
  const useKid = kid !== undefined && (x5c === undefined || client.keys.length > 0);
  if (useKid) {
    if (typeof kid !== 'string' || !kid) throw mp.badRequest('The JWT header kid must be a non-empty string.');
    const registered = ctx.state.clientKey(client.clientId, kid);
    if (!registered) {
      if (ctx.rules === 'live') throw mp.unknownKid();
      throw mp.clientAuthFailed(
        `Invalid JWT. No key with kid ${kid} is registered on client ${client.clientId} in this environment.`,
      );
    }
    if (registered.expiresAt <= ctx.nowMs) throw mp.expiredKey(kid);
    return { key: registered.key, amr: 'private_key_jwt' };
  }
  if (client.keys.length > 0) {
    throw mp.clientAuthFailed(
      'Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided',
    );
  }
  if (x5c === undefined) {
    throw mp.invalidX5c('Failed to extract certificate from jwt: the header has neither kid nor x5c.');
  }
  return { key: keyFromX5c(x5c, client.orgNo, ctx.nowMs).key, amr: 'virksomhetssertifikat' };
}

function parseScopes(scope: unknown): string[] {
  if (scope === undefined || scope === null || (typeof scope === 'string' && !scope.trim())) throw mp.missingScope();
  if (typeof scope !== 'string') throw mp.badRequest('The claim scope must be a space-separated string.');
  return [...new Set(scope.split(/\s+/).filter(Boolean))];
}

function checkScopeAccess(
  scopes: string[],
  client: EmulatedClient,
  consumerOrg: string | undefined,
  state: EmulatorState,
): void {
  // A scope registered for other integration types only (e.g. ID-porten) is refused to every Maskinporten client.
  const elsewhere = scopes.filter((s) => {
    const types = state.scope(s)?.allowedIntegrationTypes;
    return types !== undefined && !types.includes('maskinporten');
  });
  if (elsewhere.length) throw mp.notForMaskinporten(elsewhere);
  if (consumerOrg !== undefined) {
    for (const scope of scopes) {
      if (!state.hasDelegation(consumerOrg, client.orgNo, scope))
        throw mp.notDelegated(consumerOrg, scope, client.orgNo);
    }
    return;
  }
  const invalid = scopes.filter((s) => !client.scopes.includes(s) && !state.scope(s)?.accessibleForAll);
  if (invalid.length) throw mp.invalidScopes(invalid);
}

/** Validates a grant against every rule; throws the matching {@link MpError} for the first one broken. */
export async function validateGrant(decoded: DecodedJws, ctx: GrantContext): Promise<ValidatedGrant> {
  const { header, payload: claims } = decoded;
  const nowSeconds = Math.floor(ctx.nowMs / 1000);

  if (!isRsaAlgorithm(header.alg)) {
    throw mp.invalidSignature(
      `The JWT header alg ${JSON.stringify(header.alg)} is not allowed: use RS256, RS384 or RS512.`,
    );
  }
  if (typeof claims.iss !== 'string' || !claims.iss)
    throw mp.clientAuthFailed('The claim iss (the client id) is missing.');
  const client = ctx.state.client(claims.iss);
  if (!client?.active) {
    throw mp.clientAuthFailed(
      `Client not found: check the client id (iss) and that the client exists in this environment.`,
    );
  }
  const { key, amr } = resolveKey(decoded, client, ctx);
  // On this thread: an RSA verify takes about 25 µs, no more than handing it to the thread pool and being woken for
  // its answer costs (the token's signature, ten times as long, is what goes to the pool).
  if (!verifyDecoded(decoded, key, header.alg)) {
    throw mp.invalidSignature('Could not validate JWT signature with the key the header points to.');
  }
  const unknown = Object.keys(claims).filter((c) => !ALLOWED_GRANT_CLAIMS.has(c));
  if (unknown.length) throw mp.badRequest(`Unknown claim(s) in the grant: ${unknown.join(', ')}.`);
  checkAudience(claims.aud, ctx.rules, ctx.issuer, ctx.tokenEndpoint);
  checkTimes(claims, ctx.rules, nowSeconds);
  if (claims.sub !== undefined && claims.sub !== claims.iss)
    throw mp.badRequest('The claim sub, when sent, must equal iss.');
  if (claims.jti !== undefined && (typeof claims.jti !== 'string' || !claims.jti || claims.jti.length > 256)) {
    throw mp.badRequest('The claim jti must be a non-empty string of at most 256 characters.');
  }
  const scopes = parseScopes(claims.scope);
  const resource = parseResource(claims.resource, ctx.rules);
  if (claims.pid !== undefined && (typeof claims.pid !== 'string' || !/^\d{11}$/.test(claims.pid))) {
    throw mp.badRequest('The claim pid must be an 11-digit national identity number.');
  }
  if (claims.iss_onbehalfof !== undefined) {
    if (claims.consumer_org !== undefined)
      throw mp.badRequest('The claims consumer_org and iss_onbehalfof are mutually exclusive.');
    throw mp.badRequest(`iss_onbehalfof ${JSON.stringify(claims.iss_onbehalfof)} is not registered on the client.`);
  }
  let consumerOrg: string | undefined;
  if (claims.consumer_org !== undefined) {
    if (!isOrgNumber(claims.consumer_org))
      throw mp.badRequest('The claim consumer_org must be a nine-digit organisation number.');
    if (claims.consumer_org === client.orgNo) {
      throw mp.badRequest(
        'Validation of JWT claim failed: The combination consumer_org in claim and delegation scope on client is invalid',
      );
    }
    consumerOrg = claims.consumer_org;
  }
  checkScopeAccess(scopes, client, consumerOrg, ctx.state);
  // An owned scope needs the consumer's organisation to hold access to it, even when registered on the client.
  const denied = ctx.state.deniedScope(scopes, consumerOrg ?? client.orgNo);
  if (denied !== undefined) throw mp.notGranted(denied);
  const authorizationDetails =
    claims.authorization_details === undefined
      ? undefined
      : resolveAuthorizationDetails(claims.authorization_details, {
          client,
          state: ctx.state,
          nowMs: ctx.nowMs,
          ...(consumerOrg === undefined ? {} : { consumerOrg }),
        });

  // Last, so a grant refused for another reason can be corrected and sent again with the same jti.
  if (typeof claims.jti === 'string') {
    // Both readings refuse a grant whose exp is more than the skew behind: until then its jti must be remembered.
    const forgetAfter = ((claims.exp as number) + IAT_SKEW_SECONDS) * 1000;
    if (!ctx.replay.use(client.clientId, claims.jti, forgetAfter, ctx.nowMs)) throw mp.replay();
  }
  const out: ValidatedGrant = {
    client,
    decoded,
    scopes,
    clientAmr: amr,
  };
  if (consumerOrg !== undefined) out.consumerOrg = consumerOrg;
  if (resource !== undefined) out.resource = resource;
  if (claims.pid !== undefined) out.pid = claims.pid as string;
  if (authorizationDetails !== undefined) out.authorizationDetails = authorizationDetails;
  return out;
}
