/**
 * A fetch-compatible function that authorizes requests with Maskinporten or Altinn tokens: sets
 * `Authorization: Bearer …`, refreshes the token and resends once on a 401 when the body can be replayed, and never
 * forwards the token to another origin on a redirect.
 */
import type { MaskinportenClient } from '../client.ts';
import type { AccessToken } from '../token.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';
import {
  BODY_HEADERS,
  isReplayableBody,
  MAX_REDIRECTS,
  REDIRECT_STATUSES,
  redirectedMethod,
  stripCrossOriginHeaders,
  tokenMayFollow,
} from './redirect-rules.ts';

/**
 * `RequestInit` plus per-request token overrides.
 * @see https://developer.mozilla.org/en-US/docs/Web/API/RequestInit
 */
export interface MaskinportenRequestInit extends RequestInit {
  /** Changes to the token request for this request only (system user, consumer org, extra scopes, kind). */
  maskinporten?: RequestOverrides;
}

/**
 * A fetch that authorizes its requests.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export type AuthorizedFetch = (input: string | URL | Request, init?: MaskinportenRequestInit) => Promise<Response>;

/**
 * Options of {@link createFetch}.
 * @see {@link AuthorizationOptions}
 */
export interface CreateFetchOptions extends AuthorizationOptions {
  /** The fetch to wrap; the global `fetch` by default. */
  fetch?: typeof fetch;
}

/** True for `{ … }` (a record of headers), as opposed to `Headers`, an array of pairs or another iterable. */
function isRecord(value: unknown): value is Record<string, string> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether a record of headers has `Authorization`, in any case. */
function recordHasAuthorization(headers: Record<string, string>): boolean {
  for (const name in headers) if (name.length === 13 && name.toLowerCase() === 'authorization') return true;
  return false;
}

/** The request's headers with `Authorization` set (a copy): a record stays a record, Headers stay Headers. */
function withAuthorization(
  given: Record<string, string> | Headers,
  hadAuthorization: boolean,
  authorization: string,
): Record<string, string> | Headers {
  if (given instanceof Headers) {
    const copy = new Headers(given);
    copy.set('authorization', authorization);
    return copy;
  }
  if (!hadAuthorization) return { ...given, authorization };
  const copy: Record<string, string> = {};
  for (const name in given) if (name.toLowerCase() !== 'authorization') copy[name] = given[name]!;
  copy.authorization = authorization;
  return copy;
}

/** One authorized call, for the paths past the first answer: redirects and the resend after a 401. */
interface Call {
  input: string | URL | Request;
  href: string;
  init: RequestInit;
  headers: Record<string, string> | Headers;
  hadAuthorization: boolean;
  follow: boolean;
  overrides: RequestOverrides | undefined;
}

/**
 * Wraps `fetch` so every request carries a token from `client`. Token failures reject as the client's do (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …); a 401 from an
 * authorised origin is retried once with a fresh token.
 *
 * @param client - The client the tokens come from.
 * @param options - `scopes` or `request`, `altinn`, `allowedOrigins` and the `fetch` to wrap.
 * @returns A `fetch` with the same signature, plus per-request `maskinporten` overrides in its `init`.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` when the first argument is not a client, when both `scopes` and
 *   `request` (or neither) are given, or when an entry of `allowedOrigins` is not an http(s) origin.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 *
 * @example
 * const notifications = createFetch(client, { scopes: ['altinn:serviceowner/notifications.create'], altinn: true });
 * const res = await notifications('https://platform.tt02.altinn.no/notifications/api/v1/orders', { method: 'POST', … });
 */
