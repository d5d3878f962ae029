/**
 * The token value object handed to callers: the compact JWT (deliberately reachable as `value`), its expiry, scopes
 * and claims. Printing it in any way — `console.log`, `util.inspect`, `JSON.stringify`, template strings — shows a
 * masked form, so a token never lands in a log by accident.
 */
import { inspect } from 'node:util';
import { InvalidResponseError } from './errors.ts';
import { decodeCompactPayload } from './keys/jws.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from './protocol/constants.ts';

export { MAX_TOKEN_LIFETIME_SECONDS } from './protocol/constants.ts';

/** RFC 6750 token68: what may follow `Bearer ` in a header. A compact JWS is a subset. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A NumericDate claim as a valid Date, or a coded error naming the claim. */
function numericDate(value: unknown, claim: 'exp' | 'iat', kind: TokenKind): Date {
  const date = typeof value === 'number' && Number.isFinite(value) ? new Date(value * 1000) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new InvalidResponseError(`the ${kind} access token's ${claim} claim is not a valid NumericDate`, {
      setting: claim,
    });
  }
  return date;
}

/** Refuses an expiry that is not a valid date, is before the issue time, or lies too far after it. */
function checkExpiry(exp: Date, iat: Date, kind: TokenKind, field: 'exp' | 'expires_in'): void {
  const life = exp.getTime() - iat.getTime();
  if (Number.isNaN(life) || life > MAX_TOKEN_LIFETIME_SECONDS * 1000) {
    throw new InvalidResponseError(
      `the ${kind} access token's ${field} is not a valid expiry within ${MAX_TOKEN_LIFETIME_SECONDS} s of its issue time: refused`,
      { setting: field },
    );
  }
}

/**
 * Whether an expiry (epoch ms) lies no more than {@link MAX_TOKEN_LIFETIME_SECONDS} after `now`: the one sanity bound
 * on a token's expiry against the clock, for tokens from the endpoint and from a shared store alike (a token that
 * claims to outlive it is a broken answer or a tampered entry that must not be cached for ever).
 */
export function expiresWithinBound(expiresAt: number, now: number): boolean {
  return expiresAt - now <= MAX_TOKEN_LIFETIME_SECONDS * 1000;
}

