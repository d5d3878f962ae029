/**
 * Turns the key material a user configures — a JWK (object or JSON), the .NET `JwkBase64`, a PEM private key with
 * a `kid` or a certificate chain, or a PKCS#12 business certificate — into a {@link GrantSigner}, validating early
 * with errors that say what is wrong and what to do.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyError, redactedJsonError } from '../errors.ts';
import { assertValidKid, importPrivateJwk, jwkThumbprint } from './jwk.ts';
import { encodeSegment, type GrantSigner, isRsaAlgorithm, type RsaAlgorithm } from './jws.ts';
import { orderChain, readPkcs12 } from './pkcs12.ts';

/**
 * The ways a signing key can be given. Exactly one of `jwk`, `jwkBase64`, `pem` or `pkcs12` is used.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant (the `kid` or `x5c` a grant carries)
 */
export interface KeyMaterial {
  /** The key pair as a JWK object or its JSON text. */
  jwk?: Record<string, unknown> | string;
  /** The key pair JWK, base64-encoded (`JwkBase64` in .NET). */
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

/** The key settings an error can name (`KeyError.setting`). */
export type KeySetting = keyof KeyMaterial;

/**
 * How messages name each key setting: by default `jwk`, `JwkBase64` (the .NET name), `pem`, …; configuration
 * passes its own names (the legacy section calls `jwkBase64` `EncodedJwk`). Only the text changes: `setting` on
 * the error is always the {@link KeyMaterial} member.
 */
export type KeySettingNames = Partial<Record<KeySetting, string>>;

const DEFAULT_NAMES: Record<KeySetting, string> = {
  jwk: 'jwk',
  jwkBase64: 'JwkBase64',
  pem: 'pem',
  certificateChain: 'certificateChain',
  pkcs12: 'pkcs12',
  pkcs12Password: 'pkcs12Password',
  kid: 'kid',
  alg: 'alg',
};

/** A key error about one setting. */
function keyError(setting: KeySetting, message: string, cause?: unknown): KeyError {
  return new KeyError(message, cause === undefined ? { setting } : { setting, cause });
}

/** Runs `fn`, giving a key error thrown without a setting (from the JWK helpers) the setting at fault. */
function about<T>(setting: KeySetting, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KeyError && err.setting === undefined) throw keyError(setting, err.message, err.cause);
    throw err;
  }
}

/** A ready signer plus a stable, non-secret identity for cache keys. */
export interface LoadedSigner extends GrantSigner {
  /** `kid:<kid>` or `x5c:<sha-256 of the leaf>`: identifies the key without revealing it. */
  readonly id: string;
  /** The encoded JWS header of every grant it signs (`alg` and `kid`, or `alg` and `x5c`): fixed per key. */
  readonly headerSegment: string;
}

function makeSigner(signer: GrantSigner, id: string): LoadedSigner {
  const header = signer.x5c ? { alg: signer.alg, x5c: signer.x5c } : { alg: signer.alg, kid: signer.kid };
  const out = { ...signer, id, headerSegment: encodeSegment(header) };
  // The key object itself prints no secret, but keep the whole signer terse in logs.
  Object.defineProperty(out, inspect.custom, { value: () => `GrantSigner(${id}, ${signer.alg})` });
  Object.defineProperty(out, 'toJSON', { value: () => ({ id, alg: signer.alg }) });
  return Object.freeze(out);
}

function bigintOf(base64url: string): bigint {
  const hex = Buffer.from(base64url, 'base64url').toString('hex');
  return hex ? BigInt(`0x${hex}`) : 0n;
}

/** Which JWK setting a JWK came from, and how messages call it (`JwkBase64 (decoded)` for the decoded text). */
interface JwkOrigin {
  setting: 'jwk' | 'jwkBase64';
  /** The setting's name in messages. */
  name: string;
  /** What messages call the value itself. */
  label: string;
}

/** Member names never accepted in a JWK's JSON text. */
const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

function parseJwkText(text: string, origin: JwkOrigin): Record<string, unknown> {
  let value: unknown;
  let forbidden: string | undefined;
  try {
    // A member named like these would reach `Object.prototype` once the key is copied or merged: refused, as
    // everywhere in configuration.
    value = JSON.parse(text, (name, v: unknown) => {
      if (FORBIDDEN_MEMBERS.has(name)) forbidden ??= name;
      return v;
    });
  } catch (err) {
    throw keyError(
      origin.setting,
      `${origin.label} is not valid JSON: expected the key pair as a JWK object`,
      redactedJsonError(err),
    );
  }
  if (forbidden !== undefined) {
    throw keyError(
      origin.setting,
      `${origin.label} has a member named "${forbidden}", which is not allowed (such names would reach Object.prototype): remove it`,
    );
  }
  return checkJwkShape(value, origin);
}

