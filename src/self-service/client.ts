/**
 * A client for Digdir's self-service API on `/api/v1` (since 2025-05-22): register, list, change and delete
 * Maskinporten integrations, replace or delete their key sets, list the public scopes, and — for API providers —
 * create scopes and grant organisations access. It authenticates with tokens from a `MaskinportenClient` whose
 * client holds the `idporten:dcr.*` scopes (and `idporten:scopes.write` for scope administration).
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
import type { MaskinportenClient } from '../client.ts';
import { resolveClock, type Timekeeper } from '../clock.ts';
import { ArgumentError } from '../errors.ts';
import { JWT_BEARER_GRANT_TYPE } from '../protocol/constants.ts';
import { environmentOfAuthority, SELF_SERVICE_API_URLS } from '../protocol/environments.ts';
import { ServerClock } from '../server-clock.ts';
import { checkUrlSetting, isLoopbackHost } from '../url-policy.ts';
import { SelfServiceError, selfServiceErrorOf } from './error.ts';
import { keyForPosting } from './keys.ts';
import type {
  NewIntegration,
  NewScope,
  RegisteredJwk,
  ScopeAccess,
  SelfServiceClientInfo,
  SelfServiceClientOptions,
  SelfServiceKeySet,
  SelfServiceScope,
} from './types.ts';

/**
 * The path of the API under its origin.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export const SELF_SERVICE_API_PATH = '/api/v1';

/**
 * The self-service API origin paired with an authority: Digdir's for Maskinporten prod, test and dev, the
 * emulator's own origin for a local emulator; undefined otherwise.
 *
 * @param authority - A Maskinporten authority URL.
 * @returns The API's origin, or `undefined`.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function defaultSelfServiceUrl(authority: string): string | undefined {
  const environment = environmentOfAuthority(authority);
  if (environment) return SELF_SERVICE_API_URLS[environment];
  // A local emulator serves the API on its own origin.
  const url = typeof authority === 'string' ? URL.parse(authority) : null;
  return url && isLoopbackHost(url.hostname) ? url.origin : undefined;
}

const enc = encodeURIComponent;
const scopeQuery = (scope: string) => `?scope=${enc(scope)}`;

function checkScopeName(scope: string): void {
  if (typeof scope !== 'string' || !/^[^\s:]+:\S+$/.test(scope))
    throw new ArgumentError(`a scope is named prefix:subscope, e.g. myorg:api.read, got ${JSON.stringify(scope)}`);
}

function checkOrgNo(orgNo: string): void {
  if (typeof orgNo !== 'string' || !/^\d{9}$/.test(orgNo))
    throw new ArgumentError(`an organisation number has 9 digits, got ${JSON.stringify(orgNo)}`);
}

/**
 * See the module comment.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export class SelfServiceClient {
  readonly #admin: MaskinportenClient;
  /** The API's root: its origin plus `/api/v1`. */
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #read: string[];
  readonly #write: string[];
  readonly #scopeAdmin: string[];
  readonly #clock: Timekeeper;
  /** The API server's clock, measured from the `Date` headers of its answers. */
  readonly #server: ServerClock;

  /**
   * Creates a client of the self-service API for the administrator's organisation.
   *
   * @param admin - The administrator's client (its tokens carry the `idporten:dcr.*` scopes).
   * @param options - The API's `baseUrl` (by default the one paired with the admin's authority), `fetch`, and the
   *   scopes to ask for.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` when no API URL is known for the admin's authority and none is given.
   * @throws InsecureUrlError `ERR_INSECURE_URL` for plain http beyond loopback without `allowInsecureRequests`;
   *   ConfigError `ERR_CONFIG` for a `baseUrl` that is not an absolute URL.
   * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
   */
  constructor(admin: MaskinportenClient, options: SelfServiceClientOptions = {}) {
    const base = options.baseUrl ?? defaultSelfServiceUrl(admin.authority);
    if (!base) {
      throw new ArgumentError(
        `no self-service API URL is known for ${admin.authority}: pass baseUrl (e.g. ${SELF_SERVICE_API_URLS.test})`,
      );
    }
    checkUrlSetting('baseUrl', base, options.allowInsecureRequests === true);
    this.#admin = admin;
    const root = base.replace(/\/+$/, '');
    this.baseUrl = root.endsWith(SELF_SERVICE_API_PATH) ? root : `${root}${SELF_SERVICE_API_PATH}`;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#read = options.readScopes ?? ['idporten:dcr.read'];
    this.#write = options.writeScopes ?? ['idporten:dcr.write'];
    this.#scopeAdmin = options.scopeAdminScopes ?? ['idporten:scopes.write'];
    this.#clock = resolveClock(options.clock);
    this.#server = new ServerClock(this.#clock);
  }

  /** Calls the API; `scopes` null calls without a token (the public scope list). */
  async #call<T>(method: string, path: string, scopes: string[] | null, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (scopes) headers.authorization = (await this.#admin.getAccessToken(scopes)).authorizationHeader;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    const sentAt = this.#clock.now();
    try {
      res = await this.#fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (cause) {
      throw new SelfServiceError(`the self-service API at ${this.baseUrl} could not be reached`, { cause });
    }
    this.#server.observe(res.headers.get('date'), sentAt, this.#clock.now());
    const text = await res.text();
    if (!res.ok) throw selfServiceErrorOf(method, `${SELF_SERVICE_API_PATH}${path}`, res.status, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SelfServiceError(
        `${method} ${SELF_SERVICE_API_PATH}${path} answered ${res.status} with a body that is not JSON`,
        { status: res.status },
      );
    }
  }

  /**
   * The offset (ms) of the API server's clock from ours, measured from the `Date` header of its last answer
   * (positive: the server is ahead); undefined before the first call or when the server sends no `Date`.
   */
  get clockOffsetMs(): number | undefined {
    return this.#server.offsetMs;
  }

  /**
   * The current time on the API server's clock as last measured, else on ours.
   * @returns Epoch ms.
   */
  serverNow(): number {
    return this.#server.now();
  }

  // ---- clients ---------------------------------------------------------------------------------------------------

  /**
   * Every integration of the admin's organisation.
   * @returns The integrations.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  listClients(): Promise<SelfServiceClientInfo[]> {
    return this.#call('GET', '/clients', this.#read);
  }

  /**
   * One integration.
   * @param clientId - The integration's client id.
   * @returns The integration.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  getClient(clientId: string): Promise<SelfServiceClientInfo> {
    return this.#call('GET', `/clients/${enc(clientId)}`, this.#read);
  }

  /**
   * Registers a Maskinporten integration.
   * @param input - Its name, description, scopes and token lifetime.
   * @returns The integration, with its new client id.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  createClient(input: NewIntegration): Promise<SelfServiceClientInfo> {
    if (!input.clientName?.trim()) throw new ArgumentError('clientName is required');
    return this.#call('POST', '/clients', this.#write, {
      integration_type: 'maskinporten',
      client_name: input.clientName,
      description: input.description,
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: [JWT_BEARER_GRANT_TYPE],
      scopes: input.scopes,
      ...(input.accessTokenLifetime === undefined ? {} : { access_token_lifetime: input.accessTokenLifetime }),
    });
  }

  /**
   * Changes an integration's name, description, scopes or token lifetime (0: the default).
   * @param clientId - The integration.
   * @param patch - The members to change.
   * @returns The integration as changed.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  updateClient(clientId: string, patch: Partial<NewIntegration>): Promise<SelfServiceClientInfo> {
    const body: Record<string, unknown> = {};
    if (patch.clientName !== undefined) body.client_name = patch.clientName;
    if (patch.description !== undefined) body.description = patch.description;
    if (patch.scopes !== undefined) body.scopes = patch.scopes;
    if (patch.accessTokenLifetime !== undefined) body.access_token_lifetime = patch.accessTokenLifetime;
    return this.#call('PUT', `/clients/${enc(clientId)}`, this.#write, body);
  }

  /**
   * Deletes (deactivates) an integration.
   * @param clientId - The integration.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  async deleteClient(clientId: string): Promise<void> {
    await this.#call('DELETE', `/clients/${enc(clientId)}`, this.#write);
  }

  // ---- keys ------------------------------------------------------------------------------------------------------

  /**
   * The key set of an integration; each key with its `exp` (epoch seconds) as the API reports it.
   * @param clientId - The integration.
   * @returns The key set.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  async getKeys(clientId: string): Promise<SelfServiceKeySet> {
    const set = await this.#call<SelfServiceKeySet | undefined>('GET', `/clients/${enc(clientId)}/jwks`, this.#read);
    return { ...set, keys: set?.keys ?? [] };
  }

  /**
   * Replaces the whole key set (1–5 public keys): send the keys to keep as well as the new ones. Each key is posted
   * with its public members only and `use: "sig"`; a key's `exp` (epoch seconds, at most a year ahead) is posted
   * as given — a key without one lives a year. To remove every key, use {@link deleteKeys}.
   * @param clientId - The integration.
   * @param keys - The whole new key set.
   * @returns The key set as the API now holds it.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` for an empty set (the API refuses it) or a key with another `use`.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
   */
  replaceKeys(clientId: string, keys: RegisteredJwk[]): Promise<SelfServiceKeySet> {
    if (!Array.isArray(keys) || keys.length === 0)
      throw new ArgumentError('replaceKeys needs at least one key: to remove every key, call deleteKeys');
    return this.#call('POST', `/clients/${enc(clientId)}/jwks`, this.#write, { keys: keys.map(keyForPosting) });
  }

  /**
   * Removes the whole key set of an integration (`DELETE …/jwks`): it can get no tokens until a key is added.
   * @param clientId - The integration.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  async deleteKeys(clientId: string): Promise<void> {
    await this.#call('DELETE', `/clients/${enc(clientId)}/jwks`, this.#write);
  }

  // ---- scopes ----------------------------------------------------------------------------------------------------

  /**
   * The public scope list (no token needed); `accessibleForAll` filters on scopes anyone may use.
   * @param options - `accessibleForAll` to keep only scopes anyone may use.
   * @returns The scopes.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses or cannot be reached.
   */
  listPublicScopes(options: { accessibleForAll?: boolean } = {}): Promise<SelfServiceScope[]> {
    const query = options.accessibleForAll === undefined ? '' : `?accessible_for_all=${options.accessibleForAll}`;
    return this.#call('GET', `/scopes/all${query}`, null);
  }

  /**
   * The scopes the admin's organisation owns (needs `idporten:scopes.write`).
   * @returns The scopes.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  listOwnScopes(): Promise<SelfServiceScope[]> {
    return this.#call('GET', '/scopes', this.#scopeAdmin);
  }

  /**
   * One scope the admin's organisation owns.
   * @param scope - The scope name.
   * @returns The scope.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  getScope(scope: string): Promise<SelfServiceScope> {
    checkScopeName(scope);
    return this.#call('GET', `/scopes${scopeQuery(scope)}`, this.#scopeAdmin);
  }

  /**
   * Creates a scope under the organisation's own prefix.
   * @param input - Its prefix, subscope, description and token properties.
   * @returns The scope as created.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  createScope(input: NewScope): Promise<SelfServiceScope> {
    checkScopeName(input.name);
    const colon = input.name.indexOf(':');
    return this.#call('POST', '/scopes', this.#scopeAdmin, {
      prefix: input.name.slice(0, colon),
      subscope: input.name.slice(colon + 1),
      ...scopeBody(input),
    });
  }

  /**
   * Changes a scope's properties (not its name).
   * @param scope - The scope name.
   * @param patch - The properties to change.
   * @returns The scope as changed.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  updateScope(scope: string, patch: Partial<Omit<NewScope, 'name'>>): Promise<SelfServiceScope> {
    checkScopeName(scope);
    return this.#call('PUT', `/scopes${scopeQuery(scope)}`, this.#scopeAdmin, scopeBody(patch));
  }

  /**
   * Deletes (deactivates) a scope: no one gets tokens with it any more.
   * @param scope - The scope name.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  async deleteScope(scope: string): Promise<void> {
    checkScopeName(scope);
    await this.#call('DELETE', `/scopes${scopeQuery(scope)}`, this.#scopeAdmin);
  }

  /**
   * Who has access to a scope the organisation owns.
   * @param scope - The scope name.
   * @returns The access entries.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  listScopeAccess(scope: string): Promise<ScopeAccess[]> {
    checkScopeName(scope);
    return this.#call('GET', `/scopes/access${scopeQuery(scope)}`, this.#scopeAdmin);
  }

  /**
   * Grants an organisation access to a scope the admin's organisation owns.
   * @param scope - The scope name.
   * @param orgNo - The consumer's nine-digit organisation number.
   * @returns The access entry.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  grantScopeAccess(scope: string, orgNo: string): Promise<ScopeAccess> {
    checkScopeName(scope);
    checkOrgNo(orgNo);
    return this.#call('PUT', `/scopes/access/${enc(orgNo)}${scopeQuery(scope)}`, this.#scopeAdmin);
  }

  /**
   * Withdraws an organisation's access: its token requests for the scope then fail with MP-250.
   * @param scope - The scope name.
   * @param orgNo - The consumer's organisation number.
   * @returns The withdrawn entry, or `undefined` when there was none.
   * @throws SelfServiceError `ERR_SELF_SERVICE` when the API refuses (Digdir's `errors`, `correlationId`) or cannot be
   *   reached; the admin client's own errors (`ERR_INVALID_SCOPE`, `ERR_NETWORK`, …) when it gets no token.
   */
  withdrawScopeAccess(scope: string, orgNo: string): Promise<ScopeAccess | undefined> {
    checkScopeName(scope);
    checkOrgNo(orgNo);
    return this.#call('DELETE', `/scopes/access/${enc(orgNo)}${scopeQuery(scope)}`, this.#scopeAdmin);
  }
}

/** The wire body of a scope's properties. */
function scopeBody(input: Partial<Omit<NewScope, 'name'>>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (input.description !== undefined) body.description = input.description;
  if (input.longDescription !== undefined) body.long_description = input.longDescription;
  if (input.visibility !== undefined) body.visibility = input.visibility;
  if (input.accessibleForAll !== undefined) body.accessible_for_all = input.accessibleForAll;
  if (input.atMaxAge !== undefined) body.at_max_age = input.atMaxAge;
  if (input.allowedIntegrationTypes !== undefined) body.allowed_integration_types = input.allowedIntegrationTypes;
  if (input.tokenType !== undefined) body.token_type = input.tokenType;
  if (input.delegationSource !== undefined) body.delegation_source = input.delegationSource;
  return body;
}
