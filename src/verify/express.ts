/**
 * Express and Connect middleware: verifies the request's bearer token, puts the typed claims on
 * `req.maskinporten`, and answers a refused token with 401 or 403 and the RFC 6750 `WWW-Authenticate` itself.
 * Written against Node's own request and response, so it needs no Express types or code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { refusalAnswer } from './answer.ts';
import type { VerifiedToken } from './claims.ts';
import type { TokenRequirements } from './options.ts';
import type { TokenVerifier } from './verifier.ts';

/**
 * A request after the middleware let it through.
 * @see https://expressjs.com/en/guide/using-middleware.html
 */
export interface MaskinportenRequest extends IncomingMessage {
  /** The verified token's typed claims. */
  maskinporten?: VerifiedToken;
}

/**
 * Connect-style middleware, as Express 4 and 5 and Connect call it.
 * @see https://expressjs.com/en/guide/using-middleware.html
 */
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Creates the middleware.
 *
 * @param verifier - From {@link createTokenVerifier}.
 * @param requirements - Scopes, any-scopes and consumers this route needs on top of the verifier's own.
 * @returns Middleware that calls `next()` with `req.maskinporten` set, or answers 401/403 (503 when the issuer's
 * keys cannot be had); other failures go to `next(err)`.
 * @example
 * app.get('/api/data', createExpressMiddleware(verifier, { scopes: ['kommune:api.read'] }), (req, res) => {
 *   res.json({ consumer: req.maskinporten.consumerOrg });
 * });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function createExpressMiddleware(verifier: TokenVerifier, requirements?: TokenRequirements): ConnectMiddleware {
  if (!verifier || typeof verifier.verify !== 'function') {
    throw new TypeError('createExpressMiddleware: expected a verifier from createTokenVerifier');
  }
  return (req, res, next) => {
    verifier.verify(req.headers.authorization, requirements).then(
      (token) => {
        (req as MaskinportenRequest).maskinporten = token;
        next();
      },
      (err: unknown) => {
        const answer = refusalAnswer(err);
        if (!answer) return next(err);
        if (res.headersSent) return next(err);
        res.statusCode = answer.status;
        for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(answer.body));
      },
    );
  };
}
