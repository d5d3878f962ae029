/**
 * The token value object handed to callers: the compact JWT (deliberately reachable as `value`), its expiry, scopes
 * and claims. Printing it in any way — `console.log`, `util.inspect`, `JSON.stringify`, template strings — shows a
 * masked form, so a token never lands in a log by accident.
 */
import { inspect } from 'node:util';
import { decodeCompact } from './keys/jws.ts';

/** Which kind of token this is. */
export type TokenKind = 'maskinporten' | 'altinn';

/** Masks a token for display: the first characters of its header and nothing of its payload or signature. */
export function maskToken(value: string): string {
  return value.length <= 12 ? '***' : `${value.slice(0, 8)}…(${value.length} chars, masked)`;
}

/** An access token: a Maskinporten token or an Altinn-exchanged one. */
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
   * Builds a token from a compact JWT, taking expiry from its `exp` claim. `fallback` supplies expiry and scopes for
   * an opaque (non-JWT) token, from the token response's `expires_in` and `scope`.
   */
  static fromJwt(
    value: string,
    kind: TokenKind,
    fallback?: { expiresAt: Date; issuedAt: Date; scope?: string | undefined },
  ): AccessToken {
    let claims: Record<string, unknown> = {};
    try {
      claims = decodeCompact(value).payload;
    } catch {
      if (!fallback) throw new TypeError('the token is not a JWT and no expiry was given');
    }
    const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : fallback?.expiresAt;
    const iat = typeof claims.iat === 'number' ? new Date(claims.iat * 1000) : fallback?.issuedAt;
    if (!exp || !iat) throw new TypeError('the token has no exp claim');
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

  /** The compact token, for an `Authorization: Bearer` header. Handle with care: this is the secret. */
  get value(): string {
    return this.#value;
  }

  /** `Bearer <token>`, ready for an `Authorization` header. */
  get authorizationHeader(): string {
    return `Bearer ${this.#value}`;
  }

  /** True when the token has expired at `now` (epoch ms; defaults to the system clock). */
  isExpired(now: number = Date.now()): boolean {
    return now >= this.expiresAt.getTime();
  }

  /** Milliseconds until expiry at `now` (negative once expired). */
  expiresIn(now: number = Date.now()): number {
    return this.expiresAt.getTime() - now;
  }

  /** A masked form. Use {@link value} for the token itself. */
  toString(): string {
    return `AccessToken(${this.kind}, ${maskToken(this.#value)}, expires ${this.expiresAt.toISOString()})`;
  }

  /** What `JSON.stringify` shows: everything but the token itself. */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      value: maskToken(this.#value),
      expiresAt: this.expiresAt.toISOString(),
      issuedAt: this.issuedAt.toISOString(),
      scopes: this.scopes,
    };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
