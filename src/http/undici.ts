/**
 * An undici interceptor for `Agent#compose(...)` (usable as the global dispatcher): authorizes each request to an
 * allowed origin with a Maskinporten or Altinn token, and on a 401 from that origin refreshes the token and
 * re-dispatches once when the body can be replayed (a string, bytes, an undici FormData or a Blob; not a stream or
 * iterable — and undici's `fetch()` always dispatches its body as a stream, so through `fetch()` only bodiless
 * requests are resent). Per-request overrides go in the dispatch options as `maskinporten`.
 *
 * A dispatcher sees every request made through it — as the global dispatcher, every `fetch` of the process — so the
 * interceptor must be told which origins may have the token (`allowedOrigins`, or a `baseUrl`) and refuses to be
 * created without them. That list is the whole defence: `fetch()` follows redirects above the dispatcher and
 * dispatches each hop afresh, and no memory of earlier hops can tell a redirect's target from a request of its own.
 *
 * Composition order: `agent.compose(interceptors.redirect(), maskinportenInterceptor(client, …))` — the Maskinporten
 * interceptor last (outermost), so it adds the token once and undici's redirect handling, which drops
 * `Authorization` when a redirect leaves the origin, runs inside it.
 */
import type { MaskinportenClient } from '../client.ts';
import { ArgumentError } from '../errors.ts';
import type { AccessToken } from '../token.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';
import { isReplayableBody } from './redirect-rules.ts';

/**
 * The parts of undici's dispatch options the interceptor reads.
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatchercomposeinterceptors-interceptor
 */
export interface DispatchOptions {
  origin?: string | URL;
  path: string;
  method?: string;
  headers?: unknown;
  body?: unknown;
  /** Per-request token overrides. */
  maskinporten?: RequestOverrides;
  [key: string]: unknown;
}

/**
 * undici's controller (new handler API).
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatchercomposeinterceptors-interceptor
 */
export interface DispatchController {
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: Error | null;
  /**
   * Aborts the request.
   *
   * @param reason - Why.
   */
  abort(reason: Error): void;
  /** Stops reading the body (back-pressure). */
  pause(): void;
  /** Resumes reading the body. */
  resume(): void;
  rawHeaders?: unknown;
  rawTrailers?: unknown;
}

/**
 * undici's handler (new handler API).
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatchercomposeinterceptors-interceptor
 */
export interface DispatchHandler {
  /**
   * The request is about to be sent.
   *
   * @param controller - Aborts, pauses and resumes the request.
   * @param context - undici's request context.
   */
  onRequestStart?(controller: DispatchController, context: unknown): void;
  /**
   * The server switched protocols.
   *
   * @param controller - The request's controller.
   * @param statusCode - `101`.
   * @param headers - The response headers.
   * @param socket - The upgraded socket.
   */
  onRequestUpgrade?(controller: DispatchController, statusCode: number, headers: unknown, socket: unknown): void;
  /**
   * The status line and headers arrived.
   *
   * @param controller - The request's controller.
   * @param statusCode - The HTTP status.
   * @param headers - The response headers.
   * @param statusMessage - The reason phrase, if any.
   */
  onResponseStart?(controller: DispatchController, statusCode: number, headers: unknown, statusMessage?: string): void;
  /**
   * A chunk of the body arrived.
   *
   * @param controller - The request's controller.
   * @param chunk - The bytes.
   */
  onResponseData?(controller: DispatchController, chunk: Buffer): void;
  /**
   * The body ended.
   *
   * @param controller - The request's controller.
   * @param trailers - The trailers, if any.
   */
  onResponseEnd?(controller: DispatchController, trailers: unknown): void;
  /**
   * The request failed.
   *
   * @param controller - The request's controller.
   * @param error - What failed.
   */
  onResponseError?(controller: DispatchController, error: Error): void;
  /**
   * The legacy handler API's error callback (the handler of Node's bundled `fetch`, for one).
   *
   * @param error - What failed.
   */
  onError?(error: Error): void;
  [key: string]: unknown;
}

/**
 * Hands `error` to `handler` through the callback it has: `onResponseError` (the handler API of undici 7 and 8) or,
 * for a handler of the legacy API — such as the one Node's bundled `fetch` passes to a dispatcher of another undici
 * major — `onError`. An error given to a callback the handler lacks is lost, and the caller waits for ever.
 */
function deliverError(handler: DispatchHandler, controller: DispatchController, error: Error): void {
  if (typeof handler.onResponseError === 'function') handler.onResponseError(controller, error);
  else if (typeof handler.onError === 'function') handler.onError(error);
}

