/**
 * JSON Web Keys (RFC 7517) for RSA: parsing into `KeyObject`s, public halves, RFC 7638 thumbprints and key-pair
 * generation. Maskinporten registers RSA keys only, so other key types are refused with a clear error.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { promisify } from 'node:util';
import { KeyError } from '../errors.ts';
import { isRsaAlgorithm, type RsaAlgorithm } from './jws.ts';
import { secretRegistry } from './secret-hook.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * The public members of an RSA JWK as Maskinporten registers it.
 * @see https://www.rfc-editor.org/rfc/rfc7517 and https://www.rfc-editor.org/rfc/rfc7518#section-6.3.1
 */
export interface RsaPublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid?: string;
  alg?: string;
  use?: string;
  x5c?: string[];
  [member: string]: unknown;
}

/**
 * An RSA key pair as a JWK: the public members plus the private ones.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.3.2
 */
export interface RsaPrivateJwk extends RsaPublicJwk {
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

/** The members that make a JWK private; none may leave the machine. */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;

/**
 * A generated key pair with everything the onboarding steps need.
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
export interface GeneratedKeyPair {
  kid: string;
  alg: RsaAlgorithm;
  privateJwk: RsaPrivateJwk;
  publicJwk: RsaPublicJwk;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * Options for {@link generateRsaKeyPair}.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 */
export interface GenerateKeyOptions {
  /** Modulus length in bits: 2048 (default), 3072 or 4096. */
  modulusLength?: 2048 | 3072 | 4096;
  /** Key id; a random UUID when left out. */
  kid?: string;
  /** Signing algorithm recorded on the key; RS256 by default. */
  alg?: RsaAlgorithm;
}

/**
 * Generates an RSA key pair ready to register with Maskinporten (`use: sig`, `alg`, `kid`).
 *
 * @param options - `modulusLength` (2048, 3072 or 4096), `kid` and `alg`.
 * @returns The private and public JWKs and the `kid`.
 * @throws KeyError `ERR_INVALID_KEY` for an unsupported modulus length, algorithm or a malformed `kid`.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten (registering the public key)
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
export async function generateRsaKeyPair(options: GenerateKeyOptions = {}): Promise<GeneratedKeyPair> {
  const { modulusLength, alg, kid } = checkGenerateOptions(options);
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 });
  return keyPairFrom(privateKey, publicKey, kid, alg);
}

/**
 * {@link generateRsaKeyPair} on the calling thread, for a key that must be there the moment it is first read (it
 * blocks for the 40–100 ms an RSA-2048 generation takes; prefer the asynchronous form).
 *
 * @param options - `modulusLength` (2048, 3072 or 4096), `kid` and `alg`.
 * @returns The private and public JWKs and the `kid`.
 * @throws KeyError `ERR_INVALID_KEY` for an unsupported modulus length, algorithm or a malformed `kid`.
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
export function generateRsaKeyPairSync(options: GenerateKeyOptions = {}): GeneratedKeyPair {
  const { modulusLength, alg, kid } = checkGenerateOptions(options);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength, publicExponent: 0x10001 });
  return keyPairFrom(privateKey, publicKey, kid, alg);
}

function checkGenerateOptions(options: GenerateKeyOptions): { modulusLength: number; alg: RsaAlgorithm; kid: string } {
  const modulusLength = options.modulusLength ?? 2048;
  if (![2048, 3072, 4096].includes(modulusLength)) {
    throw new KeyError(`modulusLength must be 2048, 3072 or 4096, got ${String(modulusLength)}`);
  }
  const alg = options.alg ?? 'RS256';
  if (!isRsaAlgorithm(alg)) throw new KeyError(`alg must be RS256, RS384 or RS512, got ${String(alg)}`);
  const kid = options.kid ?? randomUUID();
  assertValidKid(kid);
  return { modulusLength, alg, kid };
}

function keyPairFrom(privateKey: KeyObject, publicKey: KeyObject, kid: string, alg: RsaAlgorithm): GeneratedKeyPair {
  const exported = privateKey.export({ format: 'jwk' }) as unknown as RsaPrivateJwk;
  const privateJwk: RsaPrivateJwk = {
    kty: 'RSA',
    kid,
    alg,
    use: 'sig',
    n: exported.n,
    e: exported.e,
    d: exported.d,
    p: exported.p,
    q: exported.q,
    dp: exported.dp,
    dq: exported.dq,
    qi: exported.qi,
  };
  // Test instrumentation (see secret-hook.ts): the test suite's secret canary learns every generated key.
  const registry = secretRegistry();
  if (registry) {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
      registry.register(privateJwk[m], `private key member ${m} (kid ${kid})`);
    }
  }
  return { kid, alg, privateJwk, publicJwk: toPublicJwk(privateJwk), privateKey, publicKey };
}

const KID = /^[A-Za-z0-9._-]{1,100}$/;

/** True when `kid` is 1–100 letters, digits and `._-` (what the self-service API accepts). */
export function isValidKid(kid: unknown): kid is string {
  return typeof kid === 'string' && KID.test(kid);
}

/** A key pair JWK, base64-encoded as the `JwkBase64` setting holds it. */
export function toJwkBase64(jwk: object): string {
  return Buffer.from(JSON.stringify(jwk)).toString('base64');
}

/** Throws unless `kid` is letters, digits and `._-` (what the self-service API accepts). */
export function assertValidKid(kid: unknown): asserts kid is string {
  if (!isValidKid(kid)) {
    throw new KeyError(`kid must be 1–100 characters of letters, digits, '.', '_' and '-', got ${JSON.stringify(kid)}`);
  }
}

/**
 * Returns the public members of a JWK, dropping every private member.
 *
 * @param jwk - An RSA JWK, private or public.
 * @returns `kty`, `n`, `e` and, when present, `kid`, `alg` and `use`.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.3.1
 */
export function toPublicJwk(jwk: RsaPublicJwk): RsaPublicJwk {
  const out: RsaPublicJwk = { kty: 'RSA', n: jwk.n, e: jwk.e };
  if (jwk.kid !== undefined) out.kid = jwk.kid;
  if (jwk.alg !== undefined) out.alg = jwk.alg;
  if (jwk.use !== undefined) out.use = jwk.use;
  if (jwk.x5c !== undefined) out.x5c = jwk.x5c;
  return out;
}

/** True when the JWK carries any private member. */
export function hasPrivateMembers(jwk: Record<string, unknown>): boolean {
  return PRIVATE_MEMBERS.some((m) => m in jwk);
}

function assertRsaShape(jwk: unknown): asserts jwk is RsaPublicJwk {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new KeyError('a JWK must be a JSON object');
  const k = jwk as Record<string, unknown>;
  if (k.kty !== 'RSA') {
    throw new KeyError(`unsupported key type kty=${JSON.stringify(k.kty)}: Maskinporten keys are RSA (kty "RSA")`);
  }
  if (typeof k.n !== 'string' || typeof k.e !== 'string')
    throw new KeyError('an RSA JWK needs the members "n" and "e"');
  if (k.alg !== undefined && !isRsaAlgorithm(k.alg)) {
    throw new KeyError(`unsupported alg ${JSON.stringify(k.alg)}: use RS256, RS384 or RS512`);
  }
}

/** Parses a public RSA JWK (private members, if any, are ignored) into a `KeyObject`. */
export function importPublicJwk(jwk: unknown): KeyObject {
  assertRsaShape(jwk);
  try {
    return createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
  } catch (cause) {
    throw new KeyError('the JWK does not hold a valid RSA public key', { cause });
  }
}

/** Parses an RSA key-pair JWK into a private `KeyObject`; a public-only JWK gets an error saying so. */
export function importPrivateJwk(jwk: unknown): KeyObject {
  assertRsaShape(jwk);
  const k = jwk as Partial<RsaPrivateJwk>;
  if (typeof k.d !== 'string') {
    throw new KeyError('this JWK is only the public half of the key: the private key (member "d") is missing');
  }
  try {
    return createPrivateKey({ key: k as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new KeyError('the JWK does not hold a valid RSA private key', { cause });
  }
}

/**
 * The RFC 7638 thumbprint (SHA-256, base64url) of an RSA JWK.
 *
 * @param jwk - The key's `n` and `e`.
 * @returns The thumbprint, base64url-encoded.
 * @see https://www.rfc-editor.org/rfc/rfc7638
 */
export function jwkThumbprint(jwk: Pick<RsaPublicJwk, 'e' | 'n'>): string {
  // Required members only, in lexicographic order, no whitespace: that is what makes the thumbprint canonical.
  const canonical = `{"e":${JSON.stringify(jwk.e)},"kty":"RSA","n":${JSON.stringify(jwk.n)}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The modulus length in bits of an RSA JWK or key. */
export function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 0;
}
