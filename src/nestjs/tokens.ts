/**
 * Injection tokens of `maskinporten/nestjs`. The default client is injected by its class, `MaskinportenClient`;
 * named clients and HTTP services by the tokens made here.
 */

/** The map of every configured client, by name (`default` for the unnamed one). */
export const MASKINPORTEN_CLIENTS = 'maskinporten:clients';

/** The `TokenVerifier` used by `MaskinportenGuard`. */
export const MASKINPORTEN_TOKEN_VERIFIER = 'maskinporten:token-verifier';

/** Route metadata key of {@link MaskinportenScopes}. */
export const MASKINPORTEN_SCOPES_KEY = 'maskinporten:scopes';

/**
 * The injection token of the client named `name`.
 *
 * @param name - A name from `MaskinportenModule.forRoot({ clients: { … } })`.
 * @returns `maskinporten:client:<name>`.
 */
export function getMaskinportenClientToken(name: string): string {
  return `maskinporten:client:${name}`;
}

/**
 * The injection token of an authorized `HttpService` registered with a `name`.
 *
 * @param name - The `name` given to `MaskinportenHttpModule.register`.
 * @returns `maskinporten:http:<name>`.
 */
export function getMaskinportenHttpToken(name: string): string {
  return `maskinporten:http:${name}`;
}
