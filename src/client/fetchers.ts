/**
 * The client's three upstream calls — discovery, the token request, the Altinn exchange — as functions of an
 * explicit context, so the client class only composes them. Each retries as the call policy says and turns every
 * answer into a token or a coded error.
 */

import { timeoutController } from '../clock.ts';
import {
  AbortedError,
  ConfigError,
  InvalidResponseError,
  MaskinportenError,
  redactedJsonError,
  TokenExpiredError,
} from '../errors.ts';
import type { LoadedSigner } from '../keys/signer.ts';
import { exchangeErrorFromResponse, exchangeRequest, processExchangeSuccess } from '../protocol/altinn-exchange.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../protocol/constants.ts';
import { type AuthorizationServerMetadata, discoveryUrls, processDiscoveryResponse } from '../protocol/discovery.ts';
import { defaultAltinnPlatformUrl } from '../protocol/environments.ts';
import type { NormalizedTokenRequest } from '../protocol/grant.ts';
import { processTokenSuccess, tokenErrorFromResponse, tokenRequestInit } from '../protocol/token-endpoint.ts';
import type { ServerClock } from '../server-clock.ts';
import type { MaskinportenSettings } from '../settings.ts';
import type { Logger } from '../telemetry.ts';
import { AccessToken, expiresWithinBound } from '../token.ts';
import {
  type CallDeadline,
  deadlineError,
  parseRetryAfter,
  type ResolvedCallPolicy,
  untilDeadline,
  withDeadline,
  withRetries,
} from '../transport/retry.ts';
import { composeGrant } from './grant.ts';

/** One set of credentials: what a reconfiguration replaces as a whole. */
export interface Credentials {
  settings: Readonly<MaskinportenSettings>;
  /** The authority without its trailing slash. */
  authority: string;
  metadata(): Promise<AuthorizationServerMetadata>;
}

/** What the calls need from the client. */
export interface CallContext {
  fetch: typeof fetch;
  policy: ResolvedCallPolicy;
  logger: Logger | undefined;
  correctSkew: boolean;
  grantLifetime: number;
  altinnTest: boolean;
  altinnSubscriptionKey: string | undefined;
  /** Our clock (epoch ms). */
  now(): number;
  /** The server's clock when skew correction is on and measured, else ours. */
  serverNow(): number;
  /** The server's clock, measured from the `Date` headers of its answers. */
  server: ServerClock;
}

/** Fetches on the call context, measuring the server's clock from the answer's `Date` header. */
async function timedFetch(ctx: CallContext, url: string, init: RequestInit): Promise<Response> {
  const sentAt = ctx.now();
  const res = await ctx.fetch(url, init);
  ctx.server.observe(res.headers.get('date'), sentAt, ctx.now());
  return res;
}

function withRetryAfter(ctx: CallContext, err: MaskinportenError, res: Response): MaskinportenError {
  // A Retry-After date is on the clock of the server that wrote it: compared with that answer's own Date header,
  // else with the estimate of Maskinporten's clock (an Altinn answer's clock may differ from it).
  const stamped = Date.parse(res.headers.get('date') ?? '');
  const retryAfter = parseRetryAfter(
    res.headers.get('retry-after'),
    Number.isNaN(stamped) ? ctx.server.now() : stamped,
  );
  if (retryAfter !== undefined) (err as { retryAfterMs: number | undefined }).retryAfterMs = retryAfter;
  return err;
}

/**
 * Fetches and reads the authority's metadata document: RFC 8414's, or — when that is not found (404, 405, 410) —
 * OpenID Connect's, the one Skyporten documents.
 */
