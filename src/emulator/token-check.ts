/**
 * Checks tokens presented to the emulator's resource endpoints (exchange, self-service, protected API): signed by
 * the expected emulator key, issued by the expected issuer, and within its lifetime allowing 10 s of skew, as
 * Altinn checks them (Altinn's token exchange docs).
 */
import { decodeCompact, verifyDecoded } from '../keys/jws.ts';
import type { SigningKey } from './state.ts';

/** The result of checking a presented token. */
export type TokenCheck = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/** Verifies a compact JWT against one of the emulator's signing keys. */
export function checkToken(
  token: string | undefined,
  options: { key: SigningKey; issuer: string; nowMs: number; skewSeconds?: number },
): TokenCheck {
  if (!token) return { ok: false, reason: 'no bearer token in the Authorization header' };
  let decoded: ReturnType<typeof decodeCompact>;
  try {
    decoded = decodeCompact(token);
  } catch {
    return { ok: false, reason: 'the bearer token is not a JWT' };
  }
  if (decoded.header.alg !== 'RS256' || decoded.header.kid !== options.key.kid) {
    return { ok: false, reason: 'the token was not issued by this emulator (unknown kid or alg)' };
  }
  if (!verifyDecoded(decoded, options.key.publicKey, 'RS256')) return { ok: false, reason: 'invalid token signature' };
  const claims = decoded.payload;
  if (claims.iss !== options.issuer) return { ok: false, reason: `the token's issuer is not ${options.issuer}` };
  const now = Math.floor(options.nowMs / 1000);
  const skew = options.skewSeconds ?? 10;
  if (typeof claims.exp !== 'number' || claims.exp + skew < now) return { ok: false, reason: 'the token has expired' };
  if (typeof claims.nbf === 'number' && claims.nbf - skew > now)
    return { ok: false, reason: 'the token is not valid yet' };
  return { ok: true, claims };
}
