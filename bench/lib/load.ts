/**
 * A small closed-loop load generator on node:http: a fixed number of keep-alive connections, each sending the
 * next prepared body as soon as its previous answer is in. Bodies are prepared (signed) before timing starts.
 */
import { Agent, request } from 'node:http';

/** What one batch of requests produced. */
export interface BatchResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  /** The first error seen (status and body, or the exception), for the report. */
  firstError?: string;
  /** The body of the first successful answer, to inspect the token it carries. */
  sample?: string;
}

/** Keep-alive connections to one server. */
export class LoadClient {
  readonly #url: URL;
  readonly #agent: Agent;
  readonly concurrency: number;

  constructor(endpoint: string, concurrency: number) {
    this.#url = new URL(endpoint);
    if (this.#url.hostname !== '127.0.0.1' && this.#url.hostname !== '[::1]') {
      throw new Error(`benchmarks talk to loopback only, not ${this.#url.hostname}`);
    }
    this.concurrency = concurrency;
    this.#agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  }

  #post(body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          path: this.#url.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            accept: 'application/json',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', (err: Error & { reusedSocket?: boolean }) => {
        err.reusedSocket = req.reusedSocket;
        reject(err);
      });
      req.end(body);
    });
  }

  /** Posts every body (each once) over `concurrency` connections and times the whole batch. */
  async run(bodies: readonly string[]): Promise<BatchResult> {
    const result: BatchResult = { ok: 0, errors: 0, elapsedMs: 0 };
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        try {
          const { status, text } = await this.#post(body).catch((err: Error & { reusedSocket?: boolean }) => {
            // A kept-alive socket the server closed just as we reused it: the request never reached the
            // server's handler (so its grant is unused), and sending it again is what HTTP clients do.
            if (err.reusedSocket) return this.#post(body);
            throw err;
          });
          if (status === 200 && text.includes('"access_token"')) {
            result.ok++;
            result.sample ??= text;
          } else {
            result.errors++;
            result.firstError ??= `HTTP ${status}: ${text.slice(0, 500)}`;
          }
        } catch (err) {
          result.errors++;
          result.firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    };
    // Let the event loop first take in any connection the server closed while we were busy signing.
    await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    await Promise.all(Array.from({ length: Math.min(this.concurrency, bodies.length) }, worker));
    result.elapsedMs = performance.now() - started;
    return result;
  }

  close(): void {
    this.#agent.destroy();
  }
}
