/**
 * What every route of Digdir's self-service API shares (Digdir's self-service API docs): bearer tokens from this
 * emulator checked for the operation's scopes, JSON bodies, the canonical `/api/v1` paths with the older bare paths as
 * aliases, and Digdir's error body for every failure:
 * `{status, timestamp, correlation_id, errors: [{errorMessage, isFieldError, objectName, fieldIdentifier}],
 * error, error_description}` — real clients read `errors[].errorMessage` and crash on a plain OAuth error body.
 */
import { ArgumentError } from '../../errors.ts';
import type { EmulatorCore } from '../core.ts';
import { type DigdirObjectName, FieldError } from '../field-error.ts';
import { bearerToken, HttpError, httpError, mediaType, type RequestContext, readBody } from '../http.ts';
import { checkToken } from '../token-check.ts';
import type { Handler, Route } from './route.ts';

/** Where the self-service API lives on the emulator's origin, as on Digdir's since 2025-05-22. */
export const API_V1 = '/api/v1';

/** One entry of Digdir's `errors` array. */
export interface DigdirErrorEntry {
  errorMessage: string;
  isFieldError: boolean;
  objectName: string;
  fieldIdentifier: string | null;
}

/** Digdir's error body. */
export interface DigdirErrorBody {
  status: number;
  timestamp: string;
  correlation_id: string;
  errors: DigdirErrorEntry[];
  error: string;
  error_description: string;
}

/** A route's own error: status, a short code, and the entries of Digdir's `errors` array. */
class DigdirError extends Error {
  readonly status: number;
  readonly code: string;
  readonly entries: DigdirErrorEntry[];
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, entries: DigdirErrorEntry[], headers: Record<string, string> = {}) {
    super(entries.map((e) => e.errorMessage).join(', '));
    this.status = status;
    this.code = code;
    this.entries = entries;
    this.headers = headers;
  }
}

/**
 * An error that is not about one field, rendered in Digdir's body by the route wrapper.
 *
 * @param status - HTTP status.
 * @param code - The short code for `error` (statuses other than 400).
 * @param message - The `errorMessage`.
 * @param objectName - The object the error is about.
 * @param headers - Extra answer headers (`www-authenticate`, `allow`).
 * @returns The error to throw.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function digdirError(
  status: number,
  code: string,
  message: string,
  objectName: DigdirObjectName | 'Request' = 'Request',
  headers: Record<string, string> = {},
): Error {
  return new DigdirError(
    status,
    code,
    [{ errorMessage: message, isFieldError: false, objectName, fieldIdentifier: null }],
    headers,
  );
}

// Digdir prints nanoseconds: 2025-07-02T08:30:00.000000000Z.
const timestamp = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

function render(ctx: RequestContext, err: DigdirError): HttpError {
  const messages = err.entries.map((e) => e.errorMessage);
  // A validation failure (400) joins its messages behind a comma into `error` and `error_description`, exactly as
  // the live API does; other failures keep a short code in `error`, as OAuth clients expect.
  const joined = `, ${messages.join(', ')}`;
  const body: DigdirErrorBody = {
    status: err.status,
    timestamp: timestamp(ctx.clock.now()),
    correlation_id: ctx.traceId,
    errors: err.entries,
    error: err.status === 400 ? joined : err.code,
    error_description: err.status === 400 ? joined : messages.join(', '),
  };
  return new HttpError(err.status, body as unknown as Record<string, unknown>, err.headers);
}

/** Turns whatever a handler threw into Digdir's error body; anything unknown goes on to the server (500). */
function toDigdir(ctx: RequestContext, err: unknown, objectName: DigdirObjectName): unknown {
  if (err instanceof DigdirError) return render(ctx, err);
  if (err instanceof FieldError) {
    return render(
      ctx,
      new DigdirError(400, 'invalid_request', [
        { errorMessage: err.message, isFieldError: true, objectName: err.objectName, fieldIdentifier: err.field },
      ]),
    );
  }
  if (err instanceof ArgumentError)
    return render(ctx, digdirError(400, 'invalid_request', err.message, objectName) as DigdirError);
  if (err instanceof HttpError && !('correlation_id' in err.body)) {
    const description = String(err.body.error_description ?? err.message);
    const { 'content-type': _type, ...headers } = err.headers;
    return render(
      ctx,
      digdirError(err.status, String(err.body.error ?? 'error'), description, objectName, headers) as DigdirError,
    );
  }
  return err;
}

