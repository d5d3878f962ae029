/**
 * Turns the key material a user configures — a JWK (object or JSON), the seed's `JwkBase64`, a PEM private key with
 * a `kid` or a certificate chain, or a PKCS#12 business certificate — into a {@link GrantSigner}, validating early
 * with errors that say what is wrong and what to do.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyError, redactedJsonError } from '../errors.ts';
import type { GrantSigner } from '../protocol/grant.ts';
import { assertValidKid, importPrivateJwk, jwkThumbprint } from './jwk.ts';
import { isRsaAlgorithm, type RsaAlgorithm } from './jws.ts';
import { orderChain, readPkcs12 } from './pkcs12.ts';

/** The ways a signing key can be given. Exactly one of `jwk`, `jwkBase64`, `pem` or `pkcs12` is used. */
export interface KeyMaterial {
  /** The key pair as a JWK object or its JSON text. */
  jwk?: Record<string, unknown> | string;
  /** The key pair JWK, base64-encoded (the seed's `JwkBase64`). */
  jwkBase64?: string;
  /** A PEM private key (PKCS#8 or PKCS#1); certificates may follow it in the same text. */
  pem?: string;
  /** The certificate chain (PEM text, or base64 DER strings, leaf first) for a PEM key: grants then carry `x5c`. */
  certificateChain?: string | readonly string[];
  /** A PKCS#12 file (bytes or base64) holding a business certificate and its key: grants carry `x5c`. */
  pkcs12?: Uint8Array | string;
  /** Password of the PKCS#12 file. */
  pkcs12Password?: string;
  /** Key id registered with Maskinporten; overrides the JWK's own `kid`, required for a PEM key without a chain. */
  kid?: string;
  /** Signing algorithm; defaults to the JWK's `alg`, else RS256. */
  alg?: RsaAlgorithm;
}

/** A ready signer plus a stable, non-secret identity for cache keys. */
export interface LoadedSigner extends GrantSigner {
  /** `kid:<kid>` or `x5c:<sha-256 of the leaf>`: identifies the key without revealing it. */
  readonly id: string;
}

function makeSigner(signer: GrantSigner, id: string): LoadedSigner {
  const out = { ...signer, id };
  // The key object itself prints no secret, but keep the whole signer terse in logs.
  Object.defineProperty(out, inspect.custom, { value: () => `GrantSigner(${id}, ${signer.alg})` });
  Object.defineProperty(out, 'toJSON', { value: () => ({ id, alg: signer.alg }) });
  return Object.freeze(out);
}

function bigintOf(base64url: string): bigint {
  const hex = Buffer.from(base64url, 'base64url').toString('hex');
  return hex ? BigInt(`0x${hex}`) : 0n;
}

function parseJwkText(text: string, setting: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new KeyError(`${setting} is not valid JSON: expected the key pair as a JWK object`, {
      cause: redactedJsonError(err),
    });
  }
  return checkJwkShape(value, setting);
}

function checkJwkShape(value: unknown, setting: string): Record<string, unknown> {
  if (
    Array.isArray(value) ||
    (value && typeof value === 'object' && Array.isArray((value as { keys?: unknown }).keys))
  ) {
    throw new KeyError(
      `${setting} holds a list of keys (the public array you paste into the portal); it must hold the one key pair (private JWK) instead`,
    );
  }
  if (value === null || typeof value !== 'object') throw new KeyError(`${setting} must be a JWK object`);
  return value as Record<string, unknown>;
}

function decodeJwkBase64(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new KeyError('JwkBase64 is not base64: expected the key pair JWK, base64-encoded');
  }
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
  if (!decoded.trimStart().startsWith('{') && !decoded.trimStart().startsWith('[')) {
    throw new KeyError(
      'JwkBase64 does not decode to a JWK: expected the base64 of the key pair JSON ({"kty":"RSA",…})',
    );
  }
  return parseJwkText(decoded, 'JwkBase64 (decoded)');
}

function signerFromJwk(jwk: Record<string, unknown>, material: KeyMaterial, setting: string): LoadedSigner {
  if (jwk.kty !== 'RSA') {
    throw new KeyError(`${setting} has kty ${JSON.stringify(jwk.kty)}: Maskinporten keys are RSA (kty "RSA")`);
  }
  if (typeof jwk.d !== 'string') {
    throw new KeyError(
      `${setting} is only the public half of the key: ${setting === 'JwkBase64 (decoded)' ? 'JwkBase64' : setting} must hold the key pair (with the private member "d")`,
    );
  }
  const alg = material.alg ?? (jwk.alg as RsaAlgorithm | undefined) ?? 'RS256';
  if (!isRsaAlgorithm(alg))
    throw new KeyError(`${setting} has alg ${JSON.stringify(jwk.alg)}: use RS256, RS384 or RS512`);
  const key = importPrivateJwk(jwk);
  // Node builds the key without checking the private members against n; a mixed-up JWK would sign grants that
  // no registered key verifies, so check that n = p·q here.
  if (
    typeof jwk.p === 'string' &&
    typeof jwk.q === 'string' &&
    bigintOf(jwk.p) * bigintOf(jwk.q) !== bigintOf(jwk.n as string)
  ) {
    throw new KeyError(`${setting}'s public modulus (n) does not belong to its private key: the JWK mixes two keys`);
  }
  const kid = material.kid ?? jwk.kid;
  if (kid === undefined) {
    const thumbprint = jwkThumbprint(jwk as { n: string; e: string });
    throw new KeyError(
      `${setting} has no "kid": Maskinporten needs the key id the key was registered with. If it was registered under its RFC 7638 thumbprint, set kid to "${thumbprint}"`,
    );
  }
  assertValidKid(kid);
  return makeSigner({ key, alg, kid }, `kid:${kid}`);
}

