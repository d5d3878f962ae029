/**
 * attachToAxios against real servers: request and response interceptors on an axios instance (Node's http adapter,
 * follow-redirects for redirects), detached by the function it returns.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { before, describe, it } from 'node:test';
import axios, { type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type { MaskinportenClient } from '../../src/client.ts';
import type { CreatedClient, Emulator } from '../../src/emulator/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import { type AuthorizationOptions, attachToAxios as attach, type RequestOverrides } from '../../src/http/index.ts';
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
const attachToAxios: typeof attach = (instance, client, options) =>
  attach(instance, client, { allowedOrigins: origins, ...options });

/** axios's request config plus the per-request overrides the adapter reads. */
type Config = AxiosRequestConfig & { maskinporten?: RequestOverrides };

/** An axios instance that hands back every status instead of throwing. */
function authorizedAxios(client: MaskinportenClient, options: AuthorizationOptions): AxiosInstance {
  const instance = axios.create({ validateStatus: () => true });
  attachToAxios(instance, client, options);
  return instance;
}

describe('attachToAxios', () => {
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

  it('the Notifications stand-in accepts an order from the Altinn-authorized instance (201), not from the raw one (401)', async () => {
    const url = `${emulator.url}/notifications/api/v1/orders`;
    const ok = await authorizedAxios(client, { scopes: [NOTIFY], altinn: true }).post(url, ORDER);
    assert.equal(ok.status, 201);
    assert.equal((ok.data as { creator: string }).creator, 'ttd');
    const raw = await authorizedAxios(client, { scopes: [NOTIFY] }).post(url, ORDER);
    assert.equal(raw.status, 401);
  });

  it('an instance that throws on errors rejects with the 401 as usual', async () => {
    const instance = axios.create();
    attachToAxios(instance, client, { scopes: [NOTIFY] });
    await assert.rejects(instance.post(`${emulator.url}/notifications/api/v1/orders`, ORDER), (err: unknown) => {
      assert.ok(axios.isAxiosError(err));
      assert.equal(err.response?.status, 401);
      return true;
    });
  });

  describe('the Authorization header', () => {
    it('sets Authorization: Bearer with the client’s token', async () => {
      const res = await authorizedAxios(client, { scopes: [READ] }).get<Echo>(`${api.url}/a`);
      assert.equal(res.data.authorization, (await client.getAccessToken([READ])).authorizationHeader);
    });

    it('keeps an Authorization header the request has (per request or instance default) unless overwrite: true', async () => {
      const keep = authorizedAxios(client, { scopes: [READ] });
      await keep.get(`${api.url}/a`, { headers: { Authorization: 'Basic dXNlcjpwdw==' } });
      const withDefault = axios.create({ headers: { authorization: 'Bearer default' } });
      attachToAxios(withDefault, client, { scopes: [READ] });
      await withDefault.get(`${api.url}/b`);
      const overwrite = authorizedAxios(client, { scopes: [READ], overwrite: true });
      await overwrite.get(`${api.url}/c`, { headers: { Authorization: 'Basic dXNlcjpwdw==', 'x-keep': 'yes' } });
      const expected = (await client.getAccessToken([READ])).authorizationHeader;
      assert.deepEqual(
        api.seen.map((s) => s.authorization),
        ['Basic dXNlcjpwdw==', 'Bearer default', expected],
      );
      assert.equal(api.seen[2]?.headers['x-keep'], 'yes');
    });
  });

  describe('a 401 from the API', () => {
    const replayable: [string, () => unknown, string][] = [
      ['a JSON object', () => ({ hello: 'json' }), '{"hello":"json"}'],
      ['a string', () => 'plain text', 'plain text'],
      ['a Buffer', () => Buffer.from('buffer bytes'), 'buffer bytes'],
      ['a Uint8Array', () => new TextEncoder().encode('some bytes'), 'some bytes'],
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
    ];
    for (const [name, data, expected] of replayable) {
      it(`with ${name} body: invalidates, fetches a fresh token and resends once`, async () => {
        const c = newClient(created);
        const tokensBefore = upstream(emulator, 'token');
        const res = await authorizedAxios(c, { scopes: [WRITE] }).post(`${api.url}/stale`, data());
        assert.equal(res.status, 200);
        assert.equal(api.seen.length, 2);
        const [first, second] = api.seen;
        assert.ok(first?.authorization && second?.authorization);
        assert.notEqual(second.authorization, first.authorization);
        assert.ok(first.body.includes(expected) && second.body.includes(expected), second.body);
        assert.equal(upstream(emulator, 'token') - tokensBefore, 2);
        assert.equal((await c.getAccessToken([WRITE])).authorizationHeader, second.authorization);
      });
    }

    it('resends once only', async () => {
      const res = await authorizedAxios(newClient(created), { scopes: [WRITE] }).put(`${api.url}/401`, 'x');
      assert.equal(res.status, 401);
      assert.equal(api.seen.length, 2);
    });

    it('a one-shot stream body gets the 401 back unchanged, and the token is kept', async () => {
      const c = newClient(created);
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const res = await authorizedAxios(c, { scopes: [WRITE] }).post<Echo>(
        `${api.url}/stale`,
        Readable.from([Buffer.from('stream'), Buffer.from('ed')]),
      );
      assert.equal(res.status, 401);
      assert.equal(res.data.body, 'streamed');
      assert.equal(api.seen.length, 1);
      assert.equal(upstream(emulator, 'token'), tokensBefore);
      assert.equal((await c.getAccessToken([WRITE])).value, token.value);
    });

    it('an Altinn token is exchanged afresh', async () => {
      const exchanges = upstream(emulator, 'exchange');
      const res = await authorizedAxios(newClient(created), { scopes: [NOTIFY], altinn: true }).post(
        `${api.url}/stale`,
        ORDER,
      );
      assert.equal(res.status, 200);
      assert.equal(upstream(emulator, 'exchange') - exchanges, 2);
      assert.ok(claimsOf(bearerOf(api.seen[1]?.authorization))['urn:altinn:org']);
      assert.notEqual(api.seen[0]?.authorization, api.seen[1]?.authorization);
    });

    it('a 401 from another origin after a redirect does not invalidate the token', async () => {
      const c = newClient(created);
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const res = await authorizedAxios(c, { scopes: [WRITE] }).get(
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
    const instance = authorizedAxios(newClient(created), { scopes: [READ] });
    const tokensBefore = upstream(emulator, 'token');
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => instance.get(`${api.url}/p/${i}`)));
    assert.ok(results.every((r: AxiosResponse) => r.status === 200));
    assert.equal(upstream(emulator, 'token') - tokensBefore, 1);
    assert.equal(api.seen.length, 1000);
    assert.equal(new Set(api.seen.map((s) => s.authorization)).size, 1);
  });

  describe('redirects', () => {
    it('a cross-origin redirect drops Authorization; a same-origin one keeps it', async () => {
      const instance = authorizedAxios(client, { scopes: [READ] });
      const res = await instance.get<Echo>(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/landing`)}`);
      assert.equal(res.data.path, '/landing');
      assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.equal(other.seen.length, 1);
      assert.equal(other.seen[0]?.authorization, undefined);

      api.reset();
      await instance.get(`${api.url}/redirect?to=/same`);
      assert.equal(api.seen[1]?.path, '/same');
      assert.match(api.seen[1]?.authorization ?? '', /^Bearer /);
      assert.equal(api.seen[1]?.authorization, api.seen[0]?.authorization);
    });

    it('drops it on a redirect to a subdomain (another origin), which follow-redirects alone would keep', async () => {
      const port = new URL(api.url).port;
      const instance = authorizedAxios(client, {
        scopes: [READ],
        allowedOrigins: [`http://localhost:${port}`, `http://sub.localhost:${port}`],
      });
      // Both names lead to the same local API; only the origin differs.
      const lookup = (
        _host: string,
        _options: unknown,
        cb: (err: Error | null, address: string, family: number) => void,
      ) => cb(null, '127.0.0.1', 4);
      const to = `http://sub.localhost:${port}/sub`;
      await instance.get(`http://localhost:${port}/redirect?to=${encodeURIComponent(to)}`, { lookup } as Config);
      assert.deepEqual(
        api.seen.map((s) => [s.headers.host, s.authorization === undefined]),
        [
          [`localhost:${port}`, false],
          [`sub.localhost:${port}`, true],
        ],
      );
    });

    it('chains a beforeRedirect of the caller’s own', async () => {
      const hops: string[] = [];
      const instance = authorizedAxios(client, { scopes: [READ] });
      await instance.get(`${api.url}/redirect?to=/landing`, {
        beforeRedirect: (options) => {
          hops.push(String(options.href));
        },
      });
      assert.deepEqual(hops, [`${api.url}/landing`]);
    });
  });

  it('allowedOrigins: a request to an origin not listed carries no token', async () => {
    const instance = authorizedAxios(client, { scopes: [READ], allowedOrigins: [api.url] });
    await instance.get(`${other.url}/x`);
    await instance.get(`${api.url}/y`);
    assert.equal(other.seen[0]?.authorization, undefined);
    assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
  });

  it('resolves baseURL before deciding the origin', async () => {
    const instance = axios.create({ baseURL: api.url, validateStatus: () => true });
    attachToAxios(instance, client, { scopes: [READ], allowedOrigins: [api.url] });
    await instance.get('/relative');
    assert.equal(api.seen[0]?.path, '/relative');
    assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
  });

  describe('per-request overrides (config maskinporten)', () => {
    it('a system user: the echo API sees authorization_details', async () => {
      const org = '310000003';
      emulator.addSystemUser({ org, clientIds: [created.clientId] });
      const instance = authorizedAxios(client, { scopes: [READ] });
      const config: Config = { maskinporten: { systemUser: { org } } };
      const res = await instance.get<{ claims: { authorization_details?: Record<string, unknown>[] } }>(
        `${emulator.url}/api/echo`,
        config,
      );
      assert.equal(res.status, 200);
      assert.equal(res.data.claims.authorization_details?.[0]?.type, 'urn:altinn:systemuser');
      assert.deepEqual(res.data.claims.authorization_details?.[0]?.systemuser_org, {
        authority: 'iso6523-actorid-upis',
        ID: `0192:${org}`,
      });
    });

    it('extra scopes', async () => {
      const instance = authorizedAxios(client, { scopes: [READ] });
      const config: Config = { maskinporten: { scopes: [WRITE] } };
      const res = await instance.get<{ claims: { scope: string } }>(`${emulator.url}/api/echo?scope=${WRITE}`, config);
      assert.equal(res.status, 200);
      assert.deepEqual(res.data.claims.scope.split(' ').sort(), [READ, WRITE]);
    });
  });

  it('the function it returns detaches it: later requests carry no token', async () => {
    const instance = axios.create({ validateStatus: () => true });
    const detach = attachToAxios(instance, client, { scopes: [READ] });
    await instance.get(`${api.url}/attached`);
    detach();
    await instance.get(`${api.url}/detached`);
    const res = await instance.get(`${api.url}/401`);
    assert.equal(res.status, 401);
    assert.deepEqual(
      api.seen.map((s) => [s.path, s.authorization === undefined]),
      [
        ['/attached', false],
        ['/detached', true],
        ['/401', true],
      ],
    );
  });

  it('axios’s default instance, or one without baseURL, needs allowedOrigins: it sends requests to any host', () => {
    for (const instance of [axios, axios.create()]) {
      assert.throws(
        () => attach(instance, client, { scopes: [READ] }),
        (err: unknown) =>
          err instanceof ArgumentError &&
          /attachToAxios: options\.allowedOrigins is required .*baseURL/.test(err.message),
      );
    }
  });

  it('options are validated when attaching', () => {
    const instance = axios.create();
    assert.throws(
      () => attachToAxios(instance, client, {}),
      (err: unknown) =>
        err instanceof ArgumentError &&
        /attachToAxios: expected options\.scopes to be a non-empty array/.test(err.message),
    );
    assert.throws(() => attachToAxios(instance, client, { scopes: [] }), ArgumentError);
  });
});
