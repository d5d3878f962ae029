/**
 * `MaskinportenClient`: Maskinporten tokens and Altinn-exchanged tokens for one client (authority, client id, key).
 * The only place that composes the parts: key → grant → token endpoint → cache, and the Altinn exchange over it.
 * The calls themselves live in `client/fetchers.ts`; this class holds the state: credentials, cache, clock offset.
 */
import { inspect } from 'node:util';
import type { StoreContext } from './cache/store.ts';
import { deriveStoreContext } from './cache/store-context.ts';
import { type CacheOutcome, DEFAULT_EXPIRY_MARGIN_MS, TokenCache, type TokenFetcher } from './cache/token-cache.ts';
import { type ActiveCredentials, buildCredentials } from './client/credentials.ts';
import { describeError } from './client/describe-error.ts';
import { type CallContext, discover, fetchAltinnToken, fetchMaskinportenToken } from './client/fetchers.ts';
import type { GetTokenOptions, MaskinportenClientOptions, TokenRequestInput } from './client/options.ts';
import { packageVersion } from './client/package-version.ts';
import { scopeListKey } from './client/scope-list-key.ts';
import { resolveClock, type Timekeeper } from './clock.ts';
import { AbortedError, ConfigError } from './errors.ts';
import type { LoadedSigner } from './keys/signer.ts';
import { DEFAULT_GRANT_LIFETIME_SECONDS, MAX_GRANT_LIFETIME_SECONDS } from './protocol/constants.ts';
import type { AuthorizationServerMetadata } from './protocol/discovery.ts';
import type { AuthorityKind } from './protocol/environments.ts';
import { type NormalizedTokenRequest, normalizeTokenRequest } from './protocol/grant.ts';
import { ServerClock } from './server-clock.ts';
import type { MaskinportenSettings } from './settings.ts';
import { createTelemetry, type Logger, type Operation, type Telemetry } from './telemetry.ts';
import type { AccessToken } from './token.ts';
import { raceSignal } from './transport/race.ts';
import { resolveCallPolicy } from './transport/retry.ts';

export type { GetTokenOptions, MaskinportenClientOptions, TokenRequestInput } from './client/options.ts';

/** A normalised request with its cache key per operation and the fetch behind each. */
interface ResolvedRequest {
  request: NormalizedTokenRequest;
  /** The client id of the credentials it was resolved under. */
  clientId: string;
  cacheKeys: Record<Operation, string>;
  fetchers: Record<Operation, TokenFetcher>;
  /** What a shared store is told with each call (only when one is configured). */
  storeContext?: StoreContext;
}

/**
 * Fetches Maskinporten access tokens and Altinn-exchanged tokens for one client, with caching that never stampedes
 * and refreshes ahead, retries with backoff, and coded errors.
 *
 * @example
 * const client = new MaskinportenClient({ authority: 'https://test.maskinporten.no/', clientId, jwkBase64 });
 * const token = await client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']);
 * await fetch(url, { headers: { authorization: token.authorizationHeader } });
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_token
 */
export class MaskinportenClient {
  readonly #options: MaskinportenClientOptions;
  readonly #clock: Timekeeper;
  /** The server's clock, estimated from the `Date` headers of its answers. */
  readonly #server: ServerClock;
  readonly #cache: TokenCache;
  readonly #ctx: CallContext;
  readonly #logger: Logger | undefined;
  readonly #telemetry: Telemetry;
  #creds: ActiveCredentials;
  /** Resolved scope strings (and one-element scope arrays), by the string. */
  readonly #scopeMemo = new Map<string, ResolvedRequest>();
  /** Resolved scope arrays of other lengths, by {@link scopeListKey}. */
  readonly #scopeListMemo = new Map<string, ResolvedRequest>();

