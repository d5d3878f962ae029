/**
 * One error family for the whole toolkit. Every failure a caller can cause or meet carries a stable string `code`,
 * so `switch (err.code)` narrows, and a message that names the setting, claim or flag involved and what to do next.
 * Secrets (keys, grants, tokens) never appear in a message.
 */

/** Every code an error of this package can carry. */
export type MaskinportenErrorCode =
  | 'ERR_INVALID_KEY'
  | 'ERR_INVALID_JWS'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_EMULATOR_STATE'
  | 'ERR_EMULATOR_START';

/** Options shared by every error of the family. */
export interface MaskinportenErrorOptions {
  /** The underlying failure, kept for debugging. */
  cause?: unknown;
}

/**
 * The base of every error this package throws. Catch it to handle all of them; read `code` to tell them apart.
 */
export class MaskinportenError extends Error {
  /** A stable, machine-readable code. */
  readonly code: MaskinportenErrorCode;

  constructor(code: MaskinportenErrorCode, message: string, options: MaskinportenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
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
