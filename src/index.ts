/**
 * `maskinporten`: the TypeScript toolkit for Maskinporten and Altinn.
 * @packageDocumentation
 */
export type { MaskinportenErrorCode, MaskinportenErrorOptions } from './errors.ts';
export { ArgumentError, JwsError, KeyError, MaskinportenError } from './errors.ts';
export type { GeneratedKeyPair, GenerateKeyOptions, RsaPrivateJwk, RsaPublicJwk } from './keys/jwk.ts';
export { generateRsaKeyPair, jwkThumbprint, toPublicJwk } from './keys/jwk.ts';
export type { RsaAlgorithm } from './keys/jws.ts';
export {
  ALTINN_EXCHANGE_PATH,
  JWT_BEARER_GRANT_TYPE,
  MAX_GRANT_LIFETIME_SECONDS,
  WELL_KNOWN_PATH,
} from './protocol/constants.ts';
export type { AltinnEnvironment, MaskinportenEnvironment } from './protocol/environments.ts';
export { ALTINN_PLATFORM_URLS, MASKINPORTEN_BASE_URLS, maskinportenIssuer } from './protocol/environments.ts';
