/**
 * Redis token store benchmark (a benchmark, not a test), against a real redis-server and the emulator:
 *
 * - P7: replica processes (8) × concurrent callers (200) calling in loops for the run (60 s) with 20 s tokens, on one
 *   key and on ten keys. Figures: upstream token requests per key, distinct tokens served per key, requests per
 *   token generation (target exactly 1: every upstream request's token was the one every replica served), whether
 *   every replica served every generation, and callers that waited on the network after warm-up (target 0). The
 *   cache runs with its defaults (10 s margin, refresh-ahead 0.75), so a 20 s token is refreshed 7.5 s into its
 *   life: a generation lasts 7.5 s, not 20.
 * - A token served from Redis (a memory miss: `cache.maxEntries` 1, two keys alternating) against a bare `GET` of the
 *   same entry through the same client, sequential, call by call alternating, medians (target ≤ 1.3×), for
 *   node-redis and ioredis each. Every measured call of both contenders is one real GET to redis-server.
 * - A memory hit with the store configured against one without (target: no measurable difference).
 * - Redis stopped for 10 s in the middle of a replica run: failed calls (target 0).
 *
 * Run alone: `npx node bench/redis.ts`. Knobs (environment): BENCH_REDIS_SECONDS (60), BENCH_REDIS_REPLICAS (8),
 * BENCH_REDIS_CALLERS (200), BENCH_REDIS_TOKEN_LIFETIME (20), BENCH_REDIS_PACE_MS (250, between a caller's calls: 800 calls/s per replica),
 * BENCH_REDIS_OUTAGE_SECONDS (10; the outage run lasts three times as long), BENCH_REDIS_OPS (20000, per round),
 * BENCH_REDIS_LIBRARY (`redis` or `ioredis`: the client library of the replica runs; `redis` by default).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MaskinportenClient } from '../src/client.ts';
import { type CreatedClient, startEmulator } from '../src/emulator/index.ts';
import { createRedisTokenStore } from '../src/redis/index.ts';
import {
  connect,
  dump,
  LIBRARIES,
  type Library,
  REDIS_SERVER,
  startRedis,
  type TestRedis,
} from '../test/redis/redis-server.ts';
import type { ReplicaReport } from '../test/redis/replica.ts';
import { runReplicas } from '../test/redis/spawn-replica.ts';
import { envNumber } from './lib/env.ts';
import { type BenchReport, type Figure, formatReports, hasErrors, type Ratio } from './lib/report.ts';
import { median, quantile } from './lib/stats.ts';

const SECONDS = envNumber('BENCH_REDIS_SECONDS', 60, 1, 3600);
const REPLICAS = envNumber('BENCH_REDIS_REPLICAS', 8, 1, 64);
const CALLERS = envNumber('BENCH_REDIS_CALLERS', 200, 1, 10_000);
const LIFETIME = envNumber('BENCH_REDIS_TOKEN_LIFETIME', 20, 2, 3600);
const PACE_MS = envNumber('BENCH_REDIS_PACE_MS', 250, 0, 10_000);
const OUTAGE = envNumber('BENCH_REDIS_OUTAGE_SECONDS', 10, 1, 600);
const OPS = envNumber('BENCH_REDIS_OPS', 20_000, 100, 10_000_000);
const ROUNDS = 5;
const LIBRARY: Library = process.env.BENCH_REDIS_LIBRARY === 'ioredis' ? 'ioredis' : 'redis';

interface ReplicaRun {
  reports: ReplicaReport[];
  upstreamPerKey: number[];
  distinctPerKey: number[];
  everyReplicaSawEvery: boolean;
}

async function replicaRun(
  redis: TestRedis,
  client: CreatedClient,
  keys: string[],
  seconds: number,
  count: () => Map<string, number>,
  whileRunning?: () => Promise<void>,
): Promise<ReplicaRun> {
  const reports = await runReplicas(
    REPLICAS,
    {
      settings: { ...client.settings }, // a plain copy: the emulator's own object prints its key as [secret]
      redisUrl: redis.url,
      library: LIBRARY,
      mode: 'run',
      callers: CALLERS,
      keys,
      durationMs: seconds * 1000,
      paceMs: PACE_MS,
    },
    whileRunning,
  );
  const perScope = count();
  const distinctPerKey = keys.map((k) => new Set(reports.flatMap((r) => r.tokens[k] ?? [])).size);
  // The newest generation may have arrived as the run ended: a replica may lack that one only.
  const everyReplicaSawEvery = keys.every((k, i) =>
    reports.every((r) => (r.tokens[k]?.length ?? 0) >= distinctPerKey[i]! - 1),
  );
  return { reports, upstreamPerKey: keys.map((k) => perScope.get(k) ?? 0), distinctPerKey, everyReplicaSawEvery };
}

/** Runs the benchmark and returns its report. */
export async function runRedisBenchmark(): Promise<BenchReport> {
  const redis = await startRedis();
  const emulator = await startEmulator();
  const keys = Array.from({ length: 10 }, (_, i) => `bench:k${i}`);
  const client = await emulator.createClient({ scopes: keys, accessTokenLifetime: LIFETIME });
  const perScope = () => {
    const m = new Map<string, number>();
    for (const e of emulator.requests.entries({ endpoint: 'token' })) {
      const scope = String(e.grant?.claims.scope ?? '');
      m.set(scope, (m.get(scope) ?? 0) + 1);
    }
    emulator.requests.clear();
    return m;
  };
  const figures: Figure[] = [];
  const ratios: Ratio[] = [];
  const problems: string[] = [];
  try {
    // P7, one key and ten keys.
    for (const set of [keys.slice(0, 1), keys]) {
      await redis.stop();
      await redis.start();
      const run = await replicaRun(redis, client, set, SECONDS, perScope);
      const calls = run.reports.reduce((n, r) => n + r.calls, 0);
      const failures = run.reports.reduce((n, r) => n + r.failures, 0);
      const waited = run.reports.reduce((n, r) => n + r.waitedAfterWarmup, 0);
      const upstream = run.upstreamPerKey.reduce((a, b) => a + b, 0);
      const distinct = run.distinctPerKey.reduce((a, b) => a + b, 0);
      figures.push({
        name: `P7 ${set.length} key${set.length > 1 ? 's' : ''}`,
        tokensPerSecond: calls / SECONDS,
        count: calls,
        errors: failures,
        note: `${REPLICAS} processes × ${CALLERS} callers, ${SECONDS} s, ${LIFETIME} s tokens: upstream requests per key ${run.upstreamPerKey.join('/')}, distinct tokens served per key ${run.distinctPerKey.join('/')}, every replica served every generation: ${run.everyReplicaSawEvery ? 'yes' : 'NO'}; callers that waited on the network after warm-up: ${waited}`,
      });
      ratios.push({
        name: `P7 ${set.length} key(s): token generations / upstream requests (exactly 1 request each)`,
        value: upstream === 0 ? Number.NaN : distinct / upstream,
        target: 1,
        style: 'percent',
      });
      if (waited > 0) problems.push(`P7 ${set.length} key(s): ${waited} callers waited on the network after warm-up`);
    }

    // A token from Redis (memory miss) against a bare GET of the same entry through the same client, per library.
    await redis.stop();
    await redis.start();
    const timeOps = async (op: (i: number) => Promise<unknown>, n: number) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await op(i);
      return (performance.now() - t0) / n;
    };
    const redisOps = Math.max(50, Math.floor(OPS / 40));
    for (const library of LIBRARIES) {
      const conn = await connect(library, redis.url);
      const store = createRedisTokenStore(conn.client);
      const viaRedis = new MaskinportenClient(client.settings, {
        cache: { store, maxEntries: 1 },
        allowInsecureRequests: true,
      });
      await viaRedis.getAccessToken(keys[0]!);
      await viaRedis.getAccessToken(keys[1]!);
      const entry = [...(await dump(redis.url)).keys()].find((k) => k.startsWith('maskinporten:t:'))!;
      // The bare GET goes through the client's own API: node-redis `get`, ioredis `get`.
      const bare = conn.client as { get(key: string): Promise<unknown> };
      // Call by call, alternating which goes first: on a shared machine, load falls on both contenders alike, and
      // the medians of single calls are not moved by a stall of a few milliseconds the way a round's mean is.
      const hit: number[] = [];
      const get: number[] = [];
      const once = async (op: () => Promise<unknown>, into: number[]) => {
        const t0 = performance.now();
        await op();
        into.push(performance.now() - t0);
      };
      for (let i = 0; i < redisOps * ROUNDS * 4; i++) {
        const viaStore = () => once(() => viaRedis.getAccessToken(keys[i % 2]!), hit);
        const bareGet = () => once(() => bare.get(entry), get);
        if (i % 2 === 0) {
          await viaStore();
          await bareGet();
        } else {
          await bareGet();
          await viaStore();
        }
      }
      const hitMs = median(hit);
      const getMs = median(get);
      figures.push(
        {
          name: `token from Redis (memory miss), ${library}`,
          tokensPerSecond: 1000 / hitMs,
          range: [1000 / quantile(hit, 0.9), 1000 / quantile(hit, 0.1)],
          count: hit.length,
          note: `median ${(hitMs * 1000).toFixed(0)} µs per token (p10–p90 ${(quantile(hit, 0.1) * 1000).toFixed(0)}–${(quantile(hit, 0.9) * 1000).toFixed(0)} µs): one GET, the sealed entry (opened once), the token`,
        },
        {
          name: `bare GET, same ${library} client`,
          tokensPerSecond: 1000 / getMs,
          range: [1000 / quantile(get, 0.9), 1000 / quantile(get, 0.1)],
          count: get.length,
          note: `median ${(getMs * 1000).toFixed(0)} µs per GET of the same entry (p10–p90 ${(quantile(get, 0.1) * 1000).toFixed(0)}–${(quantile(get, 0.9) * 1000).toFixed(0)} µs)`,
        },
      );
      ratios.push({
        name: `${library}: bare GET time / Redis-served token time (≥ 77% ⇔ ≤ 1.3×)`,
        value: getMs / hitMs,
        target: 1 / 1.3,
        style: 'percent',
      });
      await store.close();
      await conn.close();
      await redis.stop();
      await redis.start();
    }

    // A memory hit with the store configured against one without.
    const conn = await connect(LIBRARY, redis.url);
    const store = createRedisTokenStore(conn.client);
    const plain = new MaskinportenClient(client.settings, { allowInsecureRequests: true });
    const withStore = new MaskinportenClient(client.settings, { cache: { store }, allowInsecureRequests: true });
    await plain.getAccessToken(keys[0]!);
    await withStore.getAccessToken(keys[0]!);
    const memStore: number[] = [];
    const memPlain: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating which goes first.
      const pair = [
        async () => memStore.push(await timeOps(() => withStore.getAccessToken(keys[0]!), OPS)),
        async () => memPlain.push(await timeOps(() => plain.getAccessToken(keys[0]!), OPS)),
      ];
      if (round % 2 === 0) pair.reverse();
      for (const run of pair) await run();
    }
    const withMs = median(memStore);
    const withoutMs = median(memPlain);
    figures.push(
      {
        name: 'memory hit, store configured',
        tokensPerSecond: 1000 / withMs,
        count: OPS * ROUNDS,
        note: `${(withMs * 1e6).toFixed(0)} ns per call`,
      },
      {
        name: 'memory hit, no store',
        tokensPerSecond: 1000 / withoutMs,
        count: OPS * ROUNDS,
        note: `${(withoutMs * 1e6).toFixed(0)} ns per call`,
      },
    );
    ratios.push({
      name: 'memory hit: without store time / with store time (no difference)',
      value: withoutMs / withMs,
      target: 0.95,
      style: 'percent',
    });
    await store.close();
    await conn.close();

    // Redis stopped in the middle of a run.
    emulator.requests.clear();
    const outage = await replicaRun(redis, client, keys.slice(0, 3), OUTAGE * 3, perScope, async () => {
      await new Promise((r) => setTimeout(r, OUTAGE * 1000));
      await redis.stop();
      await new Promise((r) => setTimeout(r, OUTAGE * 1000));
      await redis.start();
    });
    const calls = outage.reports.reduce((n, r) => n + r.calls, 0);
    const failures = outage.reports.reduce((n, r) => n + r.failures, 0);
    figures.push({
      name: `Redis stopped ${OUTAGE} s mid-run`,
      tokensPerSecond: calls / (OUTAGE * 3),
      count: calls,
      errors: failures,
      note: `${REPLICAS} processes × ${CALLERS} callers, 3 keys, ${OUTAGE * 3} s: failed calls ${failures}; upstream requests per key ${outage.upstreamPerKey.join('/')}; outages logged ${outage.reports.map((r) => r.outagesLogged).join('/')}, recoveries ${outage.reports.map((r) => r.recoveriesLogged).join('/')}`,
    });
  } finally {
    await emulator.close();
    await redis.close();
  }
  return {
    title: 'redis',
    setup: `redis-server ${REDIS_VERSION}; replicas (child processes) on ${LIBRARY === 'redis' ? 'node-redis' : 'ioredis'}; Redis-served token vs bare GET on node-redis and ioredis; emulator in the benchmark process`,
    conditions: [],
    figures,
    ratios,
    problems,
  };
}

const REDIS_VERSION =
  /v=(\S+)/.exec(execFileSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }))?.[1] ?? '(unknown)';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await runRedisBenchmark();
  console.log(formatReports([report]));
  process.exitCode = hasErrors([report]) ? 1 : 0;
}
