/**
 * HTTP adapter benchmark: requests per second of the authorized fetch (`createFetch`, token cached) next to plain
 * `fetch` with a fixed `Authorization` header, against the same local API in a child process (so the API has a core
 * of its own while this process drives the load). The token comes from an emulator started for the run, in this
 * process; it is fetched once while warming up and then served from the client's cache. Target: the authorized
 * fetch at least 97% of plain fetch's requests/s.
 *
 * All contenders use the global fetch (the same undici connection pool) with the same number of concurrent
 * closed-loop workers, each sending the next GET as soon as it has read the previous answer. Short timed rounds of
 * the contenders alternate (A B C, C B A, …) so drift on the machine falls on all alike; each figure is the median
 * of its rounds' rates, and the ratio is the median of the per-round ratios (each round's contenders ran back to
 * back). CPU time per request of this process (its JavaScript thread, and all its threads) is shown too: on a shared
 * machine it is steadier than requests/s. A third contender, plain fetch with the fixed header in one reused
 * `Headers` object, is there for reference: it is the form createFetch hands to fetch for a request without headers
 * of its own. Loopback only; about 20 s.
 *
 * Run alone: `npx node bench/http-adapter.ts`. Knobs (environment): BENCH_HTTP_CONCURRENCY (32), BENCH_HTTP_ROUNDS
 * (16), BENCH_HTTP_ROUND_SECONDS (0.3), BENCH_NODE_FLAGS (extra flags for the API child).
 */
import { fileURLToPath } from 'node:url';
import { MaskinportenClient } from '../src/client.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createFetch } from '../src/http/index.ts';
import { startServerChild } from './lib/child.ts';
import { BackgroundLoad, threadCpuUsage } from './lib/cpu.ts';
import { envNumber } from './lib/env.ts';
import { type BenchReport, type Figure, formatReports, hasErrors } from './lib/report.ts';
import { median, range } from './lib/stats.ts';

const SCOPE = 'bench:read';

type Send = (url: string) => Promise<Response>;

/** One contender and what has been measured of it. */
class Contender {
  readonly name: string;
  readonly send: Send;
  ok = 0;
  errors = 0;
  firstError: string | undefined;
  readonly roundRates: number[] = [];
  /** CPU microseconds used in the timed rounds: this process's JavaScript thread, and all its threads. */
  cpuMain = 0;
  cpuAll = 0;

  constructor(name: string, send: Send) {
    this.name = name;
    this.send = send;
  }