export async function discover(ctx: CallContext, authority: string): Promise<AuthorizationServerMetadata> {
  const urls = discoveryUrls(authority);
  for (const [i, url] of urls.entries()) {
    // The timeout covers the answer's body too; its timer goes as soon as the body is in.
    const timeout = timeoutController(ctx.policy.clock, ctx.policy.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await timedFetch(ctx, url, {
        headers: { accept: 'application/json' },
        signal: timeout.signal,
        redirect: 'error',
      });
      text = await res.text();
    } finally {
      timeout.clear();
    }
    if ((res.status === 404 || res.status === 405 || res.status === 410) && i < urls.length - 1) continue;
    if (!res.ok) throw new InvalidResponseError(`discovery at ${url} answered ${res.status}`, { status: res.status });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new InvalidResponseError(`discovery at ${url} did not answer JSON`, {
        cause: redactedJsonError(cause),
        status: res.status,
      });
    }
    return processDiscoveryResponse(body, authority, url);
  }
  throw new InvalidResponseError(`no metadata at ${urls.join(' or ')}`);
}

/**
 * A token that arrived already expired points at a clock problem, not at a token to hand out; one that expires
 * more than {@link MAX_TOKEN_LIFETIME_SECONDS} from now is a broken answer that must not be cached for ever.
 */
export function checkNotExpired(ctx: CallContext, token: AccessToken): AccessToken {
  const now = ctx.serverNow();
  if (!expiresWithinBound(token.expiresAt.getTime(), now)) {
    throw new InvalidResponseError(
      `the ${token.kind} token expires more than ${MAX_TOKEN_LIFETIME_SECONDS} s from now: refused, not cached`,
      { setting: 'exp' },
    );
  }
  if (token.expiresAt.getTime() <= now) {
    const offset = ctx.server.offsetMs;
    throw new TokenExpiredError(
      `the ${token.kind} token was already expired when it arrived (exp ${token.expiresAt.toISOString()}): check this machine's clock`,
      offset === undefined ? {} : { clockOffsetMs: offset },
    );
  }
  return token;
}

/** Gets a new Maskinporten token: a fresh grant per attempt, retried as the policy says. */
export async function fetchMaskinportenToken(
  ctx: CallContext,
  creds: Credentials,
  signer: LoadedSigner,
  request: NormalizedTokenRequest,
): Promise<AccessToken> {
  // One deadline for the whole call, disarmed when it is over.
  return withDeadline(ctx.policy, (deadline) => maskinportenTokenWithin(deadline, ctx, creds, signer, request));
}

