/**
 * The emulator's own signing keys, ready for use, with their public halves published as the real services publish
 * theirs: each with its self-signed certificate in `x5c` and a certificate thumbprint as `kid` (Digdir's well-known
 * page and Altinn's token exchange docs, as live). Maskinporten's key is named by its SHA-256 thumbprint (base64url);
 * Altinn's JWK is what altinn-authentication's OpenIdController builds: `kty`, `use`, `kid` = the SHA-1 thumbprint in
 * upper-case hex (.NET's `Thumbprint`), `e` and `n` in standard base64 (`Convert.ToBase64String`) and the `x5c` chain.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { importPrivateJwk, type RsaPublicJwk, toPublicJwk } from '../keys/jwk.ts';
import { encodeSegment } from '../keys/jws.ts';
import { selfSignedCertificate } from './certificate.ts';
import type { SigningKeyRecord } from './model.ts';

/** A signing key ready for use: the private key, its id and its published public half. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: RsaPublicJwk;
  /** The thumbprint `x5t` (base64url SHA-1), which .NET puts in the header of tokens it signs. */
  x5t: string;
  /** The encoded JWS header (`kid` and `alg`) of every access token it signs: fixed per key. */
  headerSegment: string;
}

const toStandardBase64 = (b64url: string) => Buffer.from(b64url, 'base64url').toString('base64');

/** Builds the signing key of `record` for the service it signs for. */
export function signingKeyFrom(record: SigningKeyRecord, service: 'maskinporten' | 'altinn'): SigningKey {
  const privateKey = importPrivateJwk(record.privateJwk);
  const publicKey = createPublicKey(privateKey);
  const cert = selfSignedCertificate(
    privateKey,
    publicKey,
    service === 'maskinporten' ? 'Maskinporten emulator' : 'Altinn platform emulator',
  );
  const { n, e } = toPublicJwk(record.privateJwk);
  const publicJwk: RsaPublicJwk =
    service === 'maskinporten'
      ? { kty: 'RSA', e, n, use: 'sig', alg: 'RS256', kid: cert.x5tS256, x5c: [cert.x5c] }
      : ({
          kty: 'RSA',
          use: 'sig',
          kid: cert.sha1Hex,
          e: toStandardBase64(e),
          n: toStandardBase64(n),
          x5c: [cert.x5c],
        } as RsaPublicJwk);
  const kid = publicJwk.kid!;
  return { kid, privateKey, publicKey, publicJwk, x5t: cert.x5t, headerSegment: encodeSegment({ kid, alg: 'RS256' }) };
}
