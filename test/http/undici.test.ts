/**
 * The undici interceptor against real servers, composed the documented way:
 * `new Agent().compose(interceptors.redirect(…), maskinportenInterceptor(client, …))` — the Maskinporten interceptor
 * last, so outermost: it adds the token once, and the redirect interceptor inside it drops `Authorization` when a
 * redirect leaves the origin. Used through undici's `request()` and `fetch()`, and as the global dispatcher.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  Agent,
  type Dispatcher,
  FormData,
  getGlobalDispatcher,
  interceptors,
  request,
  setGlobalDispatcher,
  fetch as undiciFetch,
} from 'undici';
import type { MaskinportenClient } from '../../src/client.ts';
import type { CreatedClient, Emulator } from '../../src/emulator/index.ts';
import { ArgumentError, TokenRequestError } from '../../src/errors.ts';
import { type AuthorizationOptions, maskinportenInterceptor, type RequestOverrides } from '../../src/http/index.ts';
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

/** An agent with the documented composition: redirects inside, Maskinporten outermost. */
function authorizedAgent(client: MaskinportenClient, options: AuthorizationOptions): Dispatcher {
  return new Agent().compose(interceptors.redirect({ maxRedirections: 5 }), maskinportenInterceptor(client, options));
}

/** undici's request options plus the per-request overrides the interceptor reads. */
type Options = NonNullable<Parameters<typeof request>[1]> & { maskinporten?: RequestOverrides };

async function call(url: string, options: Options): Promise<{ status: number; echo: Echo }> {
  const res = await request(url, options as Parameters<typeof request>[1]);
  const text = await res.body.text();
  return { status: res.statusCode, echo: (text ? JSON.parse(text) : {}) as Echo };
}

