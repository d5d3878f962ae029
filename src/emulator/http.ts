/**
 * The small HTTP layer under the emulator's routes: a request context, bounded body reading, and one `send` through
 * which every answer passes, so the `Date` header follows the emulator's clock and body faults apply uniformly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorClock } from './clock.ts';
import type { ActiveFault, EndpointName } from './faults.ts';
import type { RequestLogEntry } from './request-log.ts';

/**
 * Largest request body the emulator reads; past it the answer is 413.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.5.14
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** An error answer thrown from a route and rendered as JSON by the server. */
export class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(typeof body.error_description === 'string' ? body.error_description : String(body.error ?? status));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** Shorthand for a JSON error with `error` and `error_description`. */
export function httpError(
  status: number,
  error: string,
  description: string,
  headers?: Record<string, string>,
): HttpError {
  return new HttpError(status, { error, error_description: description }, headers);
}

/** Everything a route needs about the request it handles. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  endpoint: EndpointName | 'admin' | 'other';
  clock: EmulatorClock;
  /** Hex id echoed in error descriptions as `(trace_id: …)`. */
  traceId: string;
  /** A fault that damages the real answer after the route produced it. */
  bodyFault?: ActiveFault;
  /** Fields the route adds to this request's log entry. */
  log: Partial<RequestLogEntry>;
}

/** An RFC 9457 problem+json error: `title`, `status`, `detail` (and `type` when given), with `WWW-Authenticate` when given. */
export function problem(
  status: number,
  title: string,
  detail: string,
  options: { type?: string; wwwAuthenticate?: string } = {},
): HttpError {
  return new HttpError(
    status,
    { ...(options.type ? { type: options.type } : {}), title, status, detail },
    {
      'content-type': 'application/problem+json',
      ...(options.wwwAuthenticate ? { 'www-authenticate': options.wwwAuthenticate } : {}),
    },
  );
}

/** Reads the request body, answering 413 (via {@link HttpError}) past `limit` bytes. */
export async function readBody(ctx: RequestContext, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(ctx.req.headers['content-length'] ?? 0);
  const tooLarge = () =>
    httpError(413, 'invalid_request', `Request body too large: the limit is ${limit} bytes.`, { connection: 'close' });
  if (declared > limit) throw tooLarge();
  // Plain listeners rather than `for await`: cheaper per request, and this runs on every token request.
  return new Promise<Buffer>((resolve, reject) => {
    const req = ctx.req;
    // A client that hung up (e.g. after a timeout) before its body was read: there is nothing to answer.
    const gone = () => Object.assign(new Error('the client closed the request'), { code: 'ECONNRESET' });
    if (req.destroyed && !req.readableEnded) {
      reject(gone());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(gone());
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** The media type of the request, lower-cased, without parameters. */
export function mediaType(ctx: RequestContext): string {
  return (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Sends an answer. Every route answers through here. */
export function send(
  ctx: RequestContext,
  status: number,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) return;
  ctx.log.status = status;
  if (ctx.bodyFault?.body === 'truncated') {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (bytes.length > 1) {
      ctx.log.outcome = 'fault';
      ctx.log.fault = 'truncated body';
      res.writeHead(status, responseHeaders(ctx, contentType, bytes.length, headers));
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
      return;
    }
  }
  // One writeHead with every header and the body as given (no copy): this runs for every token issued.
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, responseHeaders(ctx, contentType, length, headers));
  res.end(body);
}

/** The last `Date` header made, and the second (epoch) it shows: the header has whole seconds, so it is reused. */
let lastDate = { second: Number.NaN, header: '' };

/** The HTTP date of epoch ms `now`. */
function httpDate(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== lastDate.second) lastDate = { second, header: new Date(now).toUTCString() };
  return lastDate.header;
}

function responseHeaders(ctx: RequestContext, contentType: string, length: number, extra: Record<string, string>) {
  return {
    // The client measures skew from this header, so it must follow the emulator's clock, not the machine's.
    date: httpDate(ctx.clock.now()),
    'content-type': contentType,
    'content-length': String(length),
    'x-trace-id': ctx.traceId,
    ...extra,
  };
}

/** Sends `value` as JSON. */
export function sendJson(
  ctx: RequestContext,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  send(ctx, status, JSON.stringify(value), 'application/json; charset=utf-8', headers);
}

/** Sends a JSON error body and records it in the log entry. */
export function sendError(ctx: RequestContext, err: HttpError): void {
  ctx.log.outcome ??= 'error';
  if (typeof err.body.error === 'string') ctx.log.error = err.body.error;
  if (typeof err.body.error_description === 'string') ctx.log.errorDescription = err.body.error_description;
  const problem = err.headers['content-type'] === 'application/problem+json';
  send(
    ctx,
    err.status,
    JSON.stringify(err.body),
    problem ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8',
    Object.fromEntries(Object.entries(err.headers).filter(([k]) => k !== 'content-type')),
  );
}

/** The bearer token of the `Authorization` header, or undefined. */
export function bearerToken(ctx: RequestContext): string | undefined {
  const header = ctx.req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Reads an `application/json` body that must be a JSON object: 415 for another media type, 400 for anything else. */
export async function jsonBody(ctx: RequestContext): Promise<Record<string, unknown>> {
  if (mediaType(ctx) !== 'application/json')
    throw httpError(415, 'invalid_request', 'Send the body as application/json.');
  // Read outside the try: a body past the limit must stay a 413, not become a 400.
  const text = (await readBody(ctx)).toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the same answer as for a non-object
  }
  throw httpError(400, 'invalid_request', 'The body must be a JSON object.');
}
