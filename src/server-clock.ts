/**
 * The server's clock as seen through the `Date` headers of its answers: one estimator for the client, the
 * self-service client and the CLI's `doctor`.
 * @module
 */
import { type Clock, systemClock } from './clock.ts';

/**
 * Estimates how far a server's clock is from ours from the `Date` header of an answer. The header is stamped
 * somewhere between our request leaving and its answer arriving, and carries whole seconds (truncated), so the
 * best estimate puts the server's time at the header plus half a second, at the midpoint of sending and receiving.
 * The latest measurement wins.
 *
 * @example
 * const server = new ServerClock();
 * const sentAt = Date.now();
 * const res = await fetch(url);
 * server.observe(res.headers.get('date'), sentAt, Date.now());
 * server.offsetMs; // e.g. 1500: the server runs 1.5 s ahead
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-6.6.1 (the Date header)
 */
export class ServerClock {
  readonly #clock: Clock;
  #offsetMs: number | undefined;

  /** Creates an estimator with no measurement yet. @param clock our clock (epoch ms); the system's by default */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /**
   * Records the `Date` header of an answer to a request sent at `sentAt` and received at `receivedAt` (our clock).
   * A missing or unreadable header changes nothing.
   * @param date the `Date` header, if any
   * @param sentAt when the request left (epoch ms, our clock)
   * @param receivedAt when the answer's headers arrived (epoch ms, our clock); `sentAt` by default
   * @returns the new offset (ms), or undefined when the header told nothing
   */
  observe(date: string | null | undefined, sentAt: number, receivedAt: number = sentAt): number | undefined {
    if (!date) return undefined;
    const stamped = Date.parse(date);
    if (Number.isNaN(stamped) || !Number.isFinite(sentAt) || !Number.isFinite(receivedAt)) return undefined;
    this.#offsetMs = Math.round(stamped + 500 - (sentAt + receivedAt) / 2);
    return this.#offsetMs;
  }

  /** The last measured offset (ms) of the server's clock from ours (positive: the server is ahead), if any. */
  get offsetMs(): number | undefined {
    return this.#offsetMs;
  }

  /** The current time on the server's clock as last measured; ours before any measurement. @returns Epoch ms. */
  now(): number {
    return this.#clock.now() + (this.#offsetMs ?? 0);
  }
}
