/**
 * `maskinporten/emulator`: a local Maskinporten + Altinn exchange + self-service API for development and tests.
 * @packageDocumentation
 */
export type { Clock } from './clock.ts';
export type {
  AdminClient,
  CreateClientInput,
  CreatedClient,
  Emulator,
  EmulatorOptions,
} from './emulator.ts';
export { startEmulator } from './emulator.ts';
export type { ActiveFault, EndpointName, FaultSpec } from './faults.ts';
export { ENDPOINT_NAMES } from './faults.ts';
export type { GrantRuleSet } from './grant-rules.ts';
export { GRANT_RULE_SETS } from './grant-rules.ts';
export { MAX_BODY_BYTES } from './http.ts';
export type {
  Consent,
  Delegation,
  EmulatedClient,
  NewConsent,
  NewSystemUser,
  RegisteredKey,
  ScopeDefinition,
  ScopeTokenType,
  ScopeVisibility,
  SystemUser,
} from './model.ts';
export type { RequestLogEntry } from './request-log.ts';
export { NOTIFICATIONS_SCOPE } from './routes/protected-api.ts';
