/**
 * Runs every benchmark in bench/ and prints one combined table of figures and ratios.
 * `npm run bench` (builds first) or `npx node bench/run.ts`. Exits non-zero when a contender failed requests;
 * targets that are missed are printed, not enforced.
 */
import { runCliStartupBenchmark } from './cli-startup.ts';
import { runClientBenchmark } from './client.ts';
import { runConsoleBenchmark } from './console.ts';
import { runEmulatorBenchmark } from './emulator.ts';
import { runEmulatorStartBenchmark } from './emulator-start.ts';
import { runHttpAdapterBenchmark } from './http-adapter.ts';
import { type BenchReport, formatReports, hasErrors } from './lib/report.ts';
import { runLoadBenchmark } from './load.ts';
import { runRedisBenchmark } from './redis.ts';

const benchmarks: { name: string; run: () => Promise<BenchReport> }[] = [
  { name: 'emulator', run: runEmulatorBenchmark },
  { name: 'emulator-start', run: runEmulatorStartBenchmark },
  { name: 'client', run: runClientBenchmark },
  { name: 'http-adapter', run: runHttpAdapterBenchmark },
  { name: 'load', run: runLoadBenchmark },
  { name: 'cli-startup', run: runCliStartupBenchmark },
  { name: 'redis', run: runRedisBenchmark },
  { name: 'console', run: runConsoleBenchmark },
];

const reports: BenchReport[] = [];
let failed = false;
for (const bench of benchmarks) {
  try {
    reports.push(await bench.run());
  } catch (err) {
    failed = true;
    console.error(`benchmark ${bench.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
if (reports.length) console.log(formatReports(reports));
process.exitCode = failed || hasErrors(reports) ? 1 : 0;
