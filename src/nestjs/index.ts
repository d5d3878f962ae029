/**
 * `maskinporten/nestjs`: Maskinporten for NestJS — `MaskinportenModule` (clients from configuration sections, named
 * clients, async config), `MaskinportenHttpModule` (an `HttpService` authorized with Maskinporten or Altinn tokens)
 * and, for API providers, `MaskinportenVerifierModule` with `MaskinportenGuard` and `@MaskinportenScopes`.
 * `@nestjs/common` and `@nestjs/axios` are optional peers, loaded on first use.
 * @packageDocumentation
 */
export type {
  MaskinportenClientConfig,
  MaskinportenModuleAsyncOptions,
  MaskinportenModuleOptions,
} from './client-module.ts';
export { InjectMaskinportenClient, MaskinportenModule } from './client-module.ts';
export type {
  NestAsyncOptions,
  NestDynamicModule,
  NestFactoryProvider,
  NestToken,
  NestType,
} from './dynamic-module.ts';
export type { MaskinportenVerifierAsyncOptions } from './guard.ts';
export {
  MaskinportenGuard,
  MaskinportenRequirements,
  MaskinportenScopes,
  MaskinportenToken,
  MaskinportenVerifierModule,
} from './guard.ts';
export type { MaskinportenHttpModuleOptions } from './http-module.ts';
export { InjectMaskinportenHttp, MaskinportenHttpModule } from './http-module.ts';
export type { NestExecutionContext } from './peers.ts';
export {
  getMaskinportenClientToken,
  getMaskinportenHttpToken,
  MASKINPORTEN_CLIENTS,
  MASKINPORTEN_SCOPES_KEY,
  MASKINPORTEN_TOKEN_VERIFIER,
} from './tokens.ts';
