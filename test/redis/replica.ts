/**
 * One replica, run as its own process by replicas.test.ts and bench/redis.ts: a MaskinportenClient on a Redis
 * token store (either library) against the emulator, with recording OpenTelemetry providers so it can report where
 * each token came from. Configured by one JSON argument; prints `ready` once loaded, starts calling on a line on stdin, and prints
 * one JSON line of results. Token values are never
 * printed: only short fingerprints.
 *
 * Modes: `burst` (every caller asks once, all at once), `run` (callers ask in a loop for `durationMs`; calls that
 * did not come from memory after the caller's first are counted as having waited), `steps` (one command per stdin
 * line — `get <scopes>`, `force <scopes>`, `invalidate <scopes>`, `end` — each answered by a JSON line with the
 * served token's fingerprint).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { MaskinportenClient } from '../../src/client.ts';
import { createRedisTokenStore, type RedisTokenStoreOptions } from '../../src/redis/index.ts';
import { connect, type Library } from './redis-server.ts';

/** What a replica is told. */
export interface ReplicaConfig {
  settings: { authority: string; clientId: string; jwkBase64?: string };
  redisUrl: string;
  library: Library;
  mode: 'burst' | 'run' | 'steps';
  callers: number;
  /** Scope lists, one per key; callers spread over them. */
  keys: string[];
  durationMs?: number;
  /** Pause between a caller's calls in `run` mode (ms); 0: next tick. */
  paceMs?: number;
  store?: RedisTokenStoreOptions;
  cache?: { expiryMarginMs?: number; refreshAhead?: number };
}

/** What a replica reports. */
export interface ReplicaReport {
  calls: number;
  failures: number;
  /** Calls per source label (memory, redis, wait, upstream). */
  sources: Record<string, number>;
  /** Calls after a caller's first that did not come from memory. */
  waitedAfterWarmup: number;
  /** Fingerprints of the distinct tokens served, per key. */
  tokens: Record<string, string[]>;
  outagesLogged: number;
  recoveriesLogged: number;
}

const sources: Record<string, number> = {};
metrics.setGlobalMeterProvider({
  getMeter: () => ({
    createCounter: (name: string) => ({
      add: (value: number, attributes: Record<string, string> = {}) => {
        if (name === 'maskinporten_token_requests' && attributes.source && value > 0)
          sources[attributes.source] = (sources[attributes.source] ?? 0) + value;
      },
    }),
  }),
} as never);

const config = JSON.parse(process.argv[2] ?? '{}') as ReplicaConfig;
const report: ReplicaReport = {
  calls: 0,
  failures: 0,
  sources,
  waitedAfterWarmup: 0,
  tokens: {},
  outagesLogged: 0,
  recoveriesLogged: 0,
};
const logger = {
  warn: (_obj: Record<string, unknown>, msg?: string) => {
    if (/unavailable/.test(msg ?? '')) report.outagesLogged++;
  },
  info: (_obj: Record<string, unknown>, msg?: string) => {
    if (/available again/.test(msg ?? '')) report.recoveriesLogged++;
  },
};
const conn = await connect(config.library, config.redisUrl);
const store = createRedisTokenStore(conn.client, config.store);
const client = new MaskinportenClient(config.settings, {
  cache: { store, ...config.cache },
  logger,
  allowInsecureRequests: true,
});
await tick(); // telemetry loads asynchronously
const seen = new Map<string, Set<string>>(config.keys.map((k) => [k, new Set<string>()]));
const fingerprint = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 12);

/**
 * One call. It waited on the network unless it settled within a few microtask turns: no I/O can complete in
 * between, so a token served from memory settles there and one that needed Redis or Maskinporten cannot.
 */
async function call(scopes: string, counted: boolean): Promise<void> {
  let settled = false;
  const pending = client.getAccessToken(scopes).finally(() => {
    settled = true;
  });
  for (let i = 0; i < 20 && !settled; i++) await null;
  if (counted && !settled) report.waitedAfterWarmup++;
  try {
    seen.get(scopes)!.add(fingerprint((await pending).value));
  } catch {
    report.failures++;
  }
  report.calls++;
}

/** `steps` mode: answers each command line with `{ token }` (a fingerprint) or `{ error }`, until `end`. */
async function steps(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, scopes = ''] = line.trim().split(' ');
    if (command === 'end') break;
    try {
      if (command === 'invalidate') {
        await client.invalidate(scopes);
        process.stdout.write('{}\n');
      } else {
        const token = await client.getAccessToken(scopes, command === 'force' ? { forceRefresh: true } : undefined);
        process.stdout.write(`${JSON.stringify({ token: fingerprint(token.value) })}\n`);
      }
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ error: String((err as Error).name) })}\n`);
    }
  }
  lines.close();
}

// Loaded and connected: say so, and start calling when told (so every replica starts together however slowly
// each one loaded).
process.stdout.write('ready\n');
if (config.mode === 'steps') await steps();
else await once(process.stdin, 'data');
const callers = Array.from({ length: config.callers }, (_, i) => config.keys[i % config.keys.length]!);
if (config.mode === 'steps') {
  // done above
} else if (config.mode === 'burst') {
  await Promise.all(callers.map((scopes) => call(scopes, false)));
} else {
  const end = Date.now() + (config.durationMs ?? 1000);
  await Promise.all(
    callers.map(async (scopes) => {
      let first = true;
      while (Date.now() < end) {
        await call(scopes, !first);
        first = false;
        if (config.paceMs) await sleep(config.paceMs);
        else await tick();
      }
    }),
  );
}
for (const [k, set] of seen) report.tokens[k] = [...set];
await store.close();
await conn.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
