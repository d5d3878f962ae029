/**
 * What every HTTP adapter shares: which token a request gets (raw Maskinporten or Altinn, base request plus
 * per-request overrides), whether a request may carry it at all (origin allow-list, an Authorization header already
 * set, never the client's own discovery, token and exchange requests), and the refresh after a 401 that asks the
 * client for a new token only if nobody else has already. Uses only the client's public API.
 */
import type { MaskinportenClient, TokenRequestInput } from '../client.ts';
import { ArgumentError } from '../errors.ts';
import { ALTINN_EXCHANGE_PATH, WELL_KNOWN_PATH } from '../protocol/constants.ts';
import { authorityBase } from '../protocol/discovery.ts';
import type { TokenRequest } from '../protocol/grant.ts';
import type { AccessToken } from '../token.ts';
import { raceSignal } from '../transport/race.ts';

/**
 * Per-request changes to the token request: a system user, a consumer org, extra scopes, or the token kind.
 * @see {@link AuthorizationOptions}
 */
export interface RequestOverrides {
  /** Extra scopes, added to the adapter's. */
  scopes?: readonly string[];
  consumerOrg?: string;
  resource?: string | readonly string[];
  pid?: string;
  systemUser?: { org: string; externalRef?: string };
  consent?: { id: string; from: string };
  /** Use an Altinn-exchanged token (true) or a raw Maskinporten token (false) for this request. */
  altinn?: boolean;
}

/**
 * Options shared by every adapter.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export interface AuthorizationOptions {
  /** Scopes of the token; shorthand for `request: { scopes }`. */
  scopes?: readonly string[] | string;
  /** The full token request (consumer org, resource, system user…). */
  request?: TokenRequest;
  /** Send Altinn-exchanged tokens instead of raw Maskinporten tokens. */
  altinn?: boolean;
  /** Replace an `Authorization` header the request already has; by default such a request is left alone. */
  overwrite?: boolean;
  /**
   * Origins (`https://api.example.no`; a URL's path is ignored) that may receive the token; a request to any other
   * origin is sent without it. Required by the adapters that see requests not aimed at one API (undici's
   * dispatchers, an axios instance without `baseURL`, a ky instance without a prefix); `createFetch` allows every
   * origin it is called with when none are given.
   */
  allowedOrigins?: readonly string[];
  /** A base URL whose origin may receive the token (added to {@link allowedOrigins}). */
  baseUrl?: string | URL;
}

/** How an adapter constrains where its tokens may go. */
export interface OriginPolicy {
  /**
   * Set when the adapter can see requests its user did not aim at one API: then an allow-list is required, and this
   * says why (it ends the error message).
   */
  required?: string;
  /** The base URLs of the instance the adapter is attached to (axios `baseURL`, ky's prefix), set or not. */
  derivedFrom?: readonly { option: string; url: unknown }[];
}

/** Origins from `allowedOrigins`, `baseUrl` and the instance's base URL; each checked, naming the option at fault. */
function allowedOriginsOf(
  adapter: string,
  options: AuthorizationOptions,
  policy: OriginPolicy,
): Set<string> | undefined {
  const bad = (option: string, value: unknown, what: string) =>
    new ArgumentError(
      `${adapter}: ${option} must be ${what}, like 'https://api.example.no', got ${JSON.stringify(String(value))}`,
    );
  const origin = (option: string, value: unknown): string => {
    const url = value instanceof URL ? value : typeof value === 'string' ? URL.parse(value) : null;
    if (url === null) throw bad(option, value, 'an absolute http(s) URL');
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(option, value, 'an http(s) URL');
    return url.origin;
  };
  const given = options.allowedOrigins as unknown;
  if (given !== undefined && (!Array.isArray(given) || given.length === 0)) {
    throw new ArgumentError(
      `${adapter}: options.allowedOrigins must be a non-empty array of origins, like ['https://api.example.no'], got ${JSON.stringify(given)}`,
    );
  }
  const allowed = new Set<string>();
  (given as unknown[] | undefined)?.forEach((o, i) => {
    allowed.add(origin(`options.allowedOrigins[${i}]`, o));
  });
  if (options.baseUrl !== undefined) allowed.add(origin('options.baseUrl', options.baseUrl));
  const derived = policy.derivedFrom ?? [];
  for (const { option, url } of derived) {
    if (url !== undefined && url !== null && url !== '') allowed.add(origin(option, url));
  }
  if (allowed.size > 0) return allowed;
  if (policy.required !== undefined) {
    throw new ArgumentError(
      `${adapter}: options.allowedOrigins is required — list the origins that may receive the token, like { allowedOrigins: ['https://api.example.no'] } (or give options.baseUrl${derived.length > 0 ? `, or set ${derived.map((d) => d.option).join(' or ')}` : ''}): ${policy.required}`,
    );
  }
  return undefined;
}

