/**
 * Runs a benchmark server in its own Node process, so it has a core to itself while the parent generates load.
 * The child prints one JSON line (its URL and whatever else the parent needs) once it listens, and stops when its
 * stdin closes — so it also stops if the parent dies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A running server child. */
export interface ServerChild<T> {
  /** The JSON object the child printed when it was ready. */
  info: T;
  /** The child's process id. */
  pid: number | undefined;
  /** Closes the child's stdin and waits for it to exit (killing it after a grace period). */
  stop(): Promise<void>;
}

/** Extra flags for server children, e.g. `BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`. */
function extraFlags(): string[] {
  return (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

/** Starts `script` (a .ts or .js file) on this Node binary with `args`, and resolves with its ready line. */
export async function startServerChild<T>(
  script: string,
  args: string[] = [],
  timeoutMs = 20_000,
): Promise<ServerChild<T>> {
  const child: ChildProcess = spawn(process.execPath, [...extraFlags(), script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const info = await new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${script} did not report ready within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        child.kill();
        reject(new Error(`${script} printed a ready line that is not JSON: ${line}\n${stderr}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with code ${code} before it was ready\n${stderr}`));
    });
  });

  return {
    info,
    pid: child.pid,
    stop: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill(), 10_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0 && code !== null) process.stderr.write(`${script} exited with code ${code}\n${stderr}\n`);
    },
  };
}

/** For server children: resolves when the parent closes our stdin (or goes away). */
export function parentGone(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('data', () => {});
    process.stdin.once('end', () => resolve());
    process.stdin.once('error', () => resolve());
  });
}
