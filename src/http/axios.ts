/**
 * axios: attach Maskinporten authorization to an instance with request and response interceptors. Returns a
 * function that detaches them. Tokens go only to the instance's `baseURL` origin and `allowedOrigins`; an instance
 * without `baseURL` (axios's default instance too) sends requests anywhere, so it needs `allowedOrigins`. On a 401
 * — whether the instance's `validateStatus` makes it an error or not — the request is resent once with a fresh
 * token when its body can be replayed and the request that got the 401 carried the token. In Node a redirect that
 * leaves the origin loses every credential fetch would drop. Once a request is done, the token is masked in what
 * axios keeps of it (config, `error.request`), so printing a response or an error shows no token.
 */
import type { MaskinportenClient } from '../client.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';
import { maskSecretIn } from './mask.ts';
import { isReplayableBody, stripCrossOriginHeaders, tokenMayFollow } from './redirect-rules.ts';

/**
 * The parts of an axios request config the adapter uses.
 * @see https://axios-http.com/docs/interceptors
 */
export interface AxiosLikeConfig {
  url?: string;
  baseURL?: string;
  data?: unknown;
  headers?: unknown;
  beforeRedirect?: (options: Record<string, unknown>, response: unknown, request?: unknown) => void;
  /** Per-request token overrides. */
  maskinporten?: RequestOverrides;
  /**
   * The adapter's mark on a request it authorized (a string key, so that it survives axios merging the config again
   * for the resend after a 401). Holds no token.
   */
  _maskinporten?: { retried?: boolean };
  [key: string]: unknown;
}

/**
 * An interceptor callback as the instance sees it. axios types its callbacks with its own config and response
 * types, which vary between versions; `any` keeps every `AxiosInstance` assignable without importing axios.
 */
/** A request or response interceptor as axios calls it. @see https://axios-http.com/docs/interceptors */
// biome-ignore lint/suspicious/noExplicitAny: see above — the adapter checks what it reads at run time
export type InterceptorCallback = (value: any) => any;

/**
 * The parts of an axios instance the adapter uses.
 * @see https://axios-http.com/docs/interceptors
 */
export interface AxiosLikeInstance {
  /** The instance's defaults: its `baseURL` origin may receive the token. */
  defaults?: { baseURL?: string | undefined };
  interceptors: {
    request: { use(onFulfilled: InterceptorCallback): number; eject(id: number): void };
    response: {
      use(onFulfilled: InterceptorCallback, onRejected: InterceptorCallback): number;
      eject(id: number): void;
    };
  };
  /**
   * axios's `getUri`: the full URL of a request config (base URL, path and params).
   *
   * @param config - A request config.
   * @returns The absolute URL, which decides whether the token may go there.
   */
  // biome-ignore lint/suspicious/noExplicitAny: axios's getUri takes its own config type
  getUri(config?: any): string;
  /**
   * axios's `request`, used to resend a request once after a 401.
   *
   * @param config - The request config to send.
   * @returns axios's response.
   */
  // biome-ignore lint/suspicious/noExplicitAny: axios's request takes its own config type
  request(config: any): Promise<unknown>;
}

/** The parts of an axios response (or of an error's `response`) the adapter reads. */
interface AxiosLikeResponse {
  status?: number;
  config?: AxiosLikeConfig;
  /** In Node, the `http.ClientRequest` of the last hop. */
  request?: unknown;
}

interface HeadersLike {
  get?(name: string): unknown;
  set?(name: string, value: string): void;
  delete?(name: string): void;
  [name: string]: unknown;
}

function getHeader(headers: unknown, name: string): unknown {
  const h = headers as HeadersLike | undefined;
  if (!h) return undefined;
  if (typeof h.get === 'function') return h.get(name);
  const key = Object.keys(h).find((k) => k.toLowerCase() === name);
  return key ? h[key] : undefined;
}

function setHeader(config: AxiosLikeConfig, name: string, value: string): void {
  config.headers ??= {};
  const h = config.headers as HeadersLike;
  if (typeof h.set === 'function') h.set(name, value);
  else h[name] = value;
}

