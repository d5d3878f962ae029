/**
 * The Redis token store in one process, against a real redis-server, through both client libraries: shared tokens,
 * single flight across clients on separate connections, invalidation everywhere, coordinated refresh-ahead, the
 * lock's owner and TTL, sealing and hashed names, and Redis failing in every way without failing a token call.
 * Processes proper are in replicas.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { toStored } from '../../src/cache/shared-fetch.ts';
import type { StoreContext } from '../../src/cache/store.ts';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { type CreatedClient, type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { createRedisTokenStore, type RedisTokenStoreOptions } from '../../src/redis/index.ts';
import { assertConditionalDelete, count, FakeClock, recordingLogger, throwsWith } from '../helpers/client-env.ts';
import { until } from '../helpers/wait.ts';
import { admin, connect, dump, LIBRARIES, type Library, startRedis, type TestRedis } from './redis-server.ts';

/** How many pub/sub subscriptions the server holds, over every channel. */
async function subscribers(url: string): Promise<number> {
  const channels = (await admin(url, 'PUBSUB', 'CHANNELS')) as string[];
  if (channels.length === 0) return 0;
  const counts = (await admin(url, 'PUBSUB', 'NUMSUB', ...channels)) as (string | number)[];
  let total = 0;
  for (let i = 1; i < counts.length; i += 2) total += Number(counts[i]);
  return total;
}