/** A handler whose every failure is answered in Digdir's error shape. */
export function digdirHandler(handler: Handler, objectName: DigdirObjectName): Handler {
  return async (ctx, params) => {
    try {
      await handler(ctx, params);
    } catch (err) {
      throw toDigdir(ctx, err, objectName);
    }
  };
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;

/** The earlier answers on the bare paths: errors as `{error, error_description}`, the same status codes. */
function legacyHandler(handler: Handler): Handler {
  return async (ctx, params) => {
    try {
      await handler(ctx, params);
    } catch (err) {
      if (err instanceof DigdirError) throw httpError(err.status, err.code, err.message, err.headers);
      if (err instanceof FieldError)
        throw httpError(400, err.objectName === 'Client' ? 'invalid_client_metadata' : 'invalid_request', err.message);
      if (err instanceof ArgumentError) throw httpError(400, 'invalid_request', err.message);
      throw err;
    }
  };
}

/**
 * A self-service route at `/api/v1<path>`: every failure, including the 405 for a method the path lacks (any
 * method: the table answers for every name it is asked), is in Digdir's error shape. With `legacy`, the route is
 * the first edition's alias at the bare `<path>` instead, answering as it always did.
 */
export function selfServiceRoute(
  path: string,
  objectName: DigdirObjectName,
  methods: Route['methods'],
  legacy = false,
): Route {
  if (legacy) {
    const table: Route['methods'] = {};
    for (const m of METHODS) if (methods[m]) table[m] = legacyHandler(methods[m]);
    return { pattern: new RegExp(`^${path}$`), endpoint: 'self-service', methods: table };
  }
  const allow = [...METHODS.filter((m) => methods[m]), ...(methods.GET ? ['HEAD'] : [])].join(', ');
  const wrapped: Record<string, Handler> = {};
  for (const m of METHODS) {
    const handler = methods[m];
    if (handler) wrapped[m] = digdirHandler(handler, objectName);
  }
  const notAllowed = digdirHandler((ctx) => {
    throw digdirError(405, 'method_not_allowed', `Use ${allow} on ${ctx.url.pathname}.`, objectName, { allow });
  }, objectName);
  const table = new Proxy(wrapped, {
    get: (target, key) => (typeof key === 'string' && Object.hasOwn(target, key) ? target[key] : notAllowed),
  });
  return { pattern: new RegExp(`^${API_V1}${path}$`), endpoint: 'self-service', methods: table };
}

/** A catch-all for unknown paths under `/api/v1`, answered in Digdir's shape whatever the method. */
export function unknownApiPath(): Route {
  const notFound = digdirHandler((ctx) => {
    throw digdirError(404, 'not_found', `No such endpoint: ${ctx.url.pathname}`);
  }, 'Client');
  return {
    pattern: new RegExp(`^${API_V1}(?:/.*)?$`),
    endpoint: 'self-service',
    methods: new Proxy({}, { get: () => notFound }),
  };
}

/** Checks the caller's bearer token for one of `anyOf`; returns the caller's organisation number. */
export function authorize(core: EmulatorCore, ctx: RequestContext, anyOf: readonly string[]): string {
  const check = checkToken(bearerToken(ctx), {
    key: core.state.maskinportenKey,
    issuer: core.issuer,
    nowMs: core.clock.now(),
  });
  if (!check.ok) {
    throw digdirError(401, 'invalid_token', check.reason, 'Request', {
      'www-authenticate': 'Bearer error="invalid_token"',
    });
  }
  ctx.log.tokenClaims = check.claims;
  const granted = String(check.claims.scope ?? '').split(' ');
  if (!anyOf.some((s) => granted.includes(s))) {
    throw digdirError(
      403,
      'insufficient_scope',
      `This operation needs one of the scopes: ${anyOf.join(', ')}.`,
      'Request',
      {
        'www-authenticate': `Bearer error="insufficient_scope", scope="${anyOf.join(' ')}"`,
      },
    );
  }
  const consumer = check.claims.consumer as { ID?: string } | undefined;
  return String(consumer?.ID ?? '').replace(/^0192:/, '');
}

/** Reads a JSON object body (415 for another media type, 400 for anything but an object). */
export async function readJson(ctx: RequestContext): Promise<Record<string, unknown>> {
  if (mediaType(ctx) !== 'application/json')
    throw httpError(415, 'invalid_request', 'Send the body as application/json.');
  const text = (await readBody(ctx)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw httpError(400, 'invalid_request', 'The body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw httpError(400, 'invalid_request', 'The body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}
