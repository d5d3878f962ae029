/**
 * `maskinporten/self-service`: Digdir's self-service API (clients, key sets, scopes) on `/api/v1`.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export { defaultSelfServiceUrl, SELF_SERVICE_API_PATH, SelfServiceClient } from './client.ts';
export { SelfServiceError, type SelfServiceErrorEntry, type SelfServiceErrorOptions } from './error.ts';
export {
  JWK_PRIVATE_MEMBERS,
  JWK_PUBLIC_MEMBERS,
  keyForPosting,
  MAX_KEY_LIFETIME_SECONDS,
  publicMembersOf,
  withLifetime,
} from './keys.ts';
export type {
  NewIntegration,
  NewScope,
  RegisteredJwk,
  ScopeAccess,
  SelfServiceClientInfo,
  SelfServiceClientOptions,
  SelfServiceKeySet,
  SelfServiceScope,
} from './types.ts';
