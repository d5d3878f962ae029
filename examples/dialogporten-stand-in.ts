/**
 * A local stand-in for two routes of Dialogporten's service-owner API (create a dialog, get a dialog), enough for
 * the openapi-fetch example to run without the network. Like Dialogporten, it takes Maskinporten tokens with the
 * scope `digdir:dialogporten.serviceprovider` — checked with `maskinporten/verify`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier, TokenVerificationError } from 'maskinporten/verify';

export const DIALOGPORTEN_SCOPE = 'digdir:dialogporten.serviceprovider';

/** Starts the stand-in on 127.0.0.1 for tokens of the Maskinporten at `authority`. */
export async function startDialogportenStandIn(authority: string) {
  const verifier = createTokenVerifier({ authority, scopes: [DIALOGPORTEN_SCOPE] });
  const dialogs = new Map<string, Record<string, unknown>>();
  const json = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': `${type}; charset=utf-8` });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const token = await verifier.verify(req.headers.authorization);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'POST' && path === '/api/v1/serviceowner/dialogs') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const command = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (typeof command.serviceResource !== 'string' || typeof command.party !== 'string') {
        return json(
          res,
          400,
          { title: 'serviceResource and party are required', status: 400 },
          'application/problem+json',
        );
      }
      const id = randomUUID();
      dialogs.set(id, { ...command, id, org: token.consumerOrg, createdAt: new Date().toISOString() });
      res.setHeader('location', `/api/v1/serviceowner/dialogs/${id}`);
      return json(res, 201, id);
    }
    const match = /^\/api\/v1\/serviceowner\/dialogs\/([0-9a-f-]{36})$/.exec(path);
    if (req.method === 'GET' && match) {
      const dialog = dialogs.get(match[1]!);
      return dialog
        ? json(res, 200, dialog)
        : json(res, 404, { title: 'Not Found', status: 404 }, 'application/problem+json');
    }
    json(res, 404, { title: 'Not Found', status: 404 }, 'application/problem+json');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof TokenVerificationError) {
        if (err.wwwAuthenticate) res.setHeader('www-authenticate', err.wwwAuthenticate);
        res.writeHead(err.status).end();
      } else {
        res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
