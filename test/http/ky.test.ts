/**
 * withMaskinporten (ky hooks) against real servers: `beforeRequest` sets the token, `afterResponse` forces one
 * retry on a 401 and `beforeRetry` puts the fresh token on it. ky runs on the global fetch, which follows redirects.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import ky, { HTTPError, type KyInstance, type Options } from 'ky';
import kyV1 from 'ky-v1';
import type { MaskinportenClient } from '../../src/client.ts';
import type { CreatedClient, Emulator } from '../../src/emulator/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import {
  type AuthorizationOptions,
  maskinportenKyHooks as hooks,
  type RequestOverrides,
  withMaskinporten as withMp,
} from '../../src/http/index.ts';
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

/** The origins these tests allow when a test names none: the two APIs and the emulator. */
let origins: string[] = [];
const withMaskinporten: typeof withMp = (k, client, options) =>
  withMp(k, client, { allowedOrigins: origins, ...options });
const maskinportenKyHooks: typeof hooks = (k, client, options) =>
  hooks(k, client, { allowedOrigins: origins, ...options });

/** ky with the hooks, handing back every status instead of throwing. */
function authorizedKy(client: MaskinportenClient, options: AuthorizationOptions): KyInstance {
  return withMaskinporten(ky, client, options).extend({ throwHttpErrors: false });
}

/** Per-request overrides in ky's context. */
const overrides = (maskinporten: RequestOverrides): Options => ({ context: { maskinporten } });

