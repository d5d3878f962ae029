/**
 * Load benchmark (a benchmark, not a test): the authorized fetch (`createFetch`) under sustained concurrent load for
 * a bounded time spanning several token lifetimes, next to plain `fetch` with a fixed, valid `Authorization` header.
 * It shows what the issue asks for:
 *
 * - no errors: the API (a child process) answers 401 to a missing token and to one past its `exp`, so a token used
 *   too long counts too;
 * - exactly one token fetch per token lifetime: the emulator (its own child process) issues short-lived tokens
 *   (16 s by default). Every token fetch is timed here (the client's `fetch` is wrapped) and counted at the emulator
 *   (its request log, over HTTP). Within each token's usable life (from its arrival to exp − margin) there must be
 *   exactly one fetch, its background refresh: none means the token lapsed first, two or more a duplicate fetch;
 * - no caller waits on a refresh: the client's `getAccessToken`, which createFetch calls, is wrapped to tell for
 *   each authorized request whether the token it got had already arrived when it asked; if not, it waited on that
 *   token's fetch. After the warm-up (whose first request fetches the first token) none may. And the p99 latency
 *   of authorized requests equals that of plain requests.
 *
 * Load: closed-loop workers (24 by default) on the global fetch, each sending the next GET as soon as it has read the
 * previous answer; the latency of every request is recorded (performance.now, from the call to the body read).
 * Slices of 0.5 s alternate strictly between the contenders, so drift on the machine falls on both alike and
 * authorized requests never pause longer than one slice: refresh-ahead is driven by requests (the first one past the
 * refresh point starts it), and a pause longer than the window between the refresh point and exp − margin would make
 * the next caller wait however good the cache. The plain contender's header is a token of a second emulator client
 * with a 1 h lifetime, so it stays valid throughout. The cache runs with refreshAhead 0.75 (its default) and an
 * expiry margin of 2 s, scaled to the 16 s tokens as the default 10 s is to Maskinporten's usual 120 s; so a token is
 * refreshed in the background 12 s into its life and would stop being served at 14 s.
 *
 * Targets: 0 errors; every observed token lifetime with exactly one fetch; no authorized request waiting on a token
 * fetch; p99 plain / p99 authorized ≥ 90%. The issue says "equal": on a two-core machine shared by the three
 * processes, p99 is set by CPU scheduling (several times p50), and the p99 of one contender's odd slices against
 * its even ones — reported as the noise figure — differs by a few percent, so "equal" is read as within 10%.
 *
 * Run alone: `npx node bench/load.ts`. Knobs (environment): BENCH_LOAD_SECONDS (40, the timed part),
 * BENCH_LOAD_CONCURRENCY (24), BENCH_LOAD_TOKEN_LIFETIME (16 s), BENCH_LOAD_SLICE_SECONDS (0.5),
 * BENCH_LOAD_EXPIRY_MARGIN_MS (2000), BENCH_LOAD_REFRESH_AHEAD (0.75), BENCH_LOAD_WARMUP_SECONDS (2),
 * BENCH_NODE_FLAGS (extra flags for the children). About 45 s; loopback only.
 */
import { fileURLToPath } from 'node:url';
import { MaskinportenClient } from '../src/client.ts';
import { createFetch } from '../src/http/index.ts';
import { generateRsaKeyPair } from '../src/keys/jwk.ts';
import type { AccessToken } from '../src/token.ts';
import { startServerChild } from './lib/child.ts';
import { BackgroundLoad } from './lib/cpu.ts';
import { envNumber } from './lib/env.ts';
import { type BenchReport, type Figure, formatReports, hasErrors, type Ratio } from './lib/report.ts';
import { median, quantileOfSorted } from './lib/stats.ts';

const SCOPE = 'bench:read';
/** Token waits at least this long (ms) that were no wait on a fetch are counted too, as scheduling noise. */
const SLOW_WAIT_MS = 1;

/** Epoch ms of a performance.now() reading. */
const epochOf = (perf: number): number => performance.timeOrigin + perf;

const ms = (value: number): string => (value >= 10 ? value.toFixed(1) : value.toFixed(2));

/** A growable array of doubles. */
class Samples {
  #data = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.length++] = value;
  }

  at(i: number): number {
    return this.#data[i]!;
  }

  sorted(): Float64Array {
    return this.#data.slice(0, this.length).sort();
  }
}

