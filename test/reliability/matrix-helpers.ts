/**
 * Helpers of the fault matrix: a guard that records unhandled rejections and uncaught exceptions, checks on how a
 * driven call ended (the fake clock's driver, `FakeTime.run`, fails a call that hangs past its deadline), a check
 * that a call was answered without waiting for I/O, and the summary table. Nothing here stands in for the client's
 * own code.
 */
import assert from 'node:assert/strict';
import { MaskinportenError, type MaskinportenErrorCode } from '../../src/errors.ts';
import type { Settled } from '../helpers/fake-time.ts';

/** Every unhandled rejection and uncaught exception of the process, from the moment {@link guardProcess} ran. */
export interface ProcessFault {
  kind: 'unhandledRejection' | 'uncaughtException';
  reason: unknown;
}

/** Starts recording unhandled rejections and uncaught exceptions; returns the (live) list. */
export function guardProcess(): ProcessFault[] {
  const faults: ProcessFault[] = [];
  process.on('unhandledRejection', (reason) => faults.push({ kind: 'unhandledRejection', reason }));
  process.on('uncaughtException', (reason) => faults.push({ kind: 'uncaughtException', reason }));
  return faults;
}

/** Asserts that no process fault was recorded, naming each one otherwise. */
export function assertNoProcessFaults(faults: readonly ProcessFault[]): void {
  const described = faults.map(
    (f) => `${f.kind}: ${f.reason instanceof Error ? (f.reason.stack ?? f.reason.message) : String(f.reason)}`,
  );
  assert.deepEqual(described, [], 'no unhandled rejection or uncaught exception may occur');
}

export type { Settled } from '../helpers/fake-time.ts';

/** The value of a settled call, failing when it was an error. */
export function served<T>(result: Settled<T>, what: string): T {
  if (!result.ok) {
    const err = result.error;
    assert.fail(`${what}: expected a token, got ${err instanceof MaskinportenError ? `${err.code}: ` : ''}${err}`);
  }
  return result.value;
}

/** The error of a settled call, asserting it is a {@link MaskinportenError} of `code`. */
export function coded(result: Settled<unknown>, code: MaskinportenErrorCode, what: string): MaskinportenError {
  assert.ok(!result.ok, `${what}: expected ${code}, got a token`);
  const err = result.error;
  assert.ok(err instanceof MaskinportenError, `${what}: expected a coded MaskinportenError, got ${String(err)}`);
  assert.equal(err.code, code, `${what}: expected ${code}, got ${err.code}: ${err.message}`);
  return err;
}

const PENDING = Symbol('pending');

/**
 * Asserts that `promise` settles before any I/O callback can run (the caller was served from memory, not after a
 * request), and returns its value.
 */
export async function immediately<T>(promise: Promise<T>, what: string): Promise<T> {
  const result = await Promise.race([promise, new Promise<typeof PENDING>((r) => setImmediate(() => r(PENDING)))]);
  if (result === PENDING) {
    promise.catch(() => undefined);
    assert.fail(`${what}: the caller had to wait for I/O instead of being served from the cache`);
  }
  return result as T;
}

/** One line of the summary table. */
export interface MatrixRow {
  fault: string;
  outcome: string;
  attempts: string;
  deadline: string;
}

/** The summary table: one row per scenario, printed once the file has run. */
export class Summary {
  readonly rows: MatrixRow[] = [];

  add(row: MatrixRow): void {
    this.rows.push(row);
  }

  /** The table as text, columns padded. */
  render(): string {
    const header: MatrixRow = { fault: 'fault', outcome: 'outcome', attempts: 'attempts', deadline: 'deadline' };
    const all = [header, ...this.rows];
    const keys = ['fault', 'outcome', 'attempts', 'deadline'] as const;
    const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
    const line = (r: MatrixRow) => `| ${keys.map((k, i) => r[k].padEnd(widths[i]!)).join(' | ')} |`;
    const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
    return ['Fault matrix', line(header), rule, ...this.rows.map(line)].join('\n');
  }
}

/** How an outcome reads in the table. */
export function outcomeOf(result: Settled<unknown>, fresh?: string): string {
  if (result.ok) return fresh ?? 'new token';
  return result.error instanceof MaskinportenError ? `error ${result.error.code}` : `UNCODED ${String(result.error)}`;
}
