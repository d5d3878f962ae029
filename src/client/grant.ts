/**
 * The grant the client sends: its claims for one request, signed with the client's key. One function, used by the
 * token call and by the preview the tools show (`maskinporten token --dry-run`), so what a tool shows is what the
 * client sends.
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
 * @param input - The client id, issuer, time, request, lifetime and signer.
 * @returns The grant, a compact JWS signed with the client's key.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` for a lifetime outside 1–120 s.
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
