/**
 * One error family for the whole toolkit. Every failure a caller can cause or meet carries a stable string `code`,
 * so `switch (err.code)` narrows, and a message that names the setting, claim or flag involved and what to do next.
 * Secrets (keys, grants, tokens) never appear in a message or a property.
 */

/** Every code an error of this package can carry. The README has a table of them.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking */
export type MaskinportenErrorCode =
  // settings and input
  | 'ERR_CONFIG'
  | 'ERR_INVALID_KEY'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INSECURE_URL'
  | 'ERR_INVALID_JWS'
  // answers from Maskinporten's token endpoint
  | 'ERR_INVALID_AUDIENCE'
  | 'ERR_UNKNOWN_CLIENT'
  | 'ERR_UNKNOWN_KID'
  | 'ERR_EXPIRED_KEY'
  | 'ERR_INVALID_SIGNATURE'
  | 'ERR_INVALID_CERTIFICATE'
  | 'ERR_CLOCK_SKEW'
  | 'ERR_GRANT_REPLAYED'
  | 'ERR_INVALID_SCOPE'
  | 'ERR_ACCESS_DENIED'
  | 'ERR_AUTHORIZATION_DETAILS'
  | 'ERR_INVALID_GRANT'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_RATE_LIMITED'
  | 'ERR_SERVER'
  // transport and responses
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_RESPONSE'
  | 'ERR_TOKEN_EXPIRED'
  // Altinn
  | 'ERR_ALTINN_EXCHANGE'
  // self-service API
  | 'ERR_SELF_SERVICE'
  // emulator
  | 'ERR_EMULATOR_STATE'
  | 'ERR_EMULATOR_START'
  // verifying presented tokens (maskinporten/verify)
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_ALGORITHM'
  | 'ERR_TOKEN_UNKNOWN_KID'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_KIND'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_CLAIM'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_CONSUMER_NOT_ALLOWED'
  | 'ERR_KEYS_UNAVAILABLE';

/** Details an error may carry besides its code and message. @see {@link MaskinportenError} */
export interface MaskinportenErrorOptions {
  /** The underlying failure, kept for debugging. */
  cause?: unknown;
  /** HTTP status of the answer that caused the error. */
  status?: number;
  /** OAuth `error` of the answer. */
  error?: string;
  /** OAuth `error_description` of the answer (without secrets; the server never echoes them). */
  errorDescription?: string;
  /** Maskinporten's error code (`MP-121`, …) from `error_uri`. */
  mpCode?: string;
  /** Maskinporten's trace id from the description, for support requests. */
  traceId?: string;
  /** Measured offset (ms) of the server's clock from ours, when known. */
  clockOffsetMs?: number;
  /** From a 429/503 answer's `Retry-After`: how long the server asked us to wait (ms). */
  retryAfterMs?: number;
  /** How many attempts were made before giving up. */
  attempts?: number;
  /** The setting, option or response field at fault (e.g. `authority`, `ClientId`, `expires_in`). */
  setting?: string;
  /** What is wrong with it, without its name (`must be an absolute URL, got "x"`), for callers that name it their way. */
  reason?: string;
}

/**
 * The base of every error this package throws. Catch it to handle all of them; read `code` to tell them apart.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking (Maskinporten's `MP-…` codes in `mpCode`)
 */
export class MaskinportenError extends Error {
  /** A stable, machine-readable code. */
  readonly code: MaskinportenErrorCode;
  /** HTTP status of the answer that caused the error, if any. */
  readonly status: number | undefined;
  /** OAuth `error`, if the server sent one. */
  readonly error: string | undefined;
  /** OAuth `error_description`, if the server sent one. */
  readonly errorDescription: string | undefined;
  /** Maskinporten's error code, e.g. `MP-121`. */
  readonly mpCode: string | undefined;
  /** Maskinporten's trace id, for support requests. */
  readonly traceId: string | undefined;
  /** Measured offset (ms) of the server's clock from ours, when known. */
  readonly clockOffsetMs: number | undefined;
  /** From a 429/503 answer's `Retry-After`: how long the server asked us to wait (ms). */
  readonly retryAfterMs: number | undefined;
  /** How many attempts were made before giving up, for errors after retries. */
  readonly attempts: number | undefined;
  /** The setting, option or response field at fault, when one is (e.g. `authority`, `ClientId`, `expires_in`). */
  readonly setting: string | undefined;
  /** What is wrong with {@link setting}, without naming it, when the error is about one setting. */
  readonly reason: string | undefined;

  /** Creates an error with any code; the subclasses fix theirs. @param code - The stable code callers `switch` on.
   * @param message - What failed and what to do next; never a secret. @param options - The `cause` and fields. */
  constructor(code: MaskinportenErrorCode, message: string, options: MaskinportenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.error = options.error;
    this.errorDescription = options.errorDescription;
    this.mpCode = options.mpCode;
    this.traceId = options.traceId;
    this.clockOffsetMs = options.clockOffsetMs;
    this.retryAfterMs = options.retryAfterMs;
    this.attempts = options.attempts;
    this.setting = options.setting;
    this.reason = options.reason;
  }
}

