/**
 * openapi-fetch: a middleware that authorizes a typed client's requests with Maskinporten or Altinn tokens. On a
 * 401 from the origin the token was sent to, it refreshes the token (once for a burst of 401s) and resends the
 * request once, with the body kept from before the first send; fetch itself drops `Authorization` when a redirect
 * leaves the origin, and such a 401 is not retried. Typed structurally: openapi-fetch is not imported.
 */
import type { MaskinportenClient } from '../client.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';
import { answeredByOtherOrigin } from './redirect-rules.ts';

/**
 * What openapi-fetch passes to a middleware callback (the parts this one uses).
 * @see https://openapi-ts.dev/openapi-fetch/middleware-auth
 */
export interface OpenApiFetchMiddlewareParams {
  request: Request;
  /** openapi-fetch's client options; their `fetch` sends the resend after a 401. */
  options?: { fetch?: (input: Request) => Promise<Response> };
}

/**
 * An openapi-fetch middleware (`client.use(middleware)`).
 * @see https://openapi-ts.dev/openapi-fetch/middleware-auth
 */
export interface MaskinportenOpenApiMiddleware {
  /**
   * Attaches a token to a request for an authorised origin.
   *
   * @param params - openapi-fetch's request and options.
   * @returns The authorized request, or `undefined` to send the request unchanged.
   */
  onRequest(params: OpenApiFetchMiddlewareParams): Promise<Request | undefined>;
  /**
   * Resends once with a fresh token after a 401 from the origin the token went to.
   *
   * @param params - openapi-fetch's request, options and response.
   * @returns The answer to the resent request, or `undefined` to keep the response.
   */
  onResponse(params: OpenApiFetchMiddlewareParams & { response: Response }): Promise<Response | undefined>;
}

/** What the middleware keeps on a request it authorized: the token used, and a copy to resend. */
interface Sent {
  token: string;
  replay: Request;
  overrides: RequestOverrides | undefined;
}

const SENT = Symbol('maskinporten.sent');
type MarkedRequest = Request & { [SENT]?: Sent; maskinporten?: RequestOverrides };

/**
 * Creates the middleware. Per-request overrides (system user, consumer org, extra scopes, token kind) go in the
 * call's options as `maskinporten`, which openapi-fetch hands on to the request.
 *
 * @param client - The client whose tokens are sent.
 * @param options - `scopes` (or `request`), `altinn` for Altinn-exchanged tokens, `allowedOrigins`/`baseUrl` to
 * limit where tokens go, `overwrite` to replace an `Authorization` the request already has.
 * @returns The middleware, for `client.use(…)`.
 * @throws ArgumentError (`ERR_INVALID_ARGUMENT`) for a missing client or scopes, or an origin that is not a URL.
 * @example
 * const api = createClient<paths>({ baseUrl: 'https://platform.tt02.altinn.no/dialogporten' });
 * api.use(maskinportenMiddleware(client, { scopes: ['digdir:dialogporten.serviceprovider'], altinn: true }));
 * const { data, error } = await api.GET('/api/v1/serviceowner/dialogs/{dialogId}', { params: { path: { dialogId } } });
 * @see https://openapi-ts.dev/openapi-fetch/middleware-auth
 */
export function maskinportenMiddleware(
  client: MaskinportenClient,
  options: AuthorizationOptions,
): MaskinportenOpenApiMiddleware {
  const authorizer = new Authorizer(client, options, 'maskinportenMiddleware');
  return {
    async onRequest({ request }) {
      const marked = request as MarkedRequest;
      if (!authorizer.mayAuthorize(request.url)) return undefined;
      if (request.headers.has('authorization') && !authorizer.overwrite) return undefined;
      const overrides = marked.maskinporten;
      const token = await authorizer.token(overrides, request.signal);
      request.headers.set('authorization', token.authorizationHeader);
      // The body can be read only once: keep a copy for the resend after a 401 (Request.clone tees it).
      marked[SENT] = { token: token.value, replay: request.clone(), overrides };
      return undefined;
    },
    async onResponse({ request, response, options: clientOptions }) {
      const sent = (request as MarkedRequest)[SENT];
      if (response.status !== 401 || sent === undefined) return undefined;
      if (response.redirected && answeredByOtherOrigin(request.url, response.url)) return undefined;
      const fresh = await authorizer.refreshAfter401(sent.token, sent.overrides, request.signal);
      await response.body?.cancel();
      const retry = sent.replay;
      retry.headers.set('authorization', fresh.authorizationHeader);
      const send = clientOptions?.fetch ?? ((r: Request) => globalThis.fetch(r));
      return send(retry);
    },
  };
}
