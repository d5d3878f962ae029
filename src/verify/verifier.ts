/**
 * `createTokenVerifier`: checks Maskinporten and Altinn tokens presented to an API — the signature against the
 * issuer's published keys (RS256–512 only, with Node's crypto), issuer, lifetime, audience, scopes and consumer —
 * and returns typed claims, or throws a {@link TokenVerificationError} carrying the RFC 6750 answer.
 */

import { type DecodedJws, decodeCompact, isRsaAlgorithm, verifyDecodedAsync } from '../keys/jws.ts';
import { ALTINN_OPENID_PATH } from '../protocol/constants.ts';
import type { TokenKind } from '../token.ts';
import { readVerifiedToken, type VerifiedToken } from './claims.ts';
import { TokenVerificationError, type TokenVerificationErrorCode } from './errors.ts';
import { KeySource } from './key-source.ts';
import {
  type NormalizedRequirements,
  normalizeRequirements,
  type ResolvedVerifierOptions,
  resolveVerifierOptions,
  type TokenRequirements,
  type TokenVerifierOptions,
} from './options.ts';

/**
 * A verifier made by {@link createTokenVerifier}.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export interface TokenVerifier {
  /**
   * Verifies a token: the compact JWT itself, or an `Authorization` header value (`Bearer <jwt>`).
   *
   * @param tokenOrAuthorizationHeader - The token or header; `undefined` answers as a request without a token.
   * @param requirements - Scopes, any-scopes and consumers required for this call, on top of the verifier's own.
   * @returns The token's typed claims.
   * @throws TokenVerificationError with `status`, `error` and `wwwAuthenticate` to answer with: `ERR_TOKEN_MISSING`,
   * `ERR_TOKEN_MALFORMED`, `ERR_TOKEN_ALGORITHM`, `ERR_TOKEN_KIND`, `ERR_TOKEN_ISSUER`, `ERR_TOKEN_UNKNOWN_KID`,
   * `ERR_TOKEN_SIGNATURE`, `ERR_TOKEN_EXPIRED`, `ERR_TOKEN_NOT_YET_VALID`, `ERR_TOKEN_AUDIENCE`, `ERR_TOKEN_CLAIM`
   * (401); `ERR_INSUFFICIENT_SCOPE`, `ERR_CONSUMER_NOT_ALLOWED` (403); `ERR_KEYS_UNAVAILABLE` (503).
   */
  verify(
    tokenOrAuthorizationHeader: string | undefined | null,
    requirements?: TokenRequirements,
  ): Promise<VerifiedToken>;
  /** The `realm` of this verifier's challenges, if set. */
  readonly realm: string | undefined;
}

const BEARER = /^bearer[ \t]+([^ \t]+)[ \t]*$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const ALTINN_ISSUER_SUFFIX = ALTINN_OPENID_PATH.replace(/\/+$/, '');

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Which kind of token the (not yet verified) claims claim to be; used only to choose keys and the message. */
function kindOf(payload: Record<string, unknown>): TokenKind {
  const iss = typeof payload.iss === 'string' ? trimSlash(payload.iss) : '';
  return iss.endsWith(ALTINN_ISSUER_SUFFIX) || payload['urn:altinn:authenticatemethod'] !== undefined
    ? 'altinn'
    : 'maskinporten';
}

class Verifier implements TokenVerifier {
  readonly #options: ResolvedVerifierOptions;
  readonly #sources: Partial<Record<TokenKind, KeySource>> = {};

  constructor(options: ResolvedVerifierOptions) {
    this.#options = options;
    if (options.maskinporten) this.#sources.maskinporten = new KeySource(options.maskinporten, options.keySource);
    if (options.altinn) this.#sources.altinn = new KeySource(options.altinn, options.keySource);
  }

  get realm(): string | undefined {
    return this.#options.realm;
  }

