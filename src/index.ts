/**
 * `maskinporten`: the TypeScript toolkit for Maskinporten and Altinn.
 * @packageDocumentation
 */

export type { InvalidationListener, StoreContext, StoredToken, StoreLock, TokenStore } from './cache/store.ts';
export type { GetTokenOptions, MaskinportenClientOptions, TokenRequestInput } from './client.ts';
export { MaskinportenClient } from './client.ts';
export { type Clock, systemClock, type Timekeeper } from './clock.ts';
export type {
  AnyMaskinportenError,
  ConfigProblem,
  MaskinportenErrorCode,
  MaskinportenErrorOptions,
  TokenRequestErrorCode,
  TokenVerificationErrorCode,
  UnavailableErrorCode,
} from './errors.ts';
export {
  AbortedError,
  AltinnExchangeError,
  ArgumentError,
  ConfigError,
  ConfigValidationError,
  EmulatorError,
  InsecureUrlError,
  InvalidResponseError,
  isMaskinportenError,
  JwsError,
  KeyError,
  MaskinportenError,
  TokenExpiredError,
  TokenRequestError,
  UnavailableError,
} from './errors.ts';
export { createFileTokenStore, defaultTokenCacheDir, type FileTokenStoreOptions } from './file-store/index.ts';
export type { GeneratedKeyPair, GenerateKeyOptions, RsaPrivateJwk, RsaPublicJwk } from './keys/jwk.ts';
export { generateRsaKeyPair, jwkThumbprint, toPublicJwk } from './keys/jwk.ts';
export type { RsaAlgorithm } from './keys/jws.ts';
export type { KeyMaterial } from './keys/signer.ts';
export { ManualClock } from './manual-clock.ts';
export {
  ALTINN_EXCHANGE_PATH,
  JWT_BEARER_GRANT_TYPE,
  MAX_GRANT_LIFETIME_SECONDS,
  MAX_TOKEN_LIFETIME_SECONDS,
  WELL_KNOWN_PATH,
} from './protocol/constants.ts';
export type { AuthorizationServerMetadata } from './protocol/discovery.ts';
export type {
  AltinnEnvironment,
  AuthorityKind,
  AuthorityPreset,
  MaskinportenEnvironment,
  SkyportenEnvironment,
} from './protocol/environments.ts';
export {
  ALTINN_PLATFORM_URLS,
  AUTHORITY_PRESETS,
  defaultAltinnPlatformUrl,
  MASKINPORTEN_BASE_URLS,
  maskinportenIssuer,
  SKYPORTEN_BASE_URLS,
} from './protocol/environments.ts';
export type { TokenRequest } from './protocol/grant.ts';
export type {
  NewIntegration,
  RegisteredJwk,
  SelfServiceClientInfo,
  SelfServiceClientOptions,
  SelfServiceKeySet,
} from './self-service/index.ts';
export { defaultSelfServiceUrl, SelfServiceClient, SelfServiceError } from './self-service/index.ts';
export { ServerClock } from './server-clock.ts';
export type { MaskinportenSettings } from './settings.ts';
export type { Logger } from './telemetry.ts';
export type { TokenKind } from './token.ts';
export { AccessToken } from './token.ts';
export type { RetryPolicy } from './transport/retry.ts';
