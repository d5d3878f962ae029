/**
 * Compact JWS (RFC 7515) signing and verification over Node's own crypto. Both the client (grants) and the
 * emulator (access tokens) sign and verify RS256/RS384/RS512 with long-lived `KeyObject`s, so this stays a thin,
 * allocation-light layer rather than a general JOSE library.
 */
import { type KeyObject, sign as oneShotSign, verify as oneShotVerify } from 'node:crypto';
import { JwsError } from '../errors.ts';

/**
 * The JWS algorithms Maskinporten accepts for grants and uses for tokens.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 */
export type RsaAlgorithm = 'RS256' | 'RS384' | 'RS512';

const DIGEST: Record<RsaAlgorithm, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

/** True when `alg` is one of RS256, RS384, RS512. */
export function isRsaAlgorithm(alg: unknown): alg is RsaAlgorithm {
  return alg === 'RS256' || alg === 'RS384' || alg === 'RS512';
}

/** A JOSE header as found in a compact JWS. */
/**
 * The key that signs grants: a private key, its algorithm, and either its `kid` or a certificate chain. It lives
 * with the key layer so that `keys/` depends on nothing above it.
 */
export interface GrantSigner {
  key: KeyObject;
  alg: RsaAlgorithm;
  kid?: string;
  /** Base64 DER certificates, leaf first (the full chain). */
  x5c?: string[];
}

export interface JwsHeader {
  alg: string;
  kid?: string;
  typ?: string;
  x5c?: unknown;
  [name: string]: unknown;
}

/** A decoded compact JWS: the parsed parts plus what is needed to check the signature. */
export interface DecodedJws {
  header: JwsHeader;
  payload: Record<string, unknown>;
  /** `base64url(header) + '.' + base64url(payload)`, the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

/** The base64url encoding of a value's JSON: one segment of a compact JWS. */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs `payload` with `header` (which must name an RS* `alg`) and returns the compact serialisation. */
export function signCompact(header: JwsHeader, payload: Record<string, unknown>, key: KeyObject): string {
  // signSegments refuses any alg other than RS*.
  return signSegments(encodeSegment(header), header.alg as RsaAlgorithm, encodeSegment(payload), key);
}

/**
 * Signs already encoded header and payload segments under `alg` (which the header must name) and returns the
 * compact serialisation: for a signer whose header never changes, encoded once rather than per signature.
 */
export function signSegments(header: string, alg: RsaAlgorithm, payload: string, key: KeyObject): string {
  if (!isRsaAlgorithm(alg)) throw new JwsError(`cannot sign with alg ${JSON.stringify(alg)}`);
  const signingInput = `${header}.${payload}`;
  return `${signingInput}.${oneShotSign(DIGEST[alg], Buffer.from(signingInput), key).toString('base64url')}`;
}

/** The signature segment of a compact JWS (what makes a token or grant usable; header and payload are not secret). */
export function signatureOf(compact: string): string {
  return compact.slice(compact.lastIndexOf('.') + 1);
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new JwsError(`the JWS ${what} is not base64url-encoded JSON`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JwsError(`the JWS ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The three segments of a compact JWS, checked for shape. */
function splitCompact(token: string): [string, string, string] {
  if (typeof token !== 'string') throw new JwsError('expected a compact JWS string');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwsError(`a compact JWS has 3 dot-separated parts, this one has ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  if (!h || !p || !SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(s)) {
    throw new JwsError('a compact JWS consists of non-empty base64url segments');
  }
  return [h, p, s];
}

function decodeHeader(segment: string): JwsHeader {
  const header = decodeJsonSegment(segment, 'header');
  if (typeof header.alg !== 'string') throw new JwsError('the JWS header has no "alg"');
  return header as JwsHeader;
}

/**
 * Splits and decodes a compact JWS without checking its signature. Throws {@link JwsError} when the value is not
 * three base64url segments whose first two are JSON objects.
 */
export function decodeCompact(token: string): DecodedJws {
  const [h, p, s] = splitCompact(token);
  return {
    header: decodeHeader(h),
    payload: decodeJsonSegment(p, 'payload'),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/**
 * The payload of a compact JWS, decoded as {@link decodeCompact} does (throwing alike for the same values), for a
 * reader that does not check the signature and so needs neither it nor the signing input.
 */
export function decodeCompactPayload(token: string): Record<string, unknown> {
  const [h, p] = splitCompact(token);
  decodeHeader(h);
  return decodeJsonSegment(p, 'payload');
}

/** Checks the signature of a decoded JWS with `key` under the RS* algorithm `alg`. Never throws for a bad key. */
export function verifyDecoded(jws: DecodedJws, key: KeyObject, alg: RsaAlgorithm): boolean {
  try {
    return oneShotVerify(DIGEST[alg], Buffer.from(jws.signingInput), key, jws.signature);
  } catch {
    return false;
  }
}

/**
 * {@link signCompact} with the RSA work on libuv's thread pool, for servers: the event loop stays free for other
 * requests while a signature is computed, and a second core is used.
 */
export function signCompactAsync(header: JwsHeader, payload: Record<string, unknown>, key: KeyObject): Promise<string> {
  // signSegmentsAsync refuses any alg other than RS*.
  return signSegmentsAsync(encodeSegment(header), header.alg as RsaAlgorithm, encodeSegment(payload), key);
}

/** {@link signSegments} with the RSA work on libuv's thread pool (see {@link signCompactAsync}). */
export function signSegmentsAsync(header: string, alg: RsaAlgorithm, payload: string, key: KeyObject): Promise<string> {
  if (!isRsaAlgorithm(alg)) return Promise.reject(new JwsError(`cannot sign with alg ${JSON.stringify(alg)}`));
  const signingInput = `${header}.${payload}`;
  return new Promise((resolve, reject) => {
    oneShotSign(DIGEST[alg], Buffer.from(signingInput), key, (err, signature) => {
      if (err) reject(err);
      else resolve(`${signingInput}.${signature.toString('base64url')}`);
    });
  });
}

/** {@link verifyDecoded} on libuv's thread pool. Resolves false (never rejects) for a bad key or signature. */
export function verifyDecodedAsync(jws: DecodedJws, key: KeyObject, alg: RsaAlgorithm): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      oneShotVerify(DIGEST[alg], Buffer.from(jws.signingInput), key, jws.signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}
