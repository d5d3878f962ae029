/**
 * Where the undici interceptor's token may go, against hostile redirects from real servers. A dispatcher sees every
 * request made through it, and `fetch()` follows redirects above the dispatcher (each hop is a new dispatch), so the
 * interceptor must be told which origins are allowed and must refuse to be created without them. The three
 * redirect shapes that defeated a memory of earlier hops — a chain of two cross-origin hops, a `Location` of raw
 * UTF-8 bytes, two `Location` headers — are replayed through `fetch()` with the agent as its dispatcher, through
 * Node's own `fetch` on the global dispatcher, and through `request()` with the redirect interceptor inside; on
 * undici 7 and undici 8; and through `createFetch`, which follows redirects itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as undici8 from 'undici';
import * as undici7 from 'undici-v7';
import type { MaskinportenClient } from '../../src/client.ts';
import { ArgumentError } from '../../src/errors.ts';
import { type AuthorizationOptions, createFetch, maskinportenInterceptor } from '../../src/http/index.ts';
import { type Echo, newClient, type TestApi, upstream, useHttpFixture } from './servers.ts';

const READ = 'test:read';

/** What the tests need of one undici major. */
interface Undici {
  Agent: typeof undici8.Agent;
  interceptors: typeof undici8.interceptors;
  fetch: typeof undici8.fetch;
  request: typeof undici8.request;
  getGlobalDispatcher: typeof undici8.getGlobalDispatcher;
  setGlobalDispatcher: typeof undici8.setGlobalDispatcher;
}

const majors: [string, Undici][] = [
  ['undici 8', undici8],
  ['undici 7', undici7 as unknown as Undici],
];

/** A hostile redirect shape: it starts at the API (an allowed origin) and ends at the other origin. */
interface Attack {
  name: string;
  url(api: TestApi, other: TestApi): string;
  /** The path the last hop reaches on the other origin (fetch decodes raw bytes as UTF-8, undici's redirect
   * interceptor as latin1). */
  landedOn: RegExp;
}

const enc = encodeURIComponent;
const ATTACKS: Attack[] = [
  {
    name: 'a chain of two cross-origin hops (API → other/a → other/b)',
    url: (api, other) => `${api.url}/redirect?to=${enc(`${other.url}/redirect?to=${enc(`${other.url}/b`)}`)}`,
    landedOn: /^\/b$/,
  },
  {
    name: 'a Location of raw UTF-8 bytes',
    url: (api, other) => `${api.url}/redirect?raw=utf8&to=${enc(`${other.url}/ø-target`)}`,
    landedOn: /^\/%C3(%83%C2)?%B8-target$/,
  },
  {
    name: 'two Location headers (fetch joins them with ", ")',
    url: (api, other) => `${api.url}/redirect?to=${enc(`${other.url}/first`)}&to=${enc(`${other.url}/second`)}`,
    landedOn: /^\/first/,
  },
];

