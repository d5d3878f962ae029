export type {
  NewIntegration,
  RegisteredJwk,
  SelfServiceClientInfo,
  SelfServiceClientOptions,
  SelfServiceKeySet,
} from './client.ts';
export {
  defaultSelfServiceUrl,
  JWK_PRIVATE_MEMBERS,
  publicMembersOf,
  SelfServiceClient,
  SelfServiceError,
} from './client.ts';
