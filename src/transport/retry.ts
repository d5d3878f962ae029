/**
 * Retries for calls to Maskinporten and Altinn: network errors, timeouts, 5xx and 429 are retried with exponential
 * backoff and full jitter (honouring `Retry-After` up to a cap), within bounded attempts and an overall deadline;
 * other answers are final. Each attempt builds its request anew, so a retried token request carries a new grant.
 */
import { sleep, type Timekeeper, timeoutController } from '../clock.ts';
import { ConfigError, MaskinportenError, UnavailableError } from '../errors.ts';
import { raceSignal } from './race.ts';

/**
 * How calls are retried and timed.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-retry-after
 */
export interface RetryPolicy {
  /** Attempts in all, the first included; 3 by default. 1 disables retries. */
  maxAttempts?: number;
  /** Backoff base (ms); attempt n waits a random time up to base × 2^(n−1); 200 by default. */
  baseDelayMs?: number;
  /** Longest backoff (ms); 5000 by default. */
  maxDelayMs?: number;
  /** Longest `Retry-After` (ms) honoured; a longer one ends the retries. 30000 by default. */
  maxRetryAfterMs?: number;
}

/** Timing of one logical call (all its attempts). */
export interface CallTiming {
  /** Timeout of each attempt (ms); 10000 by default. */
  timeoutMs?: number;
  /** Deadline of the whole call, retries included (ms); 30000 by default. */
  deadlineMs?: number;
}

/** The resolved policy. */
export interface ResolvedCallPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  timeoutMs: number;
  deadlineMs: number;
  /** Sleeps `ms`, rejecting when `signal` aborts. Replaceable in tests. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A number in [0, 1); `Math.random` by default. */
  random: () => number;
  /** The clock deadlines, timeouts and backoff run on. */
  clock: Timekeeper;
}

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Validates and fills in a retry policy and timing; deadlines, timeouts and backoff run on `clock`. */
export function resolveCallPolicy(
  retry: RetryPolicy | false | undefined,
  timing: CallTiming,
  hooks: Partial<Pick<ResolvedCallPolicy, 'sleep' | 'random'>> | undefined,
  clock: Timekeeper,
): ResolvedCallPolicy {
  const r = retry === false ? { maxAttempts: 1 } : (retry ?? {});
  const maxAttempts = positive('retry.maxAttempts', r.maxAttempts, 3, 1);
  if (!Number.isInteger(maxAttempts)) throw new ConfigError('retry.maxAttempts must be a whole number');
  return {
    maxAttempts,
    baseDelayMs: positive('retry.baseDelayMs', r.baseDelayMs, 200),
    maxDelayMs: positive('retry.maxDelayMs', r.maxDelayMs, 5000),
    maxRetryAfterMs: positive('retry.maxRetryAfterMs', r.maxRetryAfterMs, 30_000),
    timeoutMs: positive('timeoutMs', timing.timeoutMs, 10_000, 1),
    deadlineMs: positive('deadlineMs', timing.deadlineMs, 30_000, 1),
    sleep: hooks?.sleep ?? ((ms, signal) => sleep(clock, ms, signal)),
    random: hooks?.random ?? Math.random,
    clock,
  };
}

/**
 * Parses a `Retry-After` header (seconds or an HTTP date) into ms from `nowMs`, which for a date should be the
 * server's clock (a `ServerClock` estimate), since the server wrote it.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function isRetryable(err: unknown): boolean {
  return err instanceof UnavailableError;
}

/** One attempt: gets a signal that aborts on the attempt's timeout or the call's deadline. */
export type Attempt<T> = (signal: AbortSignal, attempt: number) => Promise<T>;

/**
 * The deadline of one logical call (`deadlineMs` from its start), shared by everything the call waits for: its
 * attempts and backoff, and what it needs before them (discovery, a Maskinporten token for the Altinn exchange).
 */
export interface CallDeadline {
  /** Aborts when the deadline passes. */
  readonly signal: AbortSignal;
  /** The policy clock's monotonic time when the call started. */
  readonly startedAt: number;
  /** Disarms the deadline once the call is over (its signal then never aborts). */
  clear(): void;
}

/** Starts the deadline of a call now, on the policy's clock; {@link CallDeadline.clear} it when the call is over. */
function startDeadline(policy: ResolvedCallPolicy): CallDeadline {
  const startedAt = policy.clock.monotonic();
  const { signal, clear } = timeoutController(policy.clock, policy.deadlineMs);
  return { signal, startedAt, clear };
}

/**
 * Runs `work` within one deadline started now (see {@link startDeadline}), disarmed when the work is over.
 * @param policy the call policy whose clock and `deadlineMs` the deadline runs on
 * @param work the call, given its deadline
 * @returns what `work` resolves to
 */
