/**
 * The one redirect and replay rule set of the HTTP adapters: which statuses redirect, which headers a redirect to
 * another origin must lose (the credentials fetch strips), how a redirect changes the method, when a token may
 * travel on to the next hop, and which bodies can be sent a second time. fetch, undici, axios and ky all decide by
 * these rules, so the adapters cannot drift apart.
 */

/**
 * Statuses that redirect.
 * @see https://fetch.spec.whatwg.org/#redirect-status
 */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * Most redirects followed for one request (fetch's limit).
 * @see https://fetch.spec.whatwg.org/#http-redirect-fetch
 */
export const MAX_REDIRECTS = 20;

/**
 * Request headers dropped when a redirect leaves the origin, as fetch drops them (WHATWG Fetch, HTTP-redirect
 * fetch step 13: `Authorization`, then `Proxy-Authorization`, `Cookie` and `Host`).
 * @see https://fetch.spec.whatwg.org/#http-redirect-fetch
 */
export const CROSS_ORIGIN_STRIPPED_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
]);

/** Headers that describe a request body, dropped with the body when a redirect turns the request into a GET. */
export const BODY_HEADERS: readonly string[] = Object.freeze([
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
]);

/** True for a header a cross-origin redirect must not carry on (any letter case). */
export function isCrossOriginStripped(name: string): boolean {
  return CROSS_ORIGIN_STRIPPED_HEADERS.includes(name.toLowerCase());
}

/** Removes, in place, every header a cross-origin redirect must not carry on, from Headers or a record. */
export function stripCrossOriginHeaders(headers: Headers | Record<string, unknown>): void {
  if (headers instanceof Headers) {
    for (const name of CROSS_ORIGIN_STRIPPED_HEADERS) headers.delete(name);
    return;
  }
  for (const name of Object.keys(headers)) if (isCrossOriginStripped(name)) delete headers[name];
}

/**
 * The method of the next hop: 303 turns anything but HEAD into GET, 301 and 302 turn POST into GET (as fetch and
 * browsers do); `dropsBody` says the body and its headers ({@link BODY_HEADERS}) go with it.
 */
export function redirectedMethod(status: number, method: string): { method: string; dropsBody: boolean } {
  const m = method.toUpperCase();
  if ((status === 303 && m !== 'HEAD') || ((status === 301 || status === 302) && m === 'POST')) {
    return { method: 'GET', dropsBody: true };
  }
  return { method: m, dropsBody: false };
}

/**
 * Whether a request that carried the token to `from` may carry it on to `to`: only on the same origin, and only
 * when that origin may have the token at all. Once a chain has left the origin the token is never restored.
 */
export function tokenMayFollow(from: URL, to: URL, mayAuthorize: (url: URL) => boolean): boolean {
  return to.origin === from.origin && mayAuthorize(to);
}

/**
 * True when an answer came from another origin than the request was sent to: fetch followed a redirect off the
 * origin and dropped the token on the way, so a 401 there is not about our token.
 */
export function answeredByOtherOrigin(requestUrl: string, responseUrl: string | undefined): boolean {
  return Boolean(responseUrl) && URL.parse(responseUrl as string)?.origin !== URL.parse(requestUrl)?.origin;
}

/**
 * True when a body can be sent twice: none, text, bytes, `URLSearchParams`, a `FormData` or `Blob` (of any realm:
 * undici's too), or a plain object or array that the client serialises (axios). Streams, async iterables and
 * iterators can be read once only.
 * @see https://fetch.spec.whatwg.org/#concept-bodyinit-extract
 */
export function isReplayableBody(body: unknown): boolean {
  if (body === undefined || body === null || typeof body === 'string') return true;
  if (typeof body !== 'object') return typeof body === 'number' || typeof body === 'boolean';
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof URLSearchParams) return true;
  const tag = (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  const b = body as { append?: unknown; getAll?: unknown; stream?: unknown; arrayBuffer?: unknown };
  if (tag === 'FormData') return typeof b.append === 'function' && typeof b.getAll === 'function';
  if (tag === 'Blob' || tag === 'File') return typeof b.stream === 'function' || typeof b.arrayBuffer === 'function';
  if (tag === 'URLSearchParams') return true;
  // Streams (Node's pipe, WHATWG getReader) and iterables other than arrays are read once.
  const s = body as {
    pipe?: unknown;
    getReader?: unknown;
    [Symbol.asyncIterator]?: unknown;
    [Symbol.iterator]?: unknown;
  };
  if (typeof s.pipe === 'function' || typeof s.getReader === 'function') return false;
  if (typeof s[Symbol.asyncIterator] === 'function') return false;
  if (Array.isArray(body)) return true;
  if (typeof s[Symbol.iterator] === 'function') return false;
  const proto = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}