describe('maskinportenInterceptor (undici)', () => {
  let emulator: Emulator;
  let created: CreatedClient;
  let client: MaskinportenClient;
  let api: TestApi;
  let other: TestApi;
  const agents: Dispatcher[] = [];
  /** An agent for `options`; when they name no origins, the two APIs and the emulator are allowed. */
  const agent = (c: MaskinportenClient, options: AuthorizationOptions): Dispatcher => {
    const a = authorizedAgent(c, { allowedOrigins: [api.url, other.url, emulator.url], ...options });
    agents.push(a);
    return a;
  };

  const fixture = useHttpFixture([NOTIFY, READ, WRITE]);
  before(() => {
    ({ emulator, created, client, api, other } = fixture);
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
  });

  describe('the emulator’s Notifications stand-in', () => {
    const order = (dispatcher: Dispatcher) =>
      request(`${emulator.url}/notifications/api/v1/orders`, {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ORDER),
      });

    it('accepts an order sent through the Altinn-authorizing agent (201) and rejects the raw one (401)', async () => {
      const ok = await order(agent(client, { scopes: [NOTIFY], altinn: true }));
      assert.equal(ok.statusCode, 201);
      assert.equal(((await ok.body.json()) as { creator: string }).creator, 'ttd');
      const raw = await order(agent(client, { scopes: [NOTIFY] }));
      assert.equal(raw.statusCode, 401);
      await raw.body.dump();
    });

    it('undici’s fetch through the agent works the same', async () => {
      const res = await undiciFetch(`${emulator.url}/notifications/api/v1/orders`, {
        dispatcher: agent(client, { scopes: [NOTIFY], altinn: true }),
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ORDER),
      });
      assert.equal(res.status, 201);
      await res.body?.cancel();
    });
  });

  describe('the Authorization header', () => {
    it('sets Authorization: Bearer with the client’s token', async () => {
      const { echo } = await call(`${api.url}/a`, { dispatcher: agent(client, { scopes: [READ] }) });
      assert.equal(echo.authorization, (await client.getAccessToken([READ])).authorizationHeader);
    });

    it('keeps an Authorization header the request has, in any of undici’s header forms', async () => {
      const dispatcher = agent(client, { scopes: [READ] });
      await call(`${api.url}/object`, { dispatcher, headers: { Authorization: 'Bearer object' } });
      await call(`${api.url}/flat`, { dispatcher, headers: ['x-a', '1', 'authorization', 'Bearer flat'] });
      await call(`${api.url}/map`, { dispatcher, headers: new Map([['authorization', 'Bearer map']]) });
      assert.deepEqual(
        api.seen.map((s) => s.authorization),
        ['Bearer object', 'Bearer flat', 'Bearer map'],
      );
    });

    it('replaces it with overwrite: true, and keeps the other headers', async () => {
      const dispatcher = agent(client, { scopes: [READ], overwrite: true });
      await call(`${api.url}/object`, { dispatcher, headers: { Authorization: 'Bearer object', 'x-b': 'b' } });
      await call(`${api.url}/flat`, { dispatcher, headers: ['x-a', 'a', 'Authorization', 'Bearer flat'] });
      const expected = (await client.getAccessToken([READ])).authorizationHeader;
      assert.deepEqual(
        api.seen.map((s) => [s.authorization, s.headers['x-a'] ?? s.headers['x-b']]),
        [
          [expected, 'b'],
          [expected, 'a'],
        ],
      );
    });
  });

  describe('a 401 from the API', () => {
    const replayable: [string, () => Options['body'], string][] = [
      ['a string', () => 'plain text', 'plain text'],
      ['a Buffer', () => Buffer.from('buffer bytes'), 'buffer bytes'],
      ['a Uint8Array', () => new TextEncoder().encode('some bytes'), 'some bytes'],
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
    for (const [name, body, expected] of replayable) {
      it(`with ${name} body (request()): invalidates, fetches a fresh token and resends once`, async () => {
        const c = newClient(created);
        const tokensBefore = upstream(emulator, 'token');
        const { status } = await call(`${api.url}/stale`, {
          dispatcher: agent(c, { scopes: [WRITE] }),
          method: 'POST',
          body: body(),
        });
        assert.equal(status, 200);
        assert.equal(api.seen.length, 2);
        const [first, second] = api.seen;
        assert.ok(first?.authorization && second?.authorization);
        assert.notEqual(second.authorization, first.authorization);
        assert.ok(first.body.includes(expected) && second.body.includes(expected), second.body);
        assert.equal(upstream(emulator, 'token') - tokensBefore, 2, 'the first token and the fresh one');
        assert.equal((await c.getAccessToken([WRITE])).authorizationHeader, second.authorization);
      });
    }

    it('a GET through undici’s fetch() is resent too', async () => {
      const res = await undiciFetch(`${api.url}/stale`, { dispatcher: agent(newClient(created), { scopes: [WRITE] }) });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Echo).authorization, api.seen[1]?.authorization);
      assert.equal(api.seen.length, 2);
      assert.notEqual(api.seen[0]?.authorization, api.seen[1]?.authorization);
    });

    it('resends once only: a second 401 reaches the caller', async () => {
      const { status } = await call(`${api.url}/401`, {
        dispatcher: agent(newClient(created), { scopes: [WRITE] }),
        method: 'PUT',
        body: 'x',
      });
      assert.equal(status, 401);
      assert.equal(api.seen.length, 2);
    });

    it('a one-shot stream body gets the 401 back unchanged, and the token is kept', async () => {
      const c = newClient(created);
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const res = await request(`${api.url}/stale`, {
        dispatcher: agent(c, { scopes: [WRITE] }),
        method: 'POST',
        body: Readable.from([Buffer.from('stream'), Buffer.from('ed')]),
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
      assert.equal(((await res.body.json()) as Echo).body, 'streamed');
      assert.equal(api.seen.length, 1);
      assert.equal(upstream(emulator, 'token'), tokensBefore);
      assert.equal((await c.getAccessToken([WRITE])).value, token.value);
    });

    it('an Altinn token is exchanged afresh', async () => {
      const exchanges = upstream(emulator, 'exchange');
      const { status } = await call(`${api.url}/stale`, {
        dispatcher: agent(newClient(created), { scopes: [NOTIFY], altinn: true }),
        method: 'POST',
        body: JSON.stringify(ORDER),
      });
      assert.equal(status, 200);
      assert.equal(upstream(emulator, 'exchange') - exchanges, 2);
      const [first, second] = api.seen.map((s) => claimsOf(bearerOf(s.authorization)));
      assert.ok(first?.['urn:altinn:org'] && second?.['urn:altinn:org']);
      assert.notEqual(api.seen[0]?.authorization, api.seen[1]?.authorization);
    });

    it('a 401 from another origin after a redirect does not invalidate the token', async () => {
      const c = newClient(created);
      const token = await c.getAccessToken([WRITE]);
      const tokensBefore = upstream(emulator, 'token');
      const { status } = await call(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/401`)}`, {
        dispatcher: agent(c, { scopes: [WRITE] }),
      });
      assert.equal(status, 401);
      assert.equal(api.seen.length, 1);
      assert.equal(other.seen.length, 1);
      assert.equal(other.seen[0]?.authorization, undefined);
      assert.equal(upstream(emulator, 'token'), tokensBefore);
      assert.equal((await c.getAccessToken([WRITE])).value, token.value);
    });
  });

  it('1,000 parallel requests cost exactly one token fetch', async () => {
    const dispatcher = agent(newClient(created), { scopes: [READ] });
    const tokensBefore = upstream(emulator, 'token');
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const res = await request(`${api.url}/p/${i}`, { dispatcher });
        await res.body.dump();
        return res.statusCode;
      }),
    );
    assert.ok(results.every((s) => s === 200));
    assert.equal(upstream(emulator, 'token') - tokensBefore, 1);
    assert.equal(api.seen.length, 1000);
    assert.equal(new Set(api.seen.map((s) => s.authorization)).size, 1);
  });

  describe('redirects and the composition order', () => {
    it('Maskinporten interceptor last (outermost): a cross-origin redirect drops Authorization', async () => {
      const { status, echo } = await call(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/landing`)}`, {
        dispatcher: agent(client, { scopes: [READ] }),
      });
      assert.equal(status, 200);
      assert.equal(echo.path, '/landing');
      assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.equal(other.seen.length, 1);
      assert.equal(other.seen[0]?.authorization, undefined);
    });

    it('… and a same-origin redirect keeps it', async () => {
      await call(`${api.url}/redirect?to=/landing`, { dispatcher: agent(client, { scopes: [READ] }) });
      assert.equal(api.seen.length, 2);
      assert.equal(api.seen[1]?.path, '/landing');
      assert.match(api.seen[1]?.authorization ?? '', /^Bearer /);
      assert.equal(api.seen[1]?.authorization, api.seen[0]?.authorization);
    });

    it('… through undici’s fetch() as well, when the other origin is not allowed (fetch dispatches each hop afresh)', async () => {
      const dispatcher = agent(client, { scopes: [READ], allowedOrigins: [api.url] });
      const res = await undiciFetch(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/landing`)}`, {
        dispatcher,
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.equal(other.seen[0]?.authorization, undefined);
    });

    it('Maskinporten interceptor first (inside the redirect one): each hop is a new request to it, and a hop to an origin not allowed goes without the token', async () => {
      const a = new Agent().compose(
        maskinportenInterceptor(client, { scopes: [READ], allowedOrigins: [api.url] }),
        interceptors.redirect({ maxRedirections: 5 }),
      );
      agents.push(a);
      await call(`${api.url}/redirect?to=/same`, { dispatcher: a });
      await call(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/landing`)}`, { dispatcher: a });
      assert.deepEqual(
        api.seen.map((s) => [s.path, /^Bearer /.test(s.authorization ?? '')]),
        [
          ['/redirect', true],
          ['/same', true],
          ['/redirect', true],
        ],
      );
      assert.equal(other.seen.length, 1);
      assert.equal(other.seen[0]?.authorization, undefined);
    });
  });

  it('allowedOrigins: a request to an origin not listed carries no token', async () => {
    const dispatcher = agent(client, { scopes: [READ], allowedOrigins: [api.url] });
    await call(`${other.url}/x`, { dispatcher });
    await call(`${api.url}/y`, { dispatcher });
    assert.equal(other.seen[0]?.authorization, undefined);
    assert.match(api.seen[0]?.authorization ?? '', /^Bearer /);
  });

  describe('per-request overrides (dispatch option maskinporten)', () => {
    it('a system user: the echo API sees authorization_details', async () => {
      const org = '310000002';
      emulator.addSystemUser({ org, clientIds: [created.clientId] });
      const dispatcher = agent(client, { scopes: [READ] });
      const res = await request(`${emulator.url}/api/echo`, {
        dispatcher,
        maskinporten: { systemUser: { org } },
      } as Options as Parameters<typeof request>[1]);
      assert.equal(res.statusCode, 200);
      const { claims } = (await res.body.json()) as { claims: { authorization_details?: Record<string, unknown>[] } };
      assert.equal(claims.authorization_details?.[0]?.type, 'urn:altinn:systemuser');
      assert.deepEqual(claims.authorization_details?.[0]?.systemuser_org, {
        authority: 'iso6523-actorid-upis',
        ID: `0192:${org}`,
      });
      const plain = await request(`${emulator.url}/api/echo`, { dispatcher });
      assert.equal(
        ((await plain.body.json()) as { claims: Record<string, unknown> }).claims.authorization_details,
        undefined,
      );
    });

    it('extra scopes, and the token kind', async () => {
      const dispatcher = agent(client, { scopes: [READ] });
      await call(`${api.url}/scopes`, { dispatcher, maskinporten: { scopes: [WRITE] } });
      await call(`${api.url}/altinn`, { dispatcher, maskinporten: { scopes: [NOTIFY], altinn: true } });
      const [scoped, altinn] = api.seen.map((s) => claimsOf(bearerOf(s.authorization)));
      assert.deepEqual(String(scoped?.scope).split(' ').sort(), [READ, WRITE]);
      assert.ok(altinn?.['urn:altinn:org']);
    });
  });

  describe('as the global dispatcher', () => {
    let previous: Dispatcher;
    before(() => {
      previous = getGlobalDispatcher();
    });
    after(() => setGlobalDispatcher(previous));

    it('authorizes undici’s request() and fetch() without a dispatcher option — and the client’s own token traffic, which then goes through it too, is left alone', {
      timeout: 20_000,
    }, async () => {
      // A client created now fetches discovery and tokens with the global fetch, i.e. through this dispatcher.
      const c = newClient(created);
      setGlobalDispatcher(agent(c, { scopes: [NOTIFY], altinn: true, allowedOrigins: [api.url, emulator.url] }));
      try {
        const res = await request(`${emulator.url}/notifications/api/v1/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ORDER),
        });
        assert.equal(res.statusCode, 201, await res.body.text());
        const viaFetch = await undiciFetch(`${api.url}/global`);
        assert.equal(viaFetch.status, 200);
        const echo = (await viaFetch.json()) as Echo;
        assert.equal(echo.authorization, (await c.getAltinnExchangedToken([NOTIFY])).authorizationHeader);
        // Node's built-in fetch shares undici's global dispatcher.
        const builtIn = await fetch(`${api.url}/builtin`);
        assert.equal(((await builtIn.json()) as Echo).authorization, echo.authorization);
        // …which follows redirects itself: the hop to another origin goes without the token.
        const hop = await fetch(`${api.url}/redirect?to=${encodeURIComponent(`${other.url}/builtin-hop`)}`);
        assert.equal(((await hop.json()) as Echo).path, '/builtin-hop');
        assert.equal(other.seen.at(-1)?.authorization, undefined);
      } finally {
        setGlobalDispatcher(previous);
      }
      // Restored: no token any more.
      const after = await request(`${api.url}/after`);
      await after.body.dump();
      assert.equal(api.seen.at(-1)?.authorization, undefined);
    });

    it('with overwrite: true the Altinn exchange still gets its Maskinporten token', { timeout: 20_000 }, async () => {
      const c = newClient(created);
      setGlobalDispatcher(agent(c, { scopes: [NOTIFY], altinn: true, overwrite: true }));
      try {
        const token = await c.getAltinnExchangedToken([NOTIFY]);
        assert.ok(token.claims['urn:altinn:org']);
      } finally {
        setGlobalDispatcher(previous);
      }
    });
  });

  it('options are validated when the interceptor is created', () => {
    assert.throws(
      () => maskinportenInterceptor(client, {}),
      (err: unknown) =>
        err instanceof ArgumentError &&
        /maskinportenInterceptor: expected options\.scopes to be a non-empty array/.test(err.message),
    );
    assert.throws(() => maskinportenInterceptor(client, { scopes: [] }), ArgumentError);
    assert.throws(() => maskinportenInterceptor({} as MaskinportenClient, { scopes: [READ] }), /MaskinportenClient/);
  });

  it('a request undici refuses after the token is in (an invalid header) fails cleanly', async () => {
    await assert.rejects(
      request(`${api.url}/bad`, { dispatcher: agent(client, { scopes: [READ] }), headers: { 'x-bad': 'a\r\nb' } }),
      /invalid x-bad header/,
    );
    assert.equal(api.seen.length, 0);
  });

  it('a failed token request fails the HTTP request with the client’s error, and nothing is sent', async () => {
    await assert.rejects(
      request(`${api.url}/never`, { dispatcher: agent(newClient(created), { scopes: ['not:registered'] }) }),
      TokenRequestError,
    );
    assert.equal(api.seen.length, 0);
  });

  it("Node's bundled fetch with an undici 8 dispatcher fails at once instead of waiting for its timeout", async () => {
    // Node's fetch (undici 7) hands the dispatcher a handler of the legacy API, which undici 8 no longer wraps.
    const dispatcher = agent(client, { scopes: [READ] });
    const err = await globalThis
      .fetch(`${api.url}/legacy`, { dispatcher, signal: AbortSignal.timeout(60_000) } as RequestInit)
      .then(
        () => undefined,
        (e: unknown) => e as Error & { cause?: unknown },
      );
    assert.ok(err, 'the fetch failed');
    assert.equal(err.name, 'TypeError', `a fetch failure, not the caller's timeout (${err.name})`);
    assert.ok(err.cause instanceof ArgumentError, 'the cause says why');
    assert.match((err.cause as Error).message, /legacy handler API/);
    assert.equal(api.seen.length, 0, 'nothing was sent, with or without a token');
    // The same dispatcher with undici's own fetch (the new handler API) works.
    const res = await undiciFetch(`${api.url}/modern`, { dispatcher });
    assert.equal(res.status, 200);
    assert.ok(bearerOf(((await res.json()) as Echo).authorization), 'the token was attached');
  });
});
