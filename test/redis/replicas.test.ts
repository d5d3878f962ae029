/**
 * Real replicas: separate processes (test/redis/replica.ts), each with its own Redis connection and client, against
 * one emulator and one real redis-server. Upstream requests are counted in the emulator's request log. The processes
 * are kept from test to test (each run in one starts with a new connection, store and client, so its memory is
 * cold), except one killed on purpose.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CreatedClient, type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { until } from '../helpers/wait.ts';
import { admin, dump, LIBRARIES, startRedis, type TestRedis } from './redis-server.ts';
import type { ReplicaConfig } from './replica.ts';
import { ReplicaPool } from './spawn-replica.ts';

describe('Redis token store across processes', () => {
  let redis: TestRedis;
  let emulator: Emulator;
  let created: CreatedClient;
  let shortLived: CreatedClient;
  let paired: CreatedClient;
  const pool = new ReplicaPool();
  const runReplicas = pool.run.bind(pool);
  const spawnReplica = pool.start.bind(pool);

  const base = (
    c: CreatedClient,
    library: (typeof LIBRARIES)[number],
  ): Omit<ReplicaConfig, 'mode' | 'callers' | 'keys'> => ({
    settings: { ...c.settings }, // a plain copy: the emulator's own object prints its key as [secret]
    redisUrl: redis.url,
    library,
  });

  /** Upstream token requests for one scope (tests running side by side use different scopes). */
  const perScope = (scope: string) =>
    emulator.requests.entries({ endpoint: 'token' }).filter((e) => e.grant?.claims.scope === scope).length;

  before(async () => {
    redis = await startRedis();
    emulator = await startEmulator();
    created = await emulator.createClient({ scopes: ['a', 'b', 'c'] });
    shortLived = await emulator.createClient({ scopes: ['a', 'b'], accessTokenLifetime: 8 });
    paired = await emulator.createClient({ scopes: ['d', 'e'] });
  });
  beforeEach(async () => {
    emulator.faults.clear();
    emulator.requests.clear();
    await admin(redis.url, 'FLUSHALL');
  });
  after(async () => {
    await pool.close();
    await emulator.close();
    await redis.close();
  });

  it('4 processes × 50 callers cold on one key make one upstream request (each library, both at once)', async () => {
    // The two libraries run side by side, each on its own scope and key prefix, so their requests count apart.
    const runs = await Promise.all(
      LIBRARIES.map((library, i) =>
        runReplicas(4, {
          ...base(created, library),
          mode: 'burst',
          callers: 50,
          keys: [['a', 'b'][i]!],
          store: { prefix: `burst${i}:` },
        }),
      ),
    );
    for (const [i, reports] of runs.entries()) {
      const scope = ['a', 'b'][i]!;
      const what = `${LIBRARIES[i]}: `;
      assert.equal(perScope(scope), 1, `${what}one upstream request`);
      const tokens = new Set(reports.flatMap((r) => r.tokens[scope]));
      assert.equal(tokens.size, 1, `${what}every process serves the one token`);
      assert.equal(
        reports.reduce((n, r) => n + r.failures, 0),
        0,
      );
      const sources = reports.map((r) => r.sources);
      const fetchers = sources.filter((s) => (s.upstream ?? 0) > 0);
      assert.equal(
        fetchers.length,
        1,
        `${what}one process fetched (its callers shared the fetch): ${JSON.stringify(sources)}`,
      );
      assert.ok(
        sources.filter((s) => (s.wait ?? 0) + (s.redis ?? 0) > 0).length >= 3,
        `${what}the other processes took it from Redis or a wait: ${JSON.stringify(sources)}`,
      );
    }
  });

  it('refresh-ahead is coordinated: every process serves each generation of token, none waits after warm-up', async () => {
    // 8 s tokens, 1 s margin, refreshed at 30 % of their life: a new generation every 1.4–2.4 s (`iat` is in whole
    // seconds), each refresh with 4.6 s to finish before a caller would have to wait for it (room for a slow
    // refresh on a busy machine); 6 s of calls on two keys (about three generations each).
    const reports = await runReplicas(3, {
      ...base(shortLived, 'redis'),
      mode: 'run',
      callers: 20,
      keys: ['a', 'b'],
      durationMs: 6000,
      paceMs: 5,
      cache: { expiryMarginMs: 1000, refreshAhead: 0.3 },
    });
    assert.equal(
      reports.reduce((n, r) => n + r.failures, 0),
      0,
    );
    assert.equal(
      reports.reduce((n, r) => n + r.waitedAfterWarmup, 0),
      0,
      'no caller waited after its first call',
    );
    for (const key of ['a', 'b']) {
      const all = new Set(reports.flatMap((r) => r.tokens[key]!));
      assert.ok(all.size >= 2, `several generations of ${key}: ${all.size}`);
      // Were refreshes not coordinated, each process would serve tokens the others never saw.
      for (const r of reports) assert.ok(r.tokens[key]!.length >= all.size - 1, 'each process saw every generation');
      // One upstream request per generation; the one refresh that may still be running when the calls end (its
      // token served by no one) is the only request more. Processes whose refresh was waiting on that one's lock
      // then take its token from Redis rather than fetching their own.
      assert.ok(
        perScope(key) <= all.size + 1,
        `${perScope(key)} upstream requests for ${all.size} tokens of ${key} served: ${JSON.stringify(
          emulator.requests.entries({ endpoint: 'token' }).map((e) => [e.time, e.grant?.claims.scope]),
        )}`,
      );
    }
  });

  it("refresh-ahead behind a slow refresh: a process whose refresh waits on another one's lock takes its token, also when it shuts down meanwhile", async () => {
    // 120 s tokens refreshed at 1 % of their life: 1.2 s after `iat` (a whole second, so at most that long after
    // the fetch). A and B, one step at a time, on scope c and a prefix of their own.
    const config: ReplicaConfig = {
      ...base(created, 'redis'),
      mode: 'steps',
      callers: 0,
      keys: [],
      store: { prefix: 'slow:' },
      cache: { refreshAhead: 0.01 },
    };
    const a = spawnReplica(config);
    const b = spawnReplica(config);
    try {
      await Promise.all([a.ready, b.ready]);
      const first = (await a.step('get c')).token;
      assert.ok(first);
      assert.equal((await b.step('get c')).token, first, 'B took A’s token from Redis');
      await sleep(1500); // past the refresh point
      // A's refresh takes the lock and asks for a token that takes 3 s to come.
      emulator.faults.add({ endpoint: 'token', latencyMs: 3000, times: 1 });
      assert.equal((await a.step('get c')).token, first, 'A serves its token while it refreshes');
      await until(
        async () =>
          emulator.faults.list().length === 0 &&
          [...(await dump(redis.url)).keys()].some((k) => k.startsWith('slow:l:')),
        'A to take the lock and ask for a token',
        { limitMs: 20_000, everyMs: 20 },
      );
      // B's refresh finds the lock taken and waits for A's token; B shuts down (its store and connection closed)
      // only once that refresh is over, as a process does whose work is done.
      assert.equal((await b.step('get c')).token, first, 'B serves its token while it waits');
      b.end();
      await b.report;
      await until(async () => (await a.step('get c')).token !== first, 'A’s refresh to finish', {
        limitMs: 20_000,
        everyMs: 50,
      });
      assert.equal(perScope('c'), 2, 'the first token and A’s refresh: B’s refresh took A’s token from Redis');
    } finally {
      a.end();
      b.end();
      await Promise.all([a.report, b.report]);
    }
  });

  it('a process that dies holding the lock is taken over after the lock TTL', async () => {
    emulator.faults.add({ endpoint: 'token', latencyMs: 30_000, times: 1 });
    const doomed = spawnReplica({
      ...base(created, 'ioredis'),
      mode: 'burst',
      callers: 1,
      keys: ['c'],
      store: { lockTtlMs: 1500 },
    });
    // Waiting is bounded far past the TTL: a token here means the lock was taken over when it expired. Started
    // now (it loads meanwhile), told to call once the first process has died.
    const survivor = spawnReplica({
      ...base(created, 'ioredis'),
      mode: 'burst',
      callers: 5,
      keys: ['c'],
      store: { maxWaitMs: 60_000 },
    });
    await Promise.all([doomed.ready, survivor.ready]);
    doomed.go();
    // Killed holding the lock, with its token request in the emulator (the slow fault taken by it, not left for the
    // survivor's request).
    await until(
      async () =>
        emulator.faults.list().length === 0 &&
        [...(await dump(redis.url)).keys()].some((k) => k.startsWith('maskinporten:l:')),
      'the first process to take the lock and ask for a token',
      { limitMs: 20_000, everyMs: 20 },
    );
    doomed.child.kill('SIGKILL');
    await doomed.report.catch(() => undefined);
    survivor.go();
    const report = await survivor.report;
    assert.equal(report.failures, 0);
    assert.equal(report.sources.upstream, 5, 'the survivor fetched (its 5 callers sharing one fetch)');
    assert.equal(report.sources.wait, undefined, 'it did not get the token by waiting on anyone');
  });

  it('failover: redis-server stopped and restarted mid-run fails no call, one outage logged per process; an invalidation made meanwhile reaches the other process once it is back (both libraries)', async () => {
    // Three processes calling in a loop through the outage; and per library a pair, A and B, on its own prefix and
    // scope, driven step by step. All start at once and go through the one stop and restart.
    const runners = Array.from({ length: 3 }, () =>
      spawnReplica({
        ...base(created, 'redis'),
        mode: 'run',
        callers: 20,
        keys: ['a', 'b', 'c'],
        // Past the restart by a few seconds, however long the steps below take on a busy machine.
        durationMs: 5000,
        paceMs: 5,
        store: { retryAfterFailureMs: 200 },
      }),
    );
    const pairs = LIBRARIES.map((library, i) => {
      const config: ReplicaConfig = {
        ...base(paired, library),
        mode: 'steps',
        callers: 0,
        keys: [],
        store: { prefix: `outage${i}:`, retryAfterFailureMs: 200 },
      };
      return { scope: ['d', 'e'][i]!, a: spawnReplica(config), b: spawnReplica(config) };
    });
    try {
      await Promise.all([...runners.map((r) => r.ready), ...pairs.flatMap((p) => [p.a.ready, p.b.ready])]);
      const first = await Promise.all(
        pairs.map(async (p) => {
          const t = await p.a.step(`get ${p.scope}`);
          assert.ok(t.token);
          assert.equal((await p.b.step(`get ${p.scope}`)).token, t.token, 'B took A’s token from Redis');
          return t.token;
        }),
      );
      for (const r of runners) r.go();
      await sleep(1000);
      await redis.stop();
      const startAt = Date.now() + 1000;
      for (const [i, p] of pairs.entries()) {
        // A's API refuses the token: A refreshes (directly: Redis is down); B still serves it from memory.
        const forced = await p.a.step(`force ${p.scope}`);
        assert.ok(forced.token && forced.token !== first[i]);
        assert.equal((await p.b.step(`get ${p.scope}`)).token, first[i]);
      }
      await sleep(Math.max(0, startAt - Date.now()));
      await redis.start();
      for (const [i, p] of pairs.entries()) {
        let now = first[i];
        await until(
          async () => {
            now = (await p.b.step(`get ${p.scope}`)).token;
            return now !== first[i];
          },
          'B to stop serving the token A invalidated during the outage',
          { limitMs: 15_000, everyMs: 50 },
        );
        assert.ok(now);
        // The first token, A's refresh, and B's one new token: no stampede.
        assert.equal(perScope(p.scope), 3);
      }
      const reports = await Promise.all(runners.map((r) => r.report));
      assert.equal(
        reports.reduce((n, r) => n + r.failures, 0),
        0,
      );
      for (const r of reports) {
        assert.ok(r.calls > 100);
        assert.ok(r.outagesLogged <= 1, `logged once per outage, got ${r.outagesLogged}`);
        assert.equal(r.recoveriesLogged, r.outagesLogged, 'and recovered by itself');
      }
      assert.ok(reports.some((r) => r.outagesLogged === 1));
    } finally {
      for (const p of pairs) for (const r of [p.a, p.b]) r.end();
      await Promise.all(pairs.flatMap((p) => [p.a.report, p.b.report]));
      await Promise.all(runners.map((r) => r.report.catch(() => undefined)));
    }
  });
});
