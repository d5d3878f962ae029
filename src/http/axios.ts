/**
 * axios: attach Maskinporten authorization to an instance with request and response interceptors. Returns a
 * function that detaches them. On a 401 — whether the instance's `validateStatus` makes it an error or not — the
 * request is resent once with a fresh token when its body can be replayed and the request that got the 401 carried
 * the token; in Node, `Authorization` is removed when a redirect leaves the origin.
 */
import type { MaskinportenClient } from '../client.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';
import { originOf } from './origin.ts';

/** The parts of an axios request config the adapter uses. */
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
// biome-ignore lint/suspicious/noExplicitAny: see above — the adapter checks what it reads at run time
type InterceptorCallback = (value: any) => any;

/** The parts of an axios instance the adapter uses. */
export interface AxiosLikeInstance {
  interceptors: {
    request: { use(onFulfilled: InterceptorCallback): number; eject(id: number): void };
    response: {
      use(onFulfilled: InterceptorCallback, onRejected: InterceptorCallback): number;
      eject(id: number): void;
    };
  };
  // biome-ignore lint/suspicious/noExplicitAny: axios's getUri takes its own config type
  getUri(config?: any): string;
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

function isReplayable(data: unknown): boolean {
  if (data === undefined || data === null || typeof data === 'string') return true;
  if (data instanceof Uint8Array || data instanceof ArrayBuffer || data instanceof URLSearchParams) return true;
  if (typeof FormData !== 'undefined' && data instanceof FormData) return true;
  // Streams (anything with pipe or getReader) can be sent once only.
  const d = data as { pipe?: unknown; getReader?: unknown };
  return typeof d.pipe !== 'function' && typeof d.getReader !== 'function';
}

/**
 * Authorizes every request of an axios instance; returns a function that detaches the interceptors.
 *
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.no' });
 * const detach = attachToAxios(api, client, { scopes: ['example:read'] });
 */
export function attachToAxios(
  instance: AxiosLikeInstance,
  client: MaskinportenClient,
  options: AuthorizationOptions,
): () => void {
  const authorizer = new Authorizer(client, options, 'attachToAxios');
  const requestId = instance.interceptors.request.use(async (config: AxiosLikeConfig) => {
    const url = instance.getUri(config);
    const ours = config._maskinporten !== undefined;
    if (!authorizer.mayAuthorize(url)) return config;
    if (!ours && getHeader(config.headers, 'authorization') !== undefined && !authorizer.overwrite) return config;
    const token = await authorizer.token(config.maskinporten);
    setHeader(config, 'Authorization', token.authorizationHeader);
    config._maskinporten ??= {};
    const origin = originOf(url);
    const previous = config.beforeRedirect;
    config.beforeRedirect = (redirectOptions, response, request) => {
      const href = typeof redirectOptions.href === 'string' ? redirectOptions.href : undefined;
      if (href && (originOf(href) !== origin || !authorizer.mayAuthorize(href))) {
        const headers = redirectOptions.headers as Record<string, unknown> | undefined;
        if (headers) for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
      }
      previous?.(redirectOptions, response, request);
    };
    return config;
  });

  /** The token a 401 should be refreshed for, or undefined when the 401 is not ours to handle. */
  const staleToken = (response: AxiosLikeResponse | undefined): string | undefined => {
    const config = response?.config;
    if (response?.status !== 401 || !config?._maskinporten || config._maskinporten.retried) return undefined;
    if (!isReplayable(config.data)) return undefined;
    // In Node the last hop's request tells whether it carried the token (a redirect may have dropped it).
    const last = response.request as { getHeader?: (name: string) => unknown } | undefined;
    if (typeof last?.getHeader === 'function' && last.getHeader('authorization') === undefined) return undefined;
    const header = getHeader(config.headers, 'authorization');
    return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
  };
  const resend = async (config: AxiosLikeConfig, used: string): Promise<unknown> => {
    const fresh = await authorizer.refreshAfter401(used, config.maskinporten);
    config._maskinporten = { retried: true };
    setHeader(config, 'Authorization', fresh.authorizationHeader);
    return instance.request(config);
  };
  const responseId = instance.interceptors.response.use(
    (response: AxiosLikeResponse) => {
      const used = staleToken(response);
      return used === undefined ? response : resend(response.config!, used);
    },
    async (error: { response?: AxiosLikeResponse; config?: AxiosLikeConfig }) => {
      const used = staleToken(error.response);
      if (used === undefined || !error.config) throw error;
      return resend(error.config, used);
    },
  );
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
