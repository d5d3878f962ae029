/**
 * `MaskinportenClient`: Maskinporten tokens and Altinn-exchanged tokens for one client (authority, client id, key).
 * The only place that composes the parts: key → grant → token endpoint → cache, and the Altinn exchange over it.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { RefreshingValue } from './cache/refreshing-value.ts';
import type { TokenStore } from './cache/store.ts';
import { type CacheOutcome, TokenCache, type TokenFetcher } from './cache/token-cache.ts';
import { AbortedError, ConfigError, InvalidResponseError, MaskinportenError } from './errors.ts';
import { type LoadedSigner, loadSigner, loadSignerSync } from './keys/signer.ts';
import { exchangeErrorFromResponse, exchangeRequest, processExchangeSuccess } from './protocol/altinn-exchange.ts';
import {
  type AuthorizationServerMetadata,
  authorityBase,
  discoveryUrl,
  fallbackMetadata,
  processDiscoveryResponse,
} from './protocol/discovery.ts';
import { defaultAltinnPlatformUrl } from './protocol/environments.ts';
import {
  buildGrantClaims,
  type NormalizedTokenRequest,
  normalizeTokenRequest,
  signGrant,
  type TokenRequest,
} from './protocol/grant.ts';
import { processTokenSuccess, tokenErrorFromResponse, tokenRequestInit } from './protocol/token-endpoint.ts';
import { type MaskinportenSettings, validateSettings } from './settings.ts';
import { createTelemetry, type Logger, type Operation, type Telemetry } from './telemetry.ts';
import { AccessToken } from './token.ts';
import {
  type CallTiming,
  parseRetryAfter,
  type ResolvedCallPolicy,
  type RetryPolicy,
  resolveCallPolicy,
  withRetries,
} from './transport/retry.ts';

/** What `getAccessToken` and `getAltinnExchangedToken` take: scopes, or a full request. */
export type TokenRequestInput = TokenRequest | readonly string[] | string;

/** Per-call options. */
export interface GetTokenOptions {
  /** Aborts waiting for this call (a fetch shared with other callers goes on for them). */
  signal?: AbortSignal;
  /** Skip the cache and fetch a new token (which then replaces the cached one). */
  forceRefresh?: boolean;
}

/** Options of a {@link MaskinportenClient}. */
export interface MaskinportenClientOptions extends CallTiming {
  /** The fetch implementation; the global `fetch` by default. */
  fetch?: typeof fetch;
  /** Source of the current time (epoch ms); the system clock by default. */
  clock?: { now(): number };
  /** Cache tuning and an optional shared store. */
  cache?: {
    /** A token is treated as expired this long (ms) before `exp`; 10000 by default. */
    expiryMarginMs?: number;
    /** Fraction of a token's life after which it is refreshed in the background; 0.75 by default. */
    refreshAhead?: number;
    /** Most tokens kept in memory; 1000 by default. */
    maxEntries?: number;
    /** A shared store (e.g. Redis) consulted when the in-memory cache misses. */
    store?: TokenStore;
  };
  /** Retry policy for the token and exchange calls, or `false` for none. */
  retry?: RetryPolicy | false;
  /** Lifetime of each grant (`exp − iat`), 1–120 s; 60 by default. */
  grantLifetimeSeconds?: number;
  /** Shift grant times by the offset of the server clock measured from its `Date` header; off by default. */
  correctClockSkew?: boolean;
  /** Permit plain-http URLs on hosts other than loopback (test servers only). */
  allowInsecureRequests?: boolean;
  /** How long (ms) the discovered issuer is used before it is refreshed in the background; 12 h by default. */
  discoveryRefreshMs?: number;
  /** Altinn exchange: add `?test=true` (Digdir service-owner tokens act as `ttd`). */
  altinnTest?: boolean;
  /** Altinn exchange: the `Ocp-Apim-Subscription-Key` header, when the platform requires one. */
  altinnSubscriptionKey?: string;
  /** A pino-compatible logger; silent by default. Tokens, grants and keys are never logged. */
  logger?: Logger;
  /** OpenTelemetry spans and counters through `@opentelemetry/api` when installed; `false` turns them off. */
  telemetry?: boolean;
  /** Hooks for tests: how retries sleep and draw jitter. */
  retryHooks?: Partial<Pick<ResolvedCallPolicy, 'sleep' | 'random'>>;
}

