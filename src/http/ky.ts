/**
 * ky: hooks that authorize requests (`beforeRequest`), and on a 401 force one retry (`afterResponse` with
 * `ky.retry`) that carries a fresh token (`beforeRetry`). ky keeps a copy of the body for retries; a stream body
 * is not resent. Per-request overrides go in ky's `context` as `maskinporten`.
 *
 * The forced retry is one of ky's retries, so it needs ky's retry limit ≥ 1 (the default is 2); with `retry: 0` a
 * 401 is handed back as it is. A 401 answered by another origin after a redirect (fetch has dropped the token by
 * then) is handed back too.
 */
import type { MaskinportenClient } from '../client.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';

/** What the hooks need of a ky instance: `extend` and the `retry` marker (of type `M`). */
export interface KyLike<M = unknown> {
  extend(options: Record<string, unknown>): KyLike<M>;
  retry(options?: { code?: string; delay?: number }): M;
}

interface HookRequest {
  url: string;
  headers: Headers;
}
interface HookOptions {
  context?: Record<string, unknown>;
  body?: unknown;
}

/** The overrides in ky's context, if any. */
function overridesOf(o: HookOptions): RequestOverrides | undefined {
  const value = o.context?.maskinporten;
  return value !== null && typeof value === 'object' ? (value as RequestOverrides) : undefined;
}

/** The hooks, typed to fit ky's `Hooks` (`M` is ky's retry marker). */
export interface MaskinportenKyHooks<M = unknown> {
  beforeRequest: ((state: { request: HookRequest; options: HookOptions }) => Promise<void>)[];
  afterResponse: ((state: {
    request: HookRequest;
    response: Response;
    options: HookOptions;
    retryCount: number;
  }) => Promise<M | undefined>)[];
  beforeRetry: ((state: { request: HookRequest; options: HookOptions }) => void)[];
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
export function withMaskinporten<T extends KyLike<unknown>>(
  ky: T,
  client: MaskinportenClient,
  options: AuthorizationOptions,
): T {
  return ky.extend({ hooks: maskinportenKyHooks(ky, client, options) }) as T;
}

/** The hooks themselves, for composing with other hooks. They run in the order ky runs hooks. */
export function maskinportenKyHooks<M>(
  ky: KyLike<M>,
  client: MaskinportenClient,
  options: AuthorizationOptions,
): MaskinportenKyHooks<M> {
  const authorizer = new Authorizer(client, options, 'withMaskinporten');
  // Which requests got a token from us, by the token we set: a retry is refreshed only for those.
  const ours = new WeakMap<object, string>();
  return {
    beforeRequest: [
      async ({ request, options: o }) => {
        if (!authorizer.mayAuthorize(request.url)) return;
        if (request.headers.has('authorization') && !authorizer.overwrite) return;
        const token = await authorizer.token(overridesOf(o));
        request.headers.set('authorization', token.authorizationHeader);
        ours.set(o, token.value);
      },
    ],
    afterResponse: [
      async ({ request, response, options: o, retryCount }) => {
        const used = ours.get(o);
        if (response.status !== 401 || used === undefined || retryCount > 0) return undefined;
        if (o.body instanceof ReadableStream) return undefined;
        // Answered by another origin after a redirect: fetch did not send it the token.
        if (response.url && URL.parse(response.url)?.origin !== URL.parse(request.url)?.origin) return undefined;
        const fresh = await authorizer.refreshAfter401(used, overridesOf(o));
        ours.set(o, fresh.value);
        return ky.retry({ code: RETRY_CODE, delay: 0 });
      },
    ],
    beforeRetry: [
      ({ request, options: o }) => {
        const token = ours.get(o);
        if (token !== undefined && authorizer.mayAuthorize(request.url))
          request.headers.set('authorization', `Bearer ${token}`);
      },
    ],
  };
}