async function maskinportenTokenWithin(
  deadline: CallDeadline,
  ctx: CallContext,
  creds: Credentials,
  signer: LoadedSigner,
  request: NormalizedTokenRequest,
): Promise<AccessToken> {
  const { clientId } = creds.settings;
  const what = 'Maskinporten token request';
  /** The clock offset the last grant was built with. */
  let offsetUsed = 0;
  // Discovery (or its fallback) is awaited before the attempts, so a slow discovery does not use up the first
  // attempt's timeout (with `retry: false`, the only attempt).
  await untilDeadline(creds.metadata(), deadline, what, ctx.policy);
  const run = () =>
    withRetries(
      what,
      async (signal, attempt) => {
        const meta = await creds.metadata();
        offsetUsed = ctx.correctSkew ? (ctx.server.offsetMs ?? 0) : 0;
        const grant = composeGrant({
          clientId,
          issuer: meta.issuer,
          nowMs: ctx.serverNow(),
          request,
          lifetimeSeconds: ctx.grantLifetime,
          signer,
        });
        const init = tokenRequestInit(grant);
        if (attempt > 1) ctx.logger?.debug?.({ attempt, clientId }, 'retrying the token request');
        const res = await timedFetch(ctx, meta.tokenEndpoint, { method: 'POST', ...init, signal, redirect: 'error' });
        const text = await res.text();
        const receivedAt = ctx.serverNow();
        if (res.status !== 200) {
          const err = tokenErrorFromResponse(res.status, text, {
            clientId,
            authority: creds.authority,
            kid: signer.kid,
            scopes: request.scopes,
            clockOffsetMs: ctx.server.offsetMs,
          });
          throw withRetryAfter(ctx, err, res);
        }
        const body = processTokenSuccess(text, res.status);
        // A coded error of its own when the token is unusable (bad alphabet, no or absurd expiry): never retried.
        return AccessToken.fromValue(
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
      },
      ctx.policy,
      deadline,
    );
  let token: AccessToken;
  try {
    token = await run();
  } catch (err) {
    // With skew correction on, a refusal of iat/exp after the server clock was (re)measured gets one more grant.
    const measured = ctx.server.offsetMs;
    if (
      !ctx.correctSkew ||
      !(err instanceof MaskinportenError && err.code === 'ERR_CLOCK_SKEW') ||
      measured === undefined ||
      Math.abs(measured - offsetUsed) < 1000
    ) {
      throw err;
    }
    ctx.logger?.debug?.(
      { clientId, clockOffsetMs: measured },
      'the server clock differs from the one the grant was made for; retrying on the measured clock',
    );
    token = await run();
  }
  checkNotExpired(ctx, token);
  ctx.logger?.debug?.(
    { clientId, scopes: token.scopes, expiresAt: token.expiresAt.toISOString() },
    'fetched a Maskinporten token',
  );
  return token;
}

/** The Altinn platform of a set of credentials; a clear error when none is set or derivable. */
export function platformUrl(creds: Credentials): string {
  const url = creds.settings.altinnPlatformUrl ?? defaultAltinnPlatformUrl(creds.settings.authority);
  if (!url) {
    throw new ConfigError(
      `altinnPlatformUrl is required for authority ${creds.authority}: only maskinporten.no and test.maskinporten.no have a default Altinn platform`,
    );
  }
  return url.replace(/\/+$/, '');
}

/**
 * Exchanges a Maskinporten token (from `maskinportenToken`, normally the cache) for an Altinn token. A 401 is
 * retried once with a fresh Maskinporten token, which may have been revoked or expired in flight.
 *
 * The whole call keeps to one deadline (`deadlineMs`): waiting for the Maskinporten token, the exchange with its
 * retries, and the retry after a 401. The Maskinporten token is got before the exchange's retry loop, not inside
 * it: its fetch retries on its own (and may be shared with other callers), so retrying its failure here as well
 * would multiply the requests to a failing Maskinporten (maxAttempts² per exchange).
 */
export async function fetchAltinnToken(
  ctx: CallContext,
  creds: Credentials,
  maskinportenToken: (fresh: boolean, signal: AbortSignal) => Promise<AccessToken>,
): Promise<AccessToken> {
  const platform = platformUrl(creds);
  return withDeadline(ctx.policy, (deadline) => altinnTokenWithin(deadline, ctx, platform, maskinportenToken));
}

async function altinnTokenWithin(
  deadline: CallDeadline,
  ctx: CallContext,
  platform: string,
  maskinportenToken: (fresh: boolean, signal: AbortSignal) => Promise<AccessToken>,
): Promise<AccessToken> {
  const what = 'Altinn token exchange';
  const exchange = async (fresh: boolean) => {
    let mp: AccessToken;
    try {
      mp = await maskinportenToken(fresh, deadline.signal);
    } catch (err) {
      // The wait was cut by the deadline (the shared Maskinporten fetch goes on for its other callers).
      if (deadline.signal.aborted && err instanceof AbortedError) throw deadlineError(what, ctx.policy, err);
      throw err;
    }
    return withRetries(
      what,
      async (signal) => {
        const { url, headers } = exchangeRequest(platform, mp.value, {
          ...(ctx.altinnTest ? { test: true } : {}),
          ...(ctx.altinnSubscriptionKey ? { subscriptionKey: ctx.altinnSubscriptionKey } : {}),
        });
        const res = await ctx.fetch(url, { headers, signal, redirect: 'error' });
        const text = await res.text();
        if (res.status !== 200) throw withRetryAfter(ctx, exchangeErrorFromResponse(res.status, text, platform), res);
        return AccessToken.fromValue(processExchangeSuccess(text), 'altinn');
      },
      ctx.policy,
      deadline,
    );
  };
  let token: AccessToken;
  try {
    token = await exchange(false);
  } catch (err) {
    if (!(err instanceof MaskinportenError && err.code === 'ERR_ALTINN_EXCHANGE' && err.status === 401)) throw err;
    token = await exchange(true);
  }
  return checkNotExpired(ctx, token);
}