describe('withMaskinporten (ky)', () => {
  let emulator: Emulator;
  let created: CreatedClient;
  let client: MaskinportenClient;
  let api: TestApi;
  let other: TestApi;

  const fixture = useHttpFixture([NOTIFY, READ, WRITE]);
  before(() => {
    ({ emulator, created, client, api, other } = fixture);
    origins = [api.url, other.url, emulator.url];
  });

  it('the Notifications stand-in accepts an order from the Altinn-authorized ky (201), not from the raw one (401)', async () => {
    const url = `${emulator.url}/notifications/api/v1/orders`;
    const created = await withMaskinporten(ky, client, { scopes: [NOTIFY], altinn: true })
      .post(url, { json: ORDER })
      .json<{ creator: string }>();
    assert.equal(created.creator, 'ttd');
    await assert.rejects(
      withMaskinporten(ky, client, { scopes: [NOTIFY] }).post(url, { json: ORDER }),
      (err: unknown) => err instanceof HTTPError && err.response.status === 401,
    );
  });

  describe('the Authorization header', () => {
    it('sets Authorization: Bearer with the client’s token', async () => {
      const echo = await authorizedKy(client, { scopes: [READ] })
        .get(`${api.url}/a`)
        .json<Echo>();
      assert.equal(echo.authorization, (await client.getAccessToken([READ])).authorizationHeader);
    });

    it('keeps an Authorization header the request has unless overwrite: true', async () => {
      await authorizedKy(client, { scopes: [READ] }).get(`${api.url}/a`, {
        headers: { Authorization: 'Basic dXNlcjpwdw==' },
      });
      await authorizedKy(client, { scopes: [READ], overwrite: true }).get(`${api.url}/b`, {
        headers: { Authorization: 'Basic dXNlcjpwdw==', 'x-keep': 'yes' },
      });
      const expected = (await client.getAccessToken([READ])).authorizationHeader;
      assert.deepEqual(
        api.seen.map((s) => s.authorization),
        ['Basic dXNlcjpwdw==', expected],
      );
      assert.equal(api.seen[1]?.headers['x-keep'], 'yes');
    });
  });

  describe('a 401 from the API', () => {
    const replayable: [string, () => Options, string][] = [
      ['json', () => ({ json: { hello: 'json' } }), '{"hello":"json"}'],
      ['a string', () => ({ body: 'plain text' }), 'plain text'],
      ['bytes (Uint8Array)', () => ({ body: new TextEncoder().encode('some bytes') }), 'some bytes'],
      ['URLSearchParams', () => ({ body: new URLSearchParams({ a: '1', b: 'two' }) }), 'a=1&b=two'],
      [
        'FormData',
        () => {
          const form = new FormData();
          form.set('field', 'value-in-form');
          return { body: form };
        },
        'value-in-form',
      ],
    ];
    for (const [name, options, expected] of replayable) {
      it(`with ${name} body: invalidates, fetches a fresh token and resends once`, async () => {
        const c = newClient(created);
        const tokensBefore = upstream(emulator, 'token');
        const res = await authorizedKy(c, { scopes: [WRITE] }).post(`${api.url}/stale`, options());
        assert.equal(res.status, 200);
        assert.equal(api.seen.length, 2);
        const [first, second] = api.seen;
        assert.ok(first?.authorization && second?.authorization);
        assert.notEqual(second.authorization, first.authorization);
        assert.ok(first.body.includes(expected) && second.body.includes(expected), second.body);
        assert.equal(upstream(emulator, 'token') - tokensBefore, 2);
        assert.equal((await c.getAccessToken([WRITE])).authorizationHeader, second.authorization);
        assert.equal(((await res.json()) as Echo).authorization, second.authorization);
      });
    }

    it('resends once only', async () => {
      const res = await authorizedKy(newClient(created), { scopes: [WRITE] }).put(`${api.url}/401`, { body: 'x' });
      assert.equal(res.status, 401);
      assert.equal(api.seen.length, 2);
    });

    it('a one-shot stream body gets the 401 back unchanged, and the token is kept', async () => {
      const c = newClient(created);
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed'));
          controller.close();
        },
      });
      const res = await authorizedKy(c, { scopes: [WRITE] }).post(`${api.url}/stale`, { body });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as Echo).body, 'streamed');
      assert.equal(api.seen.length, 1);
      assert.equal(upstream(emulator, 'token'), tokensBefore);
      assert.equal((await c.getAccessToken([WRITE])).value, token.value);
    });

    it('an Altinn token is exchanged afresh', async () => {
      const exchanges = upstream(emulator, 'exchange');
      const res = await authorizedKy(newClient(created), { scopes: [NOTIFY], altinn: true }).post(`${api.url}/stale`, {
        json: ORDER,
      });
      assert.equal(res.status, 200);
      assert.equal(upstream(emulator, 'exchange') - exchanges, 2);
      assert.ok(claimsOf(bearerOf(api.seen[1]?.authorization))['urn:altinn:org']);
      assert.notEqual(api.seen[0]?.authorization, api.seen[1]?.authorization);
    });

    it('a 401 from another origin after a redirect does not invalidate the token', async () => {
      const c = newClient(created);
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const res = await authorizedKy(c, { scopes: [WRITE] }).get(
        `${api.url}/redirect?to=${encodeURIComponent(`${other.url}/401`)}`,
      );
      assert.equal(res.status, 401);
      assert.equal(api.seen.length, 1);
      assert.equal(other.seen.length, 1);
      assert.equal(other.seen[0]?.authorization, undefined);
      assert.equal(upstream(emulator, 'token'), tokensBefore);
      assert.equal((await c.getAccessToken([WRITE])).value, token.value);
    });
  });

  it('1,000 parallel requests cost exactly one token fetch', async () => {
    const k = authorizedKy(newClient(created), { scopes: [READ] });
    const tokensBefore = upstream(emulator, 'token');
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        // No per-request timeout: on a loaded machine 1,000 requests to one server may take longer than ky's 10 s.
        const res = await k.get(`${api.url}/p/${i}`, { timeout: false });
        await res.body?.cancel();
        return res.status;
      }),
    );
    assert.ok(results.every((s) => s === 200));
    assert.equal(upstream(emulator, 'token') - tokensBefore, 1);
    assert.equal(api.seen.length, 1000);
    assert.equal(new Set(api.seen.map((s) => s.authorization)).size, 1);
  });

  it('a cross-origin redirect drops Authorization; a same-origin one keeps it', async () => {
    const k = authorizedKy(client, { scopes: [READ] });
    const echo = await k.get(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/landing`)}`).json<Echo>();
    assert.equal(echo.path, '/landing');
    assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
    assert.equal(other.seen.length, 1);
    assert.equal(other.seen[0]?.authorization, undefined);

    api.reset();
    await k.get(`${api.url}/redirect?to=/same`);
    assert.equal(api.seen[1]?.path, '/same');
    assert.match(api.seen[1]?.authorization ?? '', /^Bearer /);
    assert.equal(api.seen[1]?.authorization, api.seen[0]?.authorization);
  });

  it('allowedOrigins: a request to an origin not listed carries no token', async () => {
    const k = authorizedKy(client, { scopes: [READ], allowedOrigins: [api.url] });
    await k.get(`${other.url}/x`);
    await k.get(`${api.url}/y`);
    assert.equal(other.seen[0]?.authorization, undefined);
    assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
  });

  describe('per-request overrides (context.maskinporten)', () => {
    it('a system user: the echo API sees authorization_details', async () => {
      const org = '310000004';
      emulator.addSystemUser({ org, clientIds: [created.clientId] });
      const k = authorizedKy(client, { scopes: [READ] });
      const { claims } = await k
        .get(`${emulator.url}/api/echo`, overrides({ systemUser: { org } }))
        .json<{ claims: { authorization_details?: Record<string, unknown>[] } }>();
      assert.equal(claims.authorization_details?.[0]?.type, 'urn:altinn:systemuser');
      assert.deepEqual(claims.authorization_details?.[0]?.systemuser_org, {
        authority: 'iso6523-actorid-upis',
        ID: `0192:${org}`,
      });
    });

    it('extra scopes, and a resend after a 401 keeps the override', async () => {
      const k = authorizedKy(newClient(created), { scopes: [READ] });
      const { claims } = await k
        .get(`${emulator.url}/api/echo?scope=${WRITE}`, overrides({ scopes: [WRITE] }))
        .json<{ claims: { scope: string } }>();
      assert.deepEqual(claims.scope.split(' ').sort(), [READ, WRITE]);
      const res = await k.get(`${api.url}/stale`, overrides({ scopes: [WRITE] }));
      assert.equal(res.status, 200);
      const scopes = api.seen.map((s) =>
        String(claimsOf(bearerOf(s.authorization)).scope)
          .split(' ')
          .sort(),
      );
      assert.deepEqual(scopes, [
        [READ, WRITE],
        [READ, WRITE],
      ]);
    });
  });

  it('the hooks compose with the caller’s own: theirs run after ours in each list', async () => {
    const seenInHook: (string | null)[] = [];
    const k = ky.extend({
      hooks: maskinportenKyHooks(ky, client, { scopes: [READ] }),
      throwHttpErrors: false,
    });
    const withOwn = k.extend({
      hooks: {
        beforeRequest: [
          ({ request }) => {
            seenInHook.push(request.headers.get('authorization'));
          },
        ],
      },
    });
    await withOwn.get(`${api.url}/a`);
    assert.match(seenInHook[0] ?? '', /^Bearer /);
  });

  for (const [major, k] of [
    ['ky 2', ky],
    ['ky 1', kyV1 as unknown as typeof ky],
  ] as const) {
    it(`a timed-out request’s error shows no token (${major})`, async () => {
      // A server that takes the request and never answers.
      const hang = createServer(() => undefined);
      await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
      try {
        const c = newClient(created);
        const token = (await c.getAccessToken([READ])).value;
        const err = await withMp(k, c, { scopes: [READ], allowedOrigins: [url] })
          .get(`${url}/hang`, { timeout: 300, retry: 0 })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.equal((err as Error | undefined)?.name, 'TimeoutError');
        for (const printed of [inspect(err), inspect(err, { depth: 8 }), JSON.stringify(err) ?? '']) {
          assert.ok(!printed.includes(token), 'the token was printed');
        }
      } finally {
        hang.closeAllConnections();
        await new Promise<void>((resolve) => hang.close(() => resolve()));
      }
    });
  }

  it('options are validated when the hooks are made', () => {
    assert.throws(
      () => withMaskinporten(ky, client, {}),
      (err: unknown) =>
        err instanceof ArgumentError &&
        /withMaskinporten: expected options\.scopes to be a non-empty array/.test(err.message),
    );
    assert.throws(() => maskinportenKyHooks(ky, client, { scopes: [] }), ArgumentError);
  });
});
