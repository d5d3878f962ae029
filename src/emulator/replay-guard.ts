/**
 * Remembers grant ids (`jti`) so a grant can be used once only (MP-012). An id is kept until its grant's `exp`
 * plus the allowed skew has passed, after which the grant would be refused as expired anyway.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  #sinceSweep = 0;

  /** Records `jti` for `clientId`, remembered until `forgetAfterMs`; false when it was seen before. */
  use(clientId: string, jti: string, forgetAfterMs: number, nowMs: number): boolean {
    const key = `${clientId}\u0000${jti}`;
    const known = this.#seen.get(key);
    if (known !== undefined && known > nowMs) return false;
    this.#seen.set(key, forgetAfterMs);
    // Sweep now and then rather than on a timer, so an idle emulator keeps no timers alive.
    if (++this.#sinceSweep >= 1024) this.sweep(nowMs);
    return true;
  }

  /** Forgets every id whose grant can no longer be used. */
  sweep(nowMs: number): void {
    this.#sinceSweep = 0;
    for (const [key, until] of this.#seen) if (until <= nowMs) this.#seen.delete(key);
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#seen.size;
  }
}
