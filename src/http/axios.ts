/**
 * axios: attach Maskinporten authorization to an instance with request and response interceptors. Returns a
 * function that detaches them. On a 401 the request is resent once with a fresh token when its body can be
 * replayed; in Node, `Authorization` is removed when a redirect leaves the origin.
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
  [key: string]: unknown;
}

/** The parts of an axios instance the adapter uses. */
export interface AxiosLikeInstance {
  interceptors: {
    request: { use(onFulfilled: (config: never) => unknown): number; eject(id: number): void };
    response: { use(onFulfilled: undefined, onRejected: (error: never) => unknown): number; eject(id: number): void };
  };
  getUri(config?: unknown): string;
  request(config: unknown): Promise<unknown>;
}

const TOKEN = Symbol('maskinporten.token');
const RETRIED = Symbol('maskinporten.retried');

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
  const h = (config.headers ??= {}) as HeadersLike;
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
  const requestId = instance.interceptors.request.use((async (config: AxiosLikeConfig & { [TOKEN]?: string }) => {
    const url = instance.getUri(config);
    const ours = config[TOKEN] !== undefined;
    if (!authorizer.mayAuthorize(url)) return config;
    if (!ours && getHeader(config.headers, 'authorization') !== undefined && !authorizer.overwrite) return config;
    const token = await authorizer.token(config.maskinporten);
    setHeader(config, 'Authorization', token.authorizationHeader);
    config[TOKEN] = token.value;
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
  }) as never);
  const responseId = instance.interceptors.response.use(undefined, (async (error: {
    response?: { status?: number };
    config?: AxiosLikeConfig & { [TOKEN]?: string; [RETRIED]?: boolean };
  }) => {
    const config = error.config;
    if (
      error.response?.status !== 401 ||
      !config ||
      config[RETRIED] ||
      config[TOKEN] === undefined ||
      !isReplayable(config.data)
    ) {
      throw error;
    }
    config[RETRIED] = true;
    const fresh = await authorizer.refreshAfter401(config[TOKEN], config.maskinporten);
    setHeader(config, 'Authorization', fresh.authorizationHeader);
    config[TOKEN] = fresh.value;
    return instance.request(config);
  }) as never);
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