export async function withDeadline<T>(
  policy: ResolvedCallPolicy,
  work: (deadline: CallDeadline) => Promise<T>,
): Promise<T> {
  const deadline = startDeadline(policy);
  try {
    return await work(deadline);
  } finally {
    deadline.clear();
  }
}

/**
 * The signal of one attempt: aborts when `overall` (the call's deadline) does or after `timeoutMs`.
 * `end` disarms both once the attempt is over.
 */
function attemptSignal(
  clock: Timekeeper,
  overall: AbortSignal,
  timeoutMs: number,
): { signal: AbortSignal; timedOut: () => boolean; end: () => void } {
  const controller = new AbortController();
  const timeout = timeoutController(clock, timeoutMs);
  const onOverall = () => controller.abort(overall.reason);
  const onTimeout = () => controller.abort(timeout.signal.reason);
  overall.addEventListener('abort', onOverall, { once: true });
  timeout.signal.addEventListener('abort', onTimeout, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timeout.signal.aborted,
    end: () => {
      timeout.clear();
      overall.removeEventListener('abort', onOverall);
      timeout.signal.removeEventListener('abort', onTimeout);
    },
  };
}

/** The error of a call that ran out of its deadline. */
export function deadlineError(
  what: string,
  policy: ResolvedCallPolicy,
  cause: unknown,
  attempts?: number,
): UnavailableError {
  return new UnavailableError(
    'ERR_TIMEOUT',
    `${what} did not complete within the ${policy.deadlineMs} ms deadline${attempts ? ` (${attempts} attempt(s))` : ''}`,
    { cause, ...(attempts ? { attempts } : {}) },
  );
}

/**
 * Waits for `promise`, but no longer than the call's deadline (then `ERR_TIMEOUT`). For waits before the attempts
 * that are not themselves aborted by the deadline; a late rejection of `promise` is handled.
 */
export function untilDeadline<T>(
  promise: Promise<T>,
  deadline: CallDeadline,
  what: string,
  policy: ResolvedCallPolicy,
): Promise<T> {
  return raceSignal(promise, deadline.signal, (reason) => deadlineError(what, policy, reason));
}

/**
 * Runs `attempt` until it succeeds, fails finally, or the attempts or the call's deadline run out. Transport
 * failures are turned into coded errors: a timeout → `ERR_TIMEOUT`; a network failure → `ERR_NETWORK`.
 * @param deadline the call's deadline (it began before the attempts: see {@link withDeadline})
 */
export async function withRetries<T>(
  what: string,
  attempt: Attempt<T>,
  policy: ResolvedCallPolicy,
  deadline: CallDeadline,
): Promise<T> {
  const overall = deadline.signal;
  if (overall.aborted) throw deadlineError(what, policy, overall.reason);
  const { startedAt } = deadline;
  let last: MaskinportenError | undefined;
  for (let n = 1; n <= policy.maxAttempts; n++) {
    const current = attemptSignal(policy.clock, overall, policy.timeoutMs);
    try {
      return await attempt(current.signal, n);
    } catch (err) {
      current.end();
      if (overall.aborted) throw deadlineError(what, policy, last ?? err, n);
      last = toTransportError(err, what, current.timedOut(), policy.timeoutMs, n);
      if (!isRetryable(last) || n === policy.maxAttempts) throw withAttempts(last, n);
      const backoff = policy.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      const retryAfter = last.retryAfterMs;
      if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) throw withAttempts(last, n);
      const wait = Math.max(backoff, retryAfter ?? 0);
      const remaining = policy.deadlineMs - (policy.clock.monotonic() - startedAt);
      if (wait >= remaining) throw withAttempts(last, n);
      try {
        await policy.sleep(wait, overall);
      } catch {
        throw new UnavailableError(
          'ERR_TIMEOUT',
          `${what} did not complete within the ${policy.deadlineMs} ms deadline`,
          {
            cause: last,
            attempts: n,
          },
        );
      }
    } finally {
      current.end();
    }
  }
  throw last ?? new UnavailableError('ERR_SERVER', `${what} failed`);
}

function withAttempts(err: MaskinportenError, attempts: number): MaskinportenError {
  if (attempts > 1 && err.attempts === undefined) (err as { attempts: number | undefined }).attempts = attempts;
  return err;
}

/** Classifies what an attempt threw. Errors of this package pass through unchanged. */
function toTransportError(
  err: unknown,
  what: string,
  timedOut: boolean,
  timeoutMs: number,
  attempt: number,
): MaskinportenError {
  if (err instanceof MaskinportenError) return err;
  if (timedOut) {
    return new UnavailableError('ERR_TIMEOUT', `${what} timed out after ${timeoutMs} ms (attempt ${attempt})`, {
      cause: err,
    });
  }
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const reason = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new UnavailableError('ERR_NETWORK', `${what} failed: network error (${reason})`, { cause: err });
}