  /**
   * Creates a client and validates everything up front, so a bad key or URL fails here and not at the first token
   * request. A PKCS#12 key loads in the background; the first request waits for it.
   * @param settings - Authority, client id and key. @param options - Cache, retry, clock, telemetry, logger, `fetch`.
   * @throws `ERR_CONFIG` (`setting` names it), `ERR_INSECURE_URL` (plain http beyond loopback), `ERR_INVALID_KEY`.
   * @see https://docs.digdir.no/docs/Maskinporten/
   */
  constructor(settings: MaskinportenSettings, options: MaskinportenClientOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ConfigError('options must be an object (or left out)', { setting: 'options' });
    }
    this.#options = options;
    this.#clock = resolveClock(options.clock);
    this.#server = new ServerClock(this.#clock);
    const grantLifetime = options.grantLifetimeSeconds ?? DEFAULT_GRANT_LIFETIME_SECONDS;
    if (!Number.isInteger(grantLifetime) || grantLifetime < 1 || grantLifetime > MAX_GRANT_LIFETIME_SECONDS) {
      throw new ConfigError(
        `grantLifetimeSeconds must be a whole number 1–${MAX_GRANT_LIFETIME_SECONDS}, got ${String(options.grantLifetimeSeconds)}`,
        { setting: 'grantLifetimeSeconds' },
      );
    }
    this.#logger = options.logger;
    this.#telemetry = createTelemetry(options.telemetry, packageVersion);
    const correctSkew = options.correctClockSkew === true;
    // The server's clock when skew correction is on (ours until measured), else ours: fixed at construction.
    const server = this.#server;
    const clock = this.#clock;
    const serverNow = correctSkew ? () => server.now() : () => clock.now();
    this.#ctx = {
      fetch: options.fetch ?? globalThis.fetch,
      policy: resolveCallPolicy(options.retry, options, options.retryHooks, this.#clock),
      logger: options.logger,
      correctSkew,
      grantLifetime,
      altinnTest: options.altinnTest === true,
      altinnSubscriptionKey: options.altinnSubscriptionKey,
      now: () => this.#clock.now(),
      serverNow,
      server: this.#server,
    };
    // Validate everything now, so a bad key fails here and not at the first token request.
    this.#creds = this.#credentials(settings);
    this.#cache = new TokenCache({
      // Tokens carry the server's times, so with skew correction on their expiry is judged on the server's clock.
      clock: { now: serverNow },
      // The shared store's lock wait runs on the client's timers.
      timers: clock,
      ...(options.cache?.expiryMarginMs === undefined ? {} : { expiryMarginMs: options.cache.expiryMarginMs }),
      ...(options.cache?.refreshAhead === undefined ? {} : { refreshAhead: options.cache.refreshAhead }),
      ...(options.cache?.maxEntries === undefined ? {} : { maxEntries: options.cache.maxEntries }),
      ...(options.cache?.store === undefined ? {} : { store: options.cache.store }),
      onUncacheable: (token) =>
        this.#logger?.warn?.(
          {
            clientId: this.#creds.settings.clientId,
            lifetimeSeconds: Math.round((token.expiresAt.getTime() - token.issuedAt.getTime()) / 1000),
            expiryMarginMs: options.cache?.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS,
          },
          'tokens live shorter than the cache expiry margin, so each call fetches a new one: lower cache.expiryMarginMs or raise the token lifetime',
        ),
      onBackgroundError: (err) =>
        this.#logger?.warn?.(
          { err: describeError(err), clientId: this.#creds.settings.clientId },
          'background token refresh failed; serving the cached token',
        ),
    });
  }

  /** Validates settings and builds a credentials set from them (a PKCS#12 key still loading). */
  #credentials(given: MaskinportenSettings): ActiveCredentials {
    return buildCredentials(given, {
      allowInsecureRequests: this.#options.allowInsecureRequests === true,
      discover: (authority) => discover(this.#ctx, authority),
      clock: this.#clock,
      discoveryRefreshMs: this.#options.discoveryRefreshMs,
      logger: this.#logger,
    });
  }

  /** The client id. */
  get clientId(): string {
    return this.#creds.settings.clientId;
  }

  /** The authority (no trailing slash). */
  get authority(): string {
    return this.#creds.authority;
  }

  /** `maskinporten`, or `skyporten` (whose issuer and grant `aud` have no trailing slash). */
  get authorityKind(): AuthorityKind {
    return this.#creds.kind;
  }

  /** The last measured offset (ms) of the server clock from ours (positive: the server is ahead), if any. */
  get clockOffsetMs(): number | undefined {
    return this.#server.offsetMs;
  }

  /**
   * The authorization server metadata in use: discovered, or the fallback while discovery fails. @returns It.
   * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown and https://www.rfc-editor.org/rfc/rfc8414
   */
  metadata(): Promise<AuthorizationServerMetadata> {
    return this.#creds.discovery.get();
  }

  /**
   * Switches to new settings (hot reload, key rotation): validated first — invalid settings throw and the old ones
   * stay — then swapped whole. Tokens of the old credentials are never served afterwards.
   * @param settings - The new settings. @throws `ERR_CONFIG`, `ERR_INSECURE_URL`, `ERR_INVALID_KEY` as the constructor.
   */
  async reconfigure(settings: MaskinportenSettings): Promise<void> {
    const next = this.#credentials(settings);
    if (next.signer instanceof Promise) next.signer = await next.signer;
    this.#creds = next;
    this.#scopeMemo.clear();
    this.#scopeListMemo.clear();
    // Cache keys hold authority, client id and key id, so old tokens would not match anyway; drop them now.
    await this.#cache.invalidate();
    this.#logger?.info?.(
      { clientId: settings.clientId, authority: next.authority },
      'settings changed; using the new credentials',
    );
  }

  /**
   * A Maskinporten access token for `scopes` (or a full request: consumer org, resource, pid, system user,
   * consent). Served from the cache while valid.
   * @param request - Scopes (a string or an array), or an object with `scopes` and the request's other members.
   * @param options - `forceRefresh` to skip the cache, `signal` to abort. @returns The token.
   * @throws TokenRequestError `ERR_INVALID_SCOPE`, `ERR_UNKNOWN_CLIENT`, `ERR_CLOCK_SKEW`, …; `ERR_NETWORK`, `ERR_TIMEOUT`,
   *   `ERR_SERVER`, `ERR_RATE_LIMITED`, `ERR_ABORTED`, `ERR_INVALID_RESPONSE`, `ERR_TOKEN_EXPIRED`, `ERR_INVALID_ARGUMENT`.
   * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant and https://www.rfc-editor.org/rfc/rfc7523
   */
  getAccessToken(request: TokenRequestInput, options?: GetTokenOptions): Promise<AccessToken> {
    return this.#cachedOrGet('token', request, options);
  }

  /**
   * An Altinn token, exchanged from a Maskinporten token for the same request. Served from the cache while valid.
   * @param request - As for {@link getAccessToken}. @param options - As for {@link getAccessToken}. @returns The token.
   * @throws `ERR_ALTINN_EXCHANGE` (Altinn refused), `ERR_CONFIG` (no Altinn platform), else as {@link getAccessToken}.
   * @see https://docs.altinn.studio/authentication/
   */
  getAltinnExchangedToken(request: TokenRequestInput, options?: GetTokenOptions): Promise<AccessToken> {
    return this.#cachedOrGet('exchange', request, options);
  }

  /**
   * Forgets cached tokens: those of one request (both raw and Altinn), or all of them; with a shared store, other
   * processes stop serving them too. @param request - The request whose tokens to forget; all when left out.
   */
  async invalidate(request?: TokenRequestInput): Promise<void> {
    if (request === undefined) return this.#cache.invalidate();
    if (this.#creds.signer instanceof Promise) await this.#signerReady().catch(() => undefined);
    const { cacheKeys, storeContext } = this.#resolve(request);
    await Promise.all([
      this.#cache.invalidate(cacheKeys.token, storeContext),
      this.#cache.invalidate(cacheKeys.exchange, storeContext),
    ]);
  }

  /**
   * The hot path: a usable cached token for an already-seen scope list is handed back without an async frame, a
   * new cache key or a closure; everything else (first use, misses, force refresh, aborted signal) goes to `#get`.
   * Never throws synchronously.
   */
  #cachedOrGet(operation: Operation, input: TokenRequestInput, options: GetTokenOptions | undefined) {
    if (options === undefined || (options.forceRefresh !== true && options.signal?.aborted !== true)) {
      try {
        const resolved = this.#creds.signer instanceof Promise ? undefined : this.#memoised(input);
        if (resolved) {
          const cached = this.#cache.peek(
            resolved.cacheKeys[operation],
            resolved.fetchers[operation],
            resolved.storeContext,
          );
          if (cached) {
            this.#telemetry.count(operation, 'cached', 'memory');
            return Promise.resolve(cached);
          }
        }
      } catch {
        // `#get` reports it as a rejection
      }
    }
    return this.#get(operation, input, options ?? {});
  }

  async #get(
    operation: Operation,
    input: TokenRequestInput,
    options: GetTokenOptions,
    resolvedUnder?: ResolvedRequest,
  ): Promise<AccessToken> {
    const what = operation === 'token' ? 'Maskinporten token request' : 'Altinn token exchange';
    let resolved: ResolvedRequest;
    try {
      // An aborted caller starts nothing.
      if (options.signal?.aborted) throw new AbortedError(`${what} was aborted`, { cause: options.signal.reason });
      if (resolvedUnder) resolved = resolvedUnder;
      else {
        // A PKCS#12 key loads asynchronously; its id is part of the cache key, so wait for it first.
        if (this.#creds.signer instanceof Promise) await this.#signerReady();
        resolved = this.#resolve(input);
      }
    } catch (err) {
      this.#telemetry.count(operation, 'error');
      throw err;
    }
    const cacheKey = resolved.cacheKeys[operation];
    const fetcher = resolved.fetchers[operation];
    const context = resolved.storeContext;
    if (!options.forceRefresh) {
      const cached = this.#cache.peek(cacheKey, fetcher, context);
      if (cached) {
        this.#telemetry.count(operation, 'cached', 'memory');
        return cached;
      }
    }
    const attributes = {
      'maskinporten.operation': operation,
      'maskinporten.client_id': resolved.clientId,
      'maskinporten.scopes': resolved.request.scopes.join(' '),
    };
    try {
      const { token, outcome, source } = await raceSignal(
        this.#telemetry.span(
          `Maskinporten.${operation === 'token' ? 'GetAccessToken' : 'GetAltinnExchangedToken'}`,
          attributes,
          // Concurrent forced refreshes of one key share one fetch (the cache joins them).
          async (setAttribute) => {
            const got = options.forceRefresh
              ? await this.#cache.refresh(cacheKey, fetcher, context)
              : await this.#cache.get(cacheKey, fetcher, context);
            setAttribute('maskinporten.token_source', got.source);
            return got;
          },
        ),
        options.signal,
        (reason) => new AbortedError(`${what} was aborted`, { cause: reason }),
      );
      this.#telemetry.count(operation, outcome satisfies CacheOutcome, source);
      return token;
    } catch (err) {
      this.#telemetry.count(operation, 'error');
      throw err;
    }
  }

  /**
   * The memoised resolution of a scope string or scope array seen before, or undefined. A string and a
   * one-element array of it normalise alike, so they share an entry keyed by the string itself; longer arrays are
   * keyed by their NUL-joined elements (only when no element holds a NUL or is not a string, so keys never collide).
   */
  #memoised(input: TokenRequestInput): ResolvedRequest | undefined {
    if (typeof input === 'string') return this.#scopeMemo.get(input);
    if (!Array.isArray(input)) return undefined;
    if (input.length === 1) return typeof input[0] === 'string' ? this.#scopeMemo.get(input[0]) : undefined;
    const key = scopeListKey(input);
    return key === undefined ? undefined : this.#scopeListMemo.get(key);
  }

  /** Normalises a request and builds its cache keys and fetchers (memoised for scope arrays and strings). */
  #resolve(input: TokenRequestInput): ResolvedRequest {
    const memo = this.#memoised(input);
    if (memo) return memo;
    const request = normalizeTokenRequest(input);
    // Fetchers keep the credentials they were resolved under, so a fetch in flight during a reconfiguration
    // finishes with one consistent set (and its result, under the old key, is never served).
    const creds = this.#creds;
    const signerId = creds.signer instanceof Promise ? 'pending' : creds.signer.id;
    const key = [
      creds.authority,
      creds.settings.clientId,
      // A PKCS#12 signer's id is known only once loaded: callers wait for it before resolving a request.
      creds.settings.kid ?? signerId,
      JSON.stringify(request),
    ].join('\n');
    if (this.#options.cache?.store && !creds.storeContext && !(creds.signer instanceof Promise))
      creds.storeContext = deriveStoreContext(creds.signer.key, this.#logger);
    const resolved: ResolvedRequest = {
      ...(creds.storeContext ? { storeContext: creds.storeContext } : {}),
      request,
      clientId: creds.settings.clientId,
      cacheKeys: { token: `mp\n${key}`, exchange: `altinn\n${key}` },
      fetchers: {
        token: async () => fetchMaskinportenToken(this.#ctx, creds, await this.#signerReady(creds), request),
        // The Maskinporten token of this same resolution — same credentials, same normalised request (not the
        // caller's input, which may change once the call returns) — so an exchange, its retry after a 401
        // included, uses one set of settings even when `reconfigure` runs meanwhile.
        exchange: () =>
          fetchAltinnToken(this.#ctx, creds, (fresh, signal) =>
            this.#get('token', request, fresh ? { forceRefresh: true, signal } : { signal }, resolved),
          ),
      },
    };
    if (typeof input === 'string' || (Array.isArray(input) && input.length === 1 && typeof input[0] === 'string')) {
      if (this.#scopeMemo.size >= 1000) this.#scopeMemo.clear();
      this.#scopeMemo.set(typeof input === 'string' ? input : (input[0] as string), resolved);
    } else if (Array.isArray(input)) {
      const listKey = scopeListKey(input);
      if (listKey !== undefined) {
        if (this.#scopeListMemo.size >= 1000) this.#scopeListMemo.clear();
        this.#scopeListMemo.set(listKey, resolved);
      }
    }
    return resolved;
  }

  async #signerReady(creds: ActiveCredentials = this.#creds): Promise<LoadedSigner> {
    if (creds.signer instanceof Promise) creds.signer = await creds.signer;
    return creds.signer;
  }

  /** A description without secrets. @returns `MaskinportenClient(<client id> @ <authority>)`. */
  toString(): string {
    return `MaskinportenClient(${this.#creds.settings.clientId} @ ${this.#creds.authority})`;
  }

  /** What `JSON.stringify` shows: never the key. @returns `{ clientId, authority }`. */
  toJSON(): Record<string, unknown> {
    return { clientId: this.#creds.settings.clientId, authority: this.#creds.authority };
  }

  /** What `util.inspect` shows. @returns The same as {@link toString}: no secret. */
  [inspect.custom](): string {
    return this.toString();
  }
}
