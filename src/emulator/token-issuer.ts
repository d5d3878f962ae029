/**
 * Issues Maskinporten access tokens (Digdir's token page) for validated grants: RS256 JWTs signed with the emulator's
 * key, with a lifetime of min(client lifetime, every requested scope's `at_max_age`).
 */
import { encodeSegment, signatureOf, signSegmentsAsync } from '../keys/jws.ts';
import { randomBase64url } from '../keys/random-pool.ts';
import { secretRegistry } from '../keys/secret-hook.ts';
import { NORWEGIAN_ORG_PREFIX, ORG_AUTHORITY } from '../protocol/constants.ts';
import type { ValidatedGrant } from './grant-validation.ts';
import type { EmulatorState, SigningKey } from './state.ts';

/** The JSON body of a successful token response. */
export interface TokenResponseBody {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

function org(orgNo: string) {
  return { authority: ORG_AUTHORITY, ID: `${NORWEGIAN_ORG_PREFIX}${orgNo}` };
}

/** The token's `aud` for a requested `resource`: the string, or one array entry as a string. */
function audience(resource: string | string[]): string | string[] {
  return typeof resource === 'string' ? resource : resource.length === 1 ? resource[0]! : resource;
}

/** The lifetime (seconds) of a token for `scopes` from `clientLifetime`. */
export function tokenLifetime(clientLifetime: number, scopes: string[], state: EmulatorState): number {
  let lifetime = clientLifetime;
  for (const s of scopes) {
    const max = state.scope(s)?.atMaxAge;
    // at_max_age 0 means "no limit of its own": the client's (or the default) lifetime applies.
    if (max !== undefined && max > 0 && max < lifetime) lifetime = max;
  }
  return lifetime;
}

/** Builds, signs and returns the token response for a validated grant. */
export async function issueToken(
  grant: ValidatedGrant,
  options: { issuer: string; delegationSource: string; nowMs: number; key: SigningKey; state: EmulatorState },
): Promise<{ body: TokenResponseBody; claims: Record<string, unknown> }> {
  const iat = Math.floor(options.nowMs / 1000);
  const lifetime = tokenLifetime(grant.client.accessTokenLifetime, grant.scopes, options.state);
  const scope = grant.scopes.join(' ');
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    client_amr: grant.clientAmr,
    token_type: 'Bearer',
    // Only when `resource` was asked for: recent tokens carry no `aud` at all otherwise.
    ...(grant.resource === undefined ? {} : { aud: audience(grant.resource) }),
    scope,
    consumer: org(grant.consumerOrg ?? grant.client.orgNo),
  };
  if (grant.consumerOrg !== undefined) {
    // The Altinn portal's issuer, and no `client_orgno`, as in 2026 TT02 tokens.
    claims.supplier = org(grant.client.orgNo);
    claims.delegation_source = options.delegationSource;
  }
  if (grant.authorizationDetails) claims.authorization_details = grant.authorizationDetails;
  if (grant.pid !== undefined) claims.pid = grant.pid;
  claims.exp = iat + lifetime;
  claims.iat = iat;
  claims.client_id = grant.client.clientId;
  claims.jti = randomBase64url(32);
  const accessToken = await signSegmentsAsync(
    options.key.headerSegment,
    'RS256',
    encodeSegment(claims),
    options.key.privateKey,
  );
  // Test instrumentation (see secret-hook.ts): the signature is what makes the token usable.
  secretRegistry()?.register(
    signatureOf(accessToken),
    `Maskinporten access token (emulator, client ${grant.client.clientId})`,
  );
  return { body: { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime, scope }, claims };
}
