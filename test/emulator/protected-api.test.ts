import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { type CreatedClient, NOTIFICATIONS_SCOPE, startEmulator } from '../../src/emulator/index.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { signCompact } from '../../src/keys/jws.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { accessToken } from '../helpers/grants.ts';
import { altinnToken, bearer, call, type HttpAnswer, headerOf, obj, payloadOf } from '../helpers/http.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ORDER = {
  notificationChannel: 'Email',
  emailTemplate: { subject: 'Hei', body: 'Hallo' },
  recipients: [{ emailAddress: 'someone@example.com' }],
};

describe('protected APIs', () => {
  const emulator = useEmulator();
  let sender: CreatedClient;
  let other: CreatedClient;
  let ordersUrl: string;

  const order = (token: string | undefined, body: unknown = ORDER, contentType = 'application/json') =>
    call(ordersUrl, {
      method: 'POST',
      headers: { ...(token === undefined ? {} : bearer(token)), 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const echo = (token: string | undefined, query = '', method = 'GET'): Promise<HttpAnswer> =>
    call(`${emulator.url}/api/echo${query}`, { method, headers: token === undefined ? {} : bearer(token) });

  before(async () => {
    ordersUrl = `${emulator.url}/notifications/api/v1/orders`;
    [sender, other] = await Promise.all([
      emulator.createClient({ scopes: [NOTIFICATIONS_SCOPE, 'test:read'] }),
      emulator.createClient({ scopes: ['test:read', 'altinn:serviceowner/instances.read'] }),
    ]);
  });

  describe('POST /notifications/api/v1/future/orders (the path current clients call)', () => {
    const future = (token: string | undefined, body: unknown) =>
      call(`${emulator.url}/notifications/api/v1/future/orders`, {
        method: 'POST',
        headers: { ...(token === undefined ? {} : bearer(token)), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const futureOrder = {
      idempotencyId: 'order-1',
      sendersReference: 'case-42',
      recipient: { recipientEmail: { emailAddress: 'a@example.no', emailSettings: { subject: 'Hi', body: 'Hello' } } },
    };

    it('takes an Altinn token with the notifications scope: 201 with the order and shipment ids', async () => {
      const token = await altinnToken(emulator, await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]));
      const answer = await future(token, futureOrder);
      assert.equal(answer.status, 201, answer.text);
      const body = obj(answer);
      assert.match(body.notificationOrderId as string, UUID);
      const notification = body.notification as Record<string, unknown>;
      assert.match(notification.shipmentId as string, UUID);
      assert.equal(notification.sendersReference, 'case-42');
      assert.equal(
        answer.headers.get('location'),
        `${emulator.url}/notifications/api/v1/future/orders/${body.notificationOrderId}`,
      );
    });

    it('refuses no token (401), a token without the scope (403) and an order without recipient (400)', async () => {
      assert.equal((await future(undefined, futureOrder)).status, 401);
      const noScope = await altinnToken(emulator, await accessToken(emulator, other, ['test:read']));
      assert.equal((await future(noScope, futureOrder)).status, 403);
      const token = await altinnToken(emulator, await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]));
      for (const body of [{ idempotencyId: 'x' }, { recipient: {} }, [], 'text']) {
        const answer = await future(token, body);
        assert.equal(answer.status, 400, answer.text);
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }
    });
  });

  describe('POST /notifications/api/v1/orders', () => {
    it('takes an Altinn token with the notifications scope: 201 with an order id and a Location', async () => {
      const token = await altinnToken(emulator, await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]));
      const answer = await order(token);
      assert.equal(answer.status, 201, answer.text);
      const body = obj(answer);
      assert.match(body.orderId as string, UUID);
      assert.equal(answer.headers.get('location'), `${emulator.url}/notifications/api/v1/orders/${body.orderId}`);
      assert.equal(body.creator, 'digdir');
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      // Every order gets its own id.
      const second = obj(await order(token));
      assert.notEqual(second.orderId, body.orderId);
    });

    it('takes the ?test=true token too (acting as ttd)', async () => {
      const mp = await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]);
      const answer = await order(await altinnToken(emulator, mp, true));
      assert.equal(answer.status, 201, answer.text);
      assert.equal(obj(answer).creator, 'ttd');
    });

    it('401 without a token, with a raw Maskinporten token, or with a bad one', async () => {
      const mp = await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]);
      const altinn = await altinnToken(emulator, mp);
      const forger = await generateRsaKeyPair();
      const forged = signCompact(headerOf(altinn) as { alg: string }, payloadOf(altinn), forger.privateKey);
      for (const [why, token] of [
        ['no token', undefined],
        ['a Maskinporten token (with the scope)', mp],
        ['garbage', 'garbage'],
        ['a forged Altinn token', forged],
      ] as const) {
        const answer = await order(token);
        assert.equal(answer.status, 401, `${why}: ${answer.text}`);
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/, why);
        assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/, why);
        assert.equal(obj(answer).status, 401, why);
      }
    });

    it('401 for an Altinn token 30 minutes and 10 s of skew after it was issued', async () => {
      const altinn = await altinnToken(emulator, await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]));
      const { exp } = decodeJwt(altinn);
      const offset = emulator.clock.offsetMs;
      try {
        emulator.clock.set((exp! + 5) * 1000);
        assert.equal((await order(altinn)).status, 201);
        emulator.clock.set((exp! + 11) * 1000);
        assert.equal((await order(altinn)).status, 401);
      } finally {
        emulator.clock.setOffset(offset);
      }
    });

    it('401 for an Altinn token from another emulator', async () => {
      const stranger = await startEmulator();
      try {
        const c = await stranger.createClient({ scopes: [NOTIFICATIONS_SCOPE] });
        const foreign = await altinnToken(stranger, await accessToken(stranger, c));
        assert.equal((await order(foreign)).status, 401);
      } finally {
        await stranger.close();
      }
    });

    it('403 for an Altinn token without the scope', async () => {
      for (const [client, scopes] of [
        [other, ['altinn:serviceowner/instances.read']],
        [other, ['test:read']],
        [sender, ['test:read']],
      ] as const) {
        const altinn = await altinnToken(emulator, await accessToken(emulator, client, [...scopes]));
        const answer = await order(altinn);
        assert.equal(answer.status, 403, `${scopes.join(' ')}: ${answer.text}`);
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.match(answer.headers.get('www-authenticate') ?? '', /insufficient_scope/);
        assert.match(String(obj(answer).detail), /notifications\.create/);
      }
    });

    it('checks the token before the order: 401/403 even for a bad order', async () => {
      assert.equal((await order(undefined, '{')).status, 401);
      const noScope = await altinnToken(emulator, await accessToken(emulator, other, ['test:read']));
      assert.equal((await order(noScope, '{')).status, 403);
    });

    it('400 for a bad order, 415 for one that is not JSON', async () => {
      const token = await altinnToken(emulator, await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]));
      for (const [why, body] of [
        ['not JSON', '{"recipients":'],
        ['empty body', ''],
        ['null', 'null'],
        ['a number', '5'],
        ['an array', '[]'],
        ['no recipients', { notificationChannel: 'Email' }],
        ['empty recipients', { ...ORDER, recipients: [] }],
        ['recipients not an array', { ...ORDER, recipients: 'someone@example.com' }],
        ['a recipient that is not an object', { ...ORDER, recipients: ['someone@example.com'] }],
        ['a null recipient', { ...ORDER, recipients: [null] }],
      ] as const) {
        const answer = await order(token, body);
        assert.equal(answer.status, 400, `${why}: ${answer.text}`);
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/, why);
        assert.equal(obj(answer).status, 400, why);
      }
      const form = await order(token, 'recipients=a', 'application/x-www-form-urlencoded');
      assert.equal(form.status, 415, form.text);
    });

    it('accepts only POST', async () => {
      const answer = await call(ordersUrl);
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), 'POST');
    });

    it('logs the order request with the Altinn token’s claims, not the token', async () => {
      emulator.requests.clear();
      const token = await altinnToken(emulator, await accessToken(emulator, sender, [NOTIFICATIONS_SCOPE]));
      assert.equal((await order(token)).status, 201);
      const [entry] = emulator.requests.entries({ endpoint: 'notifications' });
      assert.equal(entry?.status, 201);
      assert.equal(entry?.clientId, sender.clientId);
      assert.equal(entry?.tokenClaims?.['urn:altinn:orgNumber'], '991825827');
      assert.ok(!JSON.stringify(emulator.requests.entries()).includes(token.split('.')[2]!));
    });
  });

  describe('/api/echo', () => {
    it('validates a Maskinporten token and echoes its claims (GET and POST)', async () => {
      const token = await accessToken(emulator, sender);
      for (const method of ['GET', 'POST']) {
        const answer = await echo(token, '', method);
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(obj(answer).claims, payloadOf(token));
      }
    });

    it('enforces ?scope=', async () => {
      const token = await accessToken(emulator, sender, ['test:read']);
      assert.equal((await echo(token, '?scope=test:read')).status, 200);
      const missing = await echo(token, `?scope=${encodeURIComponent(NOTIFICATIONS_SCOPE)}`);
      assert.equal(missing.status, 403, missing.text);
      assert.match(missing.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      // A scope is matched whole, not as a prefix or substring.
      assert.equal((await echo(token, '?scope=test')).status, 403);
      assert.equal((await echo(token, '?scope=test:rea')).status, 403);
      const both = await accessToken(emulator, sender, ['test:read', NOTIFICATIONS_SCOPE]);
      assert.equal((await echo(both, `?scope=${encodeURIComponent(NOTIFICATIONS_SCOPE)}`)).status, 200);
    });

    it('401 without a token, with an Altinn token, an expired or a foreign one', async () => {
      const token = await accessToken(emulator, sender);
      const altinn = await altinnToken(emulator, token);
      for (const [why, t] of [
        ['none', undefined],
        ['garbage', 'x.y.z'],
        ['an Altinn token', altinn],
      ] as const) {
        const answer = await echo(t);
        assert.equal(answer.status, 401, `${why}: ${answer.text}`);
        assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
      const offset = emulator.clock.offsetMs;
      try {
        emulator.clock.advance(200_000);
        assert.equal((await echo(token)).status, 401);
      } finally {
        emulator.clock.setOffset(offset);
      }
      const stranger = await startEmulator();
      try {
        const c = await stranger.createClient({ scopes: ['test:read'] });
        assert.equal((await echo(await accessToken(stranger, c))).status, 401);
      } finally {
        await stranger.close();
      }
    });

    it('accepts only GET and POST', async () => {
      const answer = await call(`${emulator.url}/api/echo`, { method: 'DELETE' });
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), 'GET, POST, HEAD');
    });
  });
});
