/**
 * createFetch against real servers: the emulator (tokens, the Notifications stand-in, the echo API) and small
 * local APIs on two ports (two origins) for 401s, redirects and what arrived.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import type { CreatedClient, Emulator } from '../../src/emulator/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import { createFetch } from '../../src/http/index.ts';
import { isReplayableBody } from '../../src/http/redirect-rules.ts';
import {
  bearerOf,
  claimsOf,
  type Echo,
  NOTIFY,
  newClient,
  ORDER,
  type TestApi,
  upstream,
  useHttpFixture,
} from './servers.ts';

const READ = 'test:read';
const WRITE = 'test:write';

describe('createFetch', () => {
  let emulator: Emulator;
  let created: CreatedClient;
  let client: MaskinportenClient;
  let api: TestApi;
  let other: TestApi;

  const fixture = useHttpFixture([NOTIFY, READ, WRITE]);
  before(() => {
    ({ emulator, created, client, api, other } = fixture);
  });

  describe('the emulator’s Notifications stand-in', () => {
    const post = (f: typeof fetch) =>
      f(`${emulator.url}/notifications/api/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ORDER),
      });

    it('accepts an order sent with the Altinn-authorized fetch (201)', async () => {
      const res = await post(createFetch(client, { scopes: [NOTIFY], altinn: true }));
      assert.equal(res.status, 201, await res.clone().text());
      const body = (await res.json()) as { orderId: string; creator: string };
      assert.match(body.orderId, /^[0-9a-f-]{36}$/);
      assert.equal(body.creator, 'ttd');
    });

    it('rejects the raw Maskinporten token (401) and an Altinn token without the scope (403)', async () => {
      const raw = await post(createFetch(client, { scopes: [NOTIFY] }));
      assert.equal(raw.status, 401);
      await raw.body?.cancel();
      const unscoped = await post(createFetch(client, { scopes: [READ], altinn: true }));
      assert.equal(unscoped.status, 403);
      await unscoped.body?.cancel();
    });

    it('the raw fetch is what the echo API takes', async () => {
      const res = await createFetch(client, { scopes: [READ] })(`${emulator.url}/api/echo?scope=${READ}`);
      assert.equal(res.status, 200);
      const { claims } = (await res.json()) as { claims: Record<string, unknown> };
      assert.equal(claims.client_id, created.clientId);
      assert.equal(claims.scope, READ);
    });
  });

  describe('the Authorization header', () => {
    it('sets Authorization: Bearer with the client’s token', async () => {
      const f = createFetch(client, { scopes: [READ] });
      const res = await f(`${api.url}/things`);
      const echo = (await res.json()) as Echo;
      const token = await client.getAccessToken([READ]);
      assert.equal(echo.authorization, `Bearer ${token.value}`);
      assert.equal(claimsOf(token.value).scope, READ);
    });

    it('keeps an Authorization header the request already has (init headers or a Request)', async () => {
      const f = createFetch(client, { scopes: [READ] });
      await f(`${api.url}/a`, { headers: { Authorization: 'Basic dXNlcjpwdw==' } });
      await f(new Request(`${api.url}/b`, { headers: { authorization: 'Bearer mine' } }));
      await f(`${api.url}/c`, { headers: new Headers({ authorization: 'Bearer also-mine' }) });
      assert.deepEqual(
        api.seen.map((s) => s.authorization),
        ['Basic dXNlcjpwdw==', 'Bearer mine', 'Bearer also-mine'],
      );
    });

    it('replaces it with overwrite: true, in every form headers come in', async () => {
      const f = createFetch(client, { scopes: [READ], overwrite: true });
      await f(`${api.url}/a`, { headers: { Authorization: 'Basic dXNlcjpwdw==', 'x-a': 'a' } });
      await f(new Request(`${api.url}/b`, { headers: { authorization: 'Bearer mine', 'x-a': 'b' } }));
      await f(`${api.url}/c`, {
        headers: [
          ['x-a', 'c'],
          ['Authorization', 'Bearer pairs'],
        ],
      });
      await f(`${api.url}/d`, { headers: new Headers({ authorization: 'Bearer headers', 'x-a': 'd' }) });
      const expected = (await client.getAccessToken([READ])).authorizationHeader;
      assert.deepEqual(
        api.seen.map((s) => [s.authorization, s.headers['x-a']]),
        [
          [expected, 'a'],
          [expected, 'b'],
          [expected, 'c'],
          [expected, 'd'],
        ],
      );
    });

    it('headers given in init replace those of a Request, as in fetch', async () => {
      const f = createFetch(client, { scopes: [READ] });
      await f(new Request(`${api.url}/a`, { headers: { 'x-from-request': '1' } }), { headers: { 'x-from-init': '1' } });
      assert.equal(api.seen[0]?.headers['x-from-request'], undefined);
      assert.equal(api.seen[0]?.headers['x-from-init'], '1');
      assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
    });

    it('keeps the request’s other headers, method and body', async () => {
      const f = createFetch(client, { scopes: [READ] });
      const res = await f(`${api.url}/x`, {
        method: 'PUT',
        headers: { 'x-trace': 'abc', 'content-type': 'text/plain' },
        body: 'hello',
      });
      assert.equal(res.status, 200);
      const [seen] = api.seen;
      assert.equal(seen?.method, 'PUT');
      assert.equal(seen?.headers['x-trace'], 'abc');
      assert.equal(seen?.headers['content-type'], 'text/plain');
      assert.equal(seen?.body, 'hello');
      assert.match(seen?.authorization ?? '', /^Bearer /);
    });
  });

  describe('a 401 from the API', () => {
    const replayable: [string, () => RequestInit['body'], string][] = [
      ['a string', () => 'plain text', 'plain text'],
      ['bytes (Uint8Array)', () => new TextEncoder().encode('some bytes'), 'some bytes'],
      ['an ArrayBuffer', () => new TextEncoder().encode('buffer').buffer as ArrayBuffer, 'buffer'],
      ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'two' }), 'a=1&b=two'],
      [
        'FormData',
        () => {
          const form = new FormData();
          form.set('field', 'value-in-form');
          return form;
        },
        'value-in-form',
      ],
      ['a Blob', () => new Blob(['blob body']), 'blob body'],
    ];
    for (const [name, body, expected] of replayable) {
      it(`with ${name} body: invalidates, fetches a fresh token and resends once`, async () => {
        const c = newClient(created);
        const f = createFetch(c, { scopes: [WRITE] });
        const tokensBefore = upstream(emulator, 'token');
        const res = await f(`${api.url}/stale`, { method: 'POST', body: body() });
        assert.equal(res.status, 200);
        assert.equal(api.seen.length, 2);
        const [first, second] = api.seen;
        assert.ok(first?.authorization && second?.authorization);
        assert.notEqual(second.authorization, first.authorization);
        assert.ok(second.body.includes(expected), second.body);
        // The same body again (a multipart boundary is drawn anew for each send).
        const boundary = /^--(-*[\w-]+)\r\n/;
        const unbound = (b: string) => b.replaceAll(b.match(boundary)?.[1] ?? '\u0000', 'BOUNDARY');
        assert.equal(unbound(second.body), unbound(first.body));
        assert.equal(upstream(emulator, 'token') - tokensBefore, 2, 'the first token and the fresh one');
        // The fresh token is the one now cached.
        assert.equal((await c.getAccessToken([WRITE])).authorizationHeader, second.authorization);
      });
    }

    it('without a body (GET), and with a Request that has no body', async () => {
      const f = createFetch(newClient(created), { scopes: [WRITE] });
      assert.equal((await f(`${api.url}/stale`)).status, 200);
      assert.equal(api.seen.length, 2);
      api.reset();
      assert.equal((await f(new Request(`${api.url}/stale`))).status, 200);
      assert.equal(api.seen.length, 2);
    });

    it('resends once only: a second 401 is returned', async () => {
      const f = createFetch(newClient(created), { scopes: [WRITE] });
      const res = await f(`${api.url}/401`, { method: 'POST', body: 'x' });
      assert.equal(res.status, 401);
      assert.equal(api.seen.length, 2);
      assert.notEqual(api.seen[0]?.authorization, api.seen[1]?.authorization);
    });

    it('with an Altinn token: a fresh exchange (and Maskinporten token) before the resend', async () => {
      const c = newClient(created);
      const f = createFetch(c, { scopes: [NOTIFY], altinn: true });
      const [tokens, exchanges] = [upstream(emulator, 'token'), upstream(emulator, 'exchange')];
      const res = await f(`${api.url}/stale`, { method: 'POST', body: JSON.stringify(ORDER) });
      assert.equal(res.status, 200);
      assert.equal(api.seen.length, 2);
      const [first, second] = api.seen.map((s) => claimsOf(bearerOf(s.authorization)));
      assert.ok(first?.['urn:altinn:org'], 'an Altinn token');
      assert.notEqual(first?.jti ?? first?.sid, second?.jti ?? second?.sid);
      assert.notEqual(api.seen[0]?.authorization, api.seen[1]?.authorization);
      assert.equal(upstream(emulator, 'exchange') - exchanges, 2);
      assert.equal(upstream(emulator, 'token') - tokens, 2);
    });

    it('a one-shot stream body gets the 401 back unchanged, and the token is kept', async () => {
      const c = newClient(created);
      const f = createFetch(c, { scopes: [WRITE] });
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed'));
          controller.close();
        },
      });
      const res = await f(`${api.url}/stale`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      assert.equal(((await res.json()) as Echo).body, 'streamed');
      assert.equal(api.seen.length, 1);
      assert.equal(upstream(emulator, 'token'), tokensBefore, 'no token fetched');
      assert.equal((await c.getAccessToken([WRITE])).value, token.value, 'the token is not invalidated');
    });

    it('a Request with its own body (a stream) is not resent either', async () => {
      const f = createFetch(newClient(created), { scopes: [WRITE] });
      const res = await f(new Request(`${api.url}/stale`, { method: 'POST', body: 'inside the Request' }));
      assert.equal(res.status, 401);
      await res.body?.cancel();
      assert.equal(api.seen.length, 1);
      assert.equal(api.seen[0]?.body, 'inside the Request');
    });

    it('parallel requests that all meet the stale token refresh it once', async () => {
      const c = newClient(created);
      const f = createFetch(c, { scopes: [WRITE] });
      await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const results = await Promise.all(Array.from({ length: 25 }, () => f(`${api.url}/stale`)));
      assert.ok(results.every((r) => r.status === 200));
      const stale = api.seen.filter((s) => s.authorization === api.seen[0]!.authorization);
      assert.equal(stale.length, 25, 'all 25 went out with the stale token');
      assert.equal(api.seen.length, 50, 'each resent once');
      assert.equal(upstream(emulator, 'token') - tokensBefore, 1, 'one fresh token for all of them');
    });

    it('a 401 from another origin (after a redirect) does not invalidate the token', async () => {
      const c = newClient(created);
      const f = createFetch(c, { scopes: [WRITE] });
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const res = await f(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/401`)}`);
      assert.equal(res.status, 401);
      await res.body?.cancel();
      assert.equal(other.seen.length, 1);
      assert.equal(other.seen[0]?.authorization, undefined);
      assert.equal(api.seen.length, 1, 'not resent');
      assert.equal(upstream(emulator, 'token'), tokensBefore);
      assert.equal((await c.getAccessToken([WRITE])).value, token.value);
    });
  });

  it('1,000 parallel requests cost exactly one token fetch', async () => {
    const c = newClient(created);
    const f = createFetch(c, { scopes: [READ] });
    const tokensBefore = upstream(emulator, 'token');
    const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => f(`${api.url}/p/${i}`)));
    assert.ok(responses.every((r) => r.status === 200));
    await Promise.all(responses.map((r) => r.body?.cancel()));
    assert.equal(upstream(emulator, 'token') - tokensBefore, 1);
    assert.equal(api.seen.length, 1000);
    assert.equal(new Set(api.seen.map((s) => s.authorization)).size, 1);
    assert.match(api.seen[0]?.authorization ?? '', /^Bearer ey/);
  });

  describe('redirects', () => {
    it('drops Authorization when a redirect leaves the origin', async () => {
      const f = createFetch(client, { scopes: [READ] });
      const res = await f(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/landing`)}`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Echo).path, '/landing');
      assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.equal(other.seen.length, 1);
      assert.equal(other.seen[0]?.authorization, undefined);
    });

    it('keeps it on a same-origin redirect, and not after the request left the origin and came back', async () => {
      const f = createFetch(client, { scopes: [READ] });
      await f(`${api.url}/redirect?to=/landing`);
      assert.equal(api.seen.length, 2);
      assert.equal(api.seen[1]?.path, '/landing');
      assert.equal(api.seen[1]?.authorization, api.seen[0]?.authorization);
      assert.match(api.seen[1]?.authorization ?? '', /^Bearer /);

      api.reset();
      const back = `${other.url}/redirect?to=${encodeURIComponent(`${api.url}/back`)}`;
      await f(`${api.url}/redirect?to=${encodeURIComponent(back)}`);
      assert.deepEqual(
        api.seen.map((s) => [s.path, s.authorization === undefined]),
        [
          ['/redirect', false],
          ['/back', true],
        ],
      );
    });

    it('307 keeps method and body (to the same origin with the token, to another without)', async () => {
      const f = createFetch(client, { scopes: [READ] });
      await f(`${api.url}/redirect?status=307&to=/landing`, { method: 'POST', body: 'payload' });
      assert.deepEqual(
        api.seen.map((s) => [s.method, s.body, s.authorization !== undefined]),
        [
          ['POST', 'payload', true],
          ['POST', 'payload', true],
        ],
      );
      await f(`${api.url}/redirect?status=307&to=${encodeURIComponent(`${other.url}/x`)}`, {
        method: 'PUT',
        body: 'payload',
      });
      assert.deepEqual(
        other.seen.map((s) => [s.method, s.body, s.authorization]),
        [['PUT', 'payload', undefined]],
      );
    });

    it('303 turns a POST into a GET without a body', async () => {
      const f = createFetch(client, { scopes: [READ] });
      await f(`${api.url}/redirect?status=303&to=/landing`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'payload',
      });
      const landing = api.seen[1];
      assert.equal(landing?.method, 'GET');
      assert.equal(landing?.body, '');
      assert.equal(landing?.headers['content-type'], undefined);
    });

    it('redirect: "manual" hands the redirect back', async () => {
      const f = createFetch(client, { scopes: [READ] });
      const res = await f(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/x`)}`, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), `${other.url}/x`);
      assert.equal(other.seen.length, 0);
    });

    it('redirect: "error" fails on a redirect', async () => {
      const f = createFetch(client, { scopes: [READ] });
      await assert.rejects(f(`${api.url}/redirect?to=/x`, { redirect: 'error' }), TypeError);
    });
  });

  describe('allowedOrigins', () => {
    it('a request to an origin not listed carries no token; a listed one does', async () => {
      const f = createFetch(client, { scopes: [READ], allowedOrigins: [`${api.url}/any/path`] });
      await f(`${other.url}/x`);
      await f(`${api.url}/y`);
      assert.equal(other.seen[0]?.authorization, undefined);
      assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
    });

    it('a redirect from a listed origin to one not listed drops the token', async () => {
      const f = createFetch(client, { scopes: [READ], allowedOrigins: [api.url] });
      await f(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/z`)}`);
      assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.equal(other.seen[0]?.authorization, undefined);
    });
  });

  describe('per-request overrides (init.maskinporten)', () => {
    it('a system user: the echo API sees authorization_details', async () => {
      const org = '310000001';
      emulator.addSystemUser({ org, clientIds: [created.clientId] });
      const f = createFetch(client, { scopes: [READ] });
      const res = await f(`${emulator.url}/api/echo`, { maskinporten: { systemUser: { org } } });
      assert.equal(res.status, 200);
      const { claims } = (await res.json()) as { claims: { authorization_details?: Record<string, unknown>[] } };
      const [details] = claims.authorization_details ?? [];
      assert.equal(details?.type, 'urn:altinn:systemuser');
      assert.deepEqual(details?.systemuser_org, { authority: 'iso6523-actorid-upis', ID: `0192:${org}` });
      // Without the override: no system user.
      const plain = (await (await f(`${emulator.url}/api/echo`)).json()) as { claims: Record<string, unknown> };
      assert.equal(plain.claims.authorization_details, undefined);
    });

    it('extra scopes are added to the adapter’s', async () => {
      const f = createFetch(client, { scopes: [READ] });
      const res = await f(`${emulator.url}/api/echo?scope=${WRITE}`, { maskinporten: { scopes: [WRITE] } });
      assert.equal(res.status, 200);
      const { claims } = (await res.json()) as { claims: { scope: string } };
      assert.deepEqual(claims.scope.split(' ').sort(), [READ, WRITE]);
    });

    it('the token kind: a raw token from an Altinn fetch with altinn: false', async () => {
      const f = createFetch(client, { scopes: [NOTIFY], altinn: true });
      await f(`${api.url}/a`);
      await f(`${api.url}/b`, { maskinporten: { altinn: false } });
      const [altinn, raw] = api.seen.map((s) => claimsOf(bearerOf(s.authorization)));
      assert.ok(altinn?.['urn:altinn:org']);
      assert.equal(raw?.['urn:altinn:org'], undefined);
      assert.equal(raw?.client_amr, 'private_key_jwt');
    });

    it('the override is not sent to the server as part of the request', async () => {
      const f = createFetch(client, { scopes: [READ] });
      const res = await f(`${api.url}/a`, { maskinporten: { scopes: [WRITE] }, method: 'POST', body: 'b' });
      assert.equal(res.status, 200);
      assert.equal(api.seen[0]?.body, 'b');
    });
  });

  describe('options', () => {
    it('rejects missing or empty scopes, both scopes and request, and a missing client', () => {
      assert.throws(
        () => createFetch(client, {}),
        (err: unknown) =>
          err instanceof ArgumentError &&
          err.code === 'ERR_INVALID_ARGUMENT' &&
          /createFetch: expected options\.scopes to be a non-empty array/.test(err.message),
      );
      assert.throws(() => createFetch(client, { scopes: [] }), /expected options\.scopes to be a non-empty array/);
      assert.throws(() => createFetch(client, { scopes: '  ' }), ArgumentError);
      assert.throws(
        () => createFetch(client, { scopes: [READ], request: { scopes: [READ] } }),
        /either options\.scopes or options\.request, not both/,
      );
      assert.throws(
        () => createFetch(undefined as unknown as MaskinportenClient, { scopes: [READ] }),
        /expected a MaskinportenClient/,
      );
    });

    it('takes a full request instead of scopes', async () => {
      const f = createFetch(client, { request: { scopes: [READ], resource: 'https://api.example.no/' } });
      await f(`${api.url}/a`);
      const claims = claimsOf(bearerOf(api.seen[0]?.authorization));
      assert.equal(claims.aud, 'https://api.example.no/');
    });

    it('wraps the fetch it is given', async () => {
      const calls: string[] = [];
      const f = createFetch(client, {
        scopes: [READ],
        fetch: (input, init) => {
          calls.push(String(input));
          return fetch(input, init);
        },
      });
      await f(`${api.url}/wrapped`);
      assert.deepEqual(calls, [`${api.url}/wrapped`]);
    });
  });

  it('isReplayableBody', () => {
    for (const body of [
      undefined,
      null,
      's',
      new Uint8Array(1),
      new ArrayBuffer(1),
      new URLSearchParams(),
      new FormData(),
    ])
      assert.equal(isReplayableBody(body), true);
    assert.equal(isReplayableBody(new ReadableStream()), false);
  });

  it('never authorizes the client’s own token traffic, even as the fetch the client itself uses', {
    timeout: 20_000,
  }, async () => {
    // A client whose own fetch is the authorized one (as when globalThis.fetch is replaced): discovery and the
    // token request must go out untouched, or the first token would wait for itself.
    let authorized: typeof fetch = fetch;
    const c = new MaskinportenClient(created.settings, {
      altinnTest: true,
      fetch: (input, init) => authorized(input, init),
    });
    authorized = createFetch(c, { scopes: [NOTIFY], altinn: true, overwrite: true }) as typeof fetch;
    const res = await authorized(`${emulator.url}/notifications/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ORDER),
    });
    assert.equal(res.status, 201);
  });
});
