/**
 * The Express/Connect middleware and the Fastify hook in real Express 5 and Fastify 5 servers on 127.0.0.1, with
 * tokens from the emulator: the claims reach the handler, and refused tokens get 401/403 with the RFC 6750
 * `WWW-Authenticate` before any handler runs.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { NOTIFICATIONS_SCOPE } from '../../src/emulator/index.ts';
import {
  createExpressMiddleware,
  createFastifyHook,
  createTokenVerifier,
  type MaskinportenRequest,
  type TokenVerifier,
  type VerifiedToken,
} from '../../src/verify/index.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { accessToken } from '../helpers/grants.ts';
import { altinnToken, call } from '../helpers/http.ts';

describe('verify in Express 5 and Fastify 5', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['kommune:api.read', 'kommune:api.write', NOTIFICATIONS_SCOPE] });
  let verifier: TokenVerifier;
  let expressServer: Server;
  let fastify: FastifyInstance;
  let expressUrl: string;
  let fastifyUrl: string;
  let handled = 0;

  before(async () => {
    verifier = createTokenVerifier({ authority: emulator.issuer, clock: emulator.clock, realm: 'kommune' });

    const app = express();
    app.get('/data', createExpressMiddleware(verifier, { scopes: ['kommune:api.read'] }), (req, res) => {
      handled++;
      const token = (req as unknown as MaskinportenRequest).maskinporten as VerifiedToken;
      res.json({ consumer: token.consumerOrg, clientId: token.clientId, scopes: token.scopes });
    });
    app.post('/data', createExpressMiddleware(verifier, { scopes: ['kommune:api.write'] }), (_req, res) => {
      handled++;
      res.status(204).end();
    });
    expressServer = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => expressServer.once('listening', resolve));
    expressUrl = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;

    fastify = Fastify();
    fastify.decorateRequest('maskinporten', undefined);
    fastify.get(
      '/data',
      { onRequest: createFastifyHook(verifier, { scopes: ['kommune:api.read'] }) },
      async (request) => {
        handled++;
        const token = (request as unknown as { maskinporten: VerifiedToken }).maskinporten;
        return { consumer: token.consumerOrg, clientId: token.clientId, scopes: token.scopes };
      },
    );
    fastify.post(
      '/data',
      { onRequest: createFastifyHook(verifier, { scopes: ['kommune:api.write'] }) },
      async (_r, reply) => {
        handled++;
        return reply.code(204).send();
      },
    );
    fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await fastify.close();
    await new Promise((resolve) => expressServer.close(resolve));
  });

  for (const framework of ['Express', 'Fastify'] as const) {
    const url = () => `${framework === 'Express' ? expressUrl : fastifyUrl}/data`;

    it(`${framework}: a good token reaches the handler with its claims`, async () => {
      const token = await accessToken(emulator, client, ['kommune:api.read']);
      const answer = await call(url(), { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json, {
        consumer: client.orgNo,
        clientId: client.clientId,
        scopes: ['kommune:api.read'],
      });
    });

    it(`${framework}: no token → 401 with a bare challenge; a bad token → 401 invalid_token; no handler runs`, async () => {
      const before = handled;
      const none = await call(url());
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="kommune"');
      const forged = await call(url(), { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.' } });
      assert.equal(forged.status, 401);
      assert.match(
        forged.headers.get('www-authenticate') ?? '',
        /^Bearer realm="kommune", error="invalid_token", error_description="[^"]+"$/,
      );
      assert.deepEqual(Object.keys(forged.json as object).sort(), ['error', 'error_description']);
      const mp = await accessToken(emulator, client, [NOTIFICATIONS_SCOPE]);
      const altinn = await call(url(), { headers: { authorization: `Bearer ${await altinnToken(emulator, mp)}` } });
      assert.equal(altinn.status, 401);
      assert.match(altinn.headers.get('www-authenticate') ?? '', /Altinn token/);
      assert.equal(handled, before);
    });

    it(`${framework}: a token without the route's scope → 403 insufficient_scope`, async () => {
      const before = handled;
      const token = await accessToken(emulator, client, ['kommune:api.read']);
      const answer = await call(url(), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 403);
      assert.equal(
        answer.headers.get('www-authenticate'),
        'Bearer realm="kommune", error="insufficient_scope", error_description="the token lacks the scope kommune:api.write", scope="kommune:api.write"',
      );
      assert.equal(handled, before);
      const writer = await accessToken(emulator, client, ['kommune:api.write']);
      assert.equal((await call(url(), { method: 'POST', headers: { authorization: `Bearer ${writer}` } })).status, 204);
    });
  }
});
