/**
 * The grant the client sends: its claims for one request, signed with the client's key. One function, used by the
 * token call and by the preview tools use (`maskinporten token --dry-run`, `maskinporten doctor`), so what a tool
 * shows is what the client sends.
 */
import type { LoadedSigner } from '../keys/signer.ts';
import { buildGrantClaims, type NormalizedTokenRequest, signGrant } from '../protocol/grant.ts';

/** What a grant is made of. */
export interface GrantInput {
  clientId: string;
  /** The authorization server's issuer: the grant's `aud`. */
  issuer: string;
  /** Now on the clock the grant is timed on (epoch ms). */
  nowMs: number;
  request: NormalizedTokenRequest;
  lifetimeSeconds: number;
  signer: LoadedSigner;
}

/**
 * The signed grant (a compact JWS) for one request.
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 */
export function composeGrant(input: GrantInput): string {
  const claims = buildGrantClaims({
    clientId: input.clientId,
    audience: input.issuer,
    nowSeconds: Math.floor(input.nowMs / 1000),
    request: input.request,
    lifetimeSeconds: input.lifetimeSeconds,
  });
  return signGrant(claims, input.signer);
}
