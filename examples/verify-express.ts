/**
 * An API that takes Maskinporten tokens: Express 5 with `maskinporten/verify`'s middleware. To stay runnable
 * anywhere, it starts the local emulator as the issuer and calls itself with a `MaskinportenClient`; in production
 * the verifier's `authority` is `test` or `prod` and the callers are other organisations.
 *
 * Run: npm run build && npx node examples/verify-express.ts
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MaskinportenClient } from 'maskinporten';
import { startEmulator } from 'maskinporten/emulator';
import { createExpressMiddleware, createTokenVerifier, type MaskinportenRequest } from 'maskinporten/verify';

const emulator = await startEmulator();
const caller = await emulator.createClient({ scopes: ['kommune:api.read'], orgNo: '910000001' });

// One verifier per API: it holds the cached keys. `authority: 'test'` for Maskinporten TEST.
const verifier = createTokenVerifier({ authority: emulator.issuer, consumers: ['910000001'] });

const app = express();
app.get('/api/data', createExpressMiddleware(verifier, { scopes: ['kommune:api.read'] }), (req, res) => {
  const token = (req as MaskinportenRequest).maskinporten!;
  res.json({ consumer: token.consumerOrg, client: token.clientId, scopes: token.scopes });
});
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/data`;

const client = new MaskinportenClient(caller.settings);
const token = await client.getAccessToken(['kommune:api.read']);
const ok = await fetch(api, { headers: { authorization: token.authorizationHeader } });
console.log('with a token:', ok.status, JSON.stringify(await ok.json()));
const refused = await fetch(api);
console.log('without one:', refused.status, refused.headers.get('www-authenticate'));

server.close();
await emulator.close();
