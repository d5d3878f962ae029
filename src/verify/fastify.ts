/**
 * A Fastify hook: verifies the request's bearer token, puts the typed claims on `request.maskinporten`, and
 * answers a refused token with 401 or 403 and the RFC 6750 `WWW-Authenticate`. Typed structurally, so it needs no
 * Fastify types or code.
 */

import { refusalAnswer } from './answer.ts';
import type { VerifiedToken } from './claims.ts';
import type { TokenRequirements } from './options.ts';
import type { TokenVerifier } from './verifier.ts';

/**
 * The parts of a Fastify request the hook uses.
 * @see https://fastify.dev/docs/latest/Reference/Hooks/
 */
export interface FastifyRequestLike {
  headers: Record<string, string | string[] | undefined>;
  /** Set by the hook once the token is verified. */
  maskinporten?: VerifiedToken;
}

/**
 * The parts of a Fastify reply the hook uses.
 * @see https://fastify.dev/docs/latest/Reference/Hooks/
 */
export interface FastifyReplyLike {
  /**
   * Sets the status.
   *
   * @param status - 401, 403 or 503.
   * @returns The reply, for chaining.
   */
  code(status: number): FastifyReplyLike;
  /**
   * Sets a header (`WWW-Authenticate`).
   *
   * @param name - The header name.
   * @param value - Its value.
   * @returns The reply, for chaining.
   */
  header(name: string, value: string): FastifyReplyLike;
  /**
   * Sends the reply.
   *
   * @param payload - The body: `{ error, error_description }`.
   * @returns Fastify's result.
   */
  send(payload?: unknown): unknown;
}

/**
 * An async `onRequest` / `preHandler` hook.
 * @see https://fastify.dev/docs/latest/Reference/Hooks/
 */
export type MaskinportenFastifyHook = (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>;

/**
 * Creates the hook. Register it for every route (`app.addHook('onRequest', hook)`) or for some
 * (`{ onRequest: hook }` in a route's options).
 *
 * @param verifier - From {@link createTokenVerifier}.
 * @param requirements - Scopes, any-scopes and consumers these routes need on top of the verifier's own.
 * @returns The hook; it answers 401/403 (503 when the issuer's keys cannot be had) and rethrows other failures.
 * @example
 * app.addHook('onRequest', createFastifyHook(verifier, { scopes: ['kommune:api.read'] }));
 * app.get('/api/data', async (request) => ({ consumer: request.maskinporten.consumerOrg }));
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function createFastifyHook(verifier: TokenVerifier, requirements?: TokenRequirements): MaskinportenFastifyHook {
  if (!verifier || typeof verifier.verify !== 'function') {
    throw new TypeError('createFastifyHook: expected a verifier from createTokenVerifier');
  }
  return async (request, reply) => {
    const header = request.headers.authorization;
    try {
      request.maskinporten = await verifier.verify(Array.isArray(header) ? header[0] : header, requirements);
    } catch (err) {
      const answer = refusalAnswer(err);
      if (!answer) throw err;
      reply.code(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
      // An async hook that answered returns the reply, so Fastify stops there (no route handler runs).
      return reply.send(answer.body);
    }
    return undefined;
  };
}