  #fail(
    code: TokenVerificationErrorCode,
    message: string,
    extra: { claim?: string; requiredScope?: string } = {},
  ): never {
    throw new TokenVerificationError(code, message, { ...extra, realm: this.#options.realm });
  }

  #extract(input: string | undefined | null): string {
    if (input === undefined || input === null || input === '')
      this.#fail('ERR_TOKEN_MISSING', 'the request has no bearer token');
    if (typeof input !== 'string') this.#fail('ERR_TOKEN_MALFORMED', 'the token must be a string');
    const trimmed = input.trim();
    if (JWT_SHAPE.test(trimmed)) return trimmed;
    const bearer = BEARER.exec(trimmed);
    if (bearer) return bearer[1]!;
    if (/^[A-Za-z][\w-]*[ \t]/.test(trimmed) && !/^bearer[ \t]/i.test(trimmed)) {
      this.#fail('ERR_TOKEN_MISSING', 'the Authorization header does not use the Bearer scheme');
    }
    return this.#fail('ERR_TOKEN_MALFORMED', 'the bearer token is not a JWT (three base64url parts)');
  }

  #decode(token: string): DecodedJws {
    try {
      return decodeCompact(token);
    } catch {
      return this.#fail('ERR_TOKEN_MALFORMED', 'the bearer token is not a JWT (three base64url parts)');
    }
  }

  async verify(input: string | undefined | null, requirements?: TokenRequirements): Promise<VerifiedToken> {
    const extra = requirements === undefined ? undefined : normalizeRequirements(requirements);
    const jws = this.#decode(this.#extract(input));
    const { alg, kid, crit } = jws.header;
    if (!isRsaAlgorithm(alg)) {
      this.#fail(
        'ERR_TOKEN_ALGORITHM',
        `the token is signed with alg ${JSON.stringify(alg).slice(0, 40)}; only RS256, RS384 and RS512 are accepted`,
        { claim: 'alg' },
      );
    }
    if (crit !== undefined)
      this.#fail('ERR_TOKEN_MALFORMED', 'the token has critical header members this verifier does not understand', {
        claim: 'crit',
      });
    const kind = kindOf(jws.payload);
    const source = this.#sources[kind];
    if (!source) {
      this.#fail(
        'ERR_TOKEN_KIND',
        kind === 'altinn'
          ? 'this is an Altinn token; this API takes Maskinporten tokens (set altinnPlatformUrl to accept Altinn tokens)'
          : 'this is a Maskinporten token; this API takes Altinn tokens: exchange it at Altinn first',
        { claim: 'iss' },
      );
    }
    const iss = jws.payload.iss;
    if (typeof iss !== 'string' || trimSlash(iss) !== trimSlash(source.issuer)) {
      this.#fail('ERR_TOKEN_ISSUER', `the token's issuer is not ${source.issuer}`, { claim: 'iss' });
    }
    if (typeof kid !== 'string' || !kid)
      this.#fail('ERR_TOKEN_MALFORMED', 'the token header has no kid', { claim: 'kid' });
    const key = await source.key(kid, alg);
    if (!key)
      this.#fail('ERR_TOKEN_UNKNOWN_KID', `the issuer ${source.issuer} has no ${alg} key with this kid`, {
        claim: 'kid',
      });
    if (!(await verifyDecodedAsync(jws, key, alg))) this.#fail('ERR_TOKEN_SIGNATURE', 'the token signature is invalid');
    const claims = jws.payload;
    this.#checkTimes(claims);
    if (kind === 'maskinporten' && this.#options.audience) this.#checkAudience(claims.aud, this.#options.audience);
    const token = readVerifiedToken(kind, claims);
    this.#checkRequirements(token, this.#options.requirements);
    if (extra) this.#checkRequirements(token, extra);
    return token;
  }

  #checkTimes(claims: Record<string, unknown>): void {
    const now = this.#options.keySource.clock.now() / 1000;
    const tolerance = this.#options.clockToleranceSeconds;
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
      this.#fail('ERR_TOKEN_CLAIM', 'the token has no numeric exp claim', { claim: 'exp' });
    }
    if (claims.exp + tolerance <= now) this.#fail('ERR_TOKEN_EXPIRED', 'the token has expired', { claim: 'exp' });
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf - tolerance > now)) {
      this.#fail('ERR_TOKEN_NOT_YET_VALID', 'the token is not valid yet', { claim: 'nbf' });
    }
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat - tolerance > now)) {
      this.#fail('ERR_TOKEN_NOT_YET_VALID', 'the token was issued in the future', { claim: 'iat' });
    }
  }

  #checkAudience(aud: unknown, accepted: readonly string[]): void {
    const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!values.some((a) => typeof a === 'string' && accepted.includes(a))) {
      this.#fail('ERR_TOKEN_AUDIENCE', `the token's audience is not ${accepted.join(' or ')}`, { claim: 'aud' });
    }
  }

  #checkRequirements(token: VerifiedToken, req: NormalizedRequirements): void {
    if (req.consumers && !req.consumers.has(token.consumerOrg)) {
      this.#fail('ERR_CONSUMER_NOT_ALLOWED', `the consumer organisation ${token.consumerOrg} may not use this API`, {
        claim: 'consumer',
      });
    }
    const have = new Set(token.scopes);
    const missing = req.scopes.filter((s) => !have.has(s));
    if (missing.length) {
      this.#fail('ERR_INSUFFICIENT_SCOPE', `the token lacks the scope ${missing.join(' and ')}`, {
        claim: 'scope',
        requiredScope: req.scopes.join(' '),
      });
    }
    if (req.anyScopes.length && !req.anyScopes.some((s) => have.has(s))) {
      this.#fail('ERR_INSUFFICIENT_SCOPE', `the token needs one of the scopes ${req.anyScopes.join(', ')}`, {
        claim: 'scope',
        requiredScope: req.anyScopes.join(' '),
      });
    }
  }
}

/**
 * Creates a verifier for tokens presented to an API. Options are checked here; keys are fetched on first use.
 *
 * @param options - The issuer(s), requirements and key-fetching behaviour; see {@link TokenVerifierOptions}.
 * @returns A verifier; share one per API (it holds the key cache).
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` naming an option that cannot be used.
 * @example
 * const verifier = createTokenVerifier({ authority: 'test', scopes: ['kommune:api.read'] });
 * const token = await verifier.verify(request.headers.authorization);
 * console.log(token.consumerOrg, token.scopes);
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  return new Verifier(resolveVerifierOptions(options));
}
