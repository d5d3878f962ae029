/** The client's public option and argument types. */

import type { TokenStore } from '../cache/store.ts';
import type { Clock } from '../clock.ts';
import type { TokenRequest } from '../protocol/grant.ts';
import type { Logger } from '../telemetry.ts';
import type { CallTiming, ResolvedCallPolicy, RetryPolicy } from '../transport/retry.ts';

/**
 * What `getAccessToken` and `getAltinnExchangedToken` take: scopes, or a full request.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 */
export type TokenRequestInput = TokenRequest | readonly string[] | string;

/**
 * Per-call options.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_token
 */
export interface GetTokenOptions {
  /** Aborts waiting for this call (a fetch shared with other callers goes on for them). */
  signal?: AbortSignal;
  /** Skip the cache and fetch a new token (which then replaces the cached one). */
  forceRefresh?: boolean;
}

/**
 * Options of a {@link MaskinportenClient}.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 */
export interface MaskinportenClientOptions extends CallTiming {
  /** The fetch implementation; the global `fetch` by default. */
  fetch?: typeof fetch;
  /**
   * The clock: the time of day (`now`, epoch ms) and, when it gives `setTimeout`/`clearTimeout` (as a
   * `ManualClock` does), the timers of deadlines, timeouts and backoff too; the system clock by default.
   * @see {@link Clock}
   */
  clock?: Clock;
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
  /**
   * How retries sleep and draw jitter; for the project's own tests, not part of the public API.
   * @internal
   */
  retryHooks?: Partial<Pick<ResolvedCallPolicy, 'sleep' | 'random'>>;
}
