/**
 * maskinportenMiddleware in a real openapi-fetch client against local APIs on two origins and the emulator: the
 * token on every request, the 401 → refresh → resend once rule (same body, one token fetch for a burst), existing
 * Authorization headers, allowed origins, per-request overrides, and a redirect to another origin.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import createClient from 'openapi-fetch';
import type { MaskinportenClient } from '../../src/client.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import { maskinportenMiddleware } from '../../src/http/index.ts';
import { bearerOf, claimsOf, newClient, type TestApi, upstream, useHttpFixture } from './servers.ts';

const READ = 'test:read';
const WRITE = 'test:write';

/** A small typed API: every path answers JSON; POST takes a JSON body. */
type Echo = { path: string; method: string; authorization: string | null; body: string };
type Op = {
  parameters: { query?: { to?: string } };
  requestBody?: { content: { 'application/json': Record<string, unknown> } };
  responses: { 200: { content: { 'application/json': Echo } }; 401: { content: { 'application/json': Echo } } };
};
type Paths = Record<'/ok' | '/stale' | '/401' | '/redirect', { get: Op; post: Op }>;

describe('maskinportenMiddleware (openapi-fetch)', () => {
  let emulator: Emulator;
  let client: MaskinportenClient;
  let api: TestApi;
  let other: TestApi;
  const fixture = useHttpFixture([READ, WRITE]);
  before(() => {
    ({ emulator, client, api, other } = fixture);
  });

  const typed = (
    baseUrl: string,
    middlewareClient = client,
    options: Parameters<typeof maskinportenMiddleware>[1] = { scopes: [READ] },
  ) => {
    const c = createClient<Paths>({ baseUrl });
    c.use(maskinportenMiddleware(middlewareClient, options));
    return c;
  };

  it('authorizes every request with a token for its scopes', async () => {
    const { data, response } = await typed(api.url).GET('/ok');
    assert.equal(response.status, 200);
    assert.deepEqual(claimsOf(bearerOf(data?.authorization)).scope, READ);
  });

  it('on a 401 refreshes the token and resends the request once, with the same body', async () => {
    const before = upstream(emulator, 'token');
    const c = typed(api.url, newClient(fixture.created));
    const { data, response } = await c.POST('/stale', { body: { order: 42 } });
    assert.equal(response.status, 200);
    assert.equal(api.seen.length, 2);
    assert.notEqual(api.seen[0]!.authorization, api.seen[1]!.authorization);
    assert.equal(api.seen[1]!.body, '{"order":42}');
    assert.equal(data?.body, '{"order":42}');
    assert.equal(upstream(emulator, 'token') - before, 2, 'the first token and one refresh');
  });

  it('resends only once: a second 401 is the answer', async () => {
    const { error, response } = await typed(api.url).POST('/401', { body: { a: 1 } });
    assert.equal(response.status, 401);
    assert.equal(error?.path, '/401');
    assert.equal(api.seen.length, 2);
  });

  it('a burst of 401s for the same token costs one token fetch', async () => {
    const fresh = newClient(fixture.created);
    const c = typed(api.url, fresh);
    await c.GET('/ok'); // the token the API will call stale
    api.reset();
    const before = upstream(emulator, 'token');
    const answers = await Promise.all(Array.from({ length: 10 }, () => c.GET('/stale')));
    assert.ok(answers.every((a) => a.response.status === 200));
    assert.equal(upstream(emulator, 'token') - before, 1);
  });

  it('leaves an Authorization header alone unless overwrite, and honours allowedOrigins', async () => {
    const { data } = await typed(api.url).GET('/ok', { headers: { authorization: 'Basic dTpw' } });
    assert.equal(data?.authorization, 'Basic dTpw');
    const over = await typed(api.url, client, { scopes: [READ], overwrite: true }).GET('/ok', {
      headers: { authorization: 'Basic dTpw' },
    });
    assert.match(over.data?.authorization ?? '', /^Bearer /);
    const restricted = typed(other.url, client, { scopes: [READ], allowedOrigins: [api.url] });
    assert.equal((await restricted.GET('/ok')).data?.authorization, null);
  });

  it('takes per-request overrides through the call options', async () => {
    const c = typed(api.url);
    // openapi-fetch hands options it does not know on to the request; a variable avoids the literal's excess check.
    const options = { maskinporten: { scopes: [WRITE] } };
    const { data } = await c.GET('/ok', options);
    assert.deepEqual(
      String(claimsOf(bearerOf(data?.authorization)).scope)
        .split(' ')
        .sort(),
      [READ, WRITE],
    );
  });

  it('does not resend a 401 from another origin after a redirect (fetch sent it no token)', async () => {
    const c = typed(api.url);
    const { response } = await c.GET('/redirect', { params: { query: { to: `${other.url}/401` } } });
    assert.equal(response.status, 401);
    assert.equal(other.seen.length, 1);
    assert.equal(other.seen[0]!.authorization, undefined);
  });

  it('refuses a call without scopes, naming the option', () => {
    assert.throws(
      () => maskinportenMiddleware(client, {}),
      (e: unknown) => e instanceof ArgumentError && /scopes/.test(e.message),
    );
  });
});
