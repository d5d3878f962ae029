/**
 * The rules the self-service API applies to a posted JWK set (Digdir's self-service API docs and key registration
 * docs): at most five RSA signing keys, public halves only, a `kid` of letters, digits and `._-`, unique within the
 * set, and at least 2048 bits. The live API also requires `use: "sig"` on every key and refuses an empty set (the last
 * key goes with DELETE); a key may carry its own `exp`, at most one year ahead.
 */
import type { KeyObject } from 'node:crypto';
import {
  hasPrivateMembers,
  importPublicJwk,
  isValidKid,
  modulusBits,
  type RsaPublicJwk,
  toPublicJwk,
} from '../keys/jwk.ts';
import { isRsaAlgorithm } from '../keys/jws.ts';
import { KEY_LIFETIME_MS, MAX_CLIENT_KEYS } from '../protocol/constants.ts';
import { FieldError } from './field-error.ts';

/** A posted `exp` may overshoot one year by this much: the poster's clock and ours may differ a little. */
const EXP_SLACK_MS = 60_000;

/** A validated public key, its parsed form, and when it stops working (epoch ms). */
export interface ValidatedKey {
  jwk: RsaPublicJwk;
  key: KeyObject;
  expiresAt: number;
}

/** Which rules apply beyond the common ones. */
export interface JwkSetRules {
  /** The time of posting (epoch ms): a key lives one year from it unless it carries its own `exp`. */
  nowMs: number;
  /**
   * The self-service API's own rules: `use: "sig"` on every key and at least one key. Keys registered from code
   * or over the emulator's admin route skip them (an empty set there makes a certificate-only client).
   */
  posted: boolean;
}

const bad = (field: string, message: string) => new FieldError('Jwks', field, message);

function expiryOf(jwk: Record<string, unknown>, at: string, nowMs: number): number {
  if (jwk.exp === undefined) return nowMs + KEY_LIFETIME_MS;
  const exp = jwk.exp;
  if (typeof exp !== 'number' || !Number.isInteger(exp)) {
    throw bad(`${at}.exp`, `${at}.exp must be a whole number of seconds since the epoch, got ${JSON.stringify(exp)}`);
  }
  const ms = exp * 1000;
  // A past exp is stored as posted (the key then gets MP-121): clients re-post sets they read back, and the live
  // API is not known to refuse one. "At most one year" is the documented limit.
  if (ms > nowMs + KEY_LIFETIME_MS + EXP_SLACK_MS) {
    throw bad(
      `${at}.exp`,
      `${at}.exp is more than one year ahead: a key may live at most one year (leave exp out to get exactly one)`,
    );
  }
  return ms;
}

/**
 * Validates a JWK set for registration.
 *
 * @param keys - The posted `keys` member.
 * @param rules - The time of posting, and whether the self-service API's own rules apply.
 * @returns Each key with its parsed form and expiry.
 * @throws {FieldError} `ERR_INVALID_ARGUMENT`, naming the offending key and member.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function validateJwkSet(keys: unknown, rules: JwkSetRules): ValidatedKey[] {
  if (!Array.isArray(keys)) throw bad('keys', 'keys must be an array of JWKs ({"keys":[…]})');
  if (rules.posted && keys.length === 0) {
    throw bad(
      'keys',
      'keys must hold at least one key: to remove every key, use DELETE on the key set (…/clients/{id}/jwks) instead',
    );
  }
  if (keys.length > MAX_CLIENT_KEYS) {
    throw bad(
      'keys',
      `a client may have at most ${MAX_CLIENT_KEYS} keys, got ${keys.length}: remove keys that are no longer used`,
    );
  }
  const seen = new Set<string>();
  return keys.map((raw, i) => {
    const at = `keys[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(at, `${at} must be a JWK object`);
    const jwk = raw as Record<string, unknown>;
    if (hasPrivateMembers(jwk)) {
      throw bad(at, `${at} contains private key members: register only the public half of the key`);
    }
    if (jwk.kty !== 'RSA') throw bad(`${at}.kty`, `${at}.kty must be "RSA", got ${JSON.stringify(jwk.kty)}`);
    if (!isValidKid(jwk.kid)) {
      throw bad(
        `${at}.kid`,
        `${at}.kid must be 1–100 letters, digits, '.', '_' or '-', got ${JSON.stringify(jwk.kid)}`,
      );
    }
    if (seen.has(jwk.kid)) throw bad(`${at}.kid`, `${at}.kid ${JSON.stringify(jwk.kid)} appears twice in the set`);
    seen.add(jwk.kid);
    if (jwk.use === undefined && rules.posted) {
      throw bad(`${at}.use`, `${at}.use is required: add "use": "sig" to every key`);
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') {
      throw bad(`${at}.use`, `${at}.use must be "sig", got ${JSON.stringify(jwk.use)}`);
    }
    if (jwk.alg !== undefined && !isRsaAlgorithm(jwk.alg)) {
      throw bad(`${at}.alg`, `${at}.alg must be RS256, RS384 or RS512, got ${JSON.stringify(jwk.alg)}`);
    }
    const expiresAt = expiryOf(jwk, at, rules.nowMs);
    let key: KeyObject;
    try {
      key = importPublicJwk(jwk);
    } catch {
      throw bad(at, `${at} is not a valid RSA public key (check "n" and "e")`);
    }
    const bits = modulusBits(key);
    if (bits < 2048) throw bad(at, `${at} is a ${bits}-bit key: use at least 2048 bits`);
    const pub = toPublicJwk(jwk as RsaPublicJwk);
    pub.use = 'sig';
    return { jwk: pub, key, expiresAt };
  });
}