function checkJwkShape(value: unknown, origin: JwkOrigin): Record<string, unknown> {
  if (
    Array.isArray(value) ||
    (value && typeof value === 'object' && Array.isArray((value as { keys?: unknown }).keys))
  ) {
    throw keyError(
      origin.setting,
      `${origin.label} holds a list of keys (the public array you paste into the portal); it must hold the one key pair (private JWK) instead`,
    );
  }
  if (value === null || typeof value !== 'object')
    throw keyError(origin.setting, `${origin.label} must be a JWK object`);
  return value as Record<string, unknown>;
}

function decodeJwkBase64(text: string, name: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw keyError('jwkBase64', `${name} is not base64: expected the key pair JWK, base64-encoded`);
  }
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
  if (!decoded.trimStart().startsWith('{') && !decoded.trimStart().startsWith('[')) {
    throw keyError(
      'jwkBase64',
      `${name} does not decode to a JWK: expected the base64 of the key pair JSON ({"kty":"RSA",…})`,
    );
  }
  return parseJwkText(decoded, { setting: 'jwkBase64', name, label: `${name} (decoded)` });
}

function signerFromJwk(
  jwk: Record<string, unknown>,
  material: KeyMaterial,
  origin: JwkOrigin,
  names: Record<KeySetting, string>,
): LoadedSigner {
  const { setting, label } = origin;
  if (jwk.kty !== 'RSA') {
    throw keyError(setting, `${label} has kty ${JSON.stringify(jwk.kty)}: Maskinporten keys are RSA (kty "RSA")`);
  }
  if (typeof jwk.d !== 'string') {
    throw keyError(
      setting,
      `${label} is only the public half of the key: ${origin.name} must hold the key pair (with the private member "d")`,
    );
  }
  const alg = material.alg ?? (jwk.alg as RsaAlgorithm | undefined) ?? 'RS256';
  if (!isRsaAlgorithm(alg))
    throw keyError(setting, `${label} has alg ${JSON.stringify(jwk.alg)}: use RS256, RS384 or RS512`);
  const key = about(setting, () => importPrivateJwk(jwk));
  // Node builds the key without checking the private members against n; a mixed-up JWK would sign grants that
  // no registered key verifies, so check that n = p·q here.
  if (
    typeof jwk.p === 'string' &&
    typeof jwk.q === 'string' &&
    bigintOf(jwk.p) * bigintOf(jwk.q) !== bigintOf(jwk.n as string)
  ) {
    throw keyError(setting, `${label}'s public modulus (n) does not belong to its private key: the JWK mixes two keys`);
  }
  const kid = material.kid ?? jwk.kid;
  if (kid === undefined) {
    const thumbprint = jwkThumbprint(jwk as { n: string; e: string });
    throw keyError(
      setting,
      `${label} has no "kid": Maskinporten needs the key id the key was registered with. If it was registered under its RFC 7638 thumbprint, set ${names.kid} to "${thumbprint}"`,
    );
  }
  // A kid given on its own is the kid setting's fault; one inside the JWK is the JWK's.
  about(material.kid === undefined ? setting : 'kid', () => assertValidKid(kid));
  return makeSigner({ key, alg, kid: kid as string }, `kid:${String(kid)}`);
}

function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map((m) =>
    m[1]!.replace(/\s+/g, ''),
  );
}

