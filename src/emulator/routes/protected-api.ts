/**
 * Protected APIs for trying tokens end to end: a stand-in for Altinn's Notifications API (the seed's example
 * scope) that takes Altinn tokens, and an echo endpoint that validates a Maskinporten token and returns its claims.
 */
import { randomUUID } from 'node:crypto';
import type { EmulatorCore } from '../context.ts';
import { bearerToken, type HttpError, mediaType, problem, type RequestContext, readBody, sendJson } from '../http.ts';
import type { SigningKey } from '../state.ts';
import { checkToken } from '../token-check.ts';
import type { Route } from './route.ts';

/** The scope the Notifications API requires for placing orders. */
export const NOTIFICATIONS_SCOPE = 'altinn:serviceowner/notifications.create';

/** The protected APIs' errors, with the RFC 6750 `WWW-Authenticate` error for 401 and 403. */
function apiProblem(status: number, title: string, detail: string): HttpError {
  const wwwAuthenticate =
    status === 401 ? 'Bearer error="invalid_token"' : status === 403 ? 'Bearer error="insufficient_scope"' : undefined;
  return problem(status, title, detail, wwwAuthenticate ? { wwwAuthenticate } : {});
}

function requireToken(ctx: RequestContext, key: SigningKey, issuer: string, core: EmulatorCore, scope?: string) {
  const check = checkToken(bearerToken(ctx), { key, issuer, nowMs: core.clock.now() });
  if (!check.ok) throw apiProblem(401, 'Unauthorized', check.reason);
  ctx.log.tokenClaims = check.claims;
  if (typeof check.claims.client_id === 'string') ctx.log.clientId = check.claims.client_id;
  if (
    scope &&
    !String(check.claims.scope ?? '')
      .split(' ')
      .includes(scope)
  ) {
    throw apiProblem(403, 'Forbidden', `the token lacks the scope ${scope}`);
  }
  return check.claims;
}

/** The routes of the protected APIs. */
export function protectedApiRoutes(core: EmulatorCore): Route[] {
  return [
    {
      pattern: /^\/notifications\/api\/v1\/orders$/,
      endpoint: 'notifications',
      methods: {
        POST: async (ctx) => {
          const claims = requireToken(ctx, core.state.altinnKey, core.altinnIssuer, core, NOTIFICATIONS_SCOPE);
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
      pattern: /^\/api\/echo$/,
      endpoint: 'echo',
      methods: {
        GET: (ctx) => echo(core, ctx),
        POST: (ctx) => echo(core, ctx),
      },
    },
  ];
}

function echo(core: EmulatorCore, ctx: RequestContext): void {
  const scope = ctx.url.searchParams.get('scope') ?? undefined;
  const claims = requireToken(ctx, core.state.maskinportenKey, core.issuer, core, scope);
  sendJson(ctx, 200, { claims });
}
