/**
 * `maskinporten/config`: environment presets for Maskinporten, Altinn and the self-service API.
 * @packageDocumentation
 */
export type { AltinnEnvironment, MaskinportenEnvironment } from '../protocol/environments.ts';
export {
  ALTINN_PLATFORM_URLS,
  MASKINPORTEN_BASE_URLS,
  maskinportenIssuer,
  SELF_SERVICE_API_URLS,
} from '../protocol/environments.ts';
