/**
 * Protected APIs for trying tokens end to end: a stand-in for Altinn's Notifications API (Altinn's example
 * scope; `POST /notifications/api/v1/orders` and the newer `POST /notifications/api/v1/future/orders` that current
 * clients call) that takes Altinn tokens, and an echo endpoint that validates a Maskinporten token and returns its
 * claims.
 */
import { randomUUID } from 'node:crypto';
import { TokenVerificationError } from '../../verify/errors.ts';
import { createTokenVerifier, type TokenVerifier } from '../../verify/verifier.ts';
import type { EmulatorCore } from '../core.ts';
import { type HttpError, mediaType, problem, type RequestContext, readBody, sendJson } from '../http.ts';
import type { SigningKey } from '../state.ts';
import type { Route } from './route.ts';

/**
 * The scope the Notifications API requires for placing orders.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export const NOTIFICATIONS_SCOPE = 'altinn:serviceowner/notifications.create';

/** The protected APIs' errors, with the RFC 6750 `WWW-Authenticate` error for 401 and 403. */
function apiProblem(status: number, title: string, detail: string): HttpError {
  const wwwAuthenticate =
    status === 401 ? 'Bearer error="invalid_token"' : status === 403 ? 'Bearer error="insufficient_scope"' : undefined;
  return problem(status, title, detail, wwwAuthenticate ? { wwwAuthenticate } : {});
}

/**
 * A verifier for the emulator's own tokens, as an API provider would use `maskinporten/verify`: the key comes from
 * the emulator's state instead of its JWKS endpoint, so faults and the request log see only the caller's traffic.
 */
function emulatorVerifier(core: EmulatorCore, kind: 'maskinporten' | 'altinn', key: () => SigningKey): TokenVerifier {
  return createTokenVerifier({
    ...(kind === 'altinn' ? { altinnPlatformUrl: core.altinnPlatformUrl } : { authority: core.issuer }),
    jwks: () => ({ keys: [key().publicJwk] }),
    clock: core.clock,
  });
}

async function requireToken(ctx: RequestContext, verifier: TokenVerifier, scope?: string) {
  // A scope holds no whitespace, so a token can never have such a one: 403 without asking the verifier.
  const odd = scope !== undefined && !/^\S+$/.test(scope);
  try {
    const token = await verifier.verify(ctx.req.headers.authorization, scope && !odd ? { scopes: [scope] } : undefined);
    ctx.log.tokenClaims = token.claims as Record<string, unknown>;
    ctx.log.clientId = token.clientId;
    if (odd) throw apiProblem(403, 'Forbidden', `the token lacks the scope ${scope}`);
    return token.claims;
  } catch (err) {
    if (!(err instanceof TokenVerificationError)) throw err;
    const title = err.status === 403 ? 'Forbidden' : 'Unauthorized';
    throw problem(err.status, title, err.message, err.wwwAuthenticate ? { wwwAuthenticate: err.wwwAuthenticate } : {});
  }
}

/** The routes of the protected APIs. */
export function protectedApiRoutes(core: EmulatorCore): Route[] {
  const maskinporten = emulatorVerifier(core, 'maskinporten', () => core.state.maskinportenKey);
  const altinn = emulatorVerifier(core, 'altinn', () => core.state.altinnKey);
  return [
    {
      pattern: /^\/notifications\/api\/v1\/orders$/,
      endpoint: 'notifications',
      methods: {
        POST: async (ctx) => {
          const claims = await requireToken(ctx, altinn, NOTIFICATIONS_SCOPE);
          if (mediaType(ctx) !== 'application/json')
            throw apiProblem(415, 'Unsupported Media Type', 'send the order as JSON');
          let order: unknown;
          try {
            order = JSON.parse((await readBody(ctx)).toString('utf8'));
          } catch {
            throw apiProblem(400, 'Bad Request', 'the order is not valid JSON');
          }
          const recipients = (order as { recipients?: unknown } | null)?.recipients;
          if (!Array.isArray(recipients) || recipients.length === 0) {
            throw apiProblem(400, 'Bad Request', 'the order needs a non-empty "recipients" array');
          }
          if (!recipients.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
            throw apiProblem(400, 'Bad Request', 'each of the order\'s "recipients" must be a JSON object');
          }
          const orderId = randomUUID();
          sendJson(
            ctx,
            201,
            { orderId, recipientLookup: null, creator: claims['urn:altinn:org'] ?? claims['urn:altinn:orgNumber'] },
            { location: `${core.url}/notifications/api/v1/orders/${orderId}` },
          );
        },
      },
    },
    {
      pattern: /^\/notifications\/api\/v1\/future\/orders$/,
      endpoint: 'notifications',
      methods: {
        POST: async (ctx) => {
          await requireToken(ctx, altinn, NOTIFICATIONS_SCOPE);
          const order = await orderBody(ctx);
          const recipient = order.recipient;
          if (recipient === null || typeof recipient !== 'object' || Array.isArray(recipient)) {
            throw apiProblem(400, 'Bad Request', 'the order needs a "recipient" object');
          }
          if (typeof order.idempotencyId !== 'string' || !order.idempotencyId) {
            throw apiProblem(400, 'Bad Request', 'the order needs an "idempotencyId" string');
          }
          const orderId = randomUUID();
          const sendersReference = typeof order.sendersReference === 'string' ? order.sendersReference : null;
          sendJson(
            ctx,
            201,
            { notificationOrderId: orderId, notification: { shipmentId: randomUUID(), sendersReference } },
            { location: `${core.url}/notifications/api/v1/future/orders/${orderId}` },
          );
        },
      },
    },
    {
      pattern: /^\/api\/echo$/,
      endpoint: 'echo',
      methods: {
        GET: (ctx) => echo(ctx, maskinporten),
        POST: (ctx) => echo(ctx, maskinporten),
      },
    },
  ];
}

/** The order as a JSON object, or a 415/400 problem. */
async function orderBody(ctx: RequestContext): Promise<Record<string, unknown>> {
  if (mediaType(ctx) !== 'application/json') throw apiProblem(415, 'Unsupported Media Type', 'send the order as JSON');
  let order: unknown;
  try {
    order = JSON.parse((await readBody(ctx)).toString('utf8'));
  } catch {
    throw apiProblem(400, 'Bad Request', 'the order is not valid JSON');
  }
  if (order === null || typeof order !== 'object' || Array.isArray(order)) {
    throw apiProblem(400, 'Bad Request', 'the order must be a JSON object');
  }
  return order as Record<string, unknown>;
}

async function echo(ctx: RequestContext, verifier: TokenVerifier): Promise<void> {
  const scope = ctx.url.searchParams.get('scope') || undefined;
  const claims = await requireToken(ctx, verifier, scope);
  sendJson(ctx, 200, { claims });
}
