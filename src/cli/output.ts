/** Terminal output helpers: colour only on a TTY and never when `NO_COLOR` is set. */

const useColor = (stream: NodeJS.WriteStream) =>
  Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';

function paint(code: string, text: string, stream: NodeJS.WriteStream): string {
  return useColor(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Bold text for stdout. */
export const bold = (text: string) => paint('1', text, process.stdout);
/** Dimmed text for stdout. */
export const dim = (text: string) => paint('2', text, process.stdout);
/** Green text for stdout. */
export const green = (text: string) => paint('32', text, process.stdout);
/** A warning on stderr, in yellow on a terminal. */
export function warn(text: string): void {
  process.stderr.write(`${paint('33;1', text, process.stderr)}\n`);
}
