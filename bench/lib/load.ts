/**
 * A small closed-loop load generator: a fixed number of keep-alive HTTP/1.1 connections, each sending the next
 * prepared request as soon as the previous answer is in. Requests are serialised up front and answers are parsed
 * only as far as needed (status line, Content-Length), so the generator costs little CPU next to the servers it
 * drives — on a small machine it shares their cores.
 */
import { connect, type Socket } from 'node:net';

/** What one batch of requests produced. */
export interface BatchResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  /** The first error seen (status and body, or the exception), for the report. */
  firstError?: string;
  /** The body of the first successful answer, to inspect the token it carries. */
  sample?: string;
  /** CPU microseconds this process spent while the batch ran: the load generator's own cost. */
  cpuMicros: number;
}

interface Answer {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection that carries one request at a time. */
class Connection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: { resolve: (a: Answer) => void; reject: (e: Error) => void } | undefined;
  #closeAfter = false;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  #open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('data', (chunk: Buffer) => this.#onData(chunk));
        socket.on('error', (err) => this.#fail(err));
        socket.on('close', () => this.#fail(new Error('connection closed by the server')));
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  #fail(err: Error): void {
    this.#socket = undefined;
    this.#buffer = Buffer.alloc(0);
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(err);
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0 || !this.#pending) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.#socket?.destroy();
      this.#fail(new Error(`answer without Content-Length (status ${status})`));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.#buffer.length < total) return;
    const body = this.#buffer.subarray(end + 4, total);
    this.#buffer = this.#buffer.subarray(total);
    this.#closeAfter = /\r\nconnection:\s*close/i.test(head);
    const pending = this.#pending;
    this.#pending = undefined;
    pending.resolve({ status, body });
  }

  /** Sends one serialised request and resolves with its answer. */
  async send(request: Buffer): Promise<Answer> {
    if (this.#closeAfter) {
      this.#socket?.destroy();
      this.#socket = undefined;
      this.#closeAfter = false;
    }
    const fresh = !this.#socket;
    this.#socket ??= await this.#open();
    const socket = this.#socket;
    try {
      return await new Promise<Answer>((resolve, reject) => {
        this.#pending = { resolve, reject };
        socket.write(request);
      });
    } catch (err) {
      // A kept-alive socket the server closed just as we reused it: nothing reached the server's handler (so
      // the grant is unused), and sending it again on a new connection is what HTTP clients do.
      if (!fresh && this.#buffer.length === 0) return this.send(request);
      throw err;
    }
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

/** Keep-alive connections to one loopback server. */
export class LoadClient {
  readonly #url: URL;
  readonly #connections: Connection[];
  readonly concurrency: number;

  constructor(endpoint: string, concurrency: number) {
    this.#url = new URL(endpoint);
    if (this.#url.hostname !== '127.0.0.1' && this.#url.hostname !== '[::1]') {
      throw new Error(`benchmarks talk to loopback only, not ${this.#url.hostname}`);
    }
    this.concurrency = concurrency;
    const host = this.#url.hostname.replace(/^\[|\]$/g, '');
    this.#connections = Array.from({ length: concurrency }, () => new Connection(host, Number(this.#url.port)));
  }

  /** A form POST to the endpoint, serialised. */
  #request(body: string): Buffer {
    const bytes = Buffer.from(body);
    const head =
      `POST ${this.#url.pathname} HTTP/1.1\r\nHost: ${this.#url.host}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n` +
      `Content-Length: ${bytes.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
  }

  /** Posts every body (each once) over `concurrency` connections and times the whole batch. */
  async run(bodies: readonly string[]): Promise<BatchResult> {
    const requests = bodies.map((b) => this.#request(b));
    const result: BatchResult = { ok: 0, errors: 0, elapsedMs: 0, cpuMicros: 0 };
    let next = 0;
    const worker = async (connection: Connection) => {
      while (next < requests.length) {
        const request = requests[next++]!;
        try {
          const { status, body } = await connection.send(request);
          if (status === 200 && body.includes('"access_token"')) {
            result.ok++;
            result.sample ??= body.toString('utf8');
          } else {
            result.errors++;
            result.firstError ??= `HTTP ${status}: ${body.toString('utf8', 0, 500)}`;
          }
        } catch (err) {
          result.errors++;
          result.firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    };
    // Let the event loop first take in any connection the server closed while we were busy signing.
    await new Promise((resolve) => setImmediate(resolve));
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(this.#connections.slice(0, Math.min(this.concurrency, requests.length)).map(worker));
    result.elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    result.cpuMicros = used.user + used.system;
    return result;
  }

  close(): void {
    for (const c of this.#connections) c.close();
  }
}
