/** The shape of an emulator route: a path pattern, the endpoint it belongs to, and a handler per method. */
import type { EndpointName } from '../faults.ts';
import type { RequestContext } from '../http.ts';

/** Handles one request; named groups of the path pattern arrive as `params`. */
export type Handler = (ctx: RequestContext, params: Record<string, string>) => void | Promise<void>;

/** One path of the emulator. */
export interface Route {
  pattern: RegExp;
  endpoint: EndpointName | 'admin' | 'other';
  methods: Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Handler>>;
}
