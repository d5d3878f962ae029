/**
 * Injection tokens of `maskinporten/nestjs`. The default client is injected by its class, `MaskinportenClient`;
 * named clients and HTTP services by the tokens made here.
 */

/**
 * The map of every configured client, by name (`default` for the unnamed one).
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
export const MASKINPORTEN_CLIENTS = 'maskinporten:clients';

/**
 * The `TokenVerifier` used by `MaskinportenGuard`.
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
export const MASKINPORTEN_TOKEN_VERIFIER = 'maskinporten:token-verifier';

/**
 * Route metadata key of {@link MaskinportenScopes}.
 * @see https://docs.nestjs.com/custom-decorators
 */
export const MASKINPORTEN_SCOPES_KEY = 'maskinporten:scopes';

/**
 * The injection token of the client named `name`.
 *
 * @param name - A name from `MaskinportenModule.forRoot({ clients: { … } })`.
 * @returns `maskinporten:client:<name>`.
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
export function getMaskinportenClientToken(name: string): string {
  return `maskinporten:client:${name}`;
}

/**
 * The injection token of an authorized `HttpService` registered with a `name`.
 *
 * @param name - The `name` given to `MaskinportenHttpModule.register`.
 * @returns `maskinporten:http:<name>`.
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
export function getMaskinportenHttpToken(name: string): string {
  return `maskinporten:http:${name}`;
}
