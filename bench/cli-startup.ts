/**
 * CLI start-up benchmark: the wall time of `maskinporten --help` (the built `node dist/cli/main.js --help`) next to
 * `node -e 0` on the same Node binary — how much the CLI adds to starting Node. The target is at most 3× `node -e 0`.
 *
 * Both are run as fresh processes, after warm-ups (which fill the OS file cache), in interleaved pairs whose order
 * alternates, so anything else the machine does falls on both alike; each figure is the median wall time, and the
 * ratio is the median of the pairs' ratios.
 *
 * The report's ratios read "higher is better", so the ratio is given as `node -e 0 / --help` with the target
 * ≥ 0.33× (the same as "--help ≤ 3× node -e 0"); a condition line states it the natural way round too. The figures'
 * rate column holds runs per second (1000 / median ms).
 *
 * Run alone: `npx node bench/cli-startup.ts` (build first: `npx tsc -p tsconfig.build.json`).
 * Knobs (environment): BENCH_STARTUP_RUNS (15 per contender), BENCH_STARTUP_WARMUPS (2).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BackgroundLoad } from './lib/cpu.ts';
import { type BenchReport, type Figure, formatReports, hasErrors } from './lib/report.ts';
import { median } from './lib/stats.ts';

/** "--help ≤ 3× node -e 0", as the report's higher-is-better ratio node / help. */
const TARGET_TIMES = 3;

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be a whole number ${min}–${max}`);
  return value;
}

interface Contender {
  name: string;
  args: string[];
  /** Checks a run's output; returns a problem, or undefined when the run did what it should. */
  check(stdout: string, status: number | null): string | undefined;
  times: number[];
  errors: number;
  firstError?: string;
}

/** Runs the contender once and returns its wall time (ms). */
function runOnce(c: Contender): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, c.args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // Neither inherits options that would change what Node loads at start-up.
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
  });
  const ms = performance.now() - started;
  const problem = result.error ? result.error.message : c.check(result.stdout, result.status);
  if (problem) {
    c.errors += 1;
    c.firstError ??= `${problem}${result.stderr ? `: ${result.stderr.trim().split('\n')[0]}` : ''}`;
  }
  return ms;
}

function figure(c: Contender, what: string): Figure {
  const med = median(c.times);
  const min = Math.min(...c.times);
  const max = Math.max(...c.times);
  return {
    name: c.name,
    tokensPerSecond: 1000 / med,
    range: [1000 / max, 1000 / min],
    count: c.times.length,
    errors: c.errors,
    note: `runs/s of ${what}: median ${med.toFixed(1)} ms wall per run (${min.toFixed(1)}–${max.toFixed(1)} ms)`,
  };
}

/** Runs the start-up benchmark and returns its figures and ratio. */
export async function runCliStartupBenchmark(): Promise<BenchReport> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.build.json)`);
  const runs = envInt('BENCH_STARTUP_RUNS', 15, 3, 201);
  const warmups = envInt('BENCH_STARTUP_WARMUPS', 2, 0, 20);
  const help: Contender = {
    name: 'maskinporten --help',
    args: [CLI, '--help'],
    check: (stdout, status) =>
      status !== 0
        ? `exited with ${status}`
        : stdout.startsWith('Usage: maskinporten')
          ? undefined
          : 'did not print the usage',
    times: [],
    errors: 0,
  };
  const bare: Contender = {
    name: 'node -e 0',
    args: ['-e', '0'],
    check: (_stdout, status) => (status === 0 ? undefined : `exited with ${status}`),
    times: [],
    errors: 0,
  };

  for (let i = 0; i < warmups; i++) for (const c of [help, bare]) runOnce(c);
  const load = new BackgroundLoad([]);
  const pairRatios: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so neither always runs on a cache the other just warmed.
    const order = i % 2 === 0 ? [help, bare] : [bare, help];
    const times = new Map<Contender, number>();
    for (const c of order) times.set(c, runOnce(c));
    help.times.push(times.get(help)!);
    bare.times.push(times.get(bare)!);
    pairRatios.push(times.get(bare)! / times.get(help)!);
  }
  const background = load.describe();

  const ratio = median(pairRatios);
  const problems: string[] = [];
  for (const c of [help, bare]) {
    if (c.firstError) problems.push(`${c.name}: ${c.errors} failed run(s), first: ${c.firstError}`);
  }
  return {
    title: 'cli-startup',
    setup: `${process.execPath} (Node ${process.version}); after ${warmups} warm-up(s) each, ${runs} interleaved pairs of fresh processes (order alternating); medians of wall time, ratio = median of the pairs' ratios`,
    conditions: [
      `maskinporten --help takes ${(1 / ratio).toFixed(2)}× the wall time of node -e 0 (target ≤ ${TARGET_TIMES}×; shown below as node -e 0 / --help ≥ ${(1 / TARGET_TIMES).toFixed(2)}×)`,
      ...(background === undefined ? [] : [background]),
    ],
    figures: [figure(help, 'node dist/cli/main.js --help'), figure(bare, 'node -e 0 (bare Node start-up)')],
    ratios: [
      {
        name: 'node -e 0 / maskinporten --help (wall)',
        value: ratio,
        target: 1 / TARGET_TIMES,
        style: 'times',
      },
    ],
    problems,
  };
}

if (import.meta.main) {
  const report = await runCliStartupBenchmark();
  console.log(formatReports([report]));
  process.exitCode = hasErrors([report]) ? 1 : 0;
}
