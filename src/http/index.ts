/**
 * `maskinporten/http`: authorize fetch, undici, axios and ky with Maskinporten or Altinn tokens; named clients;
 * a token provider for third-party SDKs.
 * @packageDocumentation
 */
export type { AuthorizationOptions, RequestOverrides } from './authorizer.ts';
export type { AxiosLikeConfig, AxiosLikeInstance, InterceptorCallback } from './axios.ts';
export { attachToAxios } from './axios.ts';
export type { AuthorizedFetch, CreateFetchOptions, MaskinportenRequestInit } from './fetch.ts';
export { createFetch } from './fetch.ts';
export type { AnyHook, KyLike, MaskinportenKyHooks } from './ky.ts';
export { maskinportenKyHooks, withMaskinporten } from './ky.ts';
export type { HttpClients, NamedClientOptions, NamedFetch } from './named-clients.ts';
export { createHttpClients } from './named-clients.ts';
export {
  type MaskinportenOpenApiMiddleware,
  maskinportenMiddleware,
  type OpenApiFetchMiddlewareParams,
} from './openapi-fetch.ts';
export { createTokenProvider } from './token-provider.ts';
export type {
  Dispatch,
  DispatchController,
  DispatchHandler,
  DispatchOptions,
  MaskinportenInterceptor,
} from './undici.ts';
export { maskinportenInterceptor } from './undici.ts';
