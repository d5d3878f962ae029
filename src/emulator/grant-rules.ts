/**
 * The grant rules on which Maskinporten's documentation (Digdir's JWT grant page and error list) and its live server
 * disagree, in both readings. `live` (the emulator's default) answers as the server does, so code
 * that works in production works here; `documented` keeps the stricter reading of the documentation for users who
 * want their grants to satisfy both.
 *
 * | rule                     | live                                                       | documented                       |
 * | ------------------------ | ---------------------------------------------------------- | -------------------------------- |
 * | `aud`                    | the issuer or the token endpoint URL (one value)            | the issuer only                  |
 * | `iat` / `exp`            | iat ≤ now+10 s, exp ≥ now−10 s, exp−iat ≤ 180 s             | iat within ±10 s, exp−iat ≤ 120 s |
 * | `resource`               | a string or an array of URIs                               | an array only                     |
 * | `kid` and `x5c` together | accepted, the `kid` is used                                | refused (MP-011)                  |
 * | unknown `kid`            | the live text, no `error_uri`                              | MP-100                            |
 */
import { IAT_SKEW_SECONDS, MAX_GRANT_LIFETIME_SECONDS } from '../protocol/constants.ts';
import { mp } from './mp-errors.ts';

/**
 * Which reading of the grant rules the emulator applies.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 */
export type GrantRuleSet = 'live' | 'documented';

/**
 * Every rule set, for validation and documentation.
 * @see {@link GrantRuleSet}
 */
export const GRANT_RULE_SETS: readonly GrantRuleSet[] = ['live', 'documented'];

/** Longest grant the live server accepts: `exp − iat` ≤ 180 s. */
export const LIVE_MAX_GRANT_LIFETIME_SECONDS = 180;

/** Longest grant the documentation allows: `exp − iat` ≤ 120 s. */
export const DOCUMENTED_MAX_GRANT_LIFETIME_SECONDS = MAX_GRANT_LIFETIME_SECONDS;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Checks `aud` against the issuer (and, live, the token endpoint URL). */
export function checkAudience(aud: unknown, rules: GrantRuleSet, issuer: string, tokenEndpoint: string): void {
  if (rules === 'documented') {
    if (typeof aud !== 'string') {
      throw mp.invalidAudience(
        `aud must be one string equal to the issuer ${issuer}, not ${Array.isArray(aud) ? 'an array' : typeof aud}.`,
      );
    }
    if (aud !== issuer) throw mp.invalidAudience(`Expected ${issuer}, got ${aud}.`);
    return;
  }
  // "Exactly one audience value": a one-element array holds one value too.
  const value = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  if (typeof value !== 'string') {
    throw mp.invalidAudience(
      `aud must be one value, the issuer ${issuer} or the token endpoint ${tokenEndpoint}, not ${Array.isArray(aud) ? 'an array of several' : typeof aud}.`,
    );
  }
  if (value !== issuer && value !== tokenEndpoint) {
    throw mp.invalidAudience(`Expected ${issuer} or ${tokenEndpoint}, got ${value}.`);
  }
}

/** Checks `iat`, `exp` and `nbf` at `nowSeconds`. */
export function checkTimes(claims: Record<string, unknown>, rules: GrantRuleSet, nowSeconds: number): void {
  const { iat, exp, nbf } = claims;
  if (!isInt(iat)) throw mp.badRequest('The claim iat must be a whole number of seconds since the epoch.');
  if (!isInt(exp)) throw mp.badRequest('The claim exp must be a whole number of seconds since the epoch.');
  if (rules === 'live') {
    // The server's three checks, in its order, with its texts; no "iat too old", no "exp after iat".
    if (exp - iat > LIVE_MAX_GRANT_LIFETIME_SECONDS) throw mp.liveTime('JWT has too long lifetime');
    if (iat > nowSeconds + IAT_SKEW_SECONDS) throw mp.liveTime('Issue time is in the future');
    if (exp < nowSeconds - IAT_SKEW_SECONDS) throw mp.liveTime('JWT has expired');
  } else {
    if (iat > nowSeconds + IAT_SKEW_SECONDS) {
      throw mp.invalidTime(
        `Issue time is after now: iat is ${iat - nowSeconds} s ahead of the server clock (±${IAT_SKEW_SECONDS} s allowed).`,
      );
    }
    if (iat < nowSeconds - IAT_SKEW_SECONDS) {
      throw mp.invalidTime(
        `Issue time is too old: iat is ${nowSeconds - iat} s behind the server clock (±${IAT_SKEW_SECONDS} s allowed).`,
      );
    }
    if (exp <= iat) throw mp.invalidTime('exp must be after iat.');
    const max = DOCUMENTED_MAX_GRANT_LIFETIME_SECONDS;
    if (exp - iat > max) throw mp.invalidTime(`exp is ${exp - iat} s after iat: a grant may live at most ${max} s.`);
    // No skew on exp: iat is at most 10 s old, so `exp <= now - skew` could never fire before the iat rule does.
    if (exp <= nowSeconds) throw mp.invalidTime('The grant has expired (exp has passed).');
  }
  if (nbf !== undefined) {
    if (!isInt(nbf)) throw mp.badRequest('The claim nbf must be a whole number of seconds since the epoch.');
    if (nbf > nowSeconds + IAT_SKEW_SECONDS) throw mp.invalidTime('The grant is not valid yet (nbf is in the future).');
  }
}

const isResourceUri = (r: unknown) => typeof r === 'string' && URL.canParse(r) && !r.includes('#');

/** Parses `resource`: live, a URI string or a non-empty array of them; documented, the array only. */
export function parseResource(resource: unknown, rules: GrantRuleSet): string | string[] | undefined {
  if (resource === undefined) return undefined;
  if (rules === 'live' && typeof resource === 'string') {
    if (!isResourceUri(resource)) throw mp.badRequest('The claim resource must be an absolute URI without a fragment.');
    return resource;
  }
  const valid = Array.isArray(resource) && resource.length > 0 && resource.every(isResourceUri);
  if (!valid) {
    throw mp.badRequest(
      rules === 'live'
        ? 'The claim resource must be an absolute URI, or a JSON array of them, without fragments.'
        : 'The claim resource must be a JSON array of absolute URIs without fragments.',
    );
  }
  return resource as string[];
}
