/**
 * The emulator's own control routes under `/_emulator`: health, faults, clock, request log and registration of
 * clients, scopes, delegations, system users and consents, so tests in any language can drive the emulator over
 * HTTP. They are never subject to injected faults and need no token: the emulator is for development and tests.
 */
import { ArgumentError } from '../../errors.ts';
import { isDateMs, MAX_DATE_MS } from '../clock.ts';
import { httpError, jsonBody, type RequestContext, sendJson } from '../http.ts';
import type { Route } from './route.ts';

/** What the admin routes need from the emulator: the same operations its programmatic API offers. */
export interface AdminOperations {
  info(): Record<string, unknown>;
  createClient(input: Record<string, unknown>): Promise<unknown>;
  defineScope(input: Record<string, unknown>): unknown;
  addDelegation(input: Record<string, unknown>): unknown;
  addSystemUser(input: Record<string, unknown>): unknown;
  addConsent(input: Record<string, unknown>): unknown;
  faults: {
    add(spec: unknown): unknown;
    remove(id: number): boolean;
    clear(): void;
    list(): unknown[];
  };
  clock: {
    describe(): Record<string, unknown>;
    setOffset(ms: number): void;
    advance(ms: number): void;
    set(ms: number): void;
  };
  log: { entries(filter: { endpoint?: string }): unknown[]; clear(): void };
}

async function guarded<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ArgumentError || err instanceof RangeError) throw httpError(400, 'invalid_request', err.message);
    throw err;
  }
}

function post(fn: (body: Record<string, unknown>) => unknown, status = 201) {
  return async (ctx: RequestContext) => {
    const body = await jsonBody(ctx);
    sendJson(ctx, status, await guarded(() => fn(body)));
  };
}

/** The admin routes. */
export function adminRoutes(ops: AdminOperations): Route[] {
  const admin = (pattern: RegExp, methods: Route['methods']): Route => ({ pattern, endpoint: 'admin', methods });
  return [
    admin(/^\/_emulator\/health$/, { GET: (ctx) => sendJson(ctx, 200, { status: 'ok' }) }),
    admin(/^\/_emulator\/info$/, { GET: (ctx) => sendJson(ctx, 200, ops.info()) }),
    admin(/^\/_emulator\/clients$/, { POST: post((b) => ops.createClient(b)) }),
    admin(/^\/_emulator\/scopes$/, { POST: post((b) => ops.defineScope(b)) }),
    admin(/^\/_emulator\/delegations$/, { POST: post((b) => ops.addDelegation(b)) }),
    admin(/^\/_emulator\/system-users$/, { POST: post((b) => ops.addSystemUser(b)) }),
    admin(/^\/_emulator\/consents$/, { POST: post((b) => ops.addConsent(b)) }),
    admin(/^\/_emulator\/faults$/, {
      GET: (ctx) => sendJson(ctx, 200, ops.faults.list()),
      POST: post((b) => ops.faults.add(b)),
      DELETE: (ctx) => {
        ops.faults.clear();
        sendJson(ctx, 200, { cleared: true });
      },
    }),
    admin(/^\/_emulator\/faults\/(?<id>\d+)$/, {
      DELETE: (ctx, p) => {
        if (!ops.faults.remove(Number(p.id))) throw httpError(404, 'not_found', `No fault with id ${p.id}.`);
        sendJson(ctx, 200, { removed: Number(p.id) });
      },
    }),
    admin(/^\/_emulator\/clock$/, {
      GET: (ctx) => sendJson(ctx, 200, ops.clock.describe()),
      POST: async (ctx) => {
        const body = await jsonBody(ctx);
        await guarded(() => {
          const num = (name: string) => {
            const v = body[name];
            if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${name} must be a number`);
            return v;
          };
          if ('offsetMs' in body) ops.clock.setOffset(num('offsetMs'));
          else if ('advanceMs' in body) ops.clock.advance(num('advanceMs'));
          else if ('now' in body) {
            const t = typeof body.now === 'string' ? Date.parse(body.now) : body.now;
            if (typeof t !== 'number' || !isDateMs(t))
              throw new ArgumentError(`now must be an ISO date or epoch ms within the Date range (±${MAX_DATE_MS})`);
            ops.clock.set(t);
          } else throw new ArgumentError('send one of offsetMs, advanceMs or now');
        });
        sendJson(ctx, 200, ops.clock.describe());
      },
    }),
    admin(/^\/_emulator\/log$/, {
      GET: (ctx) => {
        const endpoint = ctx.url.searchParams.get('endpoint') ?? undefined;
        sendJson(ctx, 200, ops.log.entries(endpoint === undefined ? {} : { endpoint }));
      },
      DELETE: (ctx) => {
        ops.log.clear();
        sendJson(ctx, 200, { cleared: true });
      },
    }),
  ];
}
