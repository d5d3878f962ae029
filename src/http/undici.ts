/**
 * An undici interceptor for `Agent#compose(...)` (usable as the global dispatcher): authorizes each request with a
 * Maskinporten or Altinn token, and on a 401 refreshes the token and re-dispatches once when the body can be
 * replayed. Per-request overrides go in the dispatch options as `maskinporten`.
 *
 * Composition order: `agent.compose(interceptors.redirect(), maskinporten(client, …))` — the Maskinporten
 * interceptor last (outermost), so it adds the token once and undici's redirect handling, which drops
 * `Authorization` when a redirect leaves the origin, runs inside it.
 */
import type { MaskinportenClient } from '../client.ts';
import type { AccessToken } from '../token.ts';
import { type AuthorizationOptions, Authorizer, type RequestOverrides } from './authorizer.ts';

/** The parts of undici's dispatch options the interceptor reads. */
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

/** undici's controller (new handler API). */
export interface DispatchController {
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: Error | null;
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  rawHeaders?: unknown;
  rawTrailers?: unknown;
}

/** undici's handler (new handler API). */
export interface DispatchHandler {
  onRequestStart?(controller: DispatchController, context: unknown): void;
  onRequestUpgrade?(controller: DispatchController, statusCode: number, headers: unknown, socket: unknown): void;
  onResponseStart?(controller: DispatchController, statusCode: number, headers: unknown, statusMessage?: string): void;
  onResponseData?(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd?(controller: DispatchController, trailers: unknown): void;
  onResponseError?(controller: DispatchController, error: Error): void;
  [key: string]: unknown;
}

/** undici's dispatch function. */
export type Dispatch = (options: DispatchOptions, handler: DispatchHandler) => boolean;

/** Headers as a plain lower-case record, from any form undici accepts. */
function headerRecord(headers: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!headers) return out;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) out[String(headers[i]).toLowerCase()] = String(headers[i + 1]);
    return out;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string]>) out[String(k).toLowerCase()] = v;
    return out;
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (v !== undefined) out[k.toLowerCase()] = v;
  }
  return out;
}

function isReplayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
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

class AuthorizingHandler implements DispatchHandler {
  [key: string]: unknown;
  readonly #handler: DispatchHandler;
  readonly #proxy = new ControllerProxy();
  #retry: ((used: AccessToken) => void) | undefined;
  #token: AccessToken;
  #started = false;
  #swallowing = false;

  constructor(handler: DispatchHandler, token: AccessToken, retry: ((used: AccessToken) => void) | undefined) {
    this.#handler = handler;
    this.#token = token;
    this.#retry = retry;
  }

  onRequestStart(controller: DispatchController, context: unknown) {
    this.#proxy.target = controller;
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
    if (statusCode === 401 && this.#retry) {
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
    this.#handler.onResponseError?.(this.#proxy, error);
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
 * Creates the interceptor.
 *
 * @example
 * import { Agent, interceptors, setGlobalDispatcher } from 'undici';
 * setGlobalDispatcher(new Agent().compose(interceptors.redirect(), maskinportenInterceptor(client, { scopes })));
 */
export function maskinportenInterceptor(
  client: MaskinportenClient,
  options: AuthorizationOptions,
): (dispatch: Dispatch) => Dispatch {
  const authorizer = new Authorizer(client, options, 'maskinportenInterceptor');
  return (dispatch) => (opts, handler) => {
    const { maskinporten: overrides, ...rest } = opts;
    const origin = typeof rest.origin === 'string' ? rest.origin : rest.origin?.toString();
    const url = origin ? new URL(rest.path, origin) : undefined;
    const headers = headerRecord(rest.headers);
    if (!url || !authorizer.mayAuthorize(url) || (headers.authorization !== undefined && !authorizer.overwrite)) {
      return dispatch(rest, handler);
    }
    const withToken = (token: AccessToken): DispatchOptions => ({
      ...rest,
      headers: { ...headers, authorization: token.authorizationHeader },
    });
    const fail = (err: unknown, controller: DispatchController) =>
      handler.onResponseError?.(controller, err instanceof Error ? err : new Error(String(err)));
    authorizer.token(overrides).then(
      (token) => {
        let wrapped: AuthorizingHandler;
        const retry = isReplayable(rest.body)
          ? (used: AccessToken) => {
              authorizer.refreshAfter401(used, overrides).then(
                (fresh) => dispatch(withToken(fresh), wrapped.resending(fresh)),
                (err: unknown) => fail(err, wrapped.proxy),
              );
            }
          : undefined;
        wrapped = new AuthorizingHandler(handler, token, retry);
        dispatch(withToken(token), wrapped);
      },
      (err: unknown) => fail(err, idleController),
    );
    return true;
  };
}
