/**
 * The emulator's HTTP dispatcher: finds the route, applies any injected fault, runs the handler, renders every
 * failure as a JSON error (404, 405, 413, OAuth and Maskinporten errors) and logs the request. Nothing a caller
 * sends produces a 500 unless a fault asks for one, and nothing at all can make the process exit: {@link guard}
 * answers 500 for whatever escapes and the server keeps serving.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep } from '../clock.ts';
import { ArgumentError } from '../errors.ts';
import { randomHex } from '../keys/random-pool.ts';
import { explainEntry } from './console/explain.ts';
import { consoleRoutes } from './console/routes.ts';
import type { EmulatorCore } from './core.ts';
import type { ActiveFault, EndpointName } from './faults.ts';
import { HttpError, httpError, type RequestContext, send, sendError, sendJson } from './http.ts';
import { MpError, renderMpError } from './mp-errors.ts';
import type { RequestLogEntry } from './request-log.ts';
import type { Route } from './routes/route.ts';
import { isWriteMethod, refuseCrossSite } from './same-origin.ts';

function faultStatusBody(status: number): Record<string, string> {
  if (status === 429) return { error: 'too_many_requests', error_description: 'Rate limit exceeded. Try again later.' };
  if (status === 503)
    return { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable.' };
  return { error: 'server_error', error_description: 'An unexpected error occurred.' };
}

/** Applies the part of a fault that replaces the answer; true when the request is fully handled by it. */
async function applyFault(ctx: RequestContext, fault: ActiveFault): Promise<boolean> {
  const what: string[] = [];
  if (fault.latencyMs) {
    what.push(`latency ${fault.latencyMs} ms`);
    ctx.log.fault = what.join(', ');
    // On the emulator's clock, so a test's fake clock drives it; a caller that hangs up ends the hold at once
    // (the request is then logged as closed by the client).
    const hungUp = new AbortController();
    const onClose = () => hungUp.abort();
    ctx.res.once('close', onClose);
    try {
      await sleep(ctx.clock, fault.latencyMs, hungUp.signal);
    } finally {
      ctx.res.off('close', onClose);
    }
  }
  ctx.log.fault = what.join(', ');
  if (fault.reset) {
    ctx.log.fault = [...what, 'connection reset'].join(', ');
    ctx.log.outcome = 'fault';
    ctx.log.status = 0;
    ctx.req.socket.resetAndDestroy();
    return true;
  }
  if (fault.body === 'html') {
    ctx.log.outcome = 'fault';
    ctx.log.fault = [...what, 'html body'].join(', ');
    const status = fault.status ?? 502;
    send(
      ctx,
      status,
      `<!DOCTYPE html><html><head><title>${status} Bad Gateway</title></head><body><h1>${status}</h1></body></html>`,
      'text/html; charset=utf-8',
    );
    return true;
  }
  if (fault.body === 'non-json') {
    ctx.log.outcome = 'fault';
    ctx.log.fault = [...what, 'non-json body'].join(', ');
    send(ctx, fault.status ?? 200, 'upstream said: this is not JSON', 'text/plain; charset=utf-8');
    return true;
  }
  if (fault.status !== undefined) {
    ctx.log.outcome = 'fault';
    ctx.log.fault = [...what, `status ${fault.status}`].join(', ');
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
    sendJson(ctx, fault.status, faultStatusBody(fault.status), headers);
    return true;
  }
  if (fault.body === 'truncated') {
    ctx.bodyFault = fault;
    ctx.log.fault = [...what, 'truncated body'].join(', ');
  }
  return false;
}

function matchRoute(routes: Route[], path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: { ...(m.groups ?? {}) } };
  }
  return undefined;
}

