/**
 * ky (1 and 2): hooks that authorize requests (`beforeRequest`), and on a 401 force one retry (`afterResponse` with
 * `ky.retry`) that carries a fresh token (`beforeRetry`). ky keeps a copy of the body for retries; a stream body
 * is not resent. Per-request overrides go in ky's `context` as `maskinporten`.
 *
 * Tokens go only to the instance's prefix origin (ky 1 `prefixUrl`, ky 2 `prefix` or `baseUrl`) and
 * `allowedOrigins`; an instance without a prefix sends requests anywhere, so it needs `allowedOrigins`. Once a
 * request is answered, the token is masked in ky's `Request` objects, so a printed `HTTPError` shows no token.
 *
 * The forced retry is one of ky's retries, so it needs ky's retry limit ≥ 1 (the default is 2); with `retry: 0` a
 * 401 is handed back as it is. A 401 answered by another origin after a redirect (fetch has dropped the token by
 * then) is handed back too. ky 1 calls hooks with positional arguments, ky 2 with one state object; both are read.
 */
import type { MaskinportenClient } from '../client.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';
import { maskSecretIn } from './mask.ts';
import { answeredByOtherOrigin } from './redirect-rules.ts';

/**
 * What the hooks need of a ky instance: `extend` (to read its prefix) and the `retry` marker (of type `M`).
 * @see https://github.com/sindresorhus/ky#hooks
 */
export interface KyLike<M = unknown> {
  /**
   * ky's `extend`: a new instance with more options.
   *
   * @param options - Options, or a function of the parent's options.
   * @returns The new instance.
   */
  // biome-ignore lint/suspicious/noExplicitAny: options, or a function of the parent's options (ky types both its own way)
  extend(options: any): KyLike<M>;
  /**
   * ky's `retry` marker: returned from an `afterResponse` hook, it makes ky retry the request.
   *
   * @param options - A retry `code` and `delay`.
   * @returns The marker.
   */
  retry(options?: { code?: string; delay?: number }): M;
}

interface HookOptions {
  context?: Record<string, unknown>;
  body?: unknown;
}

/** A hook call of either ky major, read into one shape. */
interface HookCall {
  request: Request;
  options: HookOptions;
  response?: Response;
  error?: unknown;
  retryCount: number;
}

/** ky 2 passes one state object; ky 1 passes `(request, options, response?, { retryCount })` or `(error, …)`. */
function readHookCall(args: unknown[]): HookCall {
  const [first, second, third, fourth] = args as [unknown, unknown, unknown, unknown];
  if (first instanceof Request) {
    const response = third instanceof Response ? third : undefined;
    const state = (response ? fourth : third) as { retryCount?: number } | undefined;
    return { request: first, options: second as HookOptions, response, retryCount: state?.retryCount ?? 0 };
  }
  const state = first as HookCall;
  return { ...state, retryCount: state.retryCount ?? 0 };
}

/** The overrides in ky's context, if any. */
function overridesOf(o: HookOptions): RequestOverrides | undefined {
  const value = o.context?.maskinporten;
  return value !== null && typeof value === 'object' ? (value as RequestOverrides) : undefined;
}

/**
 * A ky hook of either major's signature (ky 1 passes arguments, ky 2 a state object).
 * @see https://github.com/sindresorhus/ky#hooks
 */
// biome-ignore lint/suspicious/noExplicitAny: ky 1 and ky 2 type their hooks' arguments differently
export type AnyHook<R> = (...args: any[]) => R;

/**
 * The hooks, typed to fit the `Hooks` of ky 1 and ky 2 (`M` is ky's retry marker).
 * @see https://github.com/sindresorhus/ky#hooks
 */
export interface MaskinportenKyHooks<M = unknown> {
  beforeRequest: AnyHook<Promise<void>>[];
  afterResponse: AnyHook<Promise<M | undefined>>[];
  beforeRetry: AnyHook<void>[];
  beforeError: AnyHook<Error>[];
}

const RETRY_CODE = 'MASKINPORTEN_TOKEN_REFRESHED';

/** The base URLs an instance was made with: ky 1's `prefixUrl`, ky 2's `prefix` and `baseUrl`. */
function kyBaseUrls(ky: KyLike<unknown>): { option: string; url: unknown }[] {
  let parent: Record<string, unknown> = {};
  try {
    ky.extend((p: Record<string, unknown> | undefined) => {
      parent = p ?? {};
      return {};
    });
  } catch {
    // an instance that cannot tell its defaults: allowedOrigins decides alone
  }
  return ['prefixUrl', 'prefix', 'baseUrl'].map((name) => ({ option: `the instance’s ${name}`, url: parent[name] }));
}