/** The token decisions for one adapter instance. */
export class Authorizer {
  readonly client: MaskinportenClient;
  readonly #base: TokenRequest;
  /**
   * What is passed to the client when a request has no overrides: the scopes themselves when only scopes were given
   * (the client memoises that shape, so a cached token costs a map lookup), else the full request.
   */
  readonly #baseInput: TokenRequestInput;
  readonly #plain: { request: TokenRequestInput; altinn: boolean };
  readonly #altinn: boolean;
  readonly overwrite: boolean;
  readonly #allowed: ReadonlySet<string> | undefined;
  /**
   * The client's own protocol endpoints (`origin + pathname`): discovery and the token endpoint. A request to one of
   * them (or to the Altinn exchange) is how the client gets the token, so it is never authorized: when the adapter
   * sits under the client too (undici's global dispatcher, a replaced `globalThis.fetch`), authorizing it would
   * make the first token wait for itself.
   */
  readonly #ownEndpoints = new Set<string>();
  /** Substrings that every URL of {@link #ownEndpoints} contains: a URL with none of them needs no parsing. */
  readonly #ownPathHints: string[] = ['/.well-known/', '/token', ALTINN_EXCHANGE_PATH];
  #learnedTokenEndpoint = false;

  constructor(client: MaskinportenClient, options: AuthorizationOptions, adapter: string, policy: OriginPolicy = {}) {
    if (!client || typeof client.getAccessToken !== 'function') {
      throw new ArgumentError(`${adapter}: expected a MaskinportenClient as the first argument`);
    }
    if (options.request && options.scopes !== undefined) {
      throw new ArgumentError(`${adapter}: give either options.scopes or options.request, not both`);
    }
    const request = options.request ?? (options.scopes !== undefined ? { scopes: options.scopes } : undefined);
    const scopes = request?.scopes;
    if (scopes === undefined || (Array.isArray(scopes) ? scopes.length === 0 : !String(scopes).trim())) {
      throw new ArgumentError(
        `${adapter}: expected options.scopes to be a non-empty array of scopes, got ${JSON.stringify(options.scopes)}`,
      );
    }
    this.client = client;
    this.#base = request!;
    this.#baseInput = options.request ?? (typeof scopes === 'string' ? scopes : [...(scopes as readonly string[])]);
    this.#altinn = options.altinn === true;
    this.#plain = { request: this.#baseInput, altinn: this.#altinn };
    this.overwrite = options.overwrite === true;
    this.#allowed = allowedOriginsOf(adapter, options, policy);
    const authority = typeof client.authority === 'string' ? URL.parse(authorityBase(client.authority)) : null;
    if (authority) {
      const base = `${authority.origin}${authority.pathname.replace(/\/+$/, '')}`;
      this.#ownEndpoints.add(`${base}${WELL_KNOWN_PATH}`);
      this.#ownEndpoints.add(`${base}/.well-known/openid-configuration`);
      this.#ownEndpoints.add(`${base}/token`);
    }
  }

