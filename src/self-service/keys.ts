/**
 * Keys as the self-service API takes them: public members only, `use: "sig"` on every key (the `/api/v1` API
 * refuses a key without it), and an optional `exp` — when the key stops working, at most one year ahead.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_func_clientreg
 */
import { ArgumentError } from '../errors.ts';
import type { RegisteredJwk } from './types.ts';

/**
 * The members that make a JWK private (RSA's, multi-prime `oth`, and a symmetric key's `k`): never posted.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.3.2
 */
export const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * The longest a registered key may live: one year.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export const MAX_KEY_LIFETIME_SECONDS = 365 * 24 * 60 * 60;

/**
 * The public members a registered key may carry (RFC 7517 sec. 4, RFC 7518 sec. 6.3.1, and the self-service API's
 * `exp`): the only ones ever posted.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.3.1
 */
export const JWK_PUBLIC_MEMBERS = [
  'kty',
  'n',
  'e',
  'kid',
  'alg',
  'use',
  'key_ops',
  'x5c',
  'x5t',
  'x5t#S256',
  'x5u',
  'exp',
] as const;

/** Plain data: a string, a finite number, or an array of strings. */
function isPlainValue(v: unknown): boolean {
  return (
    typeof v === 'string' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (Array.isArray(v) && v.every((x) => typeof x === 'string'))
  );
}

/**
 * The public half of a key as the API takes it: a fresh object of the known public members' values only, as plain
 * data, whatever the caller passed — private members, an own `toJSON`, getters or other functions never reach the
 * request body, so a private key handed in by mistake never leaves the machine.
 *
 * @param key - A JWK, private or public.
 * @returns A new object of its public members only.
 * @throws ArgumentError (`ERR_INVALID_ARGUMENT`) for a public member whose value is not plain data
 * @see {@link JWK_PUBLIC_MEMBERS}
 */
export function publicMembersOf(key: RegisteredJwk): RegisteredJwk {
  const out: Record<string, unknown> = {};
  for (const member of JWK_PUBLIC_MEMBERS) {
    if (!Object.hasOwn(key, member)) continue;
    const value = (key as Record<string, unknown>)[member];
    if (value === undefined) continue;
    if (!isPlainValue(value)) {
      throw new ArgumentError(`key member ${member} must be a string, a number or an array of strings`, {
        setting: member,
      });
    }
    out[member] = Array.isArray(value) ? [...(value as string[])] : value;
  }
  return out as RegisteredJwk;
}

/**
 * A key ready to post: public members, `use: "sig"` added when missing (keys read back from older registrations
 * may lack it), and its `exp` kept when it has one.
 *
 * @param key - A JWK to register.
 * @returns The body member to post for it.
 * @throws ArgumentError (`ERR_INVALID_ARGUMENT`) for a `use` other than `sig` or an `exp` that is not epoch seconds
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function keyForPosting(key: RegisteredJwk): RegisteredJwk {
  if (key === null || typeof key !== 'object') throw new ArgumentError('each key must be a JWK object');
  const out = publicMembersOf(key);
  if (out.use === undefined) out.use = 'sig';
  else if (out.use !== 'sig')
    throw new ArgumentError(`key ${String(key.kid)}: use must be "sig", got ${String(out.use)}`);
  if (out.exp !== undefined && !(typeof out.exp === 'number' && Number.isInteger(out.exp) && out.exp > 0))
    throw new ArgumentError(`key ${String(key.kid)}: exp must be whole seconds since the epoch`);
  return out;
}

/**
 * `key` with `exp` set `lifetimeSeconds` from `nowSeconds` (on the API's clock).
 *
 * @param key - The JWK.
 * @param lifetimeSeconds - How long it may be used: 1 s to 365 days.
 * @param nowSeconds - The current time (epoch seconds), best on the API server's clock (`serverNow() / 1000`).
 * @returns A copy of `key` with `exp`.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` for a lifetime that is not 1 s – 1 year
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function withLifetime(key: RegisteredJwk, lifetimeSeconds: number, nowSeconds: number): RegisteredJwk {
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0 || lifetimeSeconds > MAX_KEY_LIFETIME_SECONDS)
    throw new ArgumentError(`a key lifetime must be 1 s to 365 days, got ${lifetimeSeconds} s`);
  return { ...key, exp: Math.floor(nowSeconds) + lifetimeSeconds };
}
