/**
 * Injected faults: how the emulator misbehaves on purpose so clients can be tested against a flaky Maskinporten or
 * Altinn. A fault targets one endpoint (or all), may add latency, answer a status, reset the connection or damage
 * the body, and may apply only a number of times before the endpoint recovers.
 */
import { ArgumentError } from '../errors.ts';

/**
 * The endpoints a fault can target.
 * @see {@link FaultSpec}
 */
export type EndpointName =
  | 'discovery'
  | 'jwks'
  | 'token'
  | 'exchange'
  | 'altinn-jwks'
  | 'self-service'
  | 'notifications'
  | 'echo';

/**
 * Every endpoint name, for validation and documentation.
 * @see {@link EndpointName}
 */
export const ENDPOINT_NAMES: readonly EndpointName[] = [
  'discovery',
  'jwks',
  'token',
  'exchange',
  'altinn-jwks',
  'self-service',
  'notifications',
  'echo',
];

/**
 * A fault to inject.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking
 */
export interface FaultSpec {
  /** The endpoint to misbehave, or `*` for all of them. */
  endpoint: EndpointName | '*';
  /**
   * Delay (ms) before the endpoint answers or misbehaves, on the emulator's clock: real time, unless the clock
   * given to `startEmulator` has timers (a `ManualClock`), which then decides when it ends. A caller that hangs up
   * ends the delay (the request is logged as closed by the client).
   */
  latencyMs?: number;
  /** Answer this status (e.g. 500, 503, 429) with a JSON error instead of handling the request. */
  status?: number;
  /** With status 429 or 503: the `Retry-After` header, in seconds. */
  retryAfter?: number;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /**
   * Damage the body: `truncated` sends half of the real answer and closes the connection; `non-json` answers 200
   * with a plain-text body; `html` answers an HTML error page (status 502 unless `status` says otherwise).
   */
  body?: 'truncated' | 'non-json' | 'html';
  /** Apply this many times, then recover. Unlimited when left out. */
  times?: number;
}

/**
 * A fault as held by the emulator, with its id and remaining uses.
 * @see {@link FaultSpec}
 */
export interface ActiveFault extends FaultSpec {
  id: number;
  remaining: number | null;
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new ArgumentError(message);
}

/** Validates a fault spec received from code or over the admin route. */
export function validateFault(spec: unknown): FaultSpec {
  check(spec !== null && typeof spec === 'object' && !Array.isArray(spec), 'a fault must be a JSON object');
  const f = spec as Record<string, unknown>;
  const allowed = new Set(['endpoint', 'latencyMs', 'status', 'retryAfter', 'reset', 'body', 'times']);
  const unknown = Object.keys(f).filter((k) => !allowed.has(k));
  check(unknown.length === 0, `unknown fault fields: ${unknown.join(', ')}; allowed: ${[...allowed].join(', ')}`);
  check(
    f.endpoint === '*' || ENDPOINT_NAMES.includes(f.endpoint as EndpointName),
    `fault.endpoint must be "*" or one of ${ENDPOINT_NAMES.join(', ')}, got ${JSON.stringify(f.endpoint)}`,
  );
  const nonNegInt = (v: unknown) => v === undefined || (Number.isInteger(v) && (v as number) >= 0);
  check(nonNegInt(f.latencyMs), 'fault.latencyMs must be a whole number of milliseconds ≥ 0');
  check(
    f.status === undefined ||
      (Number.isInteger(f.status) && (f.status as number) >= 400 && (f.status as number) <= 599),
    'fault.status must be an HTTP error status (400–599)',
  );
  check(nonNegInt(f.retryAfter), 'fault.retryAfter must be a whole number of seconds ≥ 0');
  check(f.reset === undefined || typeof f.reset === 'boolean', 'fault.reset must be true or false');
  check(
    f.body === undefined || f.body === 'truncated' || f.body === 'non-json' || f.body === 'html',
    'fault.body must be "truncated", "non-json" or "html"',
  );
  check(f.times === undefined || (Number.isInteger(f.times) && (f.times as number) >= 1), 'fault.times must be ≥ 1');
  check(
    f.latencyMs !== undefined || f.status !== undefined || f.reset === true || f.body !== undefined,
    'a fault needs at least one of latencyMs, status, reset or body',
  );
  return f as unknown as FaultSpec;
}

/** The set of active faults. The first matching fault with uses left applies to a request. */
export class FaultSet {
  #faults: ActiveFault[] = [];
  #nextId = 1;

  /** Adds a fault; returns its id for {@link remove}. */
  add(spec: FaultSpec): ActiveFault {
    const valid = validateFault(spec);
    const fault: ActiveFault = { ...valid, id: this.#nextId++, remaining: valid.times ?? null };
    this.#faults.push(fault);
    return { ...fault };
  }

  /** Removes one fault by id; returns whether it existed. */
  remove(id: number): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length !== before;
  }

  /** Removes every fault, or those of one endpoint. */
  clear(endpoint?: EndpointName | '*'): void {
    this.#faults = endpoint === undefined ? [] : this.#faults.filter((f) => f.endpoint !== endpoint);
  }

  /** The active faults. */
  list(): ActiveFault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** Takes one use of the fault that applies to `endpoint`, if any. */
  take(endpoint: EndpointName): ActiveFault | undefined {
    const fault = this.#faults.find((f) => f.endpoint === endpoint || f.endpoint === '*');
    if (!fault) return undefined;
    if (fault.remaining !== null) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.remove(fault.id);
    }
    return { ...fault };
  }
}
