/**
 * The emulator's request log: one entry per request with the decoded grant header and claims, the outcome and the
 * error. It never holds a signature, a private key, an assertion or an issued token.
 */
import type { EndpointName } from './faults.ts';

/** One logged request. @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin */
export interface RequestLogEntry {
  id: number;
  /** ISO time on the emulator's clock. */
  time: string;
  method: string;
  path: string;
  endpoint: EndpointName | 'admin' | 'other';
  status: number;
  outcome: 'ok' | 'error' | 'fault';
  /** OAuth `error` or a short error name. */
  error?: string;
  errorDescription?: string;
  mpCode?: string;
  clientId?: string;
  /** For token requests: the grant's header and claims (never its signature). */
  grant?: { header: Record<string, unknown>; claims: Record<string, unknown> };
  /** For exchange and API requests: claims of the presented token. */
  tokenClaims?: Record<string, unknown>;
  fault?: string;
  /** For a refusal: the rule the request broke, in a sentence. */
  rule?: string;
  /** For a refusal: what to change in the client so the request succeeds. */
  hint?: string;
  durationMs: number;
}

/** Called with each entry as it is logged. */
export type RequestLogListener = (entry: RequestLogEntry) => void;

/** A bounded, in-memory request log; the oldest entries fall off past `limit`. */
export class RequestLog {
  readonly #limit: number;
  #entries: RequestLogEntry[] = [];
  #nextId = 1;
  readonly #listeners = new Set<RequestLogListener>();

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  /** Appends an entry and gives it an id. */
  add(entry: Omit<RequestLogEntry, 'id'>): RequestLogEntry {
    const full = { id: this.#nextId++, ...entry };
    this.#entries.push(full);
    // Trim in chunks of a tenth of the limit, not one entry per request.
    if (this.#entries.length > this.#limit + Math.ceil(this.#limit / 10))
      this.#entries.splice(0, this.#entries.length - this.#limit);
    // A listener's failure (e.g. a closed stream) must not fail the request that was logged.
    for (const listener of this.#listeners) {
      try {
        listener(full);
      } catch {
        this.#listeners.delete(listener);
      }
    }
    return full;
  }

  /** Calls `listener` with every entry logged from now on; returns the function that stops it. */
  subscribe(listener: RequestLogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The logged entries, oldest first; optionally only those of one endpoint. */
  entries(filter: { endpoint?: string } = {}): RequestLogEntry[] {
    const kept = this.#entries.length > this.#limit ? this.#entries.slice(-this.#limit) : this.#entries;
    return kept.filter((e) => filter.endpoint === undefined || e.endpoint === filter.endpoint);
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries = [];
  }
}
