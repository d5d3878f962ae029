/**
 * Emulator start benchmark: CPU and wall time of `startEmulator()` + `close()`, the cost a test suite pays per
 * emulator it starts. Without a state file a fresh emulator generates one RSA key (its Maskinporten signing key)
 * and leaves the Altinn signing key and the administrator's key pair until first read; with a state file it
 * generates all three at start, side by side on the thread pool. Both are measured, after one warm-up start each.
 *
 * CPU is this process's (every thread, so the thread pool's key generation counts); RSA key generation searches
 * for primes at random, so single starts vary widely and the figures are means over the loop.
 *
 * Figures are starts per second (1 / the median wall time; rounds: the slowest and fastest start), with the means
 * in the note.
 *
 * Run alone: `npx node bench/emulator-start.ts`; with every benchmark: `npx node bench/run.ts`.
 * Knobs (environment): BENCH_STARTS (20 per case).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/index.ts';
import { BackgroundLoad, threadCpuUsage } from './lib/cpu.ts';
import { envNumber } from './lib/env.ts';
import { type BenchReport, type Figure, formatReports, hasErrors } from './lib/report.ts';
import { median, range } from './lib/stats.ts';

interface StartFigures {
  /** Mean CPU milliseconds per start + close, every thread of this process. */
  cpuMs: number;
  /** Mean CPU milliseconds per start + close on the JavaScript thread. */
  mainCpuMs: number;
  /** Wall milliseconds of each timed start + close. */
  walls: number[];
}

async function measure(starts: number, stateFile: () => string | undefined): Promise<StartFigures> {
  const once = async () => {
    const file = stateFile();
    await (await startEmulator(file === undefined ? {} : { stateFile: file })).close();
  };
  await once();
  const walls: number[] = [];
  const cpu = process.cpuUsage();
  const main = threadCpuUsage();
  for (let i = 0; i < starts; i++) {
    const started = performance.now();
    await once();
    walls.push(performance.now() - started);
  }
  const usedMain = threadCpuUsage(main);
  const used = process.cpuUsage(cpu);
  return {
    cpuMs: (used.user + used.system) / 1000 / starts,
    mainCpuMs: (usedMain.user + usedMain.system) / 1000 / starts,
    walls,
  };
}

function figure(name: string, what: string, f: StartFigures): Figure {
  const wallMs = f.walls.reduce((a, b) => a + b, 0) / f.walls.length;
  const medianWallMs = median(f.walls);
  const [fastest, slowest] = range(f.walls)!;
  return {
    name,
    tokensPerSecond: 1000 / medianWallMs,
    range: [1000 / slowest, 1000 / fastest],
    count: f.walls.length,
    cpuUs: { main: f.mainCpuMs * 1000, all: f.cpuMs * 1000 },
    note: `starts/s of startEmulator() + close(), ${what}: mean CPU ${f.cpuMs.toFixed(1)} ms (every thread), mean wall ${wallMs.toFixed(1)} ms, median ${medianWallMs.toFixed(1)} ms`,
  };
}

/** Runs the emulator start benchmark and returns its figures (no ratios: there is no peer to hold it to). */
export async function runEmulatorStartBenchmark(): Promise<BenchReport> {
  const starts = envNumber('BENCH_STARTS', 20, 1, 500);
  const dir = mkdtempSync(join(tmpdir(), 'maskinporten-bench-start-'));
  try {
    const load = new BackgroundLoad([]);
    let n = 0;
    const fresh = await measure(starts, () => undefined);
    // A new file each time: an existing one would be read instead of generating keys.
    const withFile = await measure(starts, () => join(dir, `state-${n++}.json`));
    const background = load.describe();
    return {
      title: 'emulator-start',
      setup: `startEmulator() + close() in this process, ${starts} times per case after one warm-up start; CPU is every thread of this process (the thread pool's key generation counts)`,
      conditions: background === undefined ? [] : [background],
      figures: [
        figure('emulator start, no state file', '1 RSA key generated at start', fresh),
        figure('emulator start, new state file', '3 RSA keys generated at start', withFile),
      ],
      ratios: [],
      problems: [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const report = await runEmulatorStartBenchmark();
  console.log(formatReports([report]));
  process.exitCode = hasErrors([report]) ? 1 : 0;
}
