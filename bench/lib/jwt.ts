/**
 * The little JOSE the benchmarks need, straight on Node's crypto: an RSA key pair as JWKs and RS256 compact
 * signing. Kept independent of src/ so every contender is fed by exactly the same code.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';

/** An RSA key pair with its public JWK (kid, alg RS256, use sig) and its private JWK. */
export interface BenchKeyPair {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Record<string, unknown>;
  privateJwk: Record<string, unknown>;
}

/** Generates an RSA key pair of `bits` bits for RS256. */
export function rsaKeyPair(bits = 2048): BenchKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  const kid = randomUUID();
  const meta = { kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), ...meta },
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...meta },
  };
}

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An RS256 compact JWS of `claims` with header `{ alg: 'RS256', kid }`. */
export function signRs256(claims: Record<string, unknown>, key: BenchKeyPair): string {
  const input = `${segment({ alg: 'RS256', kid: key.kid })}.${segment(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

/** A fresh random JWT id. */
export function jti(): string {
  return randomBytes(16).toString('base64url');
}
