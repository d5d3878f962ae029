/** Runs test/redis/replica.ts as a separate process and reads its report. */
import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplicaConfig, ReplicaReport } from './replica.ts';

const script = new URL('./replica.ts', import.meta.url).pathname;
/**
 * Node's compile cache for the replicas (keyed by content, so never stale): a replica then loads in about half the
 * CPU time, most of which is otherwise spent stripping the types of the same source files in every process.
 */
const compileCache = join(tmpdir(), 'maskinporten-replica-compile-cache');

/** A replica process: ready once loaded and connected; `go()` starts its calls; its report once it exits. */
export interface ReplicaProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  go(): void;
  /** In `steps` mode: sends one command line and resolves with its JSON answer. */
  step(command: string): Promise<{ token?: string; error?: string }>;
  readonly report: Promise<ReplicaReport>;
}

/** Starts one replica process. */
export function spawnReplica(config: ReplicaConfig): ReplicaProcess {
  const child = spawn(process.execPath, [script, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_COMPILE_CACHE: compileCache },
  });
  let out = '';
  let err = '';
  let answered = 1; // lines of stdout consumed: `ready`, then one per step
  const answers: ((line: string) => void)[] = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
    const lines = out.split('\n');
    while (answers.length > 0 && lines.length - 1 > answered) answers.shift()!(lines[answered++]!);
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d;
  });
  const report = new Promise<ReplicaReport>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as ReplicaReport);
      else reject(new Error(`replica exited with ${code ?? signal}: ${err.slice(-2000)}`));
    });
  });
  report.catch(() => undefined);
  return {
    child,
    // A replica that dies while loading rejects here rather than hanging the caller.
    ready: Promise.race([ready, report.then(() => undefined)]),
    go: () => child.stdin!.end('go\n'),
    step(command) {
      const answer = new Promise<string>((resolve) => answers.push(resolve));
      child.stdin!.write(`${command}\n`);
      return Promise.race([answer.then((line) => JSON.parse(line)), report.then(() => ({ error: 'exited' }))]);
    },
    report,
  };
}

/** Starts `n` replicas with the same config, lets them all go at once when loaded, and waits for every report. */
export async function runReplicas(
  n: number,
  config: ReplicaConfig,
  whileRunning?: () => Promise<void>,
): Promise<ReplicaReport[]> {
  const replicas = Array.from({ length: n }, () => spawnReplica(config));
  await Promise.all(replicas.map((r) => r.ready));
  for (const r of replicas) r.go();
  await whileRunning?.();
  return Promise.all(replicas.map((r) => r.report));
}