/** A normalised request with its cache key per operation and the fetch behind each. */
interface ResolvedRequest {
  request: NormalizedTokenRequest;
  cacheKeys: Record<Operation, string>;
  fetchers: Record<Operation, TokenFetcher>;
}

/** The memo key of a scope array: its elements NUL-joined; undefined when one is not a string or holds a NUL. */
function scopeListKey(scopes: readonly unknown[]): string | undefined {
  for (const s of scopes) if (typeof s !== 'string' || s.includes('\u0000')) return undefined;
  return scopes.join('\u0000');
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
})();

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new AbortedError(`${what} was aborted`, { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(`${what} was aborted`, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Fetches Maskinporten access tokens and Altinn-exchanged tokens for one client, with caching that never stampedes
 * and refreshes ahead, retries with backoff, and coded errors.
 *
 * @example
 * const client = new MaskinportenClient({ authority: 'https://test.maskinporten.no/', clientId, jwkBase64 });
 * const token = await client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']);
 * await fetch(url, { headers: { authorization: token.authorizationHeader } });
 */
export class MaskinportenClient {
  readonly #settings: Readonly<MaskinportenSettings>;
  readonly #authority: string;
  readonly #fetch: typeof fetch;
  readonly #clock: { now(): number };
  readonly #cache: TokenCache;
  readonly #policy: ResolvedCallPolicy;
  readonly #discovery: RefreshingValue<AuthorizationServerMetadata>;
  readonly #grantLifetime: number;
  readonly #correctSkew: boolean;
  readonly #logger: Logger | undefined;
  readonly #telemetry: Telemetry;
  readonly #options: MaskinportenClientOptions;
  #signer: LoadedSigner | Promise<LoadedSigner>;
  #clockOffsetMs: number | undefined;
  /** Resolved scope strings (and one-element scope arrays), by the string. */
  readonly #scopeMemo = new Map<string, ResolvedRequest>();
  /** Resolved scope arrays of other lengths, by {@link scopeListKey}. */
  readonly #scopeListMemo = new Map<string, ResolvedRequest>();

  constructor(settings: MaskinportenSettings, options: MaskinportenClientOptions = {}) {
    const insecure = options.allowInsecureRequests === true;
    validateSettings(settings, insecure);
    this.#settings = Object.freeze({ ...settings });
    this.#options = options;
    this.#authority = authorityBase(settings.authority);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#grantLifetime = options.grantLifetimeSeconds ?? 60;
    if (!Number.isInteger(this.#grantLifetime) || this.#grantLifetime < 1 || this.#grantLifetime > 120) {
      throw new ConfigError(
        `grantLifetimeSeconds must be a whole number 1–120, got ${String(options.grantLifetimeSeconds)}`,
      );
    }
    this.#correctSkew = options.correctClockSkew === true;
    this.#logger = options.logger;
    this.#telemetry = createTelemetry(options.telemetry, VERSION);
    this.#policy = resolveCallPolicy(options.retry, options, options.retryHooks);
    // Validate the key now, so a bad key fails here and not at the first token request.
    const sync = loadSignerSync(settings);
    if (sync) this.#signer = sync;
    else {
      const pending = loadSigner(settings);
      pending.catch(() => undefined); // reported to the first caller
      this.#signer = pending;
    }
    this.#cache = new TokenCache({
      // Tokens carry the server's times, so with skew correction on their expiry is judged on the server's clock.
      clock: { now: () => this.#serverNow() },
      ...(options.cache?.expiryMarginMs === undefined ? {} : { expiryMarginMs: options.cache.expiryMarginMs }),
      ...(options.cache?.refreshAhead === undefined ? {} : { refreshAhead: options.cache.refreshAhead }),
      ...(options.cache?.maxEntries === undefined ? {} : { maxEntries: options.cache.maxEntries }),
      ...(options.cache?.store === undefined ? {} : { store: options.cache.store }),
      onBackgroundError: (err) =>
        this.#logger?.warn?.(
          { err: describe(err), clientId: settings.clientId },
          'background token refresh failed; serving the cached token',
        ),
    });
    this.#discovery = new RefreshingValue({
      fetch: () => this.#discover(),
      fallback: () => fallbackMetadata(this.#authority),
      clock: this.#clock,
      staleAfterMs: options.discoveryRefreshMs ?? 12 * 60 * 60 * 1000,
      retryAfterFailureMs: 30_000,
      onError: (err) =>
        this.#logger?.warn?.(
          { err: describe(err), authority: this.#authority },
          this.#discovery.current
            ? 'discovery refresh failed; keeping the last discovered issuer'
            : 'discovery failed; using the authority as issuer',
        ),
    });
  }

  /** The client id. */
  get clientId(): string {
    return this.#settings.clientId;
  }

  /** The authority (no trailing slash). */
  get authority(): string {
    return this.#authority;
  }

  /** The last measured offset (ms) of the server clock from ours (positive: the server is ahead), if any. */
  get clockOffsetMs(): number | undefined {
    return this.#clockOffsetMs;
  }

  /** The authorization server metadata in use: discovered, or the fallback while discovery fails. */
  metadata(): Promise<AuthorizationServerMetadata> {
    return this.#discovery.get();
  }

  /**
   * A Maskinporten access token for `scopes` (or a full request: consumer org, resource, pid, system user,
   * consent). Served from the cache while valid.
   */
  getAccessToken(request: TokenRequestInput, options?: GetTokenOptions): Promise<AccessToken> {
    return this.#cachedOrGet('token', request, options);
  }

  /** An Altinn token, exchanged from a Maskinporten token for the same request. Served from the cache while valid. */
  getAltinnExchangedToken(request: TokenRequestInput, options?: GetTokenOptions): Promise<AccessToken> {
    return this.#cachedOrGet('exchange', request, options);
  }

  /** Forgets cached tokens: those of one request (both raw and Altinn), or all of them. */
  async invalidate(request?: TokenRequestInput): Promise<void> {
    if (request === undefined) return this.#cache.invalidate();
    if (this.#signer instanceof Promise) await this.#signerReady().catch(() => undefined);
    const { cacheKeys } = this.#resolve(request);
    await Promise.all([this.#cache.invalidate(cacheKeys.token), this.#cache.invalidate(cacheKeys.exchange)]);
  }

  /**
   * The hot path: a usable cached token for an already-seen scope list is handed back without an async frame, a
   * new cache key or a closure; everything else (first use, misses, force refresh, aborted signal) goes to `#get`.
   * Never throws synchronously.
   */
  #cachedOrGet(operation: Operation, input: TokenRequestInput, options: GetTokenOptions | undefined) {
    if (options === undefined || (options.forceRefresh !== true && options.signal?.aborted !== true)) {
      try {
        const resolved = this.#signer instanceof Promise ? undefined : this.#memoised(input);
        if (resolved) {
          const cached = this.#cache.peek(resolved.cacheKeys[operation], resolved.fetchers[operation]);
          if (cached) {
            this.#telemetry.count(operation, 'cached');
            return Promise.resolve(cached);
          }
        }
      } catch {
        // `#get` reports it as a rejection
      }
    }
    return this.#get(operation, input, options ?? {});
  }

  async #get(operation: Operation, input: TokenRequestInput, options: GetTokenOptions): Promise<AccessToken> {
    const what = operation === 'token' ? 'Maskinporten token request' : 'Altinn token exchange';
    let resolved: ResolvedRequest;
    try {
      // An aborted caller starts nothing.
      if (options.signal?.aborted) throw new AbortedError(`${what} was aborted`, { cause: options.signal.reason });
      // A PKCS#12 key loads asynchronously; its id is part of the cache key, so wait for it first.
      if (this.#signer instanceof Promise) await this.#signerReady();
      resolved = this.#resolve(input);
    } catch (err) {
      this.#telemetry.count(operation, 'error');
      throw err;
    }
    const cacheKey = resolved.cacheKeys[operation];
    const fetcher = resolved.fetchers[operation];
    if (!options.forceRefresh) {
      const cached = this.#cache.peek(cacheKey, fetcher);
      if (cached) {
        this.#telemetry.count(operation, 'cached');
        return cached;
      }
    } else {
      await this.#cache.invalidate(cacheKey);
    }
    const attributes = {
      'maskinporten.operation': operation,
      'maskinporten.client_id': this.#settings.clientId,
      'maskinporten.scopes': resolved.request.scopes.join(' '),
    };
    try {
      const { token, outcome } = await raceAbort(
        this.#telemetry.span(
          `Maskinporten.${operation === 'token' ? 'GetAccessToken' : 'GetAltinnExchangedToken'}`,
          attributes,
          () => this.#cache.get(cacheKey, fetcher),
        ),
        options.signal,
        what,
      );
      this.#telemetry.count(operation, outcome satisfies CacheOutcome);
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
    const signerId = this.#signer instanceof Promise ? 'pending' : this.#signer.id;
    const key = [
      this.#authority,
      this.#settings.clientId,
      // A PKCS#12 signer's id is known only once loaded: callers wait for it before resolving a request.
      this.#settings.kid ?? signerId,
      JSON.stringify(request),
    ].join('\n');
    const resolved: ResolvedRequest = {
      request,
      cacheKeys: { token: `mp\n${key}`, exchange: `altinn\n${key}` },
      fetchers: {
        token: () => this.#fetchMaskinporten(request),
        // The normalised request, not the caller's input (which the caller may change once the call returns).
        exchange: () => this.#fetchAltinn(request),
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

  async #signerReady(): Promise<LoadedSigner> {
    if (this.#signer instanceof Promise) this.#signer = await this.#signer;
    return this.#signer;
  }

  /** The current time on the server's clock when skew correction is on (and measured), else on ours. */
  #serverNow(): number {
    const now = this.#clock.now();
    return this.#correctSkew && this.#clockOffsetMs !== undefined ? now + this.#clockOffsetMs : now;
  }

  #observeDate(date: string | null, receivedAt: number): void {
    if (!date) return;
    const server = Date.parse(date);
    // The header has whole seconds; its midpoint is the best estimate.
    if (!Number.isNaN(server)) this.#clockOffsetMs = server + 500 - receivedAt;
  }

  async #discover(): Promise<AuthorizationServerMetadata> {
    const url = discoveryUrl(this.#authority);
    const res = await this.#fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.#policy.timeoutMs),
      redirect: 'error',
    });
    const text = await res.text();
    this.#observeDate(res.headers.get('date'), this.#clock.now());
    if (!res.ok) throw new InvalidResponseError(`discovery at ${url} answered ${res.status}`, { status: res.status });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new InvalidResponseError(`discovery at ${url} did not answer JSON`, { cause, status: res.status });
    }
    return processDiscoveryResponse(body, this.#authority);
  }

  async #fetchMaskinporten(request: NormalizedTokenRequest): Promise<AccessToken> {
    const signer = await this.#signerReady();
    /** The clock offset the last grant was built with. */
    let offsetUsed = 0;
    const run = () =>
      withRetries(
        'Maskinporten token request',
        async (signal, attempt) => {
          const meta = await this.#discovery.get();
          offsetUsed = this.#correctSkew ? (this.#clockOffsetMs ?? 0) : 0;
          const nowMs = this.#serverNow();
          const claims = buildGrantClaims({
            clientId: this.#settings.clientId,
            audience: meta.issuer,
            nowSeconds: Math.floor(nowMs / 1000),
            request,
            lifetimeSeconds: this.#grantLifetime,
          });
          const init = tokenRequestInit(signGrant(claims, signer));
          if (attempt > 1)
            this.#logger?.debug?.({ attempt, clientId: this.#settings.clientId }, 'retrying the token request');
          const res = await this.#fetch(meta.tokenEndpoint, { method: 'POST', ...init, signal, redirect: 'error' });
          const text = await res.text();
          this.#observeDate(res.headers.get('date'), this.#clock.now());
          const receivedAt = this.#serverNow();
          if (res.status !== 200) {
            const err = tokenErrorFromResponse(res.status, text, {
              clientId: this.#settings.clientId,
              authority: this.#authority,
              kid: signer.kid,
              scopes: request.scopes,
              clockOffsetMs: this.#clockOffsetMs,
            });
            const retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now());
            if (retryAfter !== undefined) (err as { retryAfterMs: number | undefined }).retryAfterMs = retryAfter;
            throw err;
          }
          const body = processTokenSuccess(text, res.status);
          try {
            return AccessToken.fromJwt(
              body.accessToken,
              'maskinporten',
              body.expiresIn === undefined
                ? undefined
                : {
                    expiresAt: new Date(receivedAt + body.expiresIn * 1000),
                    issuedAt: new Date(receivedAt),
                    scope: body.scope,
                  },
            );
          } catch (cause) {
            throw new InvalidResponseError('the access token is not a JWT and the answer has no expires_in', {
              cause,
              status: 200,
            });
          }
        },
        this.#policy,
      );
    let token: AccessToken;
    try {
      token = await run();
    } catch (err) {
      // With skew correction on, a refusal of iat/exp after the server clock was (re)measured gets one more grant.
      const measured = this.#clockOffsetMs;
      if (
        !this.#correctSkew ||
        !(err instanceof MaskinportenError && err.code === 'ERR_CLOCK_SKEW') ||
        measured === undefined ||
        Math.abs(measured - offsetUsed) < 1000
      ) {
        throw err;
      }
      this.#logger?.debug?.(
        { clientId: this.#settings.clientId, clockOffsetMs: measured },
        'the server clock differs from the one the grant was made for; retrying on the measured clock',
      );
      token = await run();
    }
    this.#checkNotExpired(token);
    this.#logger?.debug?.(
      { clientId: this.#settings.clientId, scopes: token.scopes, expiresAt: token.expiresAt.toISOString() },
      'fetched a Maskinporten token',
    );
    return token;
  }

  #platformUrl(): string {
    const url = this.#settings.altinnPlatformUrl ?? defaultAltinnPlatformUrl(this.#settings.authority);
    if (!url) {
      throw new ConfigError(
        `altinnPlatformUrl is required for authority ${this.#authority}: only maskinporten.no and test.maskinporten.no have a default Altinn platform`,
      );
    }
    return url.replace(/\/+$/, '');
  }

  async #fetchAltinn(input: TokenRequestInput): Promise<AccessToken> {
    const platform = this.#platformUrl();
    const exchange = (freshMaskinportenToken: boolean) =>
      withRetries(
        'Altinn token exchange',
        async (signal) => {
          const mp = await this.getAccessToken(input, freshMaskinportenToken ? { forceRefresh: true } : {});
          const { url, headers } = exchangeRequest(platform, mp.value, {
            ...(this.#options.altinnTest ? { test: true } : {}),
            ...(this.#options.altinnSubscriptionKey ? { subscriptionKey: this.#options.altinnSubscriptionKey } : {}),
          });
          const res = await this.#fetch(url, { headers, signal, redirect: 'error' });
          const text = await res.text();
          if (res.status !== 200) {
            const err = exchangeErrorFromResponse(res.status, text, platform);
            const retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now());
            if (retryAfter !== undefined) (err as { retryAfterMs: number | undefined }).retryAfterMs = retryAfter;
            throw err;
          }
          return AccessToken.fromJwt(processExchangeSuccess(text), 'altinn');
        },
        this.#policy,
      );
    let token: AccessToken;
    try {
      token = await exchange(false);
    } catch (err) {
      // The cached Maskinporten token may have been revoked or expired in flight: one more try with a fresh one.
      if (!(err instanceof MaskinportenError && err.code === 'ERR_ALTINN_EXCHANGE' && err.status === 401)) throw err;
      token = await exchange(true);
    }
    this.#checkNotExpired(token);
    return token;
  }

  #checkNotExpired(token: AccessToken): void {
    const now = this.#serverNow();
    if (token.expiresAt.getTime() <= now) {
      throw new MaskinportenError(
        'ERR_TOKEN_EXPIRED',
        `the ${token.kind} token was already expired when it arrived (exp ${token.expiresAt.toISOString()}): check this machine's clock`,
        this.#clockOffsetMs === undefined ? {} : { clockOffsetMs: this.#clockOffsetMs },
      );
    }
  }

  /** A description without secrets. */
  toString(): string {
    return `MaskinportenClient(${this.#settings.clientId} @ ${this.#authority})`;
  }

  toJSON(): Record<string, unknown> {
    return { clientId: this.#settings.clientId, authority: this.#authority };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof MaskinportenError)
    return { code: err.code, message: err.message, status: err.status, mpCode: err.mpCode };
  return { message: err instanceof Error ? err.message : String(err) };
}
