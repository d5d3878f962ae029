/**
 * The live request stream (`GET /_emulator/events`, Server-Sent Events): each logged request as an event carrying
 * the scrubbed entry and its rendered markup, so the page shows it as the server would. A reconnecting browser sends
 * `Last-Event-ID` and gets what it missed from the log.
 */
import type { EmulatorCore } from '../core.ts';
import type { RequestContext } from '../http.ts';
import type { RequestLogEntry } from '../request-log.ts';
import { renderEntry } from './render-requests.ts';
import { pageEntry } from './views.ts';

/** How often a comment line keeps idle connections (and proxies) from timing out. */
const KEEPALIVE_MS = 15_000;

/** Unsent bytes a stream may hold before its reader is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * The SSE frame of one entry.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
export function entryEvent(entry: RequestLogEntry): string {
  const safe = pageEntry(entry);
  // JSON.stringify escapes line breaks, so the data is one line as SSE needs.
  return `id: ${entry.id}\nevent: request\ndata: ${JSON.stringify({ entry: safe, html: renderEntry(safe).value })}\n\n`;
}

/**
 * Answers with an event stream of the request log until the browser disconnects.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
export function openEventStream(core: EmulatorCore, ctx: RequestContext): void {
  const { req, res } = ctx;
  ctx.log.status = 200;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  const write = (entry: RequestLogEntry) => {
    if (res.destroyed) return;
    // A reader that stopped reading would make the server buffer every request for it: drop it instead (its
    // browser reconnects and catches up from Last-Event-ID).
    if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
    else res.write(entryEvent(entry));
  };
  const lastHeader = req.headers['last-event-id'];
  const since = typeof lastHeader === 'string' ? lastHeader : ctx.url.searchParams.get('since');
  const last = since === null || since === '' ? Number.NaN : Number(since);
  if (Number.isSafeInteger(last) && last >= 0) for (const e of core.log.entries()) if (e.id > last) write(e);
  const unsubscribe = core.log.subscribe(write);
  const ping = setInterval(() => {
    if (!res.destroyed) res.write(': keep-alive\n\n');
  }, KEEPALIVE_MS);
  ping.unref();
  res.on('close', () => {
    unsubscribe();
    clearInterval(ping);
  });
}