/** One contender: its requests' start times and latencies (timed slices only), errors and slice rates. */
class Contender {
  readonly name: string;
  readonly send: (url: string) => Promise<Response>;
  readonly starts = new Samples();
  readonly latencies = new Samples();
  /** Latencies per slice, to split the contender's slices in halves for the noise figure. */
  readonly sliceLatencies: Samples[] = [];
  ok = 0;
  errors = 0;
  firstError: string | undefined;
  readonly sliceRates: number[] = [];

  constructor(name: string, send: (url: string) => Promise<Response>) {
    this.name = name;
    this.send = send;
  }

  /** Runs `concurrency` closed-loop workers for `seconds`; records latencies only when `timed`. */
  async run(url: string, concurrency: number, seconds: number, timed: boolean): Promise<void> {
    let ok = 0;
    const slice = new Samples();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const res = await this.send(url);
          await res.arrayBuffer();
          const t1 = performance.now();
          if (res.status === 200) {
            ok++;
            if (timed) {
              this.starts.push(t0);
              this.latencies.push(t1 - t0);
              slice.push(t1 - t0);
            }
          } else {
            this.errors++;
            this.firstError ??= `HTTP ${res.status}`;
          }
        } catch (err) {
          this.errors++;
          this.firstError ??=
            err instanceof Error ? `${err.message}${err.cause ? ` (${String(err.cause)})` : ''}` : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (timed) {
      this.ok += ok;
      this.sliceRates.push((ok / (performance.now() - started)) * 1000);
      this.sliceLatencies.push(slice);
    }
  }
}

/** One token fetch of the short-lived client, as seen by its `fetch`: epoch ms, and the token's iat/exp. */
interface TokenFetch {
  start: number;
  end: number;
  /** Epoch ms from the token's claims; NaN when the answer held no token. */
  iat: number;
  exp: number;
  status: number;
}

function claimsOf(jwt: string): { iat?: number; exp?: number } {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      iat?: number;
      exp?: number;
    };
  } catch {
    return {};
  }
}

interface CreatedClientJson {
  clientId: string;
  settings: { authority: string; clientId: string; jwkBase64: string };
}

