/** Terminal output helpers: colour only on a TTY, and never when `NO_COLOR` is set or `TERM` is `dumb`. */
import type { CliIo, CliOutput } from './io.ts';

/** Whether text written to `stream` may be coloured, with the run's environment. */
function useColor(stream: CliOutput, env: CliIo['env']): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in env) && env.TERM !== 'dumb';
}

/** The colour helpers of one run. */
export interface Painter {
  /** Bold text for stdout. */
  bold(text: string): string;
  /** Dimmed text for stdout. */
  dim(text: string): string;
  /** Green text for stdout. */
  green(text: string): string;
  /** A warning on stderr, in yellow on a terminal. */
  warn(text: string): void;
}

/** The colour helpers for `io`'s stdout and stderr. */
export function painter(io: Pick<CliIo, 'stdout' | 'stderr' | 'env'>): Painter {
  const paint = (code: string, text: string, stream: CliOutput) =>
    useColor(stream, io.env) ? `\u001b[${code}m${text}\u001b[0m` : text;
  return {
    bold: (text) => paint('1', text, io.stdout),
    dim: (text) => paint('2', text, io.stdout),
    green: (text) => paint('32', text, io.stdout),
    warn: (text) => {
      io.stderr.write(`${paint('33;1', text, io.stderr)}\n`);
    },
  };
}
