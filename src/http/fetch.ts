/**
 * A fetch-compatible function that authorizes requests with Maskinporten or Altinn tokens: sets
 * `Authorization: Bearer …`, refreshes the token and resends once on a 401 when the body can be replayed, and never
 * forwards the token to another origin on a redirect.
 */
import type { MaskinportenClient } from '../client.ts';
import type { AccessToken } from '../token.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';
import { originOf } from './origin.ts';

/** `RequestInit` plus per-request token overrides. */
export interface MaskinportenRequestInit extends RequestInit {
  /** Changes to the token request for this request only (system user, consumer org, extra scopes, kind). */
  maskinporten?: RequestOverrides;
}

/** A fetch that authorizes its requests. */
export type AuthorizedFetch = (input: string | URL | Request, init?: MaskinportenRequestInit) => Promise<Response>;

/** Options of {@link createFetch}. */
export interface CreateFetchOptions extends AuthorizationOptions {
  /** The fetch to wrap; the global `fetch` by default. */
  fetch?: typeof fetch;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

/** True when a body can be sent twice: none, text, bytes, form data, URL parameters or a Blob. */
export function isReplayableBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof FormData ||
    body instanceof Blob
  );
}

/**
 * Wraps `fetch` so every request carries a token from `client`.
 *
 * @example
 * const notifications = createFetch(client, { scopes: ['altinn:serviceowner/notifications.create'], altinn: true });
 * const res = await notifications('https://platform.tt02.altinn.no/notifications/api/v1/orders', { method: 'POST', … });
 */
export function createFetch(client: MaskinportenClient, options: CreateFetchOptions): AuthorizedFetch {
  const authorizer = new Authorizer(client, options, 'createFetch');
  const baseFetch = options.fetch ?? globalThis.fetch;

  return async (input, init = {}) => {
    const { maskinporten: overrides, ...requestInit } = init;
    const isRequest = input instanceof Request;
    const url = isRequest ? input.url : input instanceof URL ? input.href : String(input);
    const headers = new Headers(isRequest ? input.headers : undefined);
    if (requestInit.headers) for (const [k, v] of new Headers(requestInit.headers)) headers.set(k, v);
    if (!authorizer.mayAuthorize(url) || (headers.has('authorization') && !authorizer.overwrite)) {
      return baseFetch(input, requestInit);
    }
    const body = requestInit.body ?? (isRequest ? input.body : undefined);
    // A Request's own body is a stream that can be read once; a body given in init follows the usual rules.
    const replayable =
      requestInit.body !== undefined ? isReplayableBody(requestInit.body) : !isRequest || input.body === null;
    const redirect = requestInit.redirect ?? (isRequest ? input.redirect : 'follow');
    const method = (requestInit.method ?? (isRequest ? input.method : 'GET')).toUpperCase();

    const send = (token: AccessToken): Promise<Response> => {
      headers.set('authorization', token.authorizationHeader);
      if (redirect !== 'follow') return baseFetch(input, { ...requestInit, headers });
      return followRedirects(
        baseFetch,
        input,
        { ...requestInit, headers, redirect: 'manual' },
        url,
        method,
        body,
        authorizer,
      );
    };

    const token = await authorizer.token(overrides);
    const response = await send(token);
    if (response.status !== 401 || !replayable) return response;
    await response.body?.cancel();
    return send(await authorizer.refreshAfter401(token, overrides));
  };
}

/**
 * Follows redirects by hand so the token stays with its origin: `Authorization` is dropped as soon as a redirect
 * leaves the original origin (or the allow-list), and 301/302/303 turn into GET without a body, as fetch does.
 */
async function followRedirects(
  baseFetch: typeof fetch,
  input: string | URL | Request,
  init: RequestInit & { headers: Headers },
  originalUrl: string,
  originalMethod: string,
  body: unknown,
  authorizer: Authorizer,
): Promise<Response> {
  const origin = originOf(originalUrl);
  let response = await baseFetch(input, init);
  let current = originalUrl;
  let method = originalMethod;
  let headers = init.headers;
  let currentBody = init.body;
  for (let hops = 0; REDIRECTS.has(response.status) && hops < MAX_REDIRECTS; hops++) {
    const location = response.headers.get('location');
    if (!location) return response;
    const next = new URL(location, current).href;
    await response.body?.cancel();
    if (
      (response.status === 303 && method !== 'HEAD') ||
      ((response.status === 301 || response.status === 302) && method === 'POST')
    ) {
      method = 'GET';
      currentBody = undefined;
      headers = new Headers(headers);
      for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'])
        headers.delete(h);
    } else if (currentBody === undefined && body !== undefined && body !== null) {
      // 307/308 with a body that only the original Request held: it cannot be resent.
      if (!isReplayableBody(body)) return response;
    }
    if (originOf(next) !== origin || !authorizer.mayAuthorize(next)) {
      headers = new Headers(headers);
      headers.delete('authorization');
    }
    current = next;
    response = await baseFetch(next, {
      ...init,
      method,
      headers,
      body: currentBody ?? null,
      redirect: 'manual',
    });
  }
  return response;
}
