/**
 * The shapes of Digdir's self-service API as this package reads and writes them (snake_case on the wire).
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
import type { Clock } from '../clock.ts';
import type { RsaPublicJwk } from '../keys/jwk.ts';

/**
 * A registered integration as the API shows it.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
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

/**
 * A registered key: the public JWK, with `exp` (epoch seconds) — when the key stops working.
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
export interface RegisteredJwk extends RsaPublicJwk {
  exp?: number;
}

/**
 * A client's key set as the API shows it.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export interface SelfServiceKeySet {
  created?: string | null;
  last_updated?: string | null;
  keys: RegisteredJwk[];
}

/**
 * What a new integration is registered with.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export interface NewIntegration {
  clientName: string;
  description: string;
  scopes: string[];
  /** Token lifetime in seconds; 0 (or left out) means the API's default. */
  accessTokenLifetime?: number;
}

/**
 * A scope as `GET /api/v1/scopes/all` and the scope-admin calls show it (the fields Digdir documents, and more).
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export interface SelfServiceScope {
  prefix: string;
  subscope: string;
  name: string;
  description?: string;
  long_description?: string;
  token_type?: string;
  visibility?: string;
  allowed_integration_types?: string[];
  delegation_source?: string | null;
  at_max_age?: number;
  authorization_max_lifetime?: number;
  accessible_for_all?: boolean;
  requires_user_consent?: boolean;
  active?: boolean;
  owner_orgno?: string | null;
  [field: string]: unknown;
}

/**
 * A scope to create: its name (`prefix:subscope`) and the properties to set.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export interface NewScope {
  /** The full name, `prefix:subscope`, e.g. `myorg:api.read`; the prefix must be your organisation's. */
  name: string;
  description: string;
  longDescription?: string;
  /** `PUBLIC` (default), `PRIVATE` or `INTERNAL`. */
  visibility?: string;
  /** Anyone may use the scope without a grant. */
  accessibleForAll?: boolean;
  /** Longest token lifetime (seconds) for the scope. */
  atMaxAge?: number;
  allowedIntegrationTypes?: string[];
  tokenType?: 'SELF_CONTAINED' | 'OPAQUE';
  delegationSource?: string;
}

/**
 * An organisation's access to a scope, as the API shows it.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export interface ScopeAccess {
  consumer_orgno: string;
  owner_orgno?: string | null;
  scope: string;
  state?: string;
  created?: string | null;
  last_updated?: string | null;
  [field: string]: unknown;
}

/**
 * Options of a `SelfServiceClient`.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export interface SelfServiceClientOptions {
  /**
   * The API's origin, e.g. `https://api.test.samarbeid.digdir.no` (calls go to `/api/v1/…` under it; a URL that
   * already ends in `/api/v1` is used as it is). Derived from the admin client's authority for Maskinporten prod,
   * test and dev, and a local emulator.
   */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Allow a plain-http `baseUrl` on a host other than loopback (the admin token then travels in clear). */
  allowInsecureRequests?: boolean;
  /** Scopes asked for reads and for writes; `idporten:dcr.read` and `idporten:dcr.write` by default. */
  readScopes?: string[];
  writeScopes?: string[];
  /** Scopes asked for the scope-admin calls; `idporten:scopes.write` by default. */
  scopeAdminScopes?: string[];
  /**
   * Our clock (`now`, epoch ms), against which the API server's clock is measured; the system clock by default.
   * @see {@link Clock}
   */
  clock?: Clock;
}
