/**
 * What a CLI run reads and writes, passed to every command instead of the process's own: standard streams, the
 * environment and the working directory. The bin passes the real process's ({@link processIo}); the end-to-end
 * tests run commands in their own process with captured streams, a clean environment and a directory of their own.
 */
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

/** A stream a command writes to. */
export type CliOutput = NodeJS.WritableStream & { isTTY?: boolean };
/** The stream a command reads from. */
export type CliInput = NodeJS.ReadableStream & { isTTY?: boolean };

/** The standard streams, environment and working directory of one CLI run. */
export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  stdin: CliInput;
  /** The environment variables the run sees (settings, `NO_COLOR`, `TERM`, `XDG_CACHE_HOME`…). */
  env: Record<string, string | undefined>;
  /** The working directory: relative paths the user gives resolve against it. */
  cwd: string;
  /**
   * For a command that runs until it is told to stop (`emulator`): registers `stop`, called once when the user asks
   * (Ctrl+C, SIGTERM). Only a real process has it.
   */
  onStop?: (stop: () => void) => void;
}

/** The real process's streams, environment, working directory and stop signals: the bin's io. */
export function processIo(): CliIo {
  return {
    // Getters: Node creates process.stdin on first use, and only a command that reads it should.
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    onStop: (stop) => {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  };
}

/** A path the user gave, resolved against the run's working directory. */
export function pathIn(io: Pick<CliIo, 'cwd'>, path: string): string {
  return resolve(io.cwd, path);
}

/**
 * A path the user gave, for code that both opens it and names it in its messages (the settings loader, the
 * emulator's state file): as given when it names the same file from this process's working directory as from the
 * run's — always so for the bin, whose run directory is the process's — so that messages show it as it was typed;
 * otherwise resolved against the run's directory.
 */
export function pathAsGiven(io: Pick<CliIo, 'cwd'>, path: string): string {
  const inRun = resolve(io.cwd, path);
  return resolve(path) === inRun ? path : inRun;
}

/** The directory for temporary files, as `os.tmpdir()` finds it but from the run's environment. */
export function tempDirOf(io: Pick<CliIo, 'env'>): string {
  return io.env.TMPDIR?.replace(/(.)\/+$/, '$1') || tmpdir();
}
