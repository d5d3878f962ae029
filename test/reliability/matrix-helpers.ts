/**
 * Helpers of the fault matrix: a guard that records unhandled rejections and uncaught exceptions, a bounded race
 * that fails a call that hangs past its deadline, a check that a call was answered without waiting for I/O, a
 * transport wrapper that tells when no request is in flight (so background work can settle before the fake clock
 * moves on), and the summary table. Nothing here stands in for the client's own code.
 */
import assert from 'node:assert/strict';
import { MaskinportenError, type MaskinportenErrorCode } from '../../src/errors.ts';

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

/** How a bounded call ended. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Awaits `promise` for at most `limitMs` of real time; fails (the call hung past its deadline) when it has not
 * settled by then. A late rejection of the abandoned promise is handled, so it cannot surface as unhandled.
 */
export async function bounded<T>(promise: Promise<T>, limitMs: number, what: string): Promise<Settled<T>> {
  const settled = promise.then(
    (value): Settled<T> => ({ ok: true, value }),
    (error: unknown): Settled<T> => ({ ok: false, error }),
  );
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), limitMs);
  });
  try {
    const result = await Promise.race([settled, hang]);
    if (result === 'hang') assert.fail(`${what} did not settle within ${limitMs} ms: it hung past its deadline`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

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

/**
 * A `fetch` that counts requests in flight, from the call until the body has been read. Between two attempts the
 * client runs only microtasks, so "none in flight" seen from a timer means the client's background work is over.
 */
export function trackingFetch(): { fetch: typeof fetch; inflight(): number; calls(): number } {
  let inflight = 0;
  let calls = 0;
  const tracked: typeof fetch = async (input, init) => {
    inflight++;
    calls++;
    try {
      const res = await fetch(input, init);
      const body = await res.arrayBuffer();
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    } finally {
      inflight--;
    }
  };
  return { fetch: tracked, inflight: () => inflight, calls: () => calls };
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
