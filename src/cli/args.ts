/**
 * Argument parsing shared by every command: Node's `parseArgs` with errors turned into usage errors (exit 2).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in how the command was called; the CLI exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `argv` strictly against `options`; unknown flags and missing values become {@link UsageError}s. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/^.*?: /, '') : String(err));
  }
}

/** Parses a port number flag. */
export function parsePort(value: string | undefined, flag = '--port'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new UsageError(`${flag} must be a port number 0–65535, got ${JSON.stringify(value)}`);
  return n;
}
