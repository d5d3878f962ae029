/**
 * Emulator start benchmark: CPU and wall time of `startEmulator()` + `close()`, the cost a test suite pays per
 * emulator it starts. Without a state file a fresh emulator generates one RSA key (its Maskinporten signing key)
 * and leaves the Altinn signing key and the administrator's key pair until first read; with a state file it
 * generates all three at start, side by side on the thread pool. Both are measured, after one warm-up start each.
 *
 * CPU is this process's (every thread, so the thread pool's key generation counts); RSA key generation searches
 * for primes at random, so single starts vary widely and the figures are means over the loop.
 *
 * Run alone: `npx node bench/emulator-start.ts`. Knobs (environment): BENCH_STARTS (20 per case).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/index.ts';
import { envNumber } from './lib/env.ts';
import { median } from './lib/stats.ts';

interface StartFigures {
  /** Mean CPU milliseconds per start + close, every thread of this process. */
  cpuMs: number;
  /** Mean and median wall milliseconds per start + close. */
  wallMs: number;
  medianWallMs: number;
}

async function measure(starts: number, stateFile: () => string | undefined): Promise<StartFigures> {
  const once = async () => {
    const file = stateFile();
    await (await startEmulator(file === undefined ? {} : { stateFile: file })).close();
  };
  await once();
  const walls: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < starts; i++) {
    const started = performance.now();
    await once();
    walls.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  return {
    cpuMs: (used.user + used.system) / 1000 / starts,
    wallMs: walls.reduce((a, b) => a + b, 0) / starts,
    medianWallMs: median(walls),
  };
}

const starts = envNumber('BENCH_STARTS', 20, 1, 500);
const dir = mkdtempSync(join(tmpdir(), 'maskinporten-bench-start-'));
try {
  let n = 0;
  const fresh = await measure(starts, () => undefined);
  // A new file each time: an existing one would be read instead of generating keys.
  const withFile = await measure(starts, () => join(dir, `state-${n++}.json`));
  const line = (name: string, f: StartFigures) =>
    `${name.padEnd(34)} CPU ${f.cpuMs.toFixed(1).padStart(6)} ms   wall ${f.wallMs.toFixed(1).padStart(6)} ms (median ${f.medianWallMs.toFixed(1)} ms)`;
  console.log(`startEmulator() + close(), ${starts} times each, means per start:`);
  console.log(line('no state file (1 key at start)', fresh));
  console.log(line('new state file (3 keys at start)', withFile));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
