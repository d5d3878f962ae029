/**
 * A client for Digdir's self-service API (protocol notes §6): register, list, change and delete Maskinporten
 * integrations and replace their key sets. It authenticates with tokens from a `MaskinportenClient` whose client
 * holds the `idporten:dcr.*` scopes (the administrator's credentials).
 */
import type { MaskinportenClient } from '../client.ts';
import { ArgumentError, MaskinportenError } from '../errors.ts';
import type { RsaPublicJwk } from '../keys/jwk.ts';
import { JWT_BEARER_GRANT_TYPE } from '../protocol/constants.ts';
import { SELF_SERVICE_API_URLS } from '../protocol/environments.ts';
import { checkUrlSetting, isLoopbackHost } from '../settings.ts';

/** A registered integration as the API shows it. */
export interface SelfServiceClientInfo {
  client_id: string;
  client_name: string;
  client_orgno?: string;
  description?: string;
  scopes: string[];
  integration_type?: string;
  token_endpoint_auth_method?: string;
  grant_types?: string[];
  access_token_lifetime?: number;
  active?: boolean;
  created?: string;
  last_updated?: string;
  [field: string]: unknown;
}

/** A registered key: the public JWK, with `exp` (epoch seconds) when the API reports it. */
export interface RegisteredJwk extends RsaPublicJwk {
  exp?: number;
}

/** A client's key set as the API shows it. */
export interface SelfServiceKeySet {
  created?: string | null;
  last_updated?: string | null;
  keys: RegisteredJwk[];
}

/** What a new integration is registered with. */
export interface NewIntegration {
  clientName: string;
  description: string;
  scopes: string[];
  accessTokenLifetime?: number;
}

/** Options of a {@link SelfServiceClient}. */
export interface SelfServiceClientOptions {
  /** API base URL; derived from the admin client's authority for Maskinporten prod and test. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Allow a plain-http `baseUrl` on a host other than loopback (the admin token then travels in clear). */
  allowInsecureRequests?: boolean;
  /** Scopes asked for reads and for writes; `idporten:dcr.read` and `idporten:dcr.write` by default. */
  readScopes?: string[];
  writeScopes?: string[];
}

/** The members that make a JWK private (RSA's, multi-prime `oth`, and a symmetric key's `k`): never posted. */
export const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * The public half of a key as the API takes it: a fresh object without any private member, whatever the caller
 * passed, so a private key handed in by mistake never leaves the machine.
 */
export function publicMembersOf(key: RegisteredJwk): RegisteredJwk {
  const out: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(key)) {
    if (!(JWK_PRIVATE_MEMBERS as readonly string[]).includes(member)) out[member] = value;
  }
  return out as RegisteredJwk;
}

/** The self-service API base URL paired with an authority, if there is one. */
export function defaultSelfServiceUrl(authority: string): string | undefined {
  const url = new URL(authority);
  if (url.host === 'maskinporten.no') return SELF_SERVICE_API_URLS.prod;
  if (url.host === 'test.maskinporten.no') return SELF_SERVICE_API_URLS.test;
  // A local emulator serves the API on its own origin.
  if (isLoopbackHost(url.hostname)) return url.origin;
  return undefined;
}

/** The API refused or failed. */
export class SelfServiceError extends MaskinportenError {
  constructor(message: string, options: ConstructorParameters<typeof MaskinportenError>[2] = {}) {
    super('ERR_SELF_SERVICE', message, options);
  }
}

/** See the module comment. */
export class SelfServiceClient {
  readonly #admin: MaskinportenClient;
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #read: string[];
  readonly #write: string[];
  #clockOffsetMs: number | undefined;

  constructor(admin: MaskinportenClient, options: SelfServiceClientOptions = {}) {
    const base = options.baseUrl ?? defaultSelfServiceUrl(admin.authority);
    if (!base) {
      throw new ArgumentError(
        `no self-service API URL is known for ${admin.authority}: pass baseUrl (e.g. ${SELF_SERVICE_API_URLS.test})`,
      );
    }
    checkUrlSetting('baseUrl', base, options.allowInsecureRequests === true);
    this.#admin = admin;
    this.baseUrl = base.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#read = options.readScopes ?? ['idporten:dcr.read'];
    this.#write = options.writeScopes ?? ['idporten:dcr.write'];
  }

