/**
 * Emulator benchmark: tokens per second of the emulator's POST /token (jwt-bearer grants, RS256, RSA-2048 client
 * key) next to `oidc-provider` doing client_credentials with private_key_jwt (same key sizes, JWT access tokens)
 * and next to two crypto bounds — one RSA-2048 RS256 sign plus one verify per token, measured in this process in
 * the same run: on one thread (the synchronous calls), and split as the emulator splits them (the verify
 * synchronous on the event loop, the sign through the callback form on the thread pool, with as many tokens in
 * flight as the servers get connections), which is the bound for a server that, like the emulator, signs off its
 * event loop.
 *
 * Last measured (2-core machine, Node 24, RSA-2048; the README's "What the emulator's time per token buys" breaks
 * down the emulator's CPU per token): four quiet runs (other processes 0.01–0.02 cores during the timed rounds) gave
 * 2.17×, 2.16×, 1.97× and 1.87× oidc-provider's tokens/s (median 2.06×; e.g. 3,061 vs 1,550 tokens/s, 520 vs 993 µs
 * of CPU per token), the emulator at 89–102% of the one-thread crypto bound and 58–63% of the thread-pool bound;
 * three runs with 0.5–1.2 cores of other work gave 1.66×, 1.72× and 1.81×. The 58–63% is of the thread-pool bound as
 * it then stood (sign and verify both on the pool, 5,103 tokens/s). With the bound splitting the work as the emulator
 * does, one run (load average 2.2 at its start, other processes 0.83 cores during the timed rounds) gave the bound
 * 3,561 tokens/s (42 µs JavaScript thread, 327 µs all threads per token) and the emulator 2,350 tokens/s: 66% of it,
 * 83% of the one-thread bound, 2.23× oidc-provider's 948.
 *
 * Each server runs in a child process of its own; this process signs every grant before the timed batches and
 * then drives the server over keep-alive connections at a fixed concurrency. Grants are signed in rounds just
 * before each timed batch, so none is more than a few seconds old when it arrives (the emulator allows iat ±10 s).
 * The rounds of the four contenders are interleaved and each figure is the median over its rounds, so a burst of
 * other work on the machine skews one round rather than one contender.
 *
 * Run alone: `npx node bench/emulator.ts`; with every benchmark: `npx node bench/run.ts`.
 * Knobs (environment): BENCH_CONCURRENCY (16), BENCH_ROUNDS (5), BENCH_ROUND_SECONDS (1.5),
 * BENCH_NODE_FLAGS (extra flags for the server children, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */

import { sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServerChild } from './lib/child.ts';
import { BackgroundLoad, MICROSECONDS_PER_TICK, processTicks, threadCpuUsage } from './lib/cpu.ts';
import { envNumber } from './lib/env.ts';
import { type BenchKeyPair, jti, rsaKeyPair, signRs256 } from './lib/jwt.ts';
import { LoadClient } from './lib/load.ts';
import { type BenchReport, type Figure, formatReports, hasErrors } from './lib/report.ts';
import { median, range } from './lib/stats.ts';

const SCOPE = 'bench:read';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface ServerInfo {
  url: string;
  issuer: string;
  tokenEndpoint: string;
  clientId: string;
}

interface Contender {
  name: string;
  script: string;
  /** One ready-to-post form body with a freshly signed, never used grant or client assertion. */
  body(server: ServerInfo, key: BenchKeyPair, nowSeconds: number): string;
}

const emulator: Contender = {
  name: 'maskinporten emulator',
  script: fileURLToPath(new URL('./emulator-server.ts', import.meta.url)),
  body: (server, key, now) =>
    new URLSearchParams({
      grant_type: JWT_BEARER,
      assertion: signRs256(
        { aud: server.issuer, iss: server.clientId, scope: SCOPE, iat: now, exp: now + 120, jti: jti() },
        key,
      ),
    }).toString(),
};

const oidcProvider: Contender = {
  name: `oidc-provider ${oidcProviderVersion()}`,
  script: fileURLToPath(new URL('./oidc-provider-server.ts', import.meta.url)),
  body: (server, key, now) =>
    new URLSearchParams({
      grant_type: 'client_credentials',
      scope: SCOPE,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: signRs256(
        { iss: server.clientId, sub: server.clientId, aud: server.issuer, iat: now, exp: now + 60, jti: jti() },
        key,
      ),
    }).toString(),
};