/** Registers a client at the emulator over its admin API (the emulator runs in another process). */
async function registerClient(emulatorUrl: string, body: Record<string, unknown>): Promise<CreatedClientJson> {
  const res = await fetch(`${emulatorUrl}/_emulator/clients`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201)
    throw new Error(`registering a client at the emulator: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedClientJson;
}

/** Token requests of one client in the emulator's log: epoch ms and status. */
async function emulatorTokenLog(emulatorUrl: string, clientId: string): Promise<{ time: number; status: number }[]> {
  const res = await fetch(`${emulatorUrl}/_emulator/log?endpoint=token`);
  const entries = (await res.json()) as { time: string; status: number; clientId?: string }[];
  return entries.filter((e) => e.clientId === clientId).map((e) => ({ time: Date.parse(e.time), status: e.status }));
}

/** Runs the load benchmark and returns its figures and ratios. */
export async function runLoadBenchmark(): Promise<BenchReport> {
  const seconds = envNumber('BENCH_LOAD_SECONDS', 40, 1, 600);
  const concurrency = envNumber('BENCH_LOAD_CONCURRENCY', 24, 1, 512);
  const lifetime = envNumber('BENCH_LOAD_TOKEN_LIFETIME', 16, 2, 3600);
  const sliceSeconds = envNumber('BENCH_LOAD_SLICE_SECONDS', 0.5, 0.1, 10);
  const marginMs = envNumber('BENCH_LOAD_EXPIRY_MARGIN_MS', 2000, 0, 600_000);
  const refreshAhead = envNumber('BENCH_LOAD_REFRESH_AHEAD', 0.75, 0.01, 1);
  const warmupSeconds = envNumber('BENCH_LOAD_WARMUP_SECONDS', 2, 0, 60);
  if (!Number.isInteger(lifetime)) throw new Error('BENCH_LOAD_TOKEN_LIFETIME must be whole seconds');

  // The emulator child registers a client of its own with this key; the benchmark registers its two below.
  const { publicJwk } = await generateRsaKeyPair();
  const emulator = await startServerChild<{ url: string }>(
    fileURLToPath(new URL('./emulator-server.ts', import.meta.url)),
    [JSON.stringify(publicJwk), SCOPE],
  );
  const api = await startServerChild<{ url: string }>(
    fileURLToPath(new URL('./http-adapter-server.ts', import.meta.url)),
    ['--check-exp'],
  ).catch(async (err: unknown) => {
    await emulator.stop();
    throw err;
  });
  const url = `${api.info.url}/things`;

  const tokenFetches: TokenFetch[] = [];
  /** When each fetched token's answer had been read (performance.now), by the token; a caller that asked before
   * then and got that token waited on its fetch (a cache hit gets a token that was stored before the call). */
  const fetchedAt = new Map<string, number>();
  /** Authorized requests (after the warm-up) that waited on a token fetch: call time and wait (perf ms). */
  const waited: { at: number; took: number }[] = [];
  /** Other token waits of ≥ SLOW_WAIT_MS (scheduling, GC). */
  let slowOther = 0;
  let timedFrom = Number.POSITIVE_INFINITY;
  let timedStart = 0;
  let timedEnd = 0;
  let background: string | undefined;
  let emulatorLog: { time: number; status: number }[] = [];
  let shortClientId = '';
  let plain: Contender;
  let authorized: Contender;
  try {
    const short = await registerClient(emulator.info.url, {
      scopes: [SCOPE],
      clientName: 'bench-load',
      accessTokenLifetime: lifetime,
    });
    const long = await registerClient(emulator.info.url, {
      scopes: [SCOPE],
      clientName: 'bench-load-plain',
      accessTokenLifetime: 3600,
    });
    shortClientId = short.clientId;

    // The client under test, its token fetches timed through its fetch.
    const tokenEndpoint = `${emulator.info.url}/token`;
    const client = new MaskinportenClient(short.settings, {
      cache: { refreshAhead, expiryMarginMs: marginMs },
      fetch: async (input, init) => {
        const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (href !== tokenEndpoint) return fetch(input, init);
        const start = Date.now();
        const res = await fetch(input, init);
        const body = await res.text();
        const end = Date.now();
        let claims: { iat?: number; exp?: number } = {};
        try {
          const value = (JSON.parse(body) as { access_token?: string }).access_token ?? '';
          fetchedAt.set(value, performance.now());
          claims = claimsOf(value);
        } catch {
          // not JSON: no token
        }
        tokenFetches.push({
          start,
          end,
          iat: typeof claims.iat === 'number' ? claims.iat * 1000 : Number.NaN,
          exp: typeof claims.exp === 'number' ? claims.exp * 1000 : Number.NaN,
          status: res.status,
        });
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      },
    });
    // Tells for each authorized request whether it waited on a token fetch (createFetch asks the client through
    // this method): it did when the token it got had not yet arrived when it asked.
    const getAccessToken = client.getAccessToken.bind(client);
    let lastToken: AccessToken | undefined;
    let lastFetchedAt = Number.NaN;
    client.getAccessToken = (request, options) => {
      const at = performance.now();
      return getAccessToken(request, options).then((token: AccessToken) => {
        if (token !== lastToken) {
          lastToken = token;
          lastFetchedAt = fetchedAt.get(token.value) ?? Number.NaN;
        }
        if (at >= timedFrom) {
          const took = performance.now() - at;
          if (at < lastFetchedAt) waited.push({ at, took });
          else if (took >= SLOW_WAIT_MS) slowOther++;
        }
        return token;
      });
    };
    const authorizedFetch = createFetch(client, { scopes: [SCOPE] });

    // Plain fetch sends a token of the long-lived client: valid for the whole run.
    const plainClient = new MaskinportenClient(long.settings);
    const headers = { authorization: (await plainClient.getAccessToken([SCOPE])).authorizationHeader };

    plain = new Contender('load: plain fetch, fixed header', (u) => fetch(u, { headers }));
    authorized = new Contender('load: authorized fetch (createFetch)', (u) => authorizedFetch(u));
    const pair = [plain, authorized];

    // Warm-up: connections, JIT, and the short-lived client's first token (the one fetch a caller waits on).
    const warmupSlices = Math.max(1, Math.round(warmupSeconds / sliceSeconds / 2));
    for (let i = 0; i < warmupSlices && warmupSeconds > 0; i++) {
      for (const c of pair) await c.run(url, concurrency, sliceSeconds, false);
    }
    if (warmupSeconds === 0) await client.getAccessToken([SCOPE]);

    const load = new BackgroundLoad([api.pid, emulator.pid].filter((p): p is number => p !== undefined));
    timedFrom = performance.now();
    timedStart = epochOf(timedFrom);
    // Strictly alternating, so authorized requests never pause for longer than one slice: refresh-ahead is driven
    // by requests (the first one past the refresh point starts it), and a pause longer than the window between the
    // refresh point and exp − margin would make the next caller wait, which is no fault of the adapter.
    const pairs = Math.max(1, Math.round(seconds / sliceSeconds / 2));
    for (let i = 0; i < pairs; i++) for (const c of pair) await c.run(url, concurrency, sliceSeconds, true);
    timedEnd = Date.now();
    background = load.describe();
    emulatorLog = await emulatorTokenLog(emulator.info.url, shortClientId);
  } finally {
    await api.stop();
    await emulator.stop();
  }

  // ---- latency ---------------------------------------------------------------------------------------------
  const plainSorted = plain.latencies.sorted();
  const authSorted = authorized.latencies.sorted();
  const p99Plain = quantileOfSorted(plainSorted, 0.99);
  const p99Auth = quantileOfSorted(authSorted, 0.99);
  const latencyNote = (sorted: Float64Array) =>
    `p50 ${ms(quantileOfSorted(sorted, 0.5))} ms, p99 ${ms(quantileOfSorted(sorted, 0.99))} ms, p99.9 ${ms(quantileOfSorted(sorted, 0.999))} ms, max ${ms(sorted[sorted.length - 1] ?? Number.NaN)} ms`;
  // Noise: p99 of plain's odd slices against its even slices (the same contender, so ideally 100%).
  const halves = [new Samples(), new Samples()];
  plain.sliceLatencies.forEach((s, i) => {
    for (let j = 0; j < s.length; j++) halves[i % 2]!.push(s.at(j));
  });
  const [h0, h1] = halves.map((h) => quantileOfSorted(h.sorted(), 0.99)) as [number, number];
  const noise = Math.min(h0, h1) / Math.max(h0, h1);

  // ---- token fetches ---------------------------------------------------------------------------------------
  // The refresh interval the cache aims for: refreshAhead of the token's life, or of its usable life (up to
  // exp − margin) when the margin leaves no room for the former.
  const lifeMs = lifetime * 1000;
  const cycleMs =
    refreshAhead * lifeMs < lifeMs - marginMs ? refreshAhead * lifeMs : refreshAhead * (lifeMs - marginMs);
  const fetchesTimed = tokenFetches.filter((f) => f.start >= timedStart && f.start <= timedEnd);
  const emulatorTimed = emulatorLog.filter((e) => e.time >= timedStart - 5 && e.time <= timedEnd + 5);
  const failedFetches = tokenFetches.filter((f) => f.status !== 200);
  // Each token's usable life after it arrived: (end, exp − margin]. Exactly one fetch (its refresh) must start in it.
  let lifetimesObserved = 0;
  let lifetimesWithOneFetch = 0;
  let mostFetchesInOneLifetime = 0;
  const lifetimeCounts: number[] = [];
  for (const f of tokenFetches) {
    if (Number.isNaN(f.exp)) continue;
    const usableUntil = f.exp - marginMs;
    const within = tokenFetches.filter((g) => g !== f && g.start > f.end && g.start <= usableUntil).length;
    mostFetchesInOneLifetime = Math.max(mostFetchesInOneLifetime, within);
    if (usableUntil <= timedEnd) {
      lifetimesObserved++;
      lifetimeCounts.push(within);
      if (within === 1) lifetimesWithOneFetch++;
    }
  }
  const gaps = tokenFetches.slice(1).map((f, i) => (f.start - tokenFetches[i]!.start) / 1000);

  // ---- waits on a token fetch ------------------------------------------------------------------------------
  const fetchWindows = tokenFetches.map((f) => [f.start - 1, f.end + 1] as const);
  const overlapsFetch = (start: number, end: number) => fetchWindows.some(([s, e]) => start <= e && end >= s);
  // Authorized requests in flight while a token fetch ran (after the warm-up), and the slowest of them.
  let duringFetch = 0;
  let duringFetchMax = 0;
  for (let i = 0; i < authorized.starts.length; i++) {
    const start = epochOf(authorized.starts.at(i));
    const latency = authorized.latencies.at(i);
    if (overlapsFetch(start, start + latency)) {
      duringFetch++;
      duringFetchMax = Math.max(duringFetchMax, latency);
    }
  }

  // ---- report ----------------------------------------------------------------------------------------------
  const timedSeconds = (timedEnd - timedStart) / 1000;
  const figures: Figure[] = [plain, authorized].map((c) => ({
    name: c.name,
    tokensPerSecond: median(c.sliceRates),
    range: [Math.min(...c.sliceRates), Math.max(...c.sliceRates)] as [number, number],
    count: c.ok,
    errors: c.errors,
    note: `requests/s; ${latencyNote(c === plain ? plainSorted : authSorted)}`,
  }));
  figures[1]!.note += `; ${fetchesTimed.length} token fetches in the timed ${timedSeconds.toFixed(0)} s`;

  const totalRequests = plain.ok + plain.errors + authorized.ok + authorized.errors;
  const totalErrors = plain.errors + authorized.errors;
  const waitedFraction = authorized.ok ? 1 - waited.length / (authorized.ok + authorized.errors) : Number.NaN;
  const ratios: Ratio[] = [
    { name: 'load: p99 plain / p99 authorized', value: p99Plain / p99Auth, target: 0.9, style: 'percent' },
    {
      name: `load: requests without error (${totalErrors} of ${totalRequests} failed)`,
      value: totalRequests ? 1 - totalErrors / totalRequests : Number.NaN,
      target: 1,
      style: 'percent',
    },
    {
      name: `load: token lifetimes with exactly one fetch (${lifetimesWithOneFetch} of ${lifetimesObserved})`,
      value: lifetimesObserved ? lifetimesWithOneFetch / lifetimesObserved : Number.NaN,
      target: 1,
      style: 'percent',
    },
    {
      name: `load: authorized requests not waiting on a token fetch (${waited.length} waited)`,
      value: waitedFraction,
      target: 1,
      style: 'percent',
    },
  ];

  const conditions = [
    `token fetches of the short-lived client: ${fetchesTimed.length} in the timed ${timedSeconds.toFixed(1)} s at the client, ${emulatorTimed.length} at the emulator (${emulatorLog.length} in all, warm-up included); expected ≈ ${(timedSeconds / (cycleMs / 1000)).toFixed(1)} (one per refresh interval of ${(cycleMs / 1000).toFixed(1)} s, less up to 1 s as iat is whole seconds; a token lives ${lifetime} s, usable ${(lifetime - marginMs / 1000).toFixed(1)} s); gaps between fetches ${gaps.map((g) => g.toFixed(1)).join(', ')} s`,
    `fetches within each token's usable life after it arrived: ${lifetimeCounts.join(', ') || 'none observed'} (most in any one life, the last one included: ${mostFetchesInOneLifetime}); failed token fetches: ${failedFetches.length}`,
    `token waits of authorized requests: ${waited.length} on a token fetch${waited.length ? ` (longest ${ms(Math.max(...waited.map((w) => w.took)))} ms)` : ''}, ${slowOther} other waits of ≥ ${SLOW_WAIT_MS} ms (scheduling, GC); ${duringFetch} authorized requests were in flight during a token fetch, the slowest took ${ms(duringFetchMax)} ms (plain p99 ${ms(p99Plain)} ms)`,
    `noise: p99 of plain's odd slices vs its even slices ${(noise * 100).toFixed(1)}% (${ms(h0)} vs ${ms(h1)} ms)`,
  ];
  if (refreshAhead === 1) {
    conditions.push('refreshAhead 1: refresh-ahead is off, so callers wait on every new token');
  } else if (marginMs >= (1 - refreshAhead) * lifetime * 1000) {
    conditions.push(
      `expiry margin ${marginMs} ms ≥ (1 − refreshAhead) × lifetime: the cache refreshes at ${refreshAhead} of the usable life (exp − margin), so a token is replaced every ${(cycleMs / 1000).toFixed(1)} s of its ${lifetime} s`,
    );
  }
  if (background !== undefined) conditions.push(background);

  const problems: string[] = [];
  for (const c of [plain, authorized]) {
    if (c.firstError) problems.push(`${c.name}: ${c.errors} failed request(s), first: ${c.firstError}`);
  }
  if (failedFetches.length) problems.push(`load: ${failedFetches.length} token fetch(es) failed`);
  return {
    title: 'load',
    setup: `local API in its own process (401 for a missing or expired token), emulator in another, the global fetch from this one; ${concurrency} concurrent closed-loop workers; after ${warmupSeconds} s of warm-up, ${timedSeconds.toFixed(0)} s of strictly alternating ${sliceSeconds} s slices per contender; tokens of ${lifetime} s, cache refreshAhead ${refreshAhead}, expiryMarginMs ${marginMs}; figures are requests/s (the tokens/s column; median and range over the slices) with every request's latency in the note`,
    conditions,
    figures,
    ratios,
    problems,
  };
}

if (import.meta.main) {
  const report = await runLoadBenchmark();
  console.log(formatReports([report]));
  process.exitCode = hasErrors([report]) ? 1 : 0;
}
