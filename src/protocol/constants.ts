/**
 * Wire constants of Maskinporten and the Altinn token exchange (Digdir's JWT grant and token pages, and
 * Altinn's token exchange docs). Shared by the client and the emulator so both speak exactly the same names.
 */

/**
 * RFC 7523 grant type for the JWT-bearer token request.
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
 */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Path of the RFC 8414 metadata document below the Maskinporten base URL.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export const WELL_KNOWN_PATH = '/.well-known/oauth-authorization-server';

/** The ISO 6523 authority used in `consumer`, `supplier` and `systemuser_org` claims. */
export const ORG_AUTHORITY = 'iso6523-actorid-upis';

/** Prefix of a Norwegian organisation number in an ISO 6523 ID (`0192:<orgno>`). */
export const NORWEGIAN_ORG_PREFIX = '0192:';

/** RAR (RFC 9396) type for Altinn system users. */
export const SYSTEM_USER_TYPE = 'urn:altinn:systemuser';

/** RAR (RFC 9396) type for Altinn consents. */
export const CONSENT_TYPE = 'urn:altinn:consent';

/**
 * Longest a grant may live: `exp − iat` of at most 120 seconds.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 */
export const MAX_GRANT_LIFETIME_SECONDS = 120;

/**
 * A grant's lifetime (`exp − iat`) unless told otherwise: 60 seconds, half the most allowed, so a grant sent after a
 * slow retry or onto a server whose clock runs ahead is still inside it.
 */
export const DEFAULT_GRANT_LIFETIME_SECONDS = 60;

/**
 * Longest a token may live (`exp − iat`, or `expires_in`) for the client to accept it: one day. Maskinporten tokens
 * live minutes (120 s by default, less with a scope's `at_max_age`) and Altinn's 30 minutes; a longer life is a
 * broken or hostile answer that must not be cached for ever.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_token
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** Allowed distance between a grant's `iat` and Maskinporten's clock. */
export const IAT_SKEW_SECONDS = 10;

/**
 * Path of Altinn's exchange endpoint for Maskinporten tokens, below the platform URL.
 * @see https://docs.altinn.studio/authentication/
 */
export const ALTINN_EXCHANGE_PATH = '/authentication/api/v1/exchange/maskinporten';

/** Path of Altinn's OpenID issuer below the platform URL (the `iss` of Altinn tokens). */
export const ALTINN_OPENID_PATH = '/authentication/api/v1/openid/';

/** Header whose presence makes the Altinn exchange answer 410 Gone (enterprise users were removed). */
export const ALTINN_ENTERPRISE_USER_HEADER = 'x-altinn-enterpriseuser-authentication';

/** Lifetime of an Altinn token (`JwtValidityMinutes` = 30). */
export const ALTINN_TOKEN_LIFETIME_SECONDS = 30 * 60;

/** Scopes that let a caller use the self-service (client registration) API. */
export const SELF_SERVICE_SCOPES = [
  'idporten:dcr.read',
  'idporten:dcr.write',
  'idporten:dcr.modify',
  'idporten:dcr.supplier',
  'idporten:scopes.write',
] as const;

/** Most JWKs a client may have registered at once. */
export const MAX_CLIENT_KEYS = 5;

/** How long a registered key lives: one year from the time it was posted. */
export const KEY_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

/** True for a nine-digit Norwegian organisation number. */
export function isOrgNumber(value: unknown): value is string {
  return typeof value === 'string' && /^\d{9}$/.test(value);
}