function oidcProviderVersion(): string {
  try {
    const entry = fileURLToPath(import.meta.resolve('oidc-provider'));
    const pkg = JSON.parse(readFileSync(new URL('../package.json', `file://${entry}`), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '(version unknown)';
  }
}

/** "jwt (RS256, typ at+jwt)" or "opaque", from a token response body. */
function tokenFormat(sample: string | undefined): string {
  if (!sample) return 'unknown';
  const token = (JSON.parse(sample) as { access_token?: unknown }).access_token;
  if (typeof token !== 'string') return 'unknown';
  const parts = token.split('.');
  if (parts.length !== 3) return 'opaque';
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string; typ?: string };
  return `jwt (${header.alg}${header.typ ? `, typ ${header.typ}` : ''})`;
}

interface Plan {
  concurrency: number;
  rounds: number;
  roundSeconds: number;
}

/**
 * What one token costs in crypto, as the bounds replay it: a client's signed grant to verify (its signing input and
 * signature) and a token-sized signing input (~500 bytes, like the emulator's access token) for the server's key.
 */
function cryptoWork() {
  const server = rsaKeyPair(2048);
  const client = rsaKeyPair(2048);
  const now = Math.floor(Date.now() / 1000);
  const grant = signRs256(
    { aud: 'http://127.0.0.1/', iss: 'c', scope: SCOPE, iat: now, exp: now + 120, jti: jti() },
    client,
  );
  const [h, p, s] = grant.split('.') as [string, string, string];
  return {
    server,
    client,
    grantInput: Buffer.from(`${h}.${p}`),
    grantSignature: Buffer.from(s, 'base64url'),
    tokenInput: Buffer.from(`${'x'.repeat(80)}.${'y'.repeat(420)}`),
  };
}

/** A running contender and what has been measured of it so far. */
class Session {
  readonly contender: Contender;
  readonly server: ServerInfo;
  readonly #load: LoadClient;
  readonly #key: BenchKeyPair;
  /** Estimated tokens/s, for sizing the next batch. */
  rate = 0;
  ok = 0;
  errors = 0;
  firstError: string | undefined;
  sample: string | undefined;
  readonly roundRates: number[] = [];
  readonly #pid: number | undefined;
  /** Server CPU ticks over the timed rounds: the whole process, and its main (JavaScript) thread. */
  #ticks: { process: number; main: number } | undefined = { process: 0, main: 0 };
  /** This process's CPU over the timed rounds: the load generator's cost. */
  #clientMicros = 0;

  constructor(
    contender: Contender,
    server: ServerInfo,
    pid: number | undefined,
    key: BenchKeyPair,
    concurrency: number,
  ) {
    this.contender = contender;
    this.server = server;
    this.#pid = pid;
    this.#key = key;
    this.#load = new LoadClient(server.tokenEndpoint, concurrency);
  }

  #readTicks(): { process: number; main: number } | undefined {
    const all = processTicks(this.#pid);
    const main = processTicks(this.#pid, true);
    return all === undefined || main === undefined ? undefined : { process: all, main };
  }

  /** Server CPU microseconds per token over the timed rounds (JavaScript thread, all threads), where /proc tells. */
  get cpuUs(): { main: number; all: number } | undefined {
    if (!this.#ticks || this.ok === 0) return undefined;
    const us = (ticks: number) => (ticks * MICROSECONDS_PER_TICK) / this.ok;
    return { main: us(this.#ticks.main), all: us(this.#ticks.process) };
  }

  /** CPU microseconds this process (the load generator) spent per token in the timed rounds. */
  get clientUs(): number {
    return this.ok ? this.#clientMicros / this.ok : 0;
  }

  /** Signs `n` fresh grants, then posts them all; counts toward the figures only when `timed`. */
  async batch(n: number, timed: boolean): Promise<void> {
    const bodies: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      bodies[i] = this.contender.body(this.server, this.#key, Math.floor(Date.now() / 1000));
      // Signing takes a while; keep the event loop turning so idle keep-alive sockets expire on time.
      if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    }
    const before = timed ? this.#readTicks() : undefined;
    const r = await this.#load.run(bodies);
    if (timed) {
      this.#clientMicros += r.cpuMicros;
      const after = this.#readTicks();
      if (this.#ticks && before && after) {
        this.#ticks.process += after.process - before.process;
        this.#ticks.main += after.main - before.main;
      } else {
        this.#ticks = undefined;
      }
    }
    this.errors += r.errors;
    this.firstError ??= r.firstError;
    this.sample ??= r.sample;
    const rate = (r.ok / r.elapsedMs) * 1000;
    if (r.ok > 0) this.rate = rate;
    if (timed) {
      this.ok += r.ok;
      this.roundRates.push(rate);
    }
  }

  /** One timed batch of about `seconds` at the last estimated rate. */
  round(seconds: number): Promise<void> {
    return this.batch(Math.max(100, Math.min(20_000, Math.round((this.rate || 200) * seconds))), true);
  }

  /** The median of the timed rounds' rates. */
  get tokensPerSecond(): number {
    return this.roundRates.length ? median(this.roundRates) : 0;
  }

  close(): void {
    this.#load.close();
  }
}

/** The crypto bound: one RS256 sign (server key) + one RS256 verify (client key) per token, in this process. */
class CryptoBound {
  readonly #once: () => void;
  readonly signUs: number;
  readonly verifyUs: number;
  count = 0;
  #cpuMicros = 0;
  readonly roundRates: number[] = [];

  constructor() {
    const { server, client, grantInput, grantSignature, tokenInput } = cryptoWork();
    const doSign = () => sign('sha256', tokenInput, server.privateKey);
    const doVerify = () => {
      if (!verify('sha256', grantInput, client.publicKey, grantSignature))
        throw new Error('crypto bound: verify failed');
    };
    this.#once = () => {
      doVerify();
      doSign();
    };
    for (let i = 0; i < 100; i++) this.#once();
    const timeOf = (fn: () => void, n: number) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      return ((performance.now() - t0) * 1000) / n;
    };
    this.signUs = timeOf(doSign, 200);
    this.verifyUs = timeOf(doVerify, 1000);
  }

  /** Runs sign + verify for about `seconds`. */
  round(seconds: number): void {
    let count = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    while (performance.now() < deadline) {
      for (let i = 0; i < 25; i++) this.#once();
      count += 25;
    }
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu);
    this.#cpuMicros += used.user + used.system;
    this.count += count;
    this.roundRates.push((count / elapsed) * 1000);
  }

  /** The median of the rounds' rates. */
  get tokensPerSecond(): number {
    return median(this.roundRates);
  }

  /** CPU microseconds per sign + verify. */
  get cpuUs(): number {
    return this.#cpuMicros / this.count;
  }
}

/**
 * The crypto bound on the thread pool: the same verify + sign per token as {@link CryptoBound}, split as the
 * emulator splits them — the client's grant verified with the synchronous `crypto.verify` on the event loop, the
 * token signed through the callback form of `crypto.sign` on libuv's thread pool — with as many tokens in flight as
 * the servers get connections. This is the bound for a server that signs off its event loop, as the emulator does:
 * both cores compute, and every sign pays a hand-off to a pool thread and back.
 */
class ThreadPoolCryptoBound {
  readonly #once: () => Promise<void>;
  readonly #concurrency: number;
  count = 0;
  #cpuMicros = 0;
  #mainMicros = 0;
  readonly roundRates: number[] = [];

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
    const { server, client, grantInput, grantSignature, tokenInput } = cryptoWork();
    this.#once = () => {
      if (!verify('sha256', grantInput, client.publicKey, grantSignature))
        return Promise.reject(new Error('crypto bound, threadpool: verify failed'));
      return new Promise<void>((resolve, reject) => {
        sign('sha256', tokenInput, server.privateKey, (err) => (err ? reject(err) : resolve()));
      });
    };
  }

  /** Runs verify + sign for about `seconds`, `concurrency` tokens at a time; returns how many tokens. */
  async #run(seconds: number): Promise<number> {
    let count = 0;
    const deadline = performance.now() + seconds * 1000;
    const lane = async () => {
      while (performance.now() < deadline) {
        await this.#once();
        count++;
      }
    };
    await Promise.all(Array.from({ length: this.#concurrency }, lane));
    return count;
  }

  /** Starts the pool's threads and warms the code paths; counts toward nothing. */
  async warmUp(): Promise<void> {
    await this.#run(0.2);
  }

  /** One timed round of about `seconds`. */
  async round(seconds: number): Promise<void> {
    const cpu = process.cpuUsage();
    const main = threadCpuUsage();
    const started = performance.now();
    const count = await this.#run(seconds);
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu);
    this.#cpuMicros += used.user + used.system;
    const usedMain = threadCpuUsage(main);
    this.#mainMicros += usedMain.user + usedMain.system;
    this.count += count;
    this.roundRates.push((count / elapsed) * 1000);
  }

  /** The median of the rounds' rates. */
  get tokensPerSecond(): number {
    return median(this.roundRates);
  }

  /** CPU microseconds per verify + sign: on the JavaScript thread (the verify and the hand-offs), and in every thread. */
  get cpuUs(): { main: number; all: number } {
    return { main: this.#mainMicros / this.count, all: this.#cpuMicros / this.count };
  }
}

/** The median over rounds of a[i] / b[i]: each round's contenders ran back to back, so their ratio is the steadiest. */
function medianRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

/** Runs the emulator benchmark and returns its figures and ratios. */
export async function runEmulatorBenchmark(): Promise<BenchReport> {
  const plan: Plan = {
    concurrency: envNumber('BENCH_CONCURRENCY', 16, 1, 256),
    rounds: envNumber('BENCH_ROUNDS', 5, 1, 11),
    roundSeconds: envNumber('BENCH_ROUND_SECONDS', 1.5, 0.2, 5),
  };
  const key = rsaKeyPair(2048);
  const crypto = new CryptoBound();
  const pooled = new ThreadPoolCryptoBound(plan.concurrency);
  await pooled.warmUp();
  const children = await Promise.all(
    [emulator, oidcProvider].map((c) => startServerChild<ServerInfo>(c.script, [JSON.stringify(key.publicJwk), SCOPE])),
  );
  const [emu, oidc] = [emulator, oidcProvider].map(
    (c, i) => new Session(c, children[i]!.info, children[i]!.pid, key, plan.concurrency),
  ) as [Session, Session];
  let background: string | undefined;
  try {
    // Warm-up: two short batches each, which also estimate the rates that size the timed batches.
    for (const n of [150, 400]) for (const s of [emu, oidc]) await s.batch(n, false);
    // Timed rounds, interleaved so that anything else the machine does falls on every contender alike.
    const load = new BackgroundLoad(children.flatMap((c) => (c.pid === undefined ? [] : [c.pid])));
    for (let round = 0; round < plan.rounds; round++) {
      crypto.round(plan.roundSeconds / 2);
      await pooled.round(plan.roundSeconds / 2);
      await emu.round(plan.roundSeconds);
      await oidc.round(plan.roundSeconds);
    }
    background = load.describe();
  } finally {
    for (const s of [emu, oidc]) s.close();
    await Promise.all(children.map((c) => c.stop()));
  }

  const figures: Figure[] = [
    {
      name: emulator.name,
      tokensPerSecond: emu.tokensPerSecond,
      range: range(emu.roundRates),
      count: emu.ok,
      errors: emu.errors,
      ...(emu.cpuUs ? { cpuUs: emu.cpuUs } : {}),
      note: `POST /token: jwt-bearer grant RS256 (RSA-2048 client key) → access token ${tokenFormat(emu.sample)}, RSA-2048`,
    },
    {
      name: oidcProvider.name,
      tokensPerSecond: oidc.tokensPerSecond,
      range: range(oidc.roundRates),
      count: oidc.ok,
      errors: oidc.errors,
      ...(oidc.cpuUs ? { cpuUs: oidc.cpuUs } : {}),
      note: `client_credentials, private_key_jwt RS256 (RSA-2048 client key) → access token ${tokenFormat(oidc.sample)}, RSA-2048`,
    },
    {
      name: 'crypto bound',
      tokensPerSecond: crypto.tokensPerSecond,
      range: range(crypto.roundRates),
      count: crypto.count,
      cpuUs: { main: crypto.cpuUs, all: crypto.cpuUs },
      note: `1 RS256 sign + 1 verify per token, RSA-2048, node:crypto in this process, one thread (sign ${crypto.signUs.toFixed(0)} µs, verify ${crypto.verifyUs.toFixed(0)} µs)`,
    },
    {
      name: 'crypto bound, threadpool',
      tokensPerSecond: pooled.tokensPerSecond,
      range: range(pooled.roundRates),
      count: pooled.count,
      cpuUs: pooled.cpuUs,
      note: `the same verify + sign split as the emulator splits them: verify synchronous on the event loop, sign through the callback (thread pool) form of node:crypto; ${plan.concurrency} tokens in flight, in this process`,
    },
  ];
  const problems: string[] = [];
  for (const s of [emu, oidc]) {
    if (s.firstError) problems.push(`${s.contender.name}: ${s.errors} failed request(s), first: ${s.firstError}`);
  }
  return {
    title: 'emulator',
    setup: `each server in its own process, ${plan.concurrency} keep-alive connections from this one; after warm-up, ${plan.rounds} interleaved rounds of ~${plan.roundSeconds} s per server (grants signed just before each, unique jti) and ${plan.roundSeconds / 2} s of crypto bound; tokens/s and ratios are medians over the rounds`,
    conditions: [
      ...(background === undefined ? [] : [background]),
      `load generator (this process) CPU per request: ${emu.clientUs.toFixed(0)} µs against the emulator, ${oidc.clientUs.toFixed(0)} µs against oidc-provider`,
    ],
    figures,
    ratios: [
      {
        name: 'emulator / oidc-provider',
        value: medianRatio(emu.roundRates, oidc.roundRates),
        target: 2,
        style: 'times',
      },
      {
        name: 'emulator / crypto bound',
        value: medianRatio(emu.roundRates, crypto.roundRates),
        target: 0.7,
        style: 'percent',
      },
      {
        name: 'emulator / crypto bound, threadpool',
        value: medianRatio(emu.roundRates, pooled.roundRates),
        target: 0.7,
        style: 'percent',
      },
    ],
    problems,
  };
}

if (import.meta.main) {
  const report = await runEmulatorBenchmark();
  console.log(formatReports([report]));
  process.exitCode = hasErrors([report]) ? 1 : 0;
}
