/**
 * Invalidations made while Redis was unavailable, kept so they reach every process once it is back: each is
 * applied then (the entry deleted only if it still holds the invalidated token, every process told). One per entry
 * and token, each forgotten once its token would have expired anyway, and at most `max` of them (past that the
 * oldest go).
 */
import { performance } from 'node:perf_hooks';

/** An invalidation not yet applied. */
export interface PendingInvalidation {
  readonly name: string;
  /** Fingerprint of the invalidated token; empty: whatever the entry holds. */
  readonly fp: string;
  /** How long (ms) the invalidated token can still be served anywhere (the tombstone's lifetime). */
  readonly ttlMs: number;
  /** performance.now() after which it no longer matters. */
  readonly until: number;
}

/** See the module comment. */
export class PendingInvalidations {
  readonly #max: number;
  readonly #byId = new Map<string, PendingInvalidation>();

  static #id(p: { name: string; fp: string }): string {
    return `${p.name}:${p.fp}`;
  }

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#byId.size;
  }

  add(name: string, fp: string, ttlMs: number): void {
    const entry = { name, fp, ttlMs, until: performance.now() + ttlMs };
    const id = PendingInvalidations.#id(entry);
    this.#byId.delete(id);
    this.#byId.set(id, entry);
    if (this.#byId.size > this.#max) this.#byId.delete(this.#byId.keys().next().value as string);
  }

  /** Takes every invalidation still worth applying (the caller puts back those it could not apply). */
  take(): PendingInvalidation[] {
    const now = performance.now();
    const out = [...this.#byId.values()].filter((p) => p.until > now);
    this.#byId.clear();
    return out;
  }

  /** Puts back one that could not be applied. */
  restore(p: PendingInvalidation): void {
    if (this.#byId.size < this.#max) this.#byId.set(PendingInvalidations.#id(p), p);
  }
}
