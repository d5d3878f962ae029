/**
 * The emulator's defence against cross-site requests: a page of another site can make a browser send writes to a
 * loopback server (a form post, a `fetch` with `mode: 'no-cors'`) even though it cannot read the answers. Browsers
 * name the sender in `Origin` (and `Sec-Fetch-Site`), so a request that names another site is refused. A request
 * without `Origin` comes from a non-browser client (the CLI, a test, `curl`) and is allowed.
 */
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../url-policy.ts';
import { httpError } from './http.ts';

/** Whether `origin` is the emulator's own (at `ownUrl`), also under another loopback name on the same port. */
function isOwnOrigin(origin: string, ownUrl: string): boolean {
  if (origin === ownUrl) return true;
  const parsed = URL.parse(origin);
  const port = new URL(ownUrl).port;
  return (
    parsed !== null &&
    parsed.protocol === 'http:' &&
    parsed.port === port &&
    isLoopbackHost(parsed.hostname.replace(/^\[|\]$/g, ''))
  );
}

/**
 * Throws a 403 unless `req` comes from the emulator's own origin or from a non-browser client.
 *
 * @param req - The request.
 * @param ownUrl - The emulator's origin (`http://127.0.0.1:port`).
 * @param what - What the refusal names, e.g. `the console` or `the control routes`.
 */
export function refuseCrossSite(req: IncomingMessage, ownUrl: string, what: string): void {
  const origin = req.headers.origin;
  if (req.headers['sec-fetch-site'] === 'cross-site') {
    throw httpError(403, 'forbidden', `${what} accepts requests from the emulator's own pages only.`);
  }
  if (origin === undefined || isOwnOrigin(origin, ownUrl)) return;
  // The origin is shown as JSON so that a hostile one cannot add lines to a log or a terminal.
  throw httpError(
    403,
    'forbidden',
    `Requests from ${JSON.stringify(origin)} are refused: ${what} accepts the emulator's own origin only.`,
  );
}

/** True for a method that changes something (not GET, HEAD or OPTIONS). */
export function isWriteMethod(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}