for (const library of LIBRARIES) {
  describe(`Redis token store (${library})`, () => {
    const clock = new FakeClock();
    let redis: TestRedis;
    let emulator: Emulator;
    let created: CreatedClient;
    const closers: (() => Promise<void>)[] = [];

    /** A client with its own Redis connection and store: what one replica has. */
    const replica = async (options: MaskinportenClientOptions = {}, storeOptions: RedisTokenStoreOptions = {}) => {
      const conn = await connect(library as Library, redis.url);
      const store = createRedisTokenStore(conn.client, storeOptions);
      closers.push(async () => {
        await store.close();
        await conn.close();
      });
      const client = new MaskinportenClient(created.settings, {
        clock,
        ...options,
        cache: { store, ...options.cache },
      });
      return { client, store, conn };
    };

    before(async () => {
      redis = await startRedis();
      emulator = await startEmulator({ clock });
      created = await emulator.createClient({ scopes: ['a', 'b', 'c'], accessTokenLifetime: 120 });
    });
    beforeEach(async () => {
      for (const close of closers.splice(0)) await close();
      emulator.faults.clear();
      emulator.requests.clear();
      await admin(redis.url, 'FLUSHALL');
    });
    after(async () => {
      for (const close of closers.splice(0)) await close();
      await emulator.close();
      await redis.close();
    });

    it("hands back the same frozen entry from the first read of another replica's token on", async () => {
      const encryptionKey = randomBytes(32).toString('base64url');
      const one = await replica({}, { encryptionKey });
      const two = await replica({}, { encryptionKey });
      const token = await one.client.getAccessToken(['a']);
      await one.store.set('shared-key', toStored(token), 60_000);
      const first = await two.store.get('shared-key');
      const second = await two.store.get('shared-key');
      assert.equal(first?.value, token.value);
      assert.ok(Object.isFrozen(first), 'frozen from the first read');
      assert.equal(second, first, 'the same entry: a token built from it is built once');
    });

    it('keeps telling invalidations of a key in use however many other keys pass through (least recently used out)', async () => {
      const encryptionKey = randomBytes(32).toString('base64url');
      const one = await replica({}, { encryptionKey });
      const two = await replica({}, { encryptionKey });
      const told: string[] = [];
      two.store.onInvalidate((key) => told.push(key));
      const others = async (from: number, n: number) => {
        for (let i = from; i < from + n; i++) await two.store.get(`other-${i}`);
      };
      await two.store.get('in-use');
      await others(0, 5000);
      await two.store.get('in-use'); // used again: the most recent now
      await others(5000, 5001); // past the bound of 10000 names
      await one.store.delete('in-use');
      await until(() => told.includes('in-use'), 'the invalidation of the key in use to reach the other replica');
    });

    it('takes the token another replica stored; Redis holds no client id, scope or token in clear', async () => {
      const one = await replica();
      const two = await replica();
      const t1 = await one.client.getAccessToken(['a']);
      const t2 = await two.client.getAccessToken(['a']);
      assert.equal(t2.value, t1.value);
      assert.notEqual(t2, t1, 'a new object, read from Redis');
      assert.equal(count(emulator, 'token'), 1);
      const stored = await dump(redis.url);
      assert.equal(stored.size, 1);
      for (const [key, value] of stored) {
        assert.match(key, /^maskinporten:t:[A-Za-z0-9_-]{43}$/, 'the name is a hash');
        assert.match(value, /^v2\.[\w-]{22}\.[\w-]+\.[\w-]+\.[\w-]+$/, 'the value is sealed');
        for (const clear of [created.clientId, t1.value, t1.value.split('.')[1]!, '"scopes"']) {
          assert.ok(!value.includes(clear) && !key.includes(clear));
        }
      }
      // The entry expires in Redis when the token stops being usable (exp − the 10 s margin).
      const ttl = Number(await admin(redis.url, 'PTTL', [...stored.keys()][0]!));
      assert.ok(ttl > 0 && ttl <= t1.expiresAt.getTime() - 10_000 - clock.now(), `PTTL ${ttl}`);
    });

    it('many replicas missing one key at once make one upstream request', async () => {
      const replicas = await Promise.all(Array.from({ length: 8 }, () => replica()));
      const tokens = await Promise.all(
        replicas.flatMap((r) => Array.from({ length: 25 }, () => r.client.getAccessToken(['b']))),
      );
      assert.equal(new Set(tokens.map((t) => t.value)).size, 1);
      assert.equal(count(emulator, 'token'), 1);
    });

    it('invalidate and forceRefresh on one replica stop every replica serving that token, without a stampede', async () => {
      const replicas = await Promise.all(Array.from({ length: 5 }, () => replica()));
      const first = await replicas[0]!.client.getAccessToken(['a']);
      for (const r of replicas) assert.equal((await r.client.getAccessToken(['a'])).value, first.value);
      await replicas[0]!.client.invalidate(['a']);
      await until(async () => {
        const again = await Promise.all(replicas.slice(1).map((r) => r.client.getAccessToken(['a'])));
        return again.every((t) => t.value !== first.value);
      }, 'the other replicas to drop the invalidated token');
      const second = await replicas[3]!.client.getAccessToken(['a']);
      for (const r of replicas) assert.equal((await r.client.getAccessToken(['a'])).value, second.value);
      assert.equal(count(emulator, 'token'), 2, 'one request before, one after the invalidation');

      const forced = await replicas[1]!.client.getAccessToken(['a'], { forceRefresh: true });
      assert.notEqual(forced.value, second.value);
      await until(async () => {
        const again = await Promise.all(replicas.map((r) => r.client.getAccessToken(['a'])));
        return again.every((t) => t.value === forced.value);
      }, 'every replica to serve the forced token');
      assert.equal(count(emulator, 'token'), 3);
    });

    it('a forced refresh deletes only the token it refused: a newer one another replica just stored is kept and taken', async () => {
      const one = await replica();
      const two = await replica();
      const first = await one.client.getAccessToken(['b']);
      assert.ok((await two.client.getAccessToken(['b'])).value === first.value);
      // Both replicas get a 401 for the first token; two refreshes first (a second later) and stores the second.
      clock.advance(1000);
      const second = await two.client.getAccessToken(['b'], { forceRefresh: true });
      assert.ok(second.value !== first.value);
      const entry = async () => [...(await dump(redis.url))].find(([k]) => k.startsWith('maskinporten:t:'))?.[1];
      const stored = await entry();
      assert.ok(stored);
      // One's refresh (whether or not two's message reached it yet) must not delete the second token.
      const forced = await one.client.getAccessToken(['b'], { forceRefresh: true });
      assert.ok(forced.value === second.value, 'took the newer token instead of fetching a third');
      assert.equal(count(emulator, 'token'), 2);
      assert.ok((await entry()) === stored, 'the newer entry is still in Redis');
      assert.ok((await two.client.getAccessToken(['b'])).value === second.value);

      // At the store: a delete naming a token removes the entry only while it holds that token.
      const context: StoreContext = { secret: randomBytes(32) };
      await assertConditionalDelete(one.store, context, two.store);
    });

    it('refreshes ahead on one replica; the others keep serving and then pick up the new token', async () => {
      const replicas = await Promise.all(Array.from({ length: 4 }, () => replica()));
      const first = await replicas[0]!.client.getAccessToken(['c']);
      for (const r of replicas) await r.client.getAccessToken(['c']);
      clock.advance(100_000); // past 75 % of the 120 s life, still usable
      const during = await Promise.all(replicas.map((r) => r.client.getAccessToken(['c'])));
      for (const t of during) assert.equal(t.value, first.value, 'served at once while the refresh runs');
      await until(async () => {
        const now = await Promise.all(replicas.map((r) => r.client.getAccessToken(['c'])));
        return now.every((t) => t.value !== first.value);
      }, 'every replica to pick up the refreshed token');
      const after = await Promise.all(replicas.map((r) => r.client.getAccessToken(['c'])));
      assert.equal(new Set(after.map((t) => t.value)).size, 1);
      assert.equal(count(emulator, 'token'), 2, 'one request for the first token, one refresh for all replicas');
      clock.advance(-100_000);
    });

    it('the lock is released only by its owner and taken over after its TTL', async () => {
      const context: StoreContext = { secret: randomBytes(32) };
      const a = await replica({}, { lockTtlMs: 300 });
      const b = await replica({}, { lockTtlMs: 300 });
      const held = await a.store.lock('k', context);
      assert.ok(held);
      assert.equal(await b.store.lock('k', context), null, 'held by another');
      await until(async () => (await b.store.lock('k', context)) !== null, 'the TTL to free the lock');
      await held.release(); // the old owner's release must not free b's lock
      assert.equal(await a.store.lock('k', context), null, 'still b’s');
    });

    it('a waiter fetches itself after maxWaitMs when the lock holder never delivers', async () => {
      const shared = { encryptionKey: 'one secret for the three stores here', lockTtlMs: 60_000 };
      // Learn the cache key the client uses, through a store that records the keys it is asked for.
      const probe = await replica({}, shared);
      const keys: string[] = [];
      const get = probe.store.get.bind(probe.store);
      probe.store.get = (key, context) => {
        keys.push(key);
        return get(key, context);
      };
      await probe.client.getAccessToken(['b']);
      await admin(redis.url, 'FLUSHALL');
      emulator.requests.clear();
      // Another process took the lock for this key and died: only the waiter's bound frees it (the TTL is 60 s).
      const squatter = await replica({}, shared);
      assert.ok(await squatter.store.lock(keys[0]!));
      const waiter = await replica({}, { ...shared, maxWaitMs: 200 });
      const t = await waiter.client.getAccessToken(['b']);
      assert.ok(t.value);
      assert.equal(count(emulator, 'token'), 1);
    });

    it('Redis stopped, restarted empty: no call fails, the outage is logged once, sharing resumes', async () => {
      const logger = recordingLogger();
      const one = await replica({ logger }, { retryAfterFailureMs: 50 });
      const two = await replica({ logger }, { retryAfterFailureMs: 50 });
      await one.client.getAccessToken(['a']);
      await redis.stop();
      for (let i = 0; i < 20; i++) {
        await one.client.getAccessToken(['a']); // memory
        await two.client.getAccessToken(['b']); // direct fetch
        await one.client.invalidate(['c']);
        await sleep(5);
      }
      await redis.start();
      await until(async () => {
        await two.client.getAccessToken(['c']);
        await two.client.invalidate(['c']);
        return logger.entries.filter((e) => /available again/.test(e.msg ?? '')).length >= 1;
      }, 'the store to recover');
      const outages = logger.entries.filter((e) => /unavailable/.test(e.msg ?? ''));
      assert.ok(outages.length >= 1 && outages.length <= 2, `one outage log per store, got ${outages.length}`);
      for (const e of outages) assert.doesNotMatch(JSON.stringify(e.obj), /eyJ/);
      // A message published before a store's pub/sub connection has resubscribed is lost (Redis keeps none), and
      // each client library reconnects on its own backoff: wait until both stores listen again.
      await until(async () => (await subscribers(redis.url)) >= 2, 'both stores to subscribe again');
      emulator.requests.clear();
      const fresh = await one.client.getAccessToken(['b'], { forceRefresh: true });
      await until(async () => (await two.client.getAccessToken(['b'])).value === fresh.value, 'sharing again');
      assert.equal(count(emulator, 'token'), 1);
    });

    it('Redis not answering (paused): each command times out and the call goes on without it', async () => {
      const { client } = await replica({}, { operationTimeoutMs: 100, retryAfterFailureMs: 60_000 });
      redis.pause();
      try {
        const t = await client.getAccessToken(['a']);
        assert.ok(t.value);
        assert.equal(count(emulator, 'token'), 1);
        assert.equal(await client.getAccessToken(['a']), t, 'then served from memory');
      } finally {
        redis.resume();
      }
    });

    it('READONLY (a demoted primary) and OOM (a full memory) degrade to direct fetches', async () => {
      const logger = recordingLogger();
      const one = await replica({ logger }, { retryAfterFailureMs: 50 });
      await admin(redis.url, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await admin(redis.url, 'CONFIG', 'SET', 'maxmemory', '1');
      try {
        assert.ok((await one.client.getAccessToken(['a'])).value);
      } finally {
        await admin(redis.url, 'CONFIG', 'SET', 'maxmemory', '0');
      }
      await sleep(60);
      await admin(redis.url, 'REPLICAOF', '127.0.0.1', String(redis.port === 1 ? 2 : 1));
      try {
        assert.ok((await one.client.getAccessToken(['b'])).value);
      } finally {
        await admin(redis.url, 'REPLICAOF', 'NO', 'ONE');
      }
      const replies = logger.entries.map((e) => (e.obj.err as { reply?: string } | undefined)?.reply);
      assert.ok(replies.includes('OOM'), `logged: ${JSON.stringify(replies)}`);
      assert.ok(replies.includes('READONLY'), `logged: ${JSON.stringify(replies)}`);
      assert.equal(count(emulator, 'token'), 2);
    });

    it('tokens sealed under another key do not open; a passed encryptionKey is shared by every process', async () => {
      const one = await replica({}, { encryptionKey: 'a shared secret of every replica' });
      const two = await replica({}, { encryptionKey: 'a shared secret of every replica' });
      const three = await replica({}, { encryptionKey: 'another secret, another namespace' });
      const t = await one.client.getAccessToken(['a']);
      assert.equal((await two.client.getAccessToken(['a'])).value, t.value);
      assert.equal(count(emulator, 'token'), 1);
      assert.notEqual((await three.client.getAccessToken(['a'])).value, t.value);
      assert.equal(count(emulator, 'token'), 2);
      // Tampered entries read as misses.
      for (const key of (await dump(redis.url)).keys()) await admin(redis.url, 'SET', key, 'v1.AAAA.AAAA.AAAA');
      const four = await replica({}, { encryptionKey: 'a shared secret of every replica' });
      assert.notEqual((await four.client.getAccessToken(['a'])).value, t.value);
    });

    it('rejects what is not a Redis client, and bad options, with coded errors naming them', async () => {
      const conn = await connect(library as Library, redis.url);
      closers.push(conn.close);
      const cases: [() => unknown, RegExp][] = [
        [() => createRedisTokenStore({ get() {} }), /`redis`.*`ioredis`/],
        [() => createRedisTokenStore(undefined), /`redis`.*`ioredis`/],
        [() => createRedisTokenStore(conn.client, { lockTtlMs: -1 }), /lockTtlMs/],
        [() => createRedisTokenStore(conn.client, { prefix: 'a b' }), /prefix/],
        [() => createRedisTokenStore(conn.client, { encryptionKey: 'short' }), /encryptionKey/],
      ];
      for (const [fn, message] of cases) assert.match(throwsWith(fn, 'ERR_CONFIG').message, message);
      const store = createRedisTokenStore(conn.client);
      closers.push(() => store.close());
      assert.equal(store.library, library);
    });
  });
}
