/**
 * Runs test/redis/replica.ts in processes of their own and reads their reports. A {@link ReplicaPool} keeps its
 * processes between runs: each run starts with a new connection, store and client in a process not running anything
 * else, so a process start (0.5–0.7 s of CPU) is paid once per process, not once per run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
// The suite's compile cache, also when bench/redis.ts runs the replicas without the test preload: replicas inherit
// NODE_COMPILE_CACHE and load in about half the CPU time.
import '../helpers/compile-cache.ts';
import type { Library } from './redis-server.ts';
import type { ReplicaConfig, ReplicaReport } from './replica.ts';

const script = new URL('./replica.ts', import.meta.url).pathname;

/** One run in a replica process: ready once connected; `go()` starts its calls; its report once it is over. */
export interface ReplicaProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  go(): void;
  /** In `steps` mode: sends one command line and resolves with its JSON answer. */
  step(command: string): Promise<{ token?: string; error?: string }>;
  /** In `steps` mode: ends the run (its report follows); nothing once the run is over. */
  end(): void;
  readonly report: Promise<ReplicaReport>;
}

/** A replica process and the one run it serves at a time. */
class Replica {
  readonly child: ChildProcess;
  readonly library: Library;
  /** Rejects once the process has exited (with what it wrote to stderr). */
  readonly exited: Promise<never>;
  #out = '';
  #err = '';
  #onLine: ((kind: string, rest: string) => void) | undefined;

  constructor(library: Library) {
    this.library = library;
    this.child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.#out += d;
      for (let nl = this.#out.indexOf('\n'); nl >= 0; nl = this.#out.indexOf('\n')) {
        const line = this.#out.slice(0, nl);
        this.#out = this.#out.slice(nl + 1);
        const space = line.indexOf(' ');
        this.#onLine?.(space < 0 ? line : line.slice(0, space), space < 0 ? '' : line.slice(space + 1));
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.#err += d;
    });
    this.exited = new Promise<never>((_, reject) => {
      this.child.once('exit', (code, signal) =>
        reject(new Error(`replica exited with ${code ?? signal}: ${this.#err.slice(-2000)}`)),
      );
    });
    this.exited.catch(() => undefined);
  }

  /** Starts a run; `done` is told when its report came (the process is free again) or the process died. */
  start(config: ReplicaConfig, done: (reusable: boolean) => void): ReplicaProcess {
    let onReady: () => void = () => undefined;
    let onReport: (r: ReplicaReport) => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
    });
    const reported = new Promise<ReplicaReport>((resolve) => {
      onReport = resolve;
    });
    const answers: ((json: string) => void)[] = [];
    this.#onLine = (kind, rest) => {
      if (kind === 'ready') onReady();
      else if (kind === 'answer') answers.shift()?.(rest);
      else if (kind === 'report') {
        this.#onLine = undefined;
        onReport(JSON.parse(rest) as ReplicaReport);
      }
    };
    const report = Promise.race([reported, this.exited]);
    let over = false;
    const finish = (reusable: boolean) => {
      over = true;
      done(reusable);
    };
    report.then(
      () => finish(true),
      () => finish(false),
    );
    // Once the run is over, its handle sends nothing more (the process may be serving another run by then).
    const send = (line: string) => {
      if (!over && this.child.stdin!.writable) this.child.stdin!.write(`${line}\n`);
    };
    send(`config ${JSON.stringify(config)}`);
    return {
      child: this.child,
      // A replica that dies while connecting rejects here rather than hanging the caller.
      ready: Promise.race([ready, this.exited]),
      go: () => send('go'),
      step(command) {
        const answer = new Promise<string>((resolve) => answers.push(resolve));
        send(command);
        return Promise.race([answer.then((json) => JSON.parse(json)), report.then(() => ({ error: 'exited' }))]);
      },
      end: () => send('end'),
      report,
    };
  }

  /** Lets the process exit (stdin ends) and waits for it. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    await this.exited.catch(() => undefined);
  }
}

/**
 * Replica processes kept between runs. `start` hands a run to an idle process (one that already loaded the run's
 * client library, if any) or starts a new one; a process that dies (or is killed) is dropped.
 */
export class ReplicaPool {
  readonly #idle: Replica[] = [];
  readonly #all = new Set<Replica>();

  /** Starts one run of `config` in a process of its own. */
  start(config: ReplicaConfig): ReplicaProcess {
    const i = this.#idle.findIndex((r) => r.library === config.library);
    const replica = i >= 0 ? this.#idle.splice(i, 1)[0]! : (this.#idle.shift() ?? this.#spawn(config.library));
    return replica.start(config, (reusable) => {
      if (reusable) this.#idle.push(replica);
      else this.#all.delete(replica);
    });
  }

  /** Starts `n` runs of `config` in as many processes, lets them all go at once when ready, and waits for every report. */
  async run(n: number, config: ReplicaConfig, whileRunning?: () => Promise<void>): Promise<ReplicaReport[]> {
    const replicas = Array.from({ length: n }, () => this.start(config));
    await Promise.all(replicas.map((r) => r.ready));
    for (const r of replicas) r.go();
    await whileRunning?.();
    return Promise.all(replicas.map((r) => r.report));
  }

  /** Ends every process. */
  async close(): Promise<void> {
    await Promise.all([...this.#all].map((r) => r.close()));
    this.#all.clear();
    this.#idle.length = 0;
  }

  #spawn(library: Library): Replica {
    const replica = new Replica(library);
    this.#all.add(replica);
    return replica;
  }
}

/** Starts `n` replica processes for one run of `config` (as {@link ReplicaPool.run}), and ends them after it. */
export async function runReplicas(
  n: number,
  config: ReplicaConfig,
  whileRunning?: () => Promise<void>,
): Promise<ReplicaReport[]> {
  const pool = new ReplicaPool();
  try {
    return await pool.run(n, config, whileRunning);
  } finally {
    await pool.close();
  }
}