/** An ISO date, or a marker for a date that cannot be shown (never throws, so printing a token never does). */
function iso(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

/**
 * Which kind of token this is.
 * @see {@link AccessToken}
 */
export type TokenKind = 'maskinporten' | 'altinn';

/** Masks a token for display: the first characters of its header and nothing of its payload or signature. */
export function maskToken(value: string): string {
  return value.length <= 12 ? '***' : `${value.slice(0, 8)}…(${value.length} chars, masked)`;
}

/**
 * An access token: a Maskinporten token or an Altinn-exchanged one.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export class AccessToken {
  readonly #value: string;
  /** When the token stops being valid (its `exp`). */
  readonly expiresAt: Date;
  /** When the token was issued (its `iat`, or the time it was received for an opaque token). */
  readonly issuedAt: Date;
  /** The granted scopes, sorted. */
  readonly scopes: readonly string[];
  /** The decoded claims (empty for an opaque token). Claims are not secret; the signed token is. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** `maskinporten` or `altinn`. */
  readonly kind: TokenKind;

  /**
   * Wraps a token whose times and scopes are already known. To build one from an `access_token` as received, use
   * {@link AccessToken.fromValue}, which reads them from the token and checks them.
   *
   * @param init - The token value, its expiry and issue times, scopes, decoded claims and kind.
   */
  constructor(init: {
    value: string;
    expiresAt: Date;
    issuedAt: Date;
    scopes: readonly string[];
    claims: Record<string, unknown>;
    kind: TokenKind;
  }) {
    this.#value = init.value;
    this.expiresAt = init.expiresAt;
    this.issuedAt = init.issuedAt;
    this.scopes = Object.freeze([...init.scopes]);
    this.claims = Object.freeze({ ...init.claims });
    this.kind = init.kind;
    Object.freeze(this);
  }

  /**
   * Builds a token from an `access_token` as received: a compact JWT takes its expiry, issue time and scopes from its
   * claims; an opaque (non-JWT) token takes them from `fallback`, the token response's `expires_in` and `scope`.
   *
   * @param value - The access token as received.
   * @param kind - Which service issued it.
   * @param fallback - Expiry, issue time and scope from the token response, for a token that is not a JWT.
   * @returns The token.
   * @throws InvalidResponseError `ERR_INVALID_RESPONSE`: characters outside the token68 alphabet (`setting:
   *   'access_token'`), no usable expiry, or an `exp`/`iat` that is not a valid date within
   *   {@link MAX_TOKEN_LIFETIME_SECONDS} of the issue time (`setting: 'exp'`).
   * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1 (the token68 alphabet of a bearer token)
   */
  static fromValue(
    value: string,
    kind: TokenKind,
    fallback?: { expiresAt: Date; issuedAt: Date; scope?: string | undefined },
  ): AccessToken {
    if (typeof value !== 'string' || !TOKEN68.test(value)) {
      // Never quoted: it is (or may be) the secret. A CR/LF here would split the Authorization header it goes into.
      throw new InvalidResponseError(
        `the ${kind} access token contains characters outside the bearer-token alphabet (letters, digits, "-._~+/" and trailing "="): refused`,
        { setting: 'access_token' },
      );
    }
    let claims: Record<string, unknown> = {};
    let isJwt = true;
    try {
      claims = decodeCompactPayload(value);
    } catch {
      isJwt = false;
      if (!fallback) {
        throw new InvalidResponseError(`the ${kind} access token is not a JWT and no expiry was given`, {
          setting: 'access_token',
        });
      }
    }
    const exp = claims.exp !== undefined ? numericDate(claims.exp, 'exp', kind) : fallback?.expiresAt;
    const iat = claims.iat !== undefined ? numericDate(claims.iat, 'iat', kind) : fallback?.issuedAt;
    if (!exp || !iat) {
      throw new InvalidResponseError(`the ${kind} access token has no ${exp ? 'iat' : 'exp'} claim`, {
        setting: exp ? 'iat' : 'exp',
      });
    }
    checkExpiry(exp, iat, kind, isJwt ? 'exp' : 'expires_in');
    const scope = typeof claims.scope === 'string' ? claims.scope : (fallback?.scope ?? '');
    return new AccessToken({
      value,
      expiresAt: exp,
      issuedAt: iat,
      scopes: [...new Set(scope.split(/\s+/).filter(Boolean))].sort(),
      claims,
      kind,
    });
  }

  /**
   * The former name of {@link AccessToken.fromValue}, which takes opaque tokens as well as JWTs.
   *
   * @deprecated Use {@link AccessToken.fromValue}; this alias stays for code written against 0.1.
   * @param value - The access token as received.
   * @param kind - Which service issued it.
   * @param fallback - Expiry, issue time and scope from the token response, for a token that is not a JWT.
   * @returns The token.
   * @throws InvalidResponseError `ERR_INVALID_RESPONSE`, as {@link AccessToken.fromValue}.
   * @see {@link AccessToken.fromValue}
   */
  static fromJwt(
    value: string,
    kind: TokenKind,
    fallback?: { expiresAt: Date; issuedAt: Date; scope?: string | undefined },
  ): AccessToken {
    return AccessToken.fromValue(value, kind, fallback);
  }

  /** The compact token, for an `Authorization: Bearer` header. Handle with care: this is the secret. */
  get value(): string {
    return this.#value;
  }

  /** `Bearer <token>`, ready for an `Authorization` header. */
  get authorizationHeader(): string {
    return `Bearer ${this.#value}`;
  }

  /**
   * True when the token has expired at `now`.
   *
   * @param now - The time to judge at (epoch ms); the system clock when left out.
   * @returns Whether `now` is at or past `expiresAt`.
   */
  isExpired(now: number = Date.now()): boolean {
    return now >= this.expiresAt.getTime();
  }

  /**
   * Milliseconds until expiry.
   *
   * @param now - The time to count from (epoch ms); the system clock when left out.
   * @returns The time left in ms; negative once expired.
   */
  expiresIn(now: number = Date.now()): number {
    return this.expiresAt.getTime() - now;
  }

  /**
   * A masked form. Use {@link value} for the token itself.
   *
   * @returns `AccessToken(<kind>, <first characters>…(<length> chars, masked), expires <ISO time>)`.
   */
  toString(): string {
    return `AccessToken(${this.kind}, ${maskToken(this.#value)}, expires ${iso(this.expiresAt)})`;
  }

  /**
   * What `JSON.stringify` shows: everything but the token itself.
   *
   * @returns `kind`, the masked `value`, `expiresAt` and `issuedAt` as ISO times, and `scopes`.
   */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      value: maskToken(this.#value),
      expiresAt: iso(this.expiresAt),
      issuedAt: iso(this.issuedAt),
      scopes: this.scopes,
    };
  }

  /**
   * What `util.inspect` and `console.log` show: the masked form of {@link toString}.
   *
   * @returns The masked description.
   */
  [inspect.custom](): string {
    return this.toString();
  }
}
