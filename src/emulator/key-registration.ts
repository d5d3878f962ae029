/**
 * The rules the self-service API applies to a posted JWK set (protocol notes §6–7): at most five RSA signing keys,
 * public halves only, a `kid` of letters, digits and `._-`, unique within the set, and at least 2048 bits.
 */
import type { KeyObject } from 'node:crypto';
import { ArgumentError } from '../errors.ts';
import {
  hasPrivateMembers,
  importPublicJwk,
  isValidKid,
  modulusBits,
  type RsaPublicJwk,
  toPublicJwk,
} from '../keys/jwk.ts';
import { isRsaAlgorithm } from '../keys/jws.ts';
import { MAX_CLIENT_KEYS } from '../protocol/constants.ts';

/** A validated public key and its parsed form. */
export interface ValidatedKey {
  jwk: RsaPublicJwk;
  key: KeyObject;
}

/** Validates a JWK set for registration; throws an {@link ArgumentError} naming the offending key and member. */
export function validateJwkSet(keys: unknown): ValidatedKey[] {
  if (!Array.isArray(keys)) throw new ArgumentError('keys must be an array of JWKs ({"keys":[…]})');
  if (keys.length > MAX_CLIENT_KEYS) {
    throw new ArgumentError(
      `a client may have at most ${MAX_CLIENT_KEYS} keys, got ${keys.length}: remove keys that are no longer used`,
    );
  }
  const seen = new Set<string>();
  return keys.map((raw, i) => {
    const at = `keys[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new ArgumentError(`${at} must be a JWK object`);
    const jwk = raw as Record<string, unknown>;
    if (hasPrivateMembers(jwk)) {
      throw new ArgumentError(`${at} contains private key members: register only the public half of the key`);
    }
    if (jwk.kty !== 'RSA') throw new ArgumentError(`${at}.kty must be "RSA", got ${JSON.stringify(jwk.kty)}`);
    if (!isValidKid(jwk.kid)) {
      throw new ArgumentError(
        `${at}.kid must be 1–100 letters, digits, '.', '_' or '-', got ${JSON.stringify(jwk.kid)}`,
      );
    }
    if (seen.has(jwk.kid)) throw new ArgumentError(`${at}.kid ${JSON.stringify(jwk.kid)} appears twice in the set`);
    seen.add(jwk.kid);
    if (jwk.use !== undefined && jwk.use !== 'sig') {
      throw new ArgumentError(`${at}.use must be "sig", got ${JSON.stringify(jwk.use)}`);
    }
    if (jwk.alg !== undefined && !isRsaAlgorithm(jwk.alg)) {
      throw new ArgumentError(`${at}.alg must be RS256, RS384 or RS512, got ${JSON.stringify(jwk.alg)}`);
    }
    let key: KeyObject;
    try {
      key = importPublicJwk(jwk);
    } catch {
      throw new ArgumentError(`${at} is not a valid RSA public key (check "n" and "e")`);
    }
    const bits = modulusBits(key);
    if (bits < 2048) throw new ArgumentError(`${at} is a ${bits}-bit key: use at least 2048 bits`);
    const pub = toPublicJwk(jwk as RsaPublicJwk);
    pub.use = 'sig';
    return { jwk: pub, key };
  });
}