  async #call<T>(method: string, path: string, scopes: string[], body?: unknown): Promise<T> {
    const token = await this.#admin.getAccessToken(scopes);
    const headers: Record<string, string> = { authorization: token.authorizationHeader, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await this.#fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (cause) {
      throw new SelfServiceError(`the self-service API at ${this.baseUrl} could not be reached`, { cause });
    }
    const text = await res.text();
    const date = res.headers.get('date');
    // The header has whole seconds; its midpoint is the best estimate.
    if (date && !Number.isNaN(Date.parse(date))) this.#clockOffsetMs = Date.parse(date) + 500 - Date.now();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const b = (parsed ?? {}) as { error?: string; error_description?: string; message?: string };
      const detail = b.error_description ?? b.message ?? (text.length < 300 ? text : '');
      const hint =
        res.status === 401
          ? ': the admin token was refused; check the admin client and its environment'
          : res.status === 403
            ? ': the admin client lacks the idporten:dcr.* scopes (ask servicedesk@digdir.no for access)'
            : res.status === 404
              ? ': no such client for this organisation'
              : '';
      throw new SelfServiceError(`${method} ${path} answered ${res.status}${hint}${detail ? ` (${detail})` : ''}`, {
        status: res.status,
        ...(b.error ? { error: b.error } : {}),
        ...(detail ? { errorDescription: detail } : {}),
      });
    }
    return parsed as T;
  }

  /**
   * The offset (ms) of the API server's clock from ours, measured from the `Date` header of its last answer
   * (positive: the server is ahead); undefined before the first call or when the server sends no `Date`.
   */
  get clockOffsetMs(): number | undefined {
    return this.#clockOffsetMs;
  }

  /** The current time (epoch ms) on the API server's clock as last measured, else on ours. */
  serverNow(): number {
    return Date.now() + (this.#clockOffsetMs ?? 0);
  }

  /** Every integration of the admin's organisation. */
  listClients(): Promise<SelfServiceClientInfo[]> {
    return this.#call('GET', '/clients', this.#read);
  }

  /** One integration. */
  getClient(clientId: string): Promise<SelfServiceClientInfo> {
    return this.#call('GET', `/clients/${encodeURIComponent(clientId)}`, this.#read);
  }

  /** Registers a Maskinporten integration. */
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

  /** Changes an integration's name, description, scopes or token lifetime. */
  updateClient(clientId: string, patch: Partial<NewIntegration>): Promise<SelfServiceClientInfo> {
    const body: Record<string, unknown> = {};
    if (patch.clientName !== undefined) body.client_name = patch.clientName;
    if (patch.description !== undefined) body.description = patch.description;
    if (patch.scopes !== undefined) body.scopes = patch.scopes;
    if (patch.accessTokenLifetime !== undefined) body.access_token_lifetime = patch.accessTokenLifetime;
    return this.#call('PUT', `/clients/${encodeURIComponent(clientId)}`, this.#write, body);
  }

  /** Deletes (deactivates) an integration. */
  async deleteClient(clientId: string): Promise<void> {
    await this.#call('DELETE', `/clients/${encodeURIComponent(clientId)}`, this.#write);
  }

  /** The key set of an integration. */
  async getKeys(clientId: string): Promise<SelfServiceKeySet> {
    const set = await this.#call<SelfServiceKeySet | undefined>(
      'GET',
      `/clients/${encodeURIComponent(clientId)}/jwks`,
      this.#read,
    );
    return { ...set, keys: set?.keys ?? [] };
  }

  /** Replaces the whole key set (at most 5 public keys). Send the keys to keep as well as the new ones. */
  replaceKeys(clientId: string, keys: RsaPublicJwk[]): Promise<SelfServiceKeySet> {
    // The API's own `exp` is an answer field, not something to post back.
    const clean = keys.map(({ exp: _exp, ...k }: RegisteredJwk) => publicMembersOf(k));
    return this.#call('POST', `/clients/${encodeURIComponent(clientId)}/jwks`, this.#write, { keys: clean });
  }
}