/**
 * Authorizes every request of an axios instance: a request and a response interceptor attach a token to requests
 * for the authorised origins and resend once after a 401 with a fresh token.
 *
 * @param instance - The axios instance (from `axios.create`, or `axios` itself with `allowedOrigins`).
 * @param client - The client the tokens come from.
 * @param options - `scopes` or `request`, `altinn`, and `allowedOrigins` (the instance's `baseURL` origin by default).
 * @returns A function that detaches the interceptors.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` when the first argument is not a client, when both `scopes` and
 *   `request` (or neither) are given, or when no origin may receive the token (`allowedOrigins` is needed).
 *
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.no' });
 * const detach = attachToAxios(api, client, { scopes: ['example:read'] });
 * @see https://axios-http.com/docs/interceptors
 */
export function attachToAxios(
  instance: AxiosLikeInstance,
  client: MaskinportenClient,
  options: AuthorizationOptions,
): () => void {
  const authorizer = new Authorizer(client, options, 'attachToAxios', {
    required: 'an axios instance without baseURL (axios’s default instance too) sends requests to any host',
    derivedFrom: [{ option: 'the instance’s baseURL', url: instance.defaults?.baseURL }],
  });
  const mayAuthorize = (u: URL) => authorizer.mayAuthorize(u);
  /** The token each authorized request config carries (the config object axios hands back with its answer). */
  const sent = new WeakMap<object, string>();
  const requestId = instance.interceptors.request.use(async (config: AxiosLikeConfig) => {
    const url = instance.getUri(config);
    const ours = config._maskinporten !== undefined;
    if (!authorizer.mayAuthorize(url)) return config;
    if (!ours && getHeader(config.headers, 'authorization') !== undefined && !authorizer.overwrite) return config;
    const signal = config.signal instanceof AbortSignal ? config.signal : undefined;
    const token = await authorizer.token(config.maskinporten, signal);
    setHeader(config, 'Authorization', token.authorizationHeader);
    sent.set(config, token.value);
    config._maskinporten ??= {};
    const origin = new URL(url);
    const previous = config.beforeRedirect;
    config.beforeRedirect = (redirectOptions, response, request) => {
      const next = typeof redirectOptions.href === 'string' ? URL.parse(redirectOptions.href) : null;
      const headers = redirectOptions.headers as Record<string, unknown> | undefined;
      if (headers && (next === null || !tokenMayFollow(origin, next, mayAuthorize))) stripCrossOriginHeaders(headers);
      previous?.(redirectOptions, response, request);
    };
    return config;
  });

  /** The token a 401 should be refreshed for, or undefined when the 401 is not ours to handle. */
  const staleToken = (response: AxiosLikeResponse | undefined): string | undefined => {
    const config = response?.config;
    if (response?.status !== 401 || !config?._maskinporten || config._maskinporten.retried) return undefined;
    if (!isReplayableBody(config.data)) return undefined;
    // In Node the last hop's request tells whether it carried the token (a redirect may have dropped it).
    const last = response.request as { getHeader?: (name: string) => unknown } | undefined;
    if (typeof last?.getHeader === 'function' && last.getHeader('authorization') === undefined) return undefined;
    return sent.get(config);
  };
  /** Masks the token in what axios keeps of a finished request. */
  const mask = (config: AxiosLikeConfig | undefined, ...requests: unknown[]) => {
    const token = config === undefined ? undefined : sent.get(config);
    if (token !== undefined) maskSecretIn([config, ...requests], token);
  };
  const resend = async (config: AxiosLikeConfig, used: string): Promise<unknown> => {
    const signal = config.signal instanceof AbortSignal ? config.signal : undefined;
    const fresh = await authorizer.refreshAfter401(used, config.maskinporten, signal);
    config._maskinporten = { retried: true };
    setHeader(config, 'Authorization', fresh.authorizationHeader);
    return instance.request(config);
  };
  const responseId = instance.interceptors.response.use(
    (response: AxiosLikeResponse) => {
      const used = staleToken(response);
      if (used !== undefined) return resend(response.config!, used);
      mask(response.config, response.request);
      return response;
    },
    async (error: { response?: AxiosLikeResponse; config?: AxiosLikeConfig; request?: unknown }) => {
      const used = staleToken(error?.response);
      if (used === undefined || !error.config) {
        if (error !== null && typeof error === 'object') mask(error.config, error.request, error.response?.request);
        throw error;
      }
      return resend(error.config, used);
    },
  );
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