function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map((m) =>
    m[1]!.replace(/\s+/g, ''),
  );
}

function signerFromChain(key: KeyObject, chainB64: string[], alg: RsaAlgorithm): LoadedSigner {
  let certs: X509Certificate[];
  try {
    certs = chainB64.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch (cause) {
    throw new KeyError('certificateChain holds something that is not an X.509 certificate', { cause });
  }
  const ordered = orderChain(certs, key);
  const x5c = ordered.map((c) => c.raw.toString('base64'));
  const id = `x5c:${createHash('sha256').update(ordered[0]!.raw).digest('base64url')}`;
  return makeSigner({ key, alg, x5c }, id);
}

/**
 * Loads and validates key material into a signer, synchronously. PKCS#12 needs {@link loadSigner}; for it this
 * returns undefined after checking the rest of the material.
 */
export function loadSignerSync(material: KeyMaterial): LoadedSigner | undefined {
  const given = (['jwk', 'jwkBase64', 'pem', 'pkcs12'] as const).filter(
    (k) => material[k] !== undefined && material[k] !== '',
  );
  if (given.length === 0) {
    throw new KeyError('no signing key: set one of jwk, jwkBase64, pem (with kid or certificateChain) or pkcs12');
  }
  if (material.alg !== undefined && !isRsaAlgorithm(material.alg)) {
    throw new KeyError(`alg must be RS256, RS384 or RS512, got ${JSON.stringify(material.alg)}`);
  }
  if (given.includes('jwk') && given.includes('jwkBase64')) {
    const a = typeof material.jwk === 'string' ? parseJwkText(material.jwk, 'jwk') : checkJwkShape(material.jwk, 'jwk');
    const b = decodeJwkBase64(material.jwkBase64!);
    if (a.n !== b.n || a.d !== b.d || a.kid !== b.kid) {
      throw new KeyError('jwk and jwkBase64 are both set and hold different keys: keep only one of them');
    }
  }
  const which = given[0]!;
  if (which === 'jwk') {
    const jwk =
      typeof material.jwk === 'string' ? parseJwkText(material.jwk, 'jwk') : checkJwkShape(material.jwk, 'jwk');
    return signerFromJwk(jwk, material, 'jwk');
  }
  if (which === 'jwkBase64')
    return signerFromJwk(decodeJwkBase64(material.jwkBase64!), material, 'JwkBase64 (decoded)');
  const alg = material.alg ?? 'RS256';
  if (which === 'pkcs12') return undefined;
  let key: KeyObject;
  try {
    key = createPrivateKey(material.pem!);
  } catch (cause) {
    throw new KeyError(
      'pem does not hold a private key: expected a PEM block of type PRIVATE KEY (PKCS#8) or RSA PRIVATE KEY (PKCS#1)',
      {
        cause,
      },
    );
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new KeyError(`pem holds a ${key.asymmetricKeyType} key: Maskinporten keys are RSA`);
  const chain =
    material.certificateChain === undefined
      ? splitPemCertificates(material.pem!)
      : typeof material.certificateChain === 'string'
        ? splitPemCertificates(material.certificateChain)
        : [...material.certificateChain].flatMap((c) =>
            c.includes('BEGIN CERTIFICATE') ? splitPemCertificates(c) : [c.replace(/\s+/g, '')],
          );
  if (chain.length > 0) {
    if (material.kid !== undefined) {
      throw new KeyError('set either kid (a registered key) or certificateChain (a business certificate), not both');
    }
    return signerFromChain(key, chain, alg);
  }
  if (material.kid === undefined) {
    throw new KeyError('a PEM key needs either kid (the id it was registered with) or certificateChain (for x5c)');
  }
  assertValidKid(material.kid);
  return makeSigner({ key, alg, kid: material.kid }, `kid:${material.kid}`);
}

/** Loads and validates key material into a signer, PKCS#12 included. */
export async function loadSigner(material: KeyMaterial): Promise<LoadedSigner> {
  const signer = loadSignerSync(material);
  if (signer) return signer;
  const { key, chain } = await readPkcs12(material.pkcs12!, material.pkcs12Password);
  if (key.asymmetricKeyType !== 'rsa') throw new KeyError('the PKCS#12 key is not an RSA key');
  return signerFromChain(key, chain, material.alg ?? 'RS256');
}