  /** Runs `concurrency` closed-loop workers for `seconds`; counts toward the figures only when `timed`. */
  async run(url: string, concurrency: number, seconds: number, timed: boolean): Promise<void> {
    let ok = 0;
    const cpuMain = threadCpuUsage();
    const cpuAll = process.cpuUsage();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        try {
          const res = await this.send(url);
          await res.arrayBuffer();
          if (res.status === 200) ok++;
          else {
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
    const elapsed = performance.now() - started;
    if (timed) {
      const main = threadCpuUsage(cpuMain);
      const all = process.cpuUsage(cpuAll);
      this.cpuMain += main.user + main.system;
      this.cpuAll += all.user + all.system;
      this.ok += ok;
      this.roundRates.push((ok / elapsed) * 1000);
    }
  }

  /** CPU µs per successful request in the timed rounds. */
  get cpuUs(): { main: number; all: number } | undefined {
    return this.ok ? { main: this.cpuMain / this.ok, all: this.cpuAll / this.ok } : undefined;
  }

  get requestsPerSecond(): number {
    return this.roundRates.length ? median(this.roundRates) : 0;
  }
}

/** Runs the HTTP adapter benchmark and returns its figures and ratio. */
export async function runHttpAdapterBenchmark(): Promise<BenchReport> {
  const concurrency = envNumber('BENCH_HTTP_CONCURRENCY', 32, 1, 512);
  const rounds = envNumber('BENCH_HTTP_ROUNDS', 16, 1, 30);
  const roundSeconds = envNumber('BENCH_HTTP_ROUND_SECONDS', 0.3, 0.1, 3);

  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, signingKeySize: 2048 });
  const api = await startServerChild<{ url: string }>(
    fileURLToPath(new URL('./http-adapter-server.ts', import.meta.url)),
  ).catch(async (err: unknown) => {
    await emulator.close();
    throw err;
  });
  const url = `${api.info.url}/things`;
  let background: string | undefined;
  let tokenFetchesDuringRounds = 0;
  let authorized: Contender;
  let plain: Contender;
  let plainHeaders: Contender;
  try {
    const created = await emulator.createClient({ scopes: [SCOPE], clientName: 'bench-http' });
    const client = new MaskinportenClient(created.settings);
    const authorizedFetch = createFetch(client, { scopes: [SCOPE] });
    // Warm the token cache; plain fetch sends the same token as a fixed header.
    const token = await client.getAccessToken([SCOPE]);
    const headers = { authorization: token.authorizationHeader };
    const headersObject = new Headers(headers);
    authorized = new Contender('authorized fetch (createFetch)', (u) => authorizedFetch(u));
    plain = new Contender('plain fetch, fixed header', (u) => fetch(u, { headers }));
    // For reference: the same fixed header in one reused Headers object, the form createFetch hands to fetch for
    // requests without headers of their own (fetch then skips converting the ~1 KB value per request).
    plainHeaders = new Contender('plain fetch, fixed Headers object', (u) => fetch(u, { headers: headersObject }));
    const contenders = [plain, authorized, plainHeaders];

    // Warm-up: connections, JIT.
    for (let i = 0; i < 2; i++) for (const c of contenders) await c.run(url, concurrency, 0.3, false);
    const tokensBefore = emulator.requests.entries({ endpoint: 'token' }).length;
    const load = new BackgroundLoad(api.pid === undefined ? [] : [api.pid]);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) await c.run(url, concurrency, roundSeconds, true);
    }
    background = load.describe();
    tokenFetchesDuringRounds = emulator.requests.entries({ endpoint: 'token' }).length - tokensBefore;
  } finally {
    await api.stop();
    await emulator.close();
  }

  const figures: Figure[] = [
    {
      name: authorized.name,
      tokensPerSecond: authorized.requestsPerSecond,
      range: range(authorized.roundRates),
      count: authorized.ok,
      errors: authorized.errors,
      ...(authorized.cpuUs ? { cpuUs: authorized.cpuUs } : {}),
      note: `requests/s; GET, the token from the client's cache (${tokenFetchesDuringRounds} token fetches during the rounds)`,
    },
    {
      name: plain.name,
      tokensPerSecond: plain.requestsPerSecond,
      range: range(plain.roundRates),
      count: plain.ok,
      errors: plain.errors,
      ...(plain.cpuUs ? { cpuUs: plain.cpuUs } : {}),
      note: 'requests/s; GET with a constant Authorization header (a record, the usual form)',
    },
    {
      name: plainHeaders.name,
      tokensPerSecond: plainHeaders.requestsPerSecond,
      range: range(plainHeaders.roundRates),
      count: plainHeaders.ok,
      errors: plainHeaders.errors,
      ...(plainHeaders.cpuUs ? { cpuUs: plainHeaders.cpuUs } : {}),
      note: 'requests/s; for reference: the same header in one reused Headers object, as createFetch passes it',
    },
  ];
  const problems: string[] = [];
  for (const c of [authorized, plain, plainHeaders]) {
    if (c.firstError) problems.push(`${c.name}: ${c.errors} failed request(s), first: ${c.firstError}`);
  }
  return {
    title: 'http-adapter',
    setup: `local API in its own process (200 only with a bearer token), the global fetch from this one, ${concurrency} concurrent closed-loop workers; after warm-up, ${rounds} alternating rounds of ${roundSeconds} s per contender; figures are requests/s (the tokens/s column) and CPU µs per request of this process, medians over the rounds; the ratio is the median of the per-round ratios`,
    conditions: background === undefined ? [] : [background],
    figures,
    ratios: [
      {
        name: 'authorized fetch / plain fetch',
        value: median(authorized.roundRates.map((x, i) => x / plain.roundRates[i]!)),
        target: 0.97,
        style: 'percent',
      },
    ],
    problems,
  };
}

if (import.meta.main) {
  const report = await runHttpAdapterBenchmark();
  console.log(formatReports([report]));
  process.exitCode = hasErrors([report]) ? 1 : 0;
}
