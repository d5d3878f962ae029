/**
 * One error family for the whole toolkit. Every failure a caller can cause or meet carries a stable string `code`,
 * so `switch (err.code)` narrows, and a message that names the setting, claim or flag involved and what to do next.
 * Secrets (keys, grants, tokens) never appear in a message or a property.
 */

/** Every code an error of this package can carry. The README has a table of them. */
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

/** Details an error may carry besides its code and message. */
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
}

/**
 * The base of every error this package throws. Catch it to handle all of them; read `code` to tell them apart.
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
  }
}

/** Settings that cannot be used: a missing or malformed value. The message names the setting. */
export class ConfigError extends MaskinportenError {
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_CONFIG', message, options);
  }
}

/** Key material that cannot be used: it does not decode, lacks its private half, or has an unsupported type. */
export class KeyError extends MaskinportenError {
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_KEY', message, options);
  }
}

/** A value that is not a well-formed compact JWS/JWT. */
export class JwsError extends MaskinportenError {
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_JWS', message, options);
  }
}

/** An argument passed from code that cannot be used as given. */
export class ArgumentError extends MaskinportenError {
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** Maskinporten refused the token request (a 4xx answer). `code` says why; `mpCode` and `traceId` say where. */
export class TokenRequestError extends MaskinportenError {}

/** Maskinporten or Altinn could not answer (5xx, 429, network failure, timeout) even after retries. */
export class UnavailableError extends MaskinportenError {}

/** The call was aborted through its `AbortSignal`. */
export class AbortedError extends MaskinportenError {
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_ABORTED', message, options);
  }
}

/** An answer that does not follow the protocol: not JSON, truncated, no token, a token that is not a JWT. */
export class InvalidResponseError extends MaskinportenError {
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_INVALID_RESPONSE', message, options);
  }
}

/** Altinn refused to exchange the Maskinporten token. */
export class AltinnExchangeError extends MaskinportenError {
  constructor(message: string, options: MaskinportenErrorOptions = {}) {
    super('ERR_ALTINN_EXCHANGE', message, options);
  }
}

/**
 * A JSON syntax error safe to keep as a `cause`: V8 quotes part of the input in some messages
 * (`Unexpected token 'x', "…" is not valid JSON`), and the input may be a key or a token.
 */
export function redactedJsonError(err: unknown): SyntaxError {
  const message = err instanceof Error ? err.message : String(err);
  const redacted = new SyntaxError(message.replace(/,\s*(?:\.\.\.)?".*$/s, ' (input not shown)'));
  redacted.stack = `SyntaxError: ${redacted.message}`;
  return redacted;
}

/** True when `err` is any error of this package (also across duplicate copies of the package). */
export function isMaskinportenError(err: unknown): err is MaskinportenError {
  if (err instanceof MaskinportenError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_') && 'mpCode' in err;
}
