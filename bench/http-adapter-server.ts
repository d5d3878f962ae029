/**
 * Benchmark child for the HTTP adapter benchmark: a minimal API on 127.0.0.1 (free port) that answers every request
 * with a small JSON body — 200 when it carries `Authorization: Bearer …`, 401 when not, so a request that lost its
 * token counts as an error. With `--check-exp` a bearer JWT whose `exp` has passed (or that is no JWT) gets 401 too,
 * so a token used past its life counts as an error (each header's `exp` is read once). Prints `{ url }` and stops
 * when stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentGone } from './lib/child.ts';

const OK = Buffer.from('{"ok":true}');
const UNAUTHORIZED = Buffer.from('{"ok":false}');
const checkExpiry = process.argv.includes('--check-exp');

/** `exp` (epoch ms) of recently seen bearer headers; a header that is not a JWT with a numeric `exp` gets 0. */
const expiries = new Map<string, number>();

function expiryOf(header: string): number {
  let exp = expiries.get(header);
  if (exp === undefined) {
    exp = 0;
    try {
      const claims = JSON.parse(Buffer.from(header.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
        exp?: unknown;
      };
      if (typeof claims.exp === 'number') exp = claims.exp * 1000;
    } catch {
      // not a JWT: expired
    }
    if (expiries.size >= 64) expiries.clear();
    expiries.set(header, exp);
  }
  return exp;
}

const server = createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
  const header = req.headers.authorization;
  const authorized = header?.startsWith('Bearer ') === true && (!checkExpiry || expiryOf(header) > Date.now());
  req.resume();
  const body = authorized ? OK : UNAUTHORIZED;
  res.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
await parentGone();
server.closeAllConnections();
server.close();
process.exit(0);