  /**
   * Whether a request to `url` may carry the token: an allowed origin, and not the client's own token traffic.
   * A URL string that cannot be parsed is not judged here without an allow-list (fetch rejects it anyway).
   */
  mayAuthorize(url: string | URL): boolean {
    if (typeof url === 'string' && this.#allowed === undefined && !this.#hinted(url)) return true;
    const u = typeof url === 'string' ? URL.parse(url) : url;
    if (u === null) return this.#allowed === undefined;
    if (this.#allowed !== undefined && !this.#allowed.has(u.origin)) return false;
    return !this.#isOwnTraffic(u);
  }

  #hinted(href: string): boolean {
    for (const hint of this.#ownPathHints) if (href.includes(hint)) return true;
    return false;
  }

  #isOwnTraffic(u: URL): boolean {
    const path = u.pathname;
    if (path.endsWith(ALTINN_EXCHANGE_PATH)) return true;
    return this.#ownEndpoints.size > 0 && this.#ownEndpoints.has(`${u.origin}${path}`);
  }

  /** Adds the discovered token endpoint to the client's own endpoints, once the client has discovered it. */
  #learnTokenEndpoint(): void {
    if (this.#learnedTokenEndpoint) return;
    this.#learnedTokenEndpoint = true;
    if (typeof this.client.metadata !== 'function') return;
    this.client.metadata().then(
      (m) => {
        const u = URL.parse(m.tokenEndpoint);
        if (!u) return;
        this.#ownEndpoints.add(`${u.origin}${u.pathname}`);
        if (!this.#ownPathHints.some((h) => u.pathname.includes(h))) this.#ownPathHints.push(u.pathname);
      },
      () => undefined,
    );
  }

  /** The token request and kind for a request with these overrides. */
  resolve(overrides?: RequestOverrides): { request: TokenRequestInput; altinn: boolean } {
    if (!overrides) return this.#plain;
    const { scopes, altinn, ...rest } = overrides;
    const baseScopes = typeof this.#base.scopes === 'string' ? [this.#base.scopes] : [...this.#base.scopes];
    return {
      request: { ...this.#base, ...rest, scopes: scopes ? [...baseScopes, ...scopes] : baseScopes },
      altinn: altinn ?? this.#altinn,
    };
  }

  /**
   * The token for a request with these overrides. With the request's `signal`, an abort stops the wait at once and
   * rejects with the signal's reason, as fetch does (the token fetch itself goes on for the cache's other callers).
   */
  token(overrides?: RequestOverrides, signal?: AbortSignal | null): Promise<AccessToken> {
    if (!this.#learnedTokenEndpoint) this.#learnTokenEndpoint();
    if (signal?.aborted) return Promise.reject(signal.reason);
    let pending: Promise<AccessToken>;
    if (!overrides) {
      pending = this.#altinn
        ? this.client.getAltinnExchangedToken(this.#baseInput)
        : this.client.getAccessToken(this.#baseInput);
    } else {
      const { request, altinn } = this.resolve(overrides);
      pending = altinn ? this.client.getAltinnExchangedToken(request) : this.client.getAccessToken(request);
    }
    return raceSignal(pending, signal, (reason) => reason);
  }

  /**
   * A fresh token after the API answered 401 to `used`. If another request already replaced the cached token, that
   * one is returned; otherwise the cached token is dropped and a new one fetched — so a burst of 401s costs one fetch.
   */
  async refreshAfter401(
    used: AccessToken | string,
    overrides?: RequestOverrides,
    signal?: AbortSignal | null,
  ): Promise<AccessToken> {
    const usedValue = typeof used === 'string' ? used : used.value;
    const { request, altinn } = this.resolve(overrides);
    const get = () => {
      const p = altinn ? this.client.getAltinnExchangedToken(request) : this.client.getAccessToken(request);
      return raceSignal(p, signal, (reason) => reason);
    };
    if (signal?.aborted) throw signal.reason;
    const current = await get();
    if (current.value !== usedValue) return current;
    await this.client.invalidate(request);
    return get();
  }
}
