/**
 * Named clients (`createHttpClients`) and the typed-client pattern, against the emulator and two local APIs.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MaskinportenClient } from '../../src/client.ts';
import { ArgumentError } from '../../src/errors.ts';
import { type AuthorizedFetch, createHttpClients, type HttpClients, type NamedFetch } from '../../src/http/index.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { bearerOf, claimsOf, NOTIFY, newClient, ORDER, startApi, type TestApi, upstream } from './servers.ts';

const READ = 'test:read';

/** The typed-client pattern: a class that receives an authorized fetch and knows its API's paths and shapes. */
class NotificationsClient {
  readonly #fetch: NamedFetch | AuthorizedFetch;
  constructor(fetch: NamedFetch | AuthorizedFetch) {
    this.#fetch = fetch;
  }
  async order(recipients: { emailAddress: string }[]): Promise<{ orderId: string; creator: string }> {
    const res = await this.#fetch('/notifications/api/v1/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipients }),
    });
    if (!res.ok) throw new Error(`order failed: HTTP ${res.status}`);
    return (await res.json()) as { orderId: string; creator: string };
  }
}

describe('createHttpClients', () => {
  const emulator = useEmulator();
  const created = useClient(emulator, { scopes: [NOTIFY, READ] });
  let client: MaskinportenClient;
  let api: TestApi;
  let other: TestApi;
  let http: HttpClients<'notifications' | 'api' | 'raw'>;

  before(async () => {
    client = newClient(created);
    [api, other] = await Promise.all([startApi(), startApi()]);
    http = createHttpClients(client, {
      notifications: { scopes: [NOTIFY], altinn: true, baseUrl: emulator.url },
      api: { scopes: [READ], baseUrl: `${api.url}/v1` },
      raw: { scopes: [READ] },
    });
  });
  beforeEach(() => {
    api.reset();
    other.reset();
  });
  after(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  it('lists its names', () => {
    assert.deepEqual(http.names, ['notifications', 'api', 'raw']);
  });

  it('the Altinn client with a baseUrl places an order at the Notifications stand-in; the raw one is refused', async () => {
    const res = await http.get('notifications')('/notifications/api/v1/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ORDER),
    });
    assert.equal(res.status, 201);
    const raw = await http.get('raw')(`${emulator.url}/notifications/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ORDER),
    });
    assert.equal(raw.status, 401);
    await raw.body?.cancel();
  });

  it('resolves relative paths against baseUrl (with or without a leading slash, keeping its path)', async () => {
    const get = http.get('api');
    for (const path of ['/things', 'things', 'things?x=1']) {
      const res = await get(path);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    assert.deepEqual(
      api.seen.map((s) => s.path),
      ['/v1/things', '/v1/things', '/v1/things'],
    );
    assert.ok(api.seen.every((s) => /^Bearer /.test(s.authorization ?? '')));
    const claims = claimsOf(bearerOf(api.seen[0]?.authorization));
    assert.equal(claims.scope, READ);
    assert.equal(claims['urn:altinn:org'], undefined, 'a raw Maskinporten token');
  });

  it('never sends the token to another origin: absolute URLs, URL objects, Requests, protocol-relative paths', async () => {
    const get = http.get('api');
    await get(`${other.url}/absolute`);
    await get(new URL('/url-object', other.url));
    await get(new Request(`${other.url}/request`));
    assert.deepEqual(
      other.seen.map((s) => [s.path, s.authorization]),
      [
        ['/absolute', undefined],
        ['/url-object', undefined],
        ['/request', undefined],
      ],
    );
    // "//host/…" stays on the base origin.
    const port = new URL(other.url).port;
    await get(`//127.0.0.1:${port}/sneaky`);
    assert.equal(other.seen.length, 3);
    assert.equal(api.seen.at(-1)?.path, `/127.0.0.1:${port}/sneaky`);
  });

  it('nor on a redirect to another origin', async () => {
    await http.get('api')(`/redirect?to=${encodeURIComponent(`${other.url}/elsewhere`)}`);
    assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
    assert.equal(other.seen[0]?.authorization, undefined);
  });

  it('a client without baseUrl authorizes absolute URLs on any origin', async () => {
    await http.get('raw')(`${other.url}/anywhere`);
    assert.match(other.seen[0]?.authorization ?? '', /^Bearer /);
  });

  it('the per-request overrides pass through', async () => {
    const org = '310000005';
    emulator.addSystemUser({ org, clientIds: [created.clientId] });
    const named = createHttpClients(client, { echo: { scopes: [READ], baseUrl: emulator.url } });
    const res = await named.get('echo')('/api/echo', { maskinporten: { systemUser: { org } } });
    const { claims } = (await res.json()) as { claims: { authorization_details?: { type: string }[] } };
    assert.equal(claims.authorization_details?.[0]?.type, 'urn:altinn:systemuser');
  });

  it('each name shares the client’s token cache: one token fetch for many calls and two names', async () => {
    const c = newClient(created);
    const two = createHttpClients(c, {
      first: { scopes: [READ], baseUrl: api.url },
      second: { scopes: [READ], baseUrl: other.url },
    });
    const before = upstream(emulator, 'token');
    await Promise.all([
      ...Array.from({ length: 20 }, () => two.get('first')('/a')),
      ...Array.from({ length: 20 }, () => two.get('second')('/b')),
    ]);
    assert.equal(upstream(emulator, 'token') - before, 1);
    assert.equal(new Set([...api.seen, ...other.seen].map((s) => s.authorization)).size, 1);
  });

  it('a name may use another MaskinportenClient', async () => {
    const second = await emulator.createClient({ scopes: [READ] });
    const named = createHttpClients(client, {
      internal: { scopes: [READ], baseUrl: api.url, client: newClient(second) },
    });
    await named.get('internal')('/x');
    assert.equal(claimsOf(bearerOf(api.seen[0]?.authorization)).client_id, second.clientId);
  });

  it('an unknown name is an ArgumentError naming the declared ones', () => {
    assert.throws(
      () => http.get('nope' as 'api'),
      (err: unknown) =>
        err instanceof ArgumentError &&
        /no HTTP client named "nope"; declared: notifications, api, raw/.test(err.message),
    );
  });

  it('declarations are validated up front', () => {
    assert.throws(
      () => createHttpClients(client, { bad: { scopes: [READ], baseUrl: '/relative' } }),
      (err: unknown) => err instanceof ArgumentError && /bad\.baseUrl must be an absolute URL/.test(err.message),
    );
    assert.throws(
      () => createHttpClients(client, { noScopes: { baseUrl: api.url } }),
      (err: unknown) =>
        err instanceof ArgumentError && /expected options\.scopes to be a non-empty array/.test(err.message),
    );
  });

  it('the typed-client pattern: a class that receives an authorized fetch', async () => {
    const notifications = new NotificationsClient(http.get('notifications'));
    const order = await notifications.order([{ emailAddress: 'a@example.com' }]);
    assert.match(order.orderId, /^[0-9a-f-]{36}$/);
    assert.equal(order.creator, 'ttd');
    // The same class on a raw-token fetch is refused by the Altinn API.
    const wrong = new NotificationsClient((path, init) => http.get('raw')(new URL(path as string, emulator.url), init));
    await assert.rejects(wrong.order([{ emailAddress: 'a@example.com' }]), /HTTP 401/);
  });
});

describe('the echo API through a named client', () => {
  const emulator = useEmulator();

  it('sees the raw token’s claims', async () => {
    const created = await emulator.createClient({ scopes: [READ] });
    const http = createHttpClients(newClient(created), { echo: { scopes: READ, baseUrl: `${emulator.url}/api` } });
    const res = await http.get('echo')('echo');
    assert.equal(res.status, 200);
    const { claims } = (await res.json()) as { claims: Record<string, unknown> };
    assert.equal(claims.client_id, created.clientId);
    assert.equal((res.headers.get('content-type') ?? '').split(';')[0], 'application/json');
  });
});
