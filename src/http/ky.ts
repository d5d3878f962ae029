/**
 * ky: hooks that authorize requests (`beforeRequest`), and on a 401 force one retry (`afterResponse` with
 * `ky.retry`) that carries a fresh token (`beforeRetry`). ky keeps a copy of the body for retries; a stream body
 * is not resent. Per-request overrides go in ky's `context` as `maskinporten`.
 */
import type { MaskinportenClient } from '../client.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';

/** What the hooks need of a ky instance: `extend` and the `retry` marker. */
export interface KyLike {
  extend(options: Record<string, unknown>): KyLike;
  retry(options?: { code?: string; delay?: number }): unknown;
}

interface HookRequest {
  url: string;
  headers: Headers;
}
interface HookOptions {
  context?: { maskinporten?: RequestOverrides } & Record<string, unknown>;
  body?: unknown;
}

const RETRY_CODE = 'MASKINPORTEN_TOKEN_REFRESHED';

/**
 * Returns a ky instance (extended from `ky`) whose requests carry Maskinporten or Altinn tokens.
 *
 * @example
 * import ky from 'ky';
 * const api = withMaskinporten(ky, client, { scopes: ['example:read'] });
 * const body = await api.get('https://api.example.no/things').json();
 */
export function withMaskinporten<T extends KyLike>(
  ky: T,
  client: MaskinportenClient,
  options: AuthorizationOptions,
): T {
  return ky.extend({ hooks: maskinportenKyHooks(ky, client, options) }) as T;
}

/** The hooks themselves, for composing with other hooks. They run in the order ky runs hooks. */
export function maskinportenKyHooks(ky: KyLike, client: MaskinportenClient, options: AuthorizationOptions) {
  const authorizer = new Authorizer(client, options, 'withMaskinporten');
  // Which requests got a token from us, by the token we set: a retry is refreshed only for those.
  const ours = new WeakMap<object, string>();
  return {
    beforeRequest: [
      async ({ request, options: o }: { request: HookRequest; options: HookOptions }) => {
        if (!authorizer.mayAuthorize(request.url)) return;
        if (request.headers.has('authorization') && !authorizer.overwrite) return;
        const token = await authorizer.token(o.context?.maskinporten);
        request.headers.set('authorization', token.authorizationHeader);
        ours.set(o, token.value);
      },
    ],
    afterResponse: [
      async ({
        response,
        options: o,
        retryCount,
      }: {
        response: Response;
        options: HookOptions;
        retryCount: number;
      }) => {
        const used = ours.get(o);
        if (response.status !== 401 || used === undefined || retryCount > 0) return;
        if (o.body instanceof ReadableStream) return;
        const fresh = await authorizer.refreshAfter401(used, o.context?.maskinporten);
        ours.set(o, fresh.value);
        return ky.retry({ code: RETRY_CODE, delay: 0 });
      },
    ],
    beforeRetry: [
      ({ request, options: o }: { request: HookRequest; options: HookOptions }) => {
        const token = ours.get(o);
        if (token !== undefined && authorizer.mayAuthorize(request.url))
          request.headers.set('authorization', `Bearer ${token}`);
      },
    ],
  };
}