/** Settings that cannot be used: a missing or malformed value. The message names the setting.
 * @see {@link ConfigValidationError} */
export class ConfigError extends MaskinportenError {
  declare readonly code: 'ERR_CONFIG';
  /** Creates the error (`code` `ERR_CONFIG`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_CONFIG', message, options);
  }
}

/** Key material that cannot be used: it does not decode, lacks its private half, or has an unsupported type.
 * @see https://www.rfc-editor.org/rfc/rfc7517 */
export class KeyError extends MaskinportenError {
  declare readonly code: 'ERR_INVALID_KEY';
  /** Creates the error (`code` `ERR_INVALID_KEY`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_KEY', message, options);
  }
}

/** A value that is not a well-formed compact JWS/JWT. @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1 */
export class JwsError extends MaskinportenError {
  declare readonly code: 'ERR_INVALID_JWS';
  /** Creates the error (`code` `ERR_INVALID_JWS`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_JWS', message, options);
  }
}

/** An argument passed from code that cannot be used as given. @see {@link MaskinportenError} */
export class ArgumentError extends MaskinportenError {
  declare readonly code: 'ERR_INVALID_ARGUMENT';
  /** Creates the error (`code` `ERR_INVALID_ARGUMENT`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** The codes of a {@link TokenRequestError}: why Maskinporten refused the grant.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking */
export type TokenRequestErrorCode =
  | 'ERR_INVALID_AUDIENCE'
  | 'ERR_UNKNOWN_CLIENT'
  | 'ERR_UNKNOWN_KID'
  | 'ERR_EXPIRED_KEY'
  | 'ERR_INVALID_SIGNATURE'
  | 'ERR_INVALID_CERTIFICATE'
  | 'ERR_CLOCK_SKEW'
  | 'ERR_GRANT_REPLAYED'
  | 'ERR_INVALID_SCOPE'
  | 'ERR_ACCESS_DENIED'
  | 'ERR_AUTHORIZATION_DETAILS'
  | 'ERR_INVALID_GRANT'
  | 'ERR_INVALID_REQUEST';

/**
 * Maskinporten refused the token request (a 4xx answer). `code` says why; `mpCode` and `traceId` say where.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2 and https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking
 */
export class TokenRequestError extends MaskinportenError {
  declare readonly code: TokenRequestErrorCode;
  /** Creates the error from a refused token request. @param code - Why, from `error` and the `MP-…` code.
   * @param message - What Maskinporten said and what to do next. @param options - The answer's fields. */
  constructor(code: TokenRequestErrorCode, message: string, options: MaskinportenErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The codes of an {@link UnavailableError}: the service could not answer.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-retry-after */
export type UnavailableErrorCode = 'ERR_NETWORK' | 'ERR_TIMEOUT' | 'ERR_SERVER' | 'ERR_RATE_LIMITED';

/** Maskinporten or Altinn could not answer (5xx, 429, network failure, timeout) even after retries.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-retry-after */
export class UnavailableError extends MaskinportenError {
  declare readonly code: UnavailableErrorCode;
  /** Creates the error after the last attempt. @param code - Network, timeout, server or rate limit.
   * @param message - What failed and where. @param options - The `cause`, `status`, `retryAfterMs`, `attempts`. */
  constructor(code: UnavailableErrorCode, message: string, options: MaskinportenErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A URL setting with plain http to a host that is not loopback, without `allowInsecureRequests`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2 */
export class InsecureUrlError extends MaskinportenError {
  declare readonly code: 'ERR_INSECURE_URL';
  /** Creates the error (`code` `ERR_INSECURE_URL`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INSECURE_URL', message, options);
  }
}

/** A token that had already expired when it arrived: a clock problem. `clockOffsetMs` says how far off, if known.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant */
export class TokenExpiredError extends MaskinportenError {
  declare readonly code: 'ERR_TOKEN_EXPIRED';
  /** Creates the error (`code` `ERR_TOKEN_EXPIRED`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_TOKEN_EXPIRED', message, options);
  }
}

/** The emulator could not start or read its state file. @see {@link MaskinportenErrorCode} */
export class EmulatorError extends MaskinportenError {
  declare readonly code: 'ERR_EMULATOR_STATE' | 'ERR_EMULATOR_START';
  /** Creates the error. @param code - The state file or input, or listening. @param message - What failed and what
   * to do next, naming the file, field or port. @param options - The `cause` and the fields to carry. */
  constructor(
    code: 'ERR_EMULATOR_STATE' | 'ERR_EMULATOR_START',
    message: string,
    options: MaskinportenErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/** The call was aborted through its `AbortSignal`. @see https://developer.mozilla.org/en-US/docs/Web/API/AbortSignal */
export class AbortedError extends MaskinportenError {
  declare readonly code: 'ERR_ABORTED';
  /** Creates the error (`code` `ERR_ABORTED`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_ABORTED', message, options);
  }
}

/** An answer that does not follow the protocol: not JSON, truncated, no token, a token that is not a JWT.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1 */
export class InvalidResponseError extends MaskinportenError {
  declare readonly code: 'ERR_INVALID_RESPONSE';
  /** Creates the error (`code` `ERR_INVALID_RESPONSE`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_RESPONSE', message, options);
  }
}

/** Altinn refused to exchange the Maskinporten token. @see https://docs.altinn.studio/authentication/ */
export class AltinnExchangeError extends MaskinportenError {
  declare readonly code: 'ERR_ALTINN_EXCHANGE';
  /** Creates the error (`code` `ERR_ALTINN_EXCHANGE`). @param message - What failed and what to do next; never a secret.
   * @param options - The `cause` and the fields to carry (`setting`, `reason`, `status`, …). */
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_ALTINN_EXCHANGE', message, options);
  }
}

/** One problem in a configuration. Never holds a secret value. @see {@link ConfigValidationError} */
export interface ConfigProblem {
  /** The setting's path, e.g. `MaskinportenSettings:Authority`. */
  path: string;
  /** Where the offending value came from, when one did. */
  source?: string;
  message: string;
}

/** A configuration with one or more problems (`code: 'ERR_CONFIG'`); `problems` lists them all.
 * @see {@link ConfigProblem} */
export class ConfigValidationError extends ConfigError {
  readonly problems: readonly ConfigProblem[];

  /** Creates the error from every problem found. @param problems - One per setting at fault; never a secret. */
  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}${p.source ? ` (from ${p.source})` : ''}`);
    super(`the Maskinporten settings are not valid:\n${lines.join('\n')}`);
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}

/** The codes of errors from verifying presented tokens (`maskinporten/verify`).
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 */
export type TokenVerificationErrorCode = Extract<
  MaskinportenErrorCode,
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_ALGORITHM'
  | 'ERR_TOKEN_UNKNOWN_KID'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_KIND'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_CLAIM'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_CONSUMER_NOT_ALLOWED'
  | 'ERR_KEYS_UNAVAILABLE'
>;

/**
 * Every error this package throws, as a union discriminated by `code`: `switch (err.code)` narrows to the class
 * and its fields (`case 'ERR_CONFIG'` → {@link ConfigError}, `case 'ERR_TIMEOUT'` → {@link UnavailableError}, …).
 * The self-service and verification errors are defined with their subpaths (`SelfServiceError`,
 * `TokenVerificationError`) and appear here by their codes.
 *
 * @example
 * catch (e) {
 *   if (!isMaskinportenError(e)) throw e;
 *   switch (e.code) {
 *     case 'ERR_INVALID_SCOPE': console.error(e.mpCode, e.errorDescription); break;
 *     case 'ERR_CONFIG': console.error(e.setting, e.reason); break;
 *   }
 * }
 * @see {@link isMaskinportenError}
 */
export type AnyMaskinportenError =
  | ConfigError
  | KeyError
  | JwsError
  | ArgumentError
  | InsecureUrlError
  | TokenRequestError
  | UnavailableError
  | AbortedError
  | InvalidResponseError
  | TokenExpiredError
  | AltinnExchangeError
  | EmulatorError
  | (MaskinportenError & { readonly code: 'ERR_SELF_SERVICE' })
  | (MaskinportenError & { readonly code: TokenVerificationErrorCode });

/**
 * A JSON syntax error safe to keep as a `cause`: V8 quotes part of the input in some messages
 * (`Unexpected token 'x', "…" is not valid JSON`), and the input may be a key or a token.
 * @param err - What `JSON.parse` threw. @returns A `SyntaxError` quoting none of the input.
 */
export function redactedJsonError(err: unknown): SyntaxError {
  const message = err instanceof Error ? err.message : String(err);
  const redacted = new SyntaxError(message.replace(/,\s*(?:\.\.\.)?".*$/s, ' (input not shown)'));
  redacted.stack = `SyntaxError: ${redacted.message}`;
  return redacted;
}

/**
 * Text a server sent, made safe to put in an error message (and so in logs and on a terminal): C0 and C1 control
 * characters, DEL, Unicode line/paragraph separators and bidirectional overrides are shown as `\uXXXX` escapes, so a
 * hostile server cannot move the cursor, recolour or retitle a terminal, or forge log lines. Every piece of
 * server-supplied text in a message goes through here.
 * @param text - Text from a server. @returns The text with every control and bidirectional character escaped.
 */
export function serverText(text: string): string {
  return text.replace(
    /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * True when `err` is any error of this package (also across duplicate copies of the package); narrows to
 * {@link AnyMaskinportenError}, so a `switch` on `code` narrows further.
 *
 * @param err - Anything caught.
 * @returns Whether it is an error of this package.
 * @see {@link MaskinportenErrorCode}
 */
export function isMaskinportenError(err: unknown): err is AnyMaskinportenError {
  if (err instanceof MaskinportenError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_') && 'mpCode' in err;
}