/** Builds the request listener for the emulator. */
export function createHandler(core: EmulatorCore, apiRoutes: Route[]) {
  // The console (page, assets, live stream) after the API's own routes, which therefore always win.
  const routes = [...apiRoutes, ...consoleRoutes(core)];
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const traceId = randomHex(16);
    const rawPath = req.url ?? '/';
    const parsed = URL.parse(core.url + rawPath);
    const ctx: RequestContext = {
      req,
      res,
      // Appending (not resolving) keeps a path like `//host/x` on this origin.
      // Appending (not resolving) keeps a path like `//host/x` on this origin; parsed once.
      url: parsed ?? new URL(`${core.url}/`),
      endpoint: 'other',
      clock: core.clock,
      traceId,
      log: {},
    };
    try {
      if (!core.access.allowsHost(req.headers.host)) {
        // Before anything else: a page that rebound its DNS name to this address must learn nothing.
        throw httpError(
          403,
          'invalid_request',
          'The Host header does not name this emulator: use the address it listens on, or add the name to its hostnames option.',
        );
      }
      if (!rawPath.startsWith('/') || !parsed) throw httpError(400, 'invalid_request', 'Malformed request target.');
      const found = matchRoute(routes, ctx.url.pathname);
      if (!found) throw httpError(404, 'not_found', `No such endpoint: ${ctx.url.pathname}`);
      ctx.endpoint = found.route.endpoint;
      if (ctx.endpoint === 'admin' && !core.access.allowsAdmin(req.headers.authorization)) {
        throw httpError(
          401,
          'invalid_token',
          'The control routes of an emulator bound beyond loopback need Authorization: Bearer <adminSecret>.',
          { 'www-authenticate': 'Bearer realm="emulator-control"' },
        );
      }
      const methods = found.route.methods;
      // HEAD is GET without a body (Node leaves the body out of HEAD answers by itself).
      const handler = req.method === 'HEAD' ? methods.GET : methods[req.method as keyof Route['methods']];
      if (!handler) {
        const allow = [...Object.keys(methods), ...(methods.GET ? ['HEAD'] : [])].join(', ');
        throw httpError(405, 'method_not_allowed', `Use ${allow} on ${ctx.url.pathname}.`, { allow });
      }
      // One check for every write of the control routes and the self-service API (the console's included): a page
      // of another site must not register clients, keys or faults through the user's browser.
      if ((ctx.endpoint === 'admin' || ctx.endpoint === 'self-service') && isWriteMethod(req.method)) {
        refuseCrossSite(req, core.url, ctx.endpoint === 'admin' ? 'The control route' : 'The self-service API');
      }
      if (ctx.endpoint !== 'admin' && ctx.endpoint !== 'other') {
        const fault = core.faults.take(ctx.endpoint as EndpointName);
        if (fault && (await applyFault(ctx, fault))) return;
      }
      await handler(ctx, found.params);
      ctx.log.outcome ??= 'ok';
    } catch (err) {
      if (err instanceof MpError) {
        ctx.log.mpCode = err.mpCode;
        sendError(ctx, new HttpError(err.status, { ...renderMpError(err, core.url, traceId) }));
      } else if (err instanceof HttpError) {
        sendError(ctx, err);
      } else if (err instanceof ArgumentError) {
        sendError(ctx, httpError(400, 'invalid_request', err.message));
      } else if (ctx.res.destroyed) {
        // The caller hung up (e.g. mid-body): nobody to answer, and not the emulator's failure.
        ctx.log.outcome = 'error';
        ctx.log.error = 'client_closed_request';
        ctx.log.errorDescription = 'The client closed the connection before the request was handled.';
      } else {
        sendError(ctx, httpError(500, 'server_error', 'The emulator failed to handle the request.'));
        ctx.log.errorDescription = err instanceof Error ? err.message : String(err);
      }
    } finally {
      if (ctx.endpoint !== 'admin') {
        const entry = {
          time: isoTime(core),
          method: req.method ?? '',
          path: ctx.url.pathname,
          endpoint: ctx.endpoint,
          status: ctx.log.status ?? 0,
          outcome: ctx.log.outcome ?? 'error',
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
          ...withoutCore(ctx.log),
        } as Omit<RequestLogEntry, 'id'>;
        // Only a refusal or a fault has an explanation; an answered request is logged as it is, not copied.
        const explained = explainEntry(entry, core);
        core.log.add(explained ? { ...entry, ...explained } : entry);
      }
    }
  };
}

/** The log entry's time; a clock out of the Date range (a faulty base clock) must not fail the request. */
function isoTime(core: EmulatorCore): string {
  const now = new Date(core.clock.now());
  return Number.isNaN(now.getTime()) ? 'invalid' : now.toISOString();
}

/**
 * Wraps the request listener so that nothing escapes it: whatever throws (a bug, a faulty injected clock) is
 * answered with a JSON 500 when the answer has not started, and the connection is closed when it has. The
 * process never sees an unhandled rejection from a request.
 */
export function guard(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const fail = () => {
      try {
        if (!res.headersSent && !res.destroyed) {
          const body = '{"error":"server_error","error_description":"The emulator failed to handle the request."}';
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
          res.end(body);
        } else if (!res.writableEnded) {
          res.destroy();
        }
      } catch {
        res.destroy();
      }
    };
    try {
      handler(req, res).catch(fail);
    } catch {
      fail();
    }
  };
}

function withoutCore(log: Partial<RequestLogEntry>): Partial<RequestLogEntry> {
  const { status: _s, outcome: _o, ...rest } = log;
  return rest;
}
