/**
 * Named HTTP clients: declare `{ name: { scopes, altinn, baseUrl } }` once and get an authorized fetch per name,
 * the way Altinn's .NET apps register typed and named `HttpClient`s. Paths are resolved against `baseUrl`, and the
 * token is only sent to `baseUrl`'s origin.
 */
import type { MaskinportenClient } from '../client.ts';
import { ArgumentError } from '../errors.ts';
import type { TokenRequest } from '../protocol/grant.ts';
import { type AuthorizedFetch, createFetch, type MaskinportenRequestInit } from './fetch.ts';

/** One named client's declaration. @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1 */
export interface NamedClientOptions {
  scopes?: readonly string[] | string;
  request?: TokenRequest;
  altinn?: boolean;
  /** Base URL that relative paths resolve against; the token goes only to its origin. */
  baseUrl?: string;
  /** A different MaskinportenClient for this name (e.g. the `internal` credentials). */
  client?: MaskinportenClient;
  overwrite?: boolean;
  fetch?: typeof fetch;
}

/**
 * An authorized fetch bound to a base URL.
 * @see {@link AuthorizedFetch}
 */
export type NamedFetch = (path: string | URL | Request, init?: MaskinportenRequestInit) => Promise<Response>;

/**
 * The registry returned by {@link createHttpClients}.
 * @see {@link NamedClientOptions}
 */
export interface HttpClients<Names extends string> {
  /**
   * The authorized fetch of `name`.
   *
   * @param name - A declared name.
   * @returns Its fetch, which resolves paths against the declared `baseUrl`.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` for a name that was not declared.
   */
  get(name: Names): NamedFetch;
  /** Every declared name. */
  readonly names: readonly Names[];
}

/**
 * Declares named clients: one authorized fetch per API, each with its own scopes and base URL.
 *
 * @param client - The client the tokens come from (a declaration may name its own).
 * @param declarations - By name: `scopes` or `request`, `altinn`, `baseUrl`, `overwrite`, `fetch`, `client`.
 * @returns The registry.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` for a `baseUrl` that is not an absolute URL, or options
 *   {@link createFetch} refuses.
 *
 * @example
 * const http = createHttpClients(client, {
 *   notifications: { scopes: ['altinn:serviceowner/notifications.create'], altinn: true, baseUrl: 'https://platform.tt02.altinn.no' },
 *   dan: { scopes: ['altinn:dataaltinnno/dan'], baseUrl: 'https://api.data.altinn.no' },
 * });
 * await http.get('notifications')('/notifications/api/v1/orders', { method: 'POST', body });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function createHttpClients<Names extends string>(
  client: MaskinportenClient,
  declarations: Record<Names, NamedClientOptions>,
): HttpClients<Names> {
  const fetches = new Map<string, NamedFetch>();
  for (const [name, d] of Object.entries(declarations) as [Names, NamedClientOptions][]) {
    if (d.baseUrl !== undefined && !URL.canParse(d.baseUrl)) {
      throw new ArgumentError(
        `createHttpClients: ${name}.baseUrl must be an absolute URL, got ${JSON.stringify(d.baseUrl)}`,
      );
    }
    const authorized: AuthorizedFetch = createFetch(d.client ?? client, {
      ...(d.scopes === undefined ? {} : { scopes: d.scopes }),
      ...(d.request === undefined ? {} : { request: d.request }),
      ...(d.altinn === undefined ? {} : { altinn: d.altinn }),
      ...(d.overwrite === undefined ? {} : { overwrite: d.overwrite }),
      ...(d.fetch === undefined ? {} : { fetch: d.fetch }),
      ...(d.baseUrl === undefined ? {} : { allowedOrigins: [new URL(d.baseUrl).origin] }),
    });
    const base = d.baseUrl;
    fetches.set(name, (path, init) => {
      if (base === undefined || path instanceof Request || path instanceof URL) return authorized(path, init);
      return authorized(new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`), init);
    });
  }
  return {
    get(name) {
      const f = fetches.get(name);
      if (!f)
        throw new ArgumentError(
          `no HTTP client named ${JSON.stringify(name)}; declared: ${[...fetches.keys()].join(', ')}`,
        );
      return f;
    },
    names: Object.keys(declarations) as Names[],
  };
}
