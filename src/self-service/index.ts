export type {
  NewIntegration,
  RegisteredJwk,
  SelfServiceClientInfo,
  SelfServiceClientOptions,
  SelfServiceKeySet,
} from './client.ts';
export { defaultSelfServiceUrl, SelfServiceClient, SelfServiceError } from './client.ts';
