/**
 * The contract every HTTP adapter keeps, run against each adapter on each supported major of its library (see
 * `adapters.ts`): the token is attached; only allowed origins get it (and the adapters that see requests not aimed
 * at one API refuse to be made without them, or take them from the instance's base URL); a redirect to another
 * origin loses every credential fetch strips; a 401 from the API refreshes the token and resends once, a 401 from a
 * third party never does; an aborted request stops waiting for its token at once, with the abort reason; and no
 * printed error shows a token.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { MaskinportenClient } from '../../src/client.ts';
import { ArgumentError } from '../../src/errors.ts';
import { DRIVERS } from './adapters.ts';
import { bearerOf, newClient, upstream, useHttpFixture } from './servers.ts';

const READ = 'test:read';
const WRITE = 'test:write';

/** A client whose token request waits at a gate: `reached` once it is asked for one, `release()` to let it go. */
function gatedClient(settings: ConstructorParameters<typeof MaskinportenClient>[0]) {
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => {
    reached = r;
  });
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const client = new MaskinportenClient(settings, {
    altinnTest: true,
    fetch: async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (new URL(url).pathname.endsWith('/token')) {
        reached();
        await gate;
      }
      return fetch(input, init);
    },
  });
  return { client, reached: reachedP, release };
}

/** An origin where nothing listens (a server started and closed again). */
async function closedOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

