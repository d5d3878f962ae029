/**
 * The HTTP answer to a refused token, shared by the Express and Fastify glue: status, `WWW-Authenticate`, and a
 * small JSON body with the RFC 6750 error. Anything that is not a verification error is not answered here.
 */
import { TokenVerificationError } from './errors.ts';

/** What to send for a refused request. */
export interface RefusalAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/**
 * The answer for `err`, or undefined when `err` is not a {@link TokenVerificationError} (a bug to pass on).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function refusalAnswer(err: unknown): RefusalAnswer | undefined {
  if (!(err instanceof TokenVerificationError)) return undefined;
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (err.wwwAuthenticate) headers['www-authenticate'] = err.wwwAuthenticate;
  const error = err.error ?? (err.status === 503 ? 'temporarily_unavailable' : 'unauthorized');
  return { status: err.status, headers, body: { error, error_description: err.message } };
}