for (const [major, u] of majors) {
  describe(`maskinportenInterceptor: allowed origins only (${major})`, () => {
    const f = useHttpFixture([READ]);
    const agents: undici8.Dispatcher[] = [];
    const agent = (client: MaskinportenClient, options: AuthorizationOptions, redirectsInside = true) => {
      const a = redirectsInside
        ? new u.Agent().compose(
            u.interceptors.redirect({ maxRedirections: 5 }),
            maskinportenInterceptor(client, options),
          )
        : new u.Agent().compose(maskinportenInterceptor(client, options));
      agents.push(a);
      return a;
    };
    after(async () => {
      await Promise.all(agents.map((a) => a.close()));
    });

    /** The API got the token on the first request; the other origin got the hostile hop, without a token. */
    const assertHeldAt = (landedOn: RegExp) => {
      assert.match(f.api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.ok(f.other.seen.length >= 1, 'the redirect reached the other origin');
      assert.ok(
        f.other.seen.some((s) => landedOn.test(s.path)),
        `landed on ${f.other.seen.map((s) => s.path).join(' ')}`,
      );
      assert.deepEqual(
        f.other.seen.map((s) => s.authorization),
        f.other.seen.map(() => undefined),
      );
    };

    it('refuses to be created without allowedOrigins or baseUrl, naming the option', () => {
      for (const options of [{ scopes: [READ] }, { scopes: [READ], allowedOrigins: [] }]) {
        assert.throws(
          () => maskinportenInterceptor(f.client, options),
          (err: unknown) =>
            err instanceof ArgumentError &&
            err.code === 'ERR_INVALID_ARGUMENT' &&
            /maskinportenInterceptor: options\.allowedOrigins/.test(err.message),
        );
      }
      for (const bad of ['*', 'api.example.no', 'ftp://api.example.no', '']) {
        assert.throws(
          () => maskinportenInterceptor(f.client, { scopes: [READ], allowedOrigins: [bad] }),
          (err: unknown) => err instanceof ArgumentError && /options\.allowedOrigins\[0\]/.test(err.message),
        );
      }
      assert.throws(
        () => maskinportenInterceptor(f.client, { scopes: [READ], baseUrl: '/relative' }),
        (err: unknown) => err instanceof ArgumentError && /options\.baseUrl/.test(err.message),
      );
    });

    it('baseUrl: its origin gets the token, no other', async () => {
      const dispatcher = agent(f.client, { scopes: [READ], baseUrl: `${f.api.url}/v1/` });
      await (await u.request(`${f.api.url}/elsewhere`, { dispatcher })).body.dump();
      await (await u.request(`${f.other.url}/x`, { dispatcher })).body.dump();
      assert.match(f.api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.equal(f.other.seen[0]?.authorization, undefined);
    });

    describe('fetch(url, { dispatcher: agent }) follows each hostile redirect without the token', () => {
      for (const attack of ATTACKS) {
        it(attack.name, async () => {
          const dispatcher = agent(f.client, { scopes: [READ], allowedOrigins: [f.api.url] });
          const res = await u.fetch(attack.url(f.api, f.other), { dispatcher });
          assert.equal(res.status, 200);
          await res.body?.cancel();
          assertHeldAt(attack.landedOn);
        });
      }
    });

    describe('request() with the redirect interceptor inside follows each hostile redirect without the token', () => {
      for (const attack of ATTACKS) {
        it(attack.name, async () => {
          const res = await u.request(attack.url(f.api, f.other), {
            dispatcher: agent(f.client, { scopes: [READ], allowedOrigins: [f.api.url] }),
          });
          await res.body.dump();
          assertHeldAt(attack.landedOn);
        });
      }
    });

    it('composed the other way round (each hop a new request to it), the hostile hops go without the token', async () => {
      const a = new u.Agent().compose(
        maskinportenInterceptor(f.client, { scopes: [READ], allowedOrigins: [f.api.url] }),
        u.interceptors.redirect({ maxRedirections: 5 }),
      );
      agents.push(a);
      for (const attack of ATTACKS) {
        await (await u.request(attack.url(f.api, f.other), { dispatcher: a })).body.dump();
      }
      assert.equal(f.api.seen.length, 3);
      assert.ok(f.api.seen.every((s) => s.authorization?.startsWith('Bearer ')));
      assert.equal(f.other.seen.length, 4);
      assert.ok(f.other.seen.every((s) => s.authorization === undefined));
    });

    describe('as the global dispatcher (Node’s own fetch and undici’s)', () => {
      let previous: undici8.Dispatcher;
      before(() => {
        previous = u.getGlobalDispatcher();
      });
      after(() => u.setGlobalDispatcher(previous));

      it('every hostile redirect shape reaches the other origin without the token', async () => {
        u.setGlobalDispatcher(agent(f.client, { scopes: [READ], allowedOrigins: [f.api.url] }));
        try {
          for (const attack of ATTACKS) {
            for (const fetchOf of [globalThis.fetch, u.fetch as unknown as typeof fetch]) {
              f.api.reset();
              f.other.reset();
              const res = await fetchOf(attack.url(f.api, f.other));
              assert.equal(res.status, 200, attack.name);
              await res.body?.cancel();
              assertHeldAt(attack.landedOn);
            }
          }
        } finally {
          u.setGlobalDispatcher(previous);
        }
      });

      it('a third party answering 401 gets no token and never triggers a token request', async () => {
        const c = newClient(f.created);
        u.setGlobalDispatcher(agent(c, { scopes: [READ], allowedOrigins: [f.api.url] }));
        try {
          const first = await fetch(`${f.api.url}/first`);
          assert.match(((await first.json()) as Echo).authorization ?? '', /^Bearer /);
          const tokensBefore = upstream(f.emulator, 'token');
          for (let i = 0; i < 5; i++) {
            const res = await fetch(`${f.other.url}/401/${i}`);
            assert.equal(res.status, 401);
            await res.body?.cancel();
          }
          assert.equal(upstream(f.emulator, 'token'), tokensBefore);
          assert.equal(f.other.seen.length, 5);
          assert.ok(f.other.seen.every((s) => s.authorization === undefined));
        } finally {
          u.setGlobalDispatcher(previous);
        }
      });
    });
  });
}

describe('createFetch follows each hostile redirect shape itself, without the token', () => {
  const f = useHttpFixture([READ]);
  for (const attack of ATTACKS) {
    it(attack.name, async () => {
      // No allowedOrigins: createFetch authorizes what it is called with, and a redirect never takes the token along.
      const res = await createFetch(f.client, { scopes: [READ] })(attack.url(f.api, f.other));
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.match(f.api.seen[0]?.authorization ?? '', /^Bearer /);
      assert.ok(f.other.seen.length >= 1 && f.other.seen.every((s) => s.authorization === undefined));
    });
  }
});
