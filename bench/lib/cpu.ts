/**
 * How busy the machine was with work other than the benchmark's own processes — on a shared machine that is what
 * makes two runs disagree, so the report states it. Linux only (/proc); elsewhere it reports nothing. Also the
 * JavaScript thread's own CPU time, for the benchmarks that rate work per second of it.
 */
import { readFileSync } from 'node:fs';

/**
 * CPU time of the JavaScript thread (Node ≥ 23.9 / 22.19); of the whole process on older Nodes, which lack
 * `process.threadCpuUsage`.
 */
export const threadCpuUsage: (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage =
  typeof process.threadCpuUsage === 'function'
    ? (previous) => process.threadCpuUsage(previous)
    : (previous) => process.cpuUsage(previous);

/** Clock ticks per second of /proc (USER_HZ); 100 on every mainstream Linux. */
const TICKS_PER_SECOND = 100;

function readTicks(): { busy: number; steal: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    return { busy: user! + nice! + system! + irq! + softirq!, steal: steal ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks (user + system) a process has used so far — all its threads, or with `mainThreadOnly` its main
 * (JavaScript) thread alone — or undefined when unknown.
 */
export function processTicks(pid: number | undefined, mainThreadOnly = false): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Field 2 (comm) may contain spaces; the fields after its closing parenthesis are fixed.
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Microseconds per tick of {@link processTicks}. */
export const MICROSECONDS_PER_TICK = 1_000_000 / TICKS_PER_SECOND;

/** Measures, over a span, how many cores other processes kept busy and how much the hypervisor stole. */
export class BackgroundLoad {
  readonly #pids: readonly number[];
  readonly #start = readTicks();
  readonly #startOwn: number | undefined;
  readonly #startedAt = performance.now();

  /** `pids`: the benchmark's own processes (this one is always included). */
  constructor(pids: readonly number[]) {
    this.#pids = [process.pid, ...pids];
    this.#startOwn = this.#own();
  }

  #own(): number | undefined {
    let sum = 0;
    for (const pid of this.#pids) {
      const t = processTicks(pid);
      if (t === undefined) return undefined;
      sum += t;
    }
    return sum;
  }

  /** "other processes 0.04 cores, steal 0.00 cores", or undefined where /proc is unavailable. */
  describe(): string | undefined {
    const end = readTicks();
    const own = this.#own();
    if (!this.#start || !end || this.#startOwn === undefined || own === undefined) return undefined;
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const cores = (ticks: number) => (ticks / TICKS_PER_SECOND / seconds).toFixed(2);
    const other = Math.max(0, end.busy - this.#start.busy - (own - this.#startOwn));
    const warning =
      other / TICKS_PER_SECOND / seconds > 0.25
        ? ' — the machine was shared: tokens/s are depressed and noisy, rerun when it is quiet'
        : '';
    return `load from other processes during the timed rounds: ${cores(other)} cores (hypervisor steal ${cores(end.steal - this.#start.steal)} cores)${warning}`;
  }
}