/**
 * undici's dispatch function.
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatchercomposeinterceptors-interceptor
 */
export type Dispatch = (options: DispatchOptions, handler: DispatchHandler) => boolean;

/**
 * The interceptor, typed so that it fits `Dispatcher#compose` of any undici version without depending on undici's
 * types: it takes the next dispatch function and returns one of the same type.
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatchercomposeinterceptors-interceptor
 */
export type MaskinportenInterceptor = <D extends (options: never, handler: never) => boolean>(dispatch: D) => D;

/** Adds a header to a lower-case record; a repeated name collects its values. */
function addHeader(out: Record<string, string | string[]>, name: unknown, value: unknown): void {
  if (value === undefined || value === null) return;
  const key = String(name).toLowerCase();
  const v = Array.isArray(value) ? value.map(String) : String(value);
  const prev = out[key];
  out[key] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(v) ? v : [v])];
}

/** Headers as a plain lower-case record, from any form undici accepts (object, flat array, pairs, iterable). */
function headerRecord(headers: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!headers) return out;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) addHeader(out, pair[0], pair[1]);
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) addHeader(out, headers[i], headers[i + 1]);
    }
    return out;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string]>) addHeader(out, k, v);
    return out;
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) addHeader(out, k, v);
  return out;
}

/** The request's signal when it is an AbortSignal (undici also takes an EventEmitter, which it watches itself). */
function abortSignalOf(signal: unknown): AbortSignal | undefined {
  return signal instanceof AbortSignal ? signal : undefined;
}

/** Forwards to the handler through whichever controller is current, across a re-dispatch. */
class ControllerProxy implements DispatchController {
  target!: DispatchController;
  get aborted() {
    return this.target.aborted;
  }
  get paused() {
    return this.target.paused;
  }
  get reason() {
    return this.target.reason;
  }
  get rawHeaders() {
    return this.target.rawHeaders;
  }
  get rawTrailers() {
    return this.target.rawTrailers;
  }
  abort(reason: Error) {
    this.target.abort(reason);
  }
  pause() {
    this.target.pause();
  }
  resume() {
    this.target.resume();
  }
}

const idleController: DispatchController = {
  aborted: false,
  paused: false,
  reason: null,
  abort: () => undefined,
  pause: () => undefined,
  resume: () => undefined,
};

/** What an {@link AuthorizingHandler} needs to know of its request and interceptor. */
interface AuthorizedRequest {
  /** The URL the token was sent to. */
  url: URL;
}

class AuthorizingHandler implements DispatchHandler {
  [key: string]: unknown;
  readonly #handler: DispatchHandler;
  readonly #request: AuthorizedRequest;
  readonly #proxy = new ControllerProxy();
  #retry: ((used: AccessToken) => void) | undefined;
  #token: AccessToken;
  #started = false;
  #swallowing = false;
  /** The redirect interceptor's list of the URLs requested so far (its last one answered), when it runs inside. */
  #history: readonly URL[] | undefined;

  constructor(
    handler: DispatchHandler,
    request: AuthorizedRequest,
    token: AccessToken,
    retry: ((used: AccessToken) => void) | undefined,
  ) {
    this.#handler = handler;
    this.#request = request;
    this.#token = token;
    this.#retry = retry;
    this.#proxy.target = idleController;
  }