for (const driver of DRIVERS) {
  describe(`adapter contract: ${driver.name}`, () => {
    const f = useHttpFixture([READ, WRITE]);
    let only: string[];
    before(() => {
      only = [f.api.url];
    });

    it('attaches the client’s token', async () => {
      const { status, echo } = await driver
        .authorize(f.client, { scopes: [READ], allowedOrigins: only })
        .send(`${f.api.url}/a`);
      assert.equal(status, 200);
      assert.equal(echo?.authorization, (await f.client.getAccessToken([READ])).authorizationHeader);
    });

    it('allowedOrigins: an origin not listed gets no token', async () => {
      const authorized = driver.authorize(f.client, { scopes: [READ], allowedOrigins: only });
      await authorized.send(`${f.other.url}/x`);
      await authorized.send(`${f.api.url}/y`);
      assert.equal(f.other.seen[0]?.authorization, undefined);
      assert.match(f.api.seen[0]?.authorization ?? '', /^Bearer /);
    });

    if (driver.needsOrigins) {
      it('refuses to be made without allowed origins (ERR_INVALID_ARGUMENT naming allowedOrigins)', () => {
        assert.throws(
          () => driver.authorize(f.client, { scopes: [READ] }),
          (err: unknown) =>
            err instanceof ArgumentError && err.code === 'ERR_INVALID_ARGUMENT' && /allowedOrigins/.test(err.message),
        );
      });
    }

    if (driver.withBase) {
      it('takes the allowed origin from the instance’s base URL', async () => {
        const authorized = driver.withBase!(f.client, { scopes: [READ] }, `${f.api.url}/`);
        await authorized.send(`${f.api.url}/based`);
        await authorized.send(`${f.other.url}/elsewhere`);
        assert.match(f.api.seen[0]?.authorization ?? '', /^Bearer /);
        assert.equal(f.other.seen[0]?.authorization, undefined);
      });
    }

    it('a redirect to another origin loses Authorization, Cookie and Proxy-Authorization', async () => {
      const authorized = driver.authorize(f.client, { scopes: [READ], allowedOrigins: only });
      const { status, echo } = await authorized.send(
        `${f.api.url}/redirect?to=${encodeURIComponent(`${f.other.url}/landing`)}`,
        { headers: { cookie: 'session=s3cr3t', 'proxy-authorization': 'Basic cHJveHk6cHc=', 'x-kept': 'yes' } },
      );
      assert.equal(status, 200);
      assert.equal(echo?.path, '/landing');
      assert.match(f.api.seen[0]?.authorization ?? '', /^Bearer /);
      const landed = f.other.seen[0]!;
      assert.deepEqual(
        [landed.authorization, landed.headers.cookie, landed.headers['proxy-authorization'], landed.headers['x-kept']],
        [undefined, undefined, undefined, 'yes'],
      );
    });

    it('a 401 from the API: the token is refreshed and the request resent once', async () => {
      const c = newClient(f.created);
      const authorized = driver.authorize(c, { scopes: [WRITE], allowedOrigins: only });
      const tokensBefore = upstream(f.emulator, 'token');
      const { status } = await authorized.send(`${f.api.url}/stale`, { method: 'POST', body: 'payload' });
      assert.equal(status, 200);
      assert.equal(f.api.seen.length, 2);
      const [first, second] = f.api.seen;
      assert.ok(first?.authorization && second?.authorization);
      assert.notEqual(second.authorization, first.authorization);
      assert.deepEqual([first.body, second.body], ['payload', 'payload']);
      assert.equal(upstream(f.emulator, 'token') - tokensBefore, 2);
      f.api.reset();
      const again = await authorized.send(`${f.api.url}/401`, { method: 'PUT', body: 'x' });
      assert.equal(again.status, 401);
      assert.equal(f.api.seen.length, 2, 'resent once only');
    });

    it('a third party answering 401 gets no token and triggers no token request', async () => {
      const c = newClient(f.created);
      const authorized = driver.authorize(c, { scopes: [READ], allowedOrigins: only });
      await authorized.send(`${f.api.url}/first`);
      const tokensBefore = upstream(f.emulator, 'token');
      for (let i = 0; i < 3; i++) assert.equal((await authorized.send(`${f.other.url}/401/${i}`)).status, 401);
      assert.equal(upstream(f.emulator, 'token'), tokensBefore);
      assert.ok(f.other.seen.length >= 3 && f.other.seen.every((s) => s.authorization === undefined));
    });

    // The timeout only ends the run of an adapter that ignores the abort (the wait would never end): nothing is timed.
    it('an aborted request stops waiting for its token at once, with the abort reason, and is never sent', {
      timeout: 15_000,
    }, async () => {
      const gated = gatedClient(f.created.settings);
      const authorized = driver.authorize(gated.client, { scopes: [READ], allowedOrigins: only });
      const controller = new AbortController();
      const reason = new Error('the caller gave up');
      const pending = authorized.send(`${f.api.url}/aborted`, { signal: controller.signal });
      await gated.reached;
      controller.abort(reason);
      // The token request is still held at the gate: only the abort can end the wait.
      await assert.rejects(pending, (err: unknown) => err === reason);
      gated.release();
      await authorized.send(`${f.api.url}/after`);
      assert.deepEqual(
        f.api.seen.map((s) => s.path),
        ['/after'],
      );
    });

    it('no printed error shows a token (util.inspect, JSON.stringify)', async () => {
      const c = newClient(f.created);
      const down = await closedOrigin();
      const authorized = driver.authorize(c, { scopes: [WRITE], allowedOrigins: [f.api.url, down] });
      const errors = [await authorized.failure(`${down}/refused`)];
      if (driver.throwsOnStatus) errors.push(await authorized.failure(`${f.api.url}/401?quiet`));
      const tokens = [(await c.getAccessToken([WRITE])).value, ...f.api.seen.map((s) => bearerOf(s.authorization)!)];
      assert.ok(errors.every((e) => e instanceof Error));
      if (driver.throwsOnStatus) assert.equal(f.api.seen.length, 2, 'the 401 was resent once, with a fresh token');
      for (const error of errors) {
        for (const printed of [inspect(error), inspect(error, { depth: 8 }), JSON.stringify(error) ?? '']) {
          for (const token of tokens) assert.ok(!printed.includes(token), 'a token was printed');
          for (const token of tokens) assert.ok(!printed.includes(token.slice(-40)), 'part of a token was printed');
        }
      }
    });
  });
}