export function createFetch(client: MaskinportenClient, options: CreateFetchOptions): AuthorizedFetch {
  const authorizer = new Authorizer(client, options, 'createFetch');
  const baseFetch = options.fetch ?? globalThis.fetch;
  // `Bearer …` of the token last used, and Headers holding only it: the same objects for every request with that
  // token. fetch copies a Headers object's list without converting each value again, and a token is ~1 KB, so a
  // request without headers of its own gets them validated once per token instead of once per request.
  let lastToken: AccessToken | undefined;
  let lastHeader = '';
  let lastHeaders: Headers | undefined;
  const headerOf = (token: AccessToken): string => {
    if (token !== lastToken) {
      lastToken = token;
      lastHeader = token.authorizationHeader;
      lastHeaders = undefined;
    }
    return lastHeader;
  };
  const onlyAuthorization = (token: AccessToken): Headers => {
    const authorization = headerOf(token);
    lastHeaders ??= new Headers({ authorization });
    return lastHeaders;
  };

  /** Sends `call` with `token`, following redirects by hand when it follows them; says if the answer got the token. */
  const send = async (call: Call, token: AccessToken): Promise<{ response: Response; carriedToken: boolean }> => {
    const headers = withAuthorization(call.headers, call.hadAuthorization, headerOf(token));
    if (!call.follow) return { response: await baseFetch(call.input, { ...call.init, headers }), carriedToken: true };
    const response = await baseFetch(call.input, { ...call.init, headers, redirect: 'manual' });
    return followRedirects(baseFetch, call, response, headers, authorizer);
  };

  /** After the first answer: its redirects, then on a 401 from the token's origin one resend with a fresh token. */
  const finish = async (call: Call, token: AccessToken, first: Response): Promise<Response> => {
    const { response, carriedToken } = REDIRECT_STATUSES.has(first.status)
      ? await followRedirects(baseFetch, call, first, call.headers, authorizer, headerOf(token))
      : { response: first, carriedToken: true };
    if (response.status !== 401 || !carriedToken || !isReplayable(call)) return response;
    await response.body?.cancel();
    const signal = call.init.signal ?? (call.input instanceof Request ? call.input.signal : undefined);
    return (await send(call, await authorizer.refreshAfter401(token, call.overrides, signal))).response;
  };

  return async (input, init) => {
    let overrides: RequestOverrides | undefined;
    let requestInit: RequestInit = init ?? {};
    if (init !== undefined && 'maskinporten' in init) {
      const { maskinporten, ...rest } = init;
      overrides = maskinporten;
      requestInit = rest;
    }
    const isRequest = input instanceof Request;
    const href = isRequest ? input.url : typeof input === 'string' ? input : input.href;
    // An origin that may not have the token gets the request as it is.
    if (!authorizer.mayAuthorize(href)) return baseFetch(input, requestInit);

    // As in fetch, headers given in init replace those of a Request. A record (the common case) stays a record;
    // anything else goes through Headers.
    const given = requestInit.headers ?? (isRequest ? input.headers : undefined);
    const headers = given === undefined ? {} : isRecord(given) ? given : new Headers(given);
    const hadAuthorization =
      headers instanceof Headers ? headers.has('authorization') : recordHasAuthorization(headers);
    if (hadAuthorization && !authorizer.overwrite) return baseFetch(input, requestInit);
    const follow = (requestInit.redirect ?? (isRequest ? input.redirect : 'follow')) === 'follow';

    const token = await authorizer.token(overrides, requestInit.signal ?? (isRequest ? input.signal : undefined));
    // Never mutated: fetch and the redirect handling below copy it.
    const authorized =
      given === undefined ? onlyAuthorization(token) : withAuthorization(headers, hadAuthorization, headerOf(token));
    const response = await baseFetch(
      input,
      follow ? { ...requestInit, headers: authorized, redirect: 'manual' } : { ...requestInit, headers: authorized },
    );
    if (response.status !== 401 && !(follow && REDIRECT_STATUSES.has(response.status))) return response;
    const call: Call = { input, href, init: requestInit, headers, hadAuthorization, follow, overrides };
    return finish(call, token, response);
  };
}

/** Whether the call's body can be sent again: a body given in init by the usual rules; a Request's own body never. */
function isReplayable(call: Call): boolean {
  if (call.init.body !== undefined) return isReplayableBody(call.init.body);
  return !(call.input instanceof Request) || call.input.body === null;
}

/**
 * Follows redirects by hand so the token stays with its origin, by the shared rules (`redirect-rules.ts`): the
 * credentials fetch strips (`Authorization`, `Proxy-Authorization`, `Cookie`) are dropped as soon as a redirect
 * leaves the original origin (or the allow-list) and are not restored after, and 301/302/303 turn into GET without
 * a body, as fetch does. A 307/308 that would need a one-shot body again is handed back as it is. `authorization`:
 * the header value when `headers` does not hold it yet.
 */
async function followRedirects(
  baseFetch: typeof fetch,
  call: Call,
  first: Response,
  given: Record<string, string> | Headers,
  authorizer: Authorizer,
  authorization?: string,
): Promise<{ response: Response; carriedToken: boolean }> {
  let response = first;
  if (!call.follow || !REDIRECT_STATUSES.has(response.status)) return { response, carriedToken: true };
  const original = URL.parse(call.href);
  if (original === null) return { response, carriedToken: true };
  const request = call.input instanceof Request ? call.input : undefined;
  const body = call.init.body ?? request?.body;
  let headers = new Headers(
    authorization === undefined ? given : withAuthorization(given, call.hadAuthorization, authorization),
  );
  const init: RequestInit = { ...call.init, signal: call.init.signal ?? request?.signal ?? null };
  let method = (call.init.method ?? request?.method ?? 'GET').toUpperCase();
  let current = original.href;
  let carriedToken = true;
  let currentBody = call.init.body;
  for (let hops = 0; REDIRECT_STATUSES.has(response.status) && hops < MAX_REDIRECTS; hops++) {
    const location = response.headers.get('location');
    if (!location) break;
    const next = URL.parse(location, current);
    if (next === null) break;
    const redirected = redirectedMethod(response.status, method);
    if (redirected.dropsBody) {
      method = redirected.method;
      currentBody = undefined;
      headers = new Headers(headers);
      for (const h of BODY_HEADERS) headers.delete(h);
    } else if (!isReplayableBody(body)) {
      // 307/308 with a body that could be sent once only (a stream, or the body of a Request).
      break;
    }
    await response.body?.cancel();
    if (carriedToken && !tokenMayFollow(original, next, (u) => authorizer.mayAuthorize(u))) {
      // Leaving the token's origin: every credential fetch would drop goes, and is not restored after.
      headers = new Headers(headers);
      stripCrossOriginHeaders(headers);
      carriedToken = false;
    }
    current = next.href;
    response = await baseFetch(current, {
      ...init,
      method,
      headers,
      body: currentBody ?? null,
      redirect: 'manual',
    });
  }
  return { response, carriedToken };
}