function signerFromChain(
  key: KeyObject,
  chainB64: string[],
  alg: RsaAlgorithm,
  setting: KeySetting,
  names: Record<KeySetting, string>,
): LoadedSigner {
  let certs: X509Certificate[];
  try {
    certs = chainB64.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch (cause) {
    throw keyError(setting, `${names[setting]} holds something that is not an X.509 certificate`, cause);
  }
  const ordered = about(setting, () => orderChain(certs, key));
  const x5c = ordered.map((c) => c.raw.toString('base64'));
  const id = `x5c:${createHash('sha256').update(ordered[0]!.raw).digest('base64url')}`;
  return makeSigner({ key, alg, x5c }, id);
}

/**
 * Loads and validates key material into a signer, synchronously. PKCS#12 needs {@link loadSigner}; for it this
 * returns undefined after checking the rest of the material.
 *
 * @param material - The key settings.
 * @param names - How messages name the settings (configuration passes its own names); `setting` is unaffected.
 * @returns The signer, or undefined for a PKCS#12 file.
 * @throws KeyError `ERR_INVALID_KEY` with `setting` the {@link KeyMaterial} member at fault (undefined when no key
 *   is set at all).
 */
export function loadSignerSync(material: KeyMaterial, names: KeySettingNames = {}): LoadedSigner | undefined {
  const n: Record<KeySetting, string> = { ...DEFAULT_NAMES, ...names };
  const given = (['jwk', 'jwkBase64', 'pem', 'pkcs12'] as const).filter(
    (k) => material[k] !== undefined && material[k] !== '',
  );
  if (given.length === 0) {
    throw new KeyError(
      `no signing key: set one of ${n.jwk}, ${names.jwkBase64 ?? 'jwkBase64'}, ${n.pem} (with ${n.kid} or ${n.certificateChain}) or ${n.pkcs12}`,
    );
  }
  if (material.alg !== undefined && !isRsaAlgorithm(material.alg)) {
    throw keyError('alg', `${n.alg} must be RS256, RS384 or RS512, got ${JSON.stringify(material.alg)}`);
  }
  const jwkOrigin: JwkOrigin = { setting: 'jwk', name: n.jwk, label: n.jwk };
  const jwkOf = () =>
    typeof material.jwk === 'string' ? parseJwkText(material.jwk, jwkOrigin) : checkJwkShape(material.jwk, jwkOrigin);
  if (given.includes('jwk') && given.includes('jwkBase64')) {
    const a = jwkOf();
    const b = decodeJwkBase64(material.jwkBase64!, n.jwkBase64);
    if (a.n !== b.n || a.d !== b.d || a.kid !== b.kid) {
      throw keyError('jwk', `${n.jwk} and ${n.jwkBase64} are both set and hold different keys: keep only one of them`);
    }
  }
  const which = given[0]!;
  if (which === 'jwk') return signerFromJwk(jwkOf(), material, jwkOrigin, n);
  if (which === 'jwkBase64') {
    const origin: JwkOrigin = { setting: 'jwkBase64', name: n.jwkBase64, label: `${n.jwkBase64} (decoded)` };
    return signerFromJwk(decodeJwkBase64(material.jwkBase64!, n.jwkBase64), material, origin, n);
  }
  const alg = material.alg ?? 'RS256';
  if (which === 'pkcs12') return undefined;
  let key: KeyObject;
  try {
    key = createPrivateKey(material.pem!);
  } catch (cause) {
    throw keyError(
      'pem',
      `${n.pem} does not hold a private key: expected a PEM block of type PRIVATE KEY (PKCS#8) or RSA PRIVATE KEY (PKCS#1)`,
      cause,
    );
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw keyError('pem', `${n.pem} holds a ${key.asymmetricKeyType} key: Maskinporten keys are RSA`);
  const chainSetting: KeySetting = material.certificateChain === undefined ? 'pem' : 'certificateChain';
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
      throw keyError(
        'kid',
        `set either ${n.kid} (a registered key) or ${n.certificateChain} (a business certificate), not both`,
      );
    }
    return signerFromChain(key, chain, alg, chainSetting, n);
  }
  if (material.kid === undefined) {
    throw keyError(
      'pem',
      `a PEM key needs either ${n.kid} (the id it was registered with) or ${n.certificateChain} (for x5c)`,
    );
  }
  about('kid', () => assertValidKid(material.kid));
  return makeSigner({ key, alg, kid: material.kid }, `kid:${material.kid}`);
}

/**
 * Loads and validates key material into a signer, PKCS#12 included.
 *
 * @param material - The key settings.
 * @param names - How messages name the settings.
 * @returns The signer.
 * @throws KeyError `ERR_INVALID_KEY` with `setting` the member at fault.
 */
export async function loadSigner(material: KeyMaterial, names: KeySettingNames = {}): Promise<LoadedSigner> {
  const signer = loadSignerSync(material, names);
  if (signer) return signer;
  const n: Record<KeySetting, string> = { ...DEFAULT_NAMES, ...names };
  const { key, chain } = await about('pkcs12', () => readPkcs12(material.pkcs12!, material.pkcs12Password)).catch(
    (err: unknown) => {
      if (err instanceof KeyError && err.setting === undefined) throw keyError('pkcs12', err.message, err.cause);
      throw err;
    },
  );
  if (key.asymmetricKeyType !== 'rsa') throw keyError('pkcs12', `the ${n.pkcs12} key is not an RSA key`);
  return signerFromChain(key, chain, material.alg ?? 'RS256', 'pkcs12', n);
}
