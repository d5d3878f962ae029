/**
 * One replica process, started by spawn-replica.ts for replicas.test.ts and bench/redis.ts: a MaskinportenClient on
 * a Redis token store (either library) against the emulator, with recording OpenTelemetry providers so it can report
 * where each token came from. Token values are never printed: only short fingerprints.
 *
 * A process serves one run after another, so that tests need not pay for a process start (0.5–0.7 s of CPU) per
 * replica. It reads one command per stdin line and answers with one line on stdout:
 * - `config <JSON ReplicaConfig>`: a run begins with a NEW Redis connection, store and client (nothing of an
 *   earlier run's memory is used); answered by `ready` once connected.
 * - `go` (modes `burst` and `run`): the run's calls; answered by `report <JSON ReplicaReport>`.
 * - in mode `steps`: `get <scopes>`, `force <scopes>`, `invalidate <scopes>`, each answered by `answer <JSON>` with
 *   the served token's fingerprint, until `end`, answered by the report.
 * Before a report, the run's background work (a refresh in flight, a wait on another process's lock) is let finish
 * and the store, connection and client are closed, so nothing of the run reaches the emulator or Redis afterwards.
 * The process exits when stdin ends.
 *
 * Modes: `burst` (every caller asks once, all at once), `run` (callers ask in a loop for `durationMs`; calls that
 * did not come from memory after the caller's first are counted as having waited), `steps` (driven line by line).
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import type { TokenStore } from '../../src/cache/store.ts';
import { MaskinportenClient } from '../../src/client.ts';
import { createRedisTokenStore, type RedisTokenStoreOptions } from '../../src/redis/index.ts';
import { connect, type Library } from './redis-server.ts';

/** What a replica is told for one run. */
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

/** What a replica reports after a run. */
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

/** How long (ms) a run's store and HTTP traffic must have been idle before its background work counts as done. */
const QUIET_MS = 100;

/** The current run's report: the counter below records into it. */
let report: ReplicaReport;
metrics.setGlobalMeterProvider({
  getMeter: () => ({
    createCounter: (name: string) => ({
      add: (value: number, attributes: Record<string, string> = {}) => {
        if (name === 'maskinporten_token_requests' && attributes.source && value > 0)
          report.sources[attributes.source] = (report.sources[attributes.source] ?? 0) + value;
      },
    }),
  }),
} as never);

const fingerprint = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 12);
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Counts the run's store calls and HTTP requests in flight (a pass-through: every call goes to the real store and
 * the real `fetch`), so the run can wait for its background work before it ends.
 */
class Activity {
  #busy = 0;
  #lastSettled = performance.now();

  track<T>(work: Promise<T>): Promise<T> {
    this.#busy++;
    const settled = () => {
      this.#busy--;
      this.#lastSettled = performance.now();
    };
    work.then(settled, settled);
    return work;
  }

  store(store: TokenStore): TokenStore {
    return new Proxy(store, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return out instanceof Promise ? this.track(out) : out;
        };
      },
    });
  }

  fetch: typeof fetch = (input, init) => this.track(fetch(input, init));

  /** Resolves once nothing has been in flight for QUIET_MS (a grant being signed between two calls included). */
  async quiet(): Promise<void> {
    while (this.#busy > 0 || performance.now() - this.#lastSettled < QUIET_MS) await sleep(10);
  }
}

/** One run: a new connection, store and client, driven by the lines that follow until its report. */
async function run(config: ReplicaConfig, lines: AsyncIterator<string>): Promise<void> {
  report = {
    calls: 0,
    failures: 0,
    sources: {},
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
  const activity = new Activity();
  const conn = await connect(config.library, config.redisUrl);
  const store = createRedisTokenStore(conn.client, config.store);
  const client = new MaskinportenClient(config.settings, {
    cache: { store: activity.store(store), ...config.cache },
    logger,
    allowInsecureRequests: true,
    fetch: activity.fetch,
  });
  await tick(); // telemetry loads asynchronously
  const seen = new Map<string, Set<string>>(config.keys.map((k) => [k, new Set<string>()]));

  /**
   * One call. It waited on the network unless it settled within a few microtask turns: no I/O can complete in
   * between, so a token served from memory settles there and one that needed Redis or Maskinporten cannot.
   */
  const call = async (scopes: string, counted: boolean): Promise<void> => {
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
  };

  // Connected: say so, and start calling when told (so every replica starts together however slowly each loaded).
  say('ready');
  if (config.mode === 'steps') {
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const [command, scopes = ''] = next.value.trim().split(' ');
      if (command === 'end') break;
      try {
        if (command === 'invalidate') {
          await client.invalidate(scopes);
          say('answer {}');
        } else {
          const token = await client.getAccessToken(scopes, command === 'force' ? { forceRefresh: true } : undefined);
          say(`answer ${JSON.stringify({ token: fingerprint(token.value) })}`);
        }
      } catch (err) {
        say(`answer ${JSON.stringify({ error: String((err as Error).name) })}`);
      }
    }
  } else {
    const go = await lines.next();
    if (go.done) return;
    const callers = Array.from({ length: config.callers }, (_, i) => config.keys[i % config.keys.length]!);
    if (config.mode === 'burst') {
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
  }
  for (const [k, set] of seen) report.tokens[k] = [...set];
  // A background refresh still running (or waiting on another process's lock) finishes as it would have in a
  // process of its own before that process exited: against an open store, before this run is over.
  await activity.quiet();
  await store.close();
  await conn.close();
  say(`report ${JSON.stringify(report)}`);
}

const input = createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
for (;;) {
  const next = await lines.next();
  if (next.done) break;
  const [command, ...rest] = next.value.split(' ');
  if (command !== 'config') throw new Error(`replica: expected a config line, got ${JSON.stringify(command)}`);
  await run(JSON.parse(rest.join(' ')) as ReplicaConfig, lines);
}
input.close();
