/**
 * Why a presented token was refused, as data: a fixed code per condition, the claim involved, and the RFC 6750
 * answer an API sends back (status, `error`, a ready `WWW-Authenticate` value).
 */
import { MaskinportenError, type TokenVerificationErrorCode } from '../errors.ts';

export type { TokenVerificationErrorCode };

/**
 * The RFC 6750 section 3.1 error codes a resource server answers with.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** Codes answered with 403 `insufficient_scope`: the token is good but does not grant this request. */
const FORBIDDEN: ReadonlySet<TokenVerificationErrorCode> = new Set([
  'ERR_INSUFFICIENT_SCOPE',
  'ERR_CONSUMER_NOT_ALLOWED',
]);

/** RFC 6750 section 3: `error_description` and `scope` values may hold only %x20-21 / %x23-5B / %x5D-7E. */
function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/**
 * Builds a `WWW-Authenticate: Bearer …` value (RFC 6750 sec. 3). Without `error` it is the bare challenge sent when a
 * request carries no token at all (section 3.1: no error code then).
 *
 * @param params - `realm`, `error`, `error_description`, `scope`; undefined members are left out.
 * @returns The header value, e.g. `Bearer error="invalid_token", error_description="the token has expired"`.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function bearerChallenge(params: {
  realm?: string | undefined;
  error?: BearerErrorCode | undefined;
  errorDescription?: string | undefined;
  scope?: string | undefined;
}): string {
  const parts: string[] = [];
  if (params.realm) parts.push(`realm="${quotable(params.realm)}"`);
  if (params.error) parts.push(`error="${params.error}"`);
  if (params.error && params.errorDescription) parts.push(`error_description="${quotable(params.errorDescription)}"`);
  if (params.scope) parts.push(`scope="${quotable(params.scope)}"`);
  return parts.length ? `Bearer ${parts.join(', ')}` : 'Bearer';
}

/**
 * A presented token was refused, or the keys to check it could not be had. `status`, `error` and
 * `wwwAuthenticate` are the answer to send: 401 `invalid_token` for a token that is not good, 403
 * `insufficient_scope` for a good token that does not grant the request (a scope missing, a consumer not
 * allowed), a bare 401 challenge for a request without a token, and 503 (no challenge) when the issuer's keys are
 * unreachable. The message never holds the token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export class TokenVerificationError extends MaskinportenError {
  declare readonly code: TokenVerificationErrorCode;
  /** 401, 403 or 503. */
  declare readonly status: number;
  /** The RFC 6750 error code; undefined for a request without a token and for unreachable keys. */
  declare readonly error: BearerErrorCode | undefined;
  /** The claim or header member involved (`exp`, `iss`, `scope`, `consumer`, `alg`, `kid`…), when one is. */
  readonly claim: string | undefined;
  /** The scopes the request needs, for `insufficient_scope` (space-separated as in the challenge). */
  readonly requiredScope: string | undefined;
  /** The ready `WWW-Authenticate` value; undefined for 503. */
  readonly wwwAuthenticate: string | undefined;

  /**
   * Creates the error and derives the answer from the code: `status` (401, 403 or 503), the RFC 6750 `error` and the
   * ready `WWW-Authenticate` challenge.
   *
   * @param code - Why the presented token was refused.
   * @param message - What was wrong, naming the claim or header member; never the token.
   * @param options - The `claim` at fault, the `requiredScope` for `insufficient_scope`, the challenge's `realm`, the
   *   `cause`.
   * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
   */
  constructor(
    code: TokenVerificationErrorCode,
    message: string,
    options: { claim?: string; requiredScope?: string; realm?: string | undefined; cause?: unknown } = {},
  ) {
    const unavailable = code === 'ERR_KEYS_UNAVAILABLE';
    const forbidden = FORBIDDEN.has(code);
    const error: BearerErrorCode | undefined =
      unavailable || code === 'ERR_TOKEN_MISSING' ? undefined : forbidden ? 'insufficient_scope' : 'invalid_token';
    super(code, message, {
      status: unavailable ? 503 : forbidden ? 403 : 401,
      ...(error ? { error, errorDescription: message } : {}),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.claim = options.claim;
    this.requiredScope = options.requiredScope;
    this.wwwAuthenticate = unavailable
      ? undefined
      : bearerChallenge({ realm: options.realm, error, errorDescription: message, scope: options.requiredScope });
  }
}