/**
 * Returns a ky instance (extended from `ky`) whose requests carry Maskinporten or Altinn tokens; a 401 from an
 * authorised origin is retried once (one of ky's retries) with a fresh token.
 *
 * @param ky - The instance to extend (ky 1 or 2).
 * @param client - The client the tokens come from.
 * @param options - `scopes` or `request`, `altinn`, and `allowedOrigins` (the instance's prefix origin by default).
 * @returns The extended instance, of the same type.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` when the first argument is not a client, when both `scopes` and
 *   `request` (or neither) are given, or when no origin may receive the token (`allowedOrigins` is needed).
 *
 * @example
 * import ky from 'ky';
 * const api = withMaskinporten(ky.create({ prefix: 'https://api.example.no' }), client, { scopes: ['example:read'] });
 * const body = await api.get('things').json();
 * @see https://github.com/sindresorhus/ky#hooks
 */
export function withMaskinporten<T extends KyLike<unknown>>(
  ky: T,
  client: MaskinportenClient,
  options: AuthorizationOptions,
): T {
  return ky.extend({ hooks: maskinportenKyHooks(ky, client, options) }) as T;
}

/**
 * The hooks themselves, for composing with other hooks. They run in the order ky runs hooks.
 *
 * @param ky - The instance the hooks will serve (its prefix decides the default origin; its `retry` marker is used).
 * @param client - The client the tokens come from.
 * @param options - As for {@link withMaskinporten}.
 * @returns `beforeRequest`, `afterResponse` and `beforeError` hooks.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` when the first argument is not a client, when both `scopes` and
 *   `request` (or neither) are given, or when no origin may receive the token (`allowedOrigins` is needed).
 * @see https://github.com/sindresorhus/ky#hooks
 */
export function maskinportenKyHooks<M>(
  ky: KyLike<M>,
  client: MaskinportenClient,
  options: AuthorizationOptions,
): MaskinportenKyHooks<M> {
  const authorizer = new Authorizer(client, options, 'withMaskinporten', {
    required: 'a ky instance without a prefix sends requests to any host',
    derivedFrom: kyBaseUrls(ky as KyLike<unknown>),
  });
  // Which requests got a token from us, by ky's options object: the token set, and the Request objects that carry
  // it (masked once answered). A retry is refreshed only for these.
  const ours = new WeakMap<object, { token: string; requests: Set<Request> }>();
  const mask = (o: HookOptions | undefined, ...requests: unknown[]) => {
    const entry = o === undefined ? undefined : ours.get(o);
    if (entry) maskSecretIn([...entry.requests, ...requests], entry.token);
  };
  return {
    beforeRequest: [
      async (...args) => {
        const { request, options: o } = readHookCall(args);
        if (!authorizer.mayAuthorize(request.url)) return;
        if (request.headers.has('authorization') && !authorizer.overwrite) return;
        const token = await authorizer.token(overridesOf(o), request.signal);
        request.headers.set('authorization', token.authorizationHeader);
        ours.set(o, { token: token.value, requests: new Set([request]) });
        // A timeout (ky 1 throws its TimeoutError without calling beforeError) or an abort ends the request: the
        // error holds this Request, so mask it then.
        request.signal?.addEventListener('abort', () => maskSecretIn([request], token.value), { once: true });
      },
    ],
    afterResponse: [
      async (...args) => {
        const { request, response, options: o, retryCount } = readHookCall(args);
        const entry = ours.get(o);
        if (entry === undefined) return undefined;
        entry.requests.add(request);
        const stale =
          response?.status === 401 &&
          retryCount === 0 &&
          !(o.body instanceof ReadableStream) &&
          !answeredByOtherOrigin(request.url, response.url);
        if (!stale) {
          mask(o);
          return undefined;
        }
        const fresh = await authorizer.refreshAfter401(entry.token, overridesOf(o), request.signal);
        ours.set(o, { token: fresh.value, requests: entry.requests });
        return ky.retry({ code: RETRY_CODE, delay: 0 });
      },
    ],
    beforeRetry: [
      (...args) => {
        const { request, options: o } = readHookCall(args);
        const entry = ours.get(o);
        if (entry !== undefined && authorizer.mayAuthorize(request.url)) {
          request.headers.set('authorization', `Bearer ${entry.token}`);
          entry.requests.add(request);
        }
      },
    ],
    beforeError: [
      (...args) => {
        // ky 1: (error, { retryCount }); ky 2: ({ request, options, error, retryCount }).
        const first = args[0] as { request?: unknown; options?: HookOptions; error?: unknown };
        const error = (first instanceof Error ? first : first?.error) as Error & {
          request?: unknown;
          options?: HookOptions;
        };
        const state = first instanceof Error ? undefined : first;
        mask(state?.options ?? error?.options, state?.request, error?.request);
        return error;
      },
    ],
  };
}