  onRequestStart(controller: DispatchController, context: unknown) {
    this.#proxy.target = controller;
    const history = (context as { history?: unknown } | null | undefined)?.history;
    this.#history = Array.isArray(history) ? (history as URL[]) : undefined;
    if (!this.#started) {
      this.#started = true;
      this.#handler.onRequestStart?.(this.#proxy, context);
    }
  }
  onRequestUpgrade(controller: DispatchController, statusCode: number, headers: unknown, socket: unknown) {
    this.#proxy.target = controller;
    this.#handler.onRequestUpgrade?.(this.#proxy, statusCode, headers, socket);
  }
  onResponseStart(controller: DispatchController, statusCode: number, headers: unknown, statusMessage?: string) {
    this.#proxy.target = controller;
    // The URL that answered: the last one the redirect interceptor requested, or ours.
    const last = this.#history?.at(-1);
    const answeredBy = last instanceof URL ? last : this.#request.url;
    const fromTokenOrigin = answeredBy.origin === this.#request.url.origin;
    if (statusCode === 401 && this.#retry && fromTokenOrigin) {
      this.#swallowing = true;
      return;
    }
    this.#handler.onResponseStart?.(this.#proxy, statusCode, headers, statusMessage);
  }
  onResponseData(_controller: DispatchController, chunk: Buffer) {
    if (this.#swallowing) return;
    this.#handler.onResponseData?.(this.#proxy, chunk);
  }
  onResponseEnd(_controller: DispatchController, trailers: unknown) {
    if (this.#swallowing) {
      this.#swallowing = false;
      this.#retry!(this.#token);
      return;
    }
    this.#handler.onResponseEnd?.(this.#proxy, trailers);
  }
  onResponseError(_controller: DispatchController, error: Error) {
    deliverError(this.#handler, this.#proxy, error);
  }

  /** Switches to the resend: the fresh token, and no further retry. */
  resending(token: AccessToken): this {
    this.#token = token;
    this.#retry = undefined;
    return this;
  }

  get proxy(): DispatchController {
    return this.#proxy;
  }
}

/**
 * Creates the interceptor: requests to the allowed origins carry a token, and a 401 from one is retried once with a
 * fresh token. Works with undici 7 and 8 and with Node's bundled fetch through a global dispatcher.
 *
 * @param client - The client the tokens come from.
 * @param options - `scopes` or `request`, `altinn`, and `allowedOrigins` (required: a dispatcher sees every request).
 * @returns An interceptor for `dispatcher.compose(…)`.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` when the first argument is not a client, when both `scopes` and
 *   `request` (or neither) are given, or when no origin may receive the token (`allowedOrigins` is needed).
 *
 * @example
 * import { Agent, interceptors, setGlobalDispatcher } from 'undici';
 * const authorize = maskinportenInterceptor(client, { scopes, allowedOrigins: ['https://api.example.no'] });
 * setGlobalDispatcher(new Agent().compose(interceptors.redirect(), authorize));
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatchercomposeinterceptors-interceptor
 */
export function maskinportenInterceptor(
  client: MaskinportenClient,
  options: AuthorizationOptions,
): MaskinportenInterceptor {
  const authorizer = new Authorizer(client, options, 'maskinportenInterceptor', {
    required:
      'a dispatcher sees every request made through it (as the global dispatcher, every fetch of the process), and only this list keeps the token from other hosts',
  });
  const interceptor =
    (dispatch: Dispatch): Dispatch =>
    (opts, handler) => {
      // A handler of the legacy API reaches us only when nothing wrapped it: Node's bundled fetch (undici 7) with a
      // dispatcher of undici 8, which dropped the wrapping. Every answer given to it through the new API would be
      // lost and the caller would wait until its timeout, so the dispatch fails at once, as undici 8's own does.
      if (typeof handler?.onRequestStart !== 'function') {
        throw new ArgumentError(
          "maskinportenInterceptor: the request's handler uses undici's legacy handler API (onConnect/onHeaders/onError), which this dispatcher's undici no longer wraps; with Node's bundled fetch use a dispatcher of the same undici major (undici 7), or call undici's own fetch",
          { setting: 'dispatcher' },
        );
      }
      const { maskinporten: overrides, ...rest } = opts;
      const origin = typeof rest.origin === 'string' ? rest.origin : rest.origin?.toString();
      const url = origin ? URL.parse(rest.path, origin) : null;
      if (url === null || !authorizer.mayAuthorize(url)) return dispatch(rest, handler);
      const headers = headerRecord(rest.headers);
      if (headers.authorization !== undefined && !authorizer.overwrite) return dispatch(rest, handler);
      const withToken = (token: AccessToken): DispatchOptions => ({
        ...rest,
        headers: { ...headers, authorization: token.authorizationHeader },
      });
      const fail = (err: unknown, controller: DispatchController) =>
        deliverError(handler, controller, err instanceof Error ? err : new Error(String(err)));
      // Past this point dispatching happens in a promise callback: a throw must reach the handler, not get lost.
      const send = (options: DispatchOptions, to: AuthorizingHandler) => {
        try {
          dispatch(options, to);
        } catch (err) {
          fail(err, to.proxy);
        }
      };
      const request: AuthorizedRequest = { url };
      const signal = abortSignalOf(rest.signal);
      authorizer.token(overrides, signal).then(
        (token) => {
          let wrapped: AuthorizingHandler;
          const retry = isReplayableBody(rest.body)
            ? (used: AccessToken) => {
                authorizer.refreshAfter401(used, overrides, signal).then(
                  (fresh) => send(withToken(fresh), wrapped.resending(fresh)),
                  (err: unknown) => fail(err, wrapped.proxy),
                );
              }
            : undefined;
          wrapped = new AuthorizingHandler(handler, request, token, retry);
          send(withToken(token), wrapped);
        },
        (err: unknown) => fail(err, idleController),
      );
      return true;
    };
  return interceptor as unknown as MaskinportenInterceptor;
}
