/**
 * Benchmark child for the HTTP adapter benchmark: a minimal API on 127.0.0.1 (free port) that answers every request
 * with a small JSON body — 200 when it carries `Authorization: Bearer …`, 401 when not, so a request that lost its
 * token counts as an error. Prints `{ url }` and stops when stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentGone } from './lib/child.ts';

const OK = Buffer.from('{"ok":true}');
const UNAUTHORIZED = Buffer.from('{"ok":false}');

const server = createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
  const authorized = req.headers.authorization?.startsWith('Bearer ') === true;
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
