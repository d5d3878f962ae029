/**
 * A token-provider function `() => Promise<string>` for third-party SDKs that take one (the role of the .NET
 * `IMaskinportenTokenProvider`). Each call returns a valid token from the client's cache.
 */
import type { MaskinportenClient } from '../client.ts';
import { type AuthorizationOptions, Authorizer } from './authorizer.ts';

/**
 * Creates a token provider.
 *
 * @param client - The client the tokens come from.
 * @param options - `scopes` or `request`, and `altinn` for Altinn tokens.
 * @returns A function resolving to a valid token's value (from the cache while valid); it rejects as
 *   `client.getAccessToken` does (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …).
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` when the first argument is not a client, or when both `scopes` and
 *   `request` (or neither) are given.
 *
 * @example
 * const getToken = createTokenProvider(client, { scopes: ['example:read'] });
 * const sdk = new SomeSdk({ accessToken: getToken });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function createTokenProvider(
  client: MaskinportenClient,
  options: Pick<AuthorizationOptions, 'scopes' | 'request' | 'altinn'>,
): () => Promise<string> {
  const authorizer = new Authorizer(client, options, 'createTokenProvider');
  return async () => (await authorizer.token()).value;
}
