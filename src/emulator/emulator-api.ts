/**
 * The public shapes of the emulator: the options of `startEmulator`, what `createClient` takes and returns, and the
 * running {@link Emulator} itself.
 */
import type { RsaPrivateJwk, RsaPublicJwk } from '../keys/jwk.ts';
import type { Clock } from './clock.ts';
import type { ActiveFault, FaultSpec } from './faults.ts';
import type { GrantRuleSet } from './grant-rules.ts';
import type {
  Consent,
  Delegation,
  EmulatedClient,
  NewConsent,
  NewSystemUser,
  ScopeDefinition,
  SystemUser,
} from './model.ts';
import type { RequestLogEntry } from './request-log.ts';

/**
 * Options for {@link startEmulator}.
 * @see {@link startEmulator}
 */
export interface EmulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind; 127.0.0.1 by default. Anything but loopback exposes the emulator to the network. */
  host?: string;
  /** The base clock (epoch ms); the emulator's own clock runs on it plus an adjustable offset. */
  clock?: Clock;
  /** A JSON file keeping clients, keys and signing keys across restarts (written atomically, mode 0600). */
  stateFile?: string;
  /** Organisation number → Altinn organisation code, for `urn:altinn:org`. Default: `991825827` → `digdir`. */
  orgCodes?: Record<string, string>;
  /** Size of the emulator's RSA signing keys; 2048 by default (real Maskinporten uses 4096). */
  signingKeySize?: 2048 | 3072 | 4096;
  /** How many requests the request log keeps; 1000 by default. */
  logLimit?: number;
  /**
   * Host names the emulator answers to besides the address it listens on (e.g. a Docker service name). Requests
   * with any other `Host` header get 403, which defeats DNS rebinding.
   */
  hostnames?: string[];
  /**
   * The secret the control routes (`/_emulator/*`) require as `Authorization: Bearer <adminSecret>`. Bound beyond
   * loopback, one is made for each run when left out (read it from {@link Emulator.adminSecret}); on loopback the
   * control routes are open unless one is given.
   */
  adminSecret?: string;
  /**
   * Which reading of Maskinporten's grant rules the token endpoint applies: `live` (default) answers as the live
   * server does (`aud` the issuer or the token endpoint, grants up to 180 s, `resource` a string or an array, `kid`
   * with `x5c`); `documented` keeps the documentation's stricter reading. README "The token endpoint's rules".
   */
  rules?: GrantRuleSet;
  /**
   * Answer as Skyporten: the issuer (and the grant `aud`) is the origin without a trailing slash, and the metadata
   * is served at `/.well-known/openid-configuration` only, as Skyporten documents it.
   */
  skyporten?: boolean;
  /** The `delegation_source` of delegated tokens (the Altinn portal's issuer); `https://tt02.altinn.no/` by default. */
  delegationSource?: string;
}

/**
 * Input of {@link Emulator.createClient}.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export interface CreateClientInput {
  scopes: string[];
  /** Public JWKs to register. Left out, a key pair is generated and returned; `[]` makes a certificate-only client. */
  jwks?: RsaPublicJwk[];
  clientName?: string;
  description?: string;
  orgNo?: string;
  /** Seconds; 120 by default. */
  accessTokenLifetime?: number;
  clientId?: string;
}

/**
 * A client registered through {@link Emulator.createClient}, with its generated key pair when one was made.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export interface CreatedClient {
  clientId: string;
  clientName: string;
  orgNo: string;
  scopes: string[];
  accessTokenLifetime: number;
  /** Key id of the generated key. */
  kid?: string;
  /** The generated key pair (emulator keys only: never use them anywhere else). */
  privateJwk?: RsaPrivateJwk;
  publicJwk?: RsaPublicJwk;
  /** The generated key pair, base64-encoded as the .NET `JwkBase64` setting holds it. */
  jwkBase64?: string;
  /** Settings for `MaskinportenClient` pointing at this emulator. */
  settings: { authority: string; clientId: string; jwkBase64?: string; altinnPlatformUrl: string };
}

/**
 * The emulator's administrator client for the self-service API. Without a state file its key pair is generated
 * when first read (`privateJwk`, `jwkBase64`, `settings.jwkBase64` or the client's registered key), on the calling
 * thread; `kid` is known from the start.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export interface AdminClient {
  clientId: string;
  kid: string;
  scopes: string[];
  privateJwk: RsaPrivateJwk;
  jwkBase64: string;
  settings: { authority: string; clientId: string; jwkBase64: string };
}

/**
 * A running emulator.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_token (what its token endpoint answers)
 */
export interface Emulator {
  /** Origin, no trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The Maskinporten issuer (`url + '/'`; Skyporten: `url`): the `authority` for clients and the grant's `aud`. */
  readonly issuer: string;
  /** The Altinn platform base URL (same origin). */
  readonly altinnPlatformUrl: string;
  /** The self-service API base URL (same origin). */
  readonly selfServiceUrl: string;
  /** Token endpoint URL. */
  readonly tokenEndpoint: string;
  /** The reading of the grant rules the token endpoint applies. */
  readonly rules: GrantRuleSet;
  /** True when the emulator answers as Skyporten. */
  readonly skyporten: boolean;
  /** The administrator client that may use the self-service API. */
  readonly adminClient: AdminClient;
  /** The secret the control routes require (`Authorization: Bearer …`), or undefined when they are open. */
  readonly adminSecret: string | undefined;
  /**
   * Registers a client; generates a key pair unless `jwks` is given.
   *
   * @param input - Its `scopes`, and optionally `jwks`, `clientId`, `clientName`, `orgNo`, `accessTokenLifetime`.
   * @returns The client, with ready `settings` for a `MaskinportenClient` (and the generated key, which prints
   *   masked).
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` for an input the self-service API would refuse, naming the field.
   * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
   */
  createClient(input: CreateClientInput): Promise<CreatedClient>;
  /**
   * The client with this id, as the emulator holds it.
   *
   * @param clientId - The client id.
   * @returns The client, or `undefined` when there is none.
   */
  getClient(clientId: string): EmulatedClient | undefined;
  /**
   * Defines a scope's token properties (`atMaxAge`, `accessibleForAll`).
   *
   * @param scope - The scope's name and properties.
   * @returns The definition in force.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` for a malformed name or property.
   */
  defineScope(scope: ScopeDefinition): ScopeDefinition;
  /**
   * Registers an Altinn delegation: `consumerOrg` lets `supplierOrg` use `scope` on its behalf.
   *
   * @param delegation - `consumerOrg`, `supplierOrg` (organisation numbers) and `scope`.
   * @returns The delegation as registered.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` for an organisation number that is not nine digits, or no scope.
   */
  addDelegation(delegation: Delegation): Delegation;
  /**
   * Registers an Altinn system user of `org` that the listed clients may act as.
   *
   * @param input - The owning `org`, the system and the clients allowed to act as it.
   * @returns The system user, with its id.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` for a malformed field, naming it.
   */
  addSystemUser(input: NewSystemUser): SystemUser;
  /**
   * Registers an Altinn consent from `from` to `toOrg`.
   *
   * @param input - Who consents (`from`), to whom (`toOrg`), and for what.
   * @returns The consent, with its id.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` for a malformed field, naming it.
   */
  addConsent(input: NewConsent): Consent;
  /** Fault control. */
  readonly faults: {
    add(spec: FaultSpec): ActiveFault;
    remove(id: number): boolean;
    clear(): void;
    list(): ActiveFault[];
  };
  /** Clock control. */
  readonly clock: {
    now(): number;
    readonly offsetMs: number;
    setOffset(ms: number): void;
    advance(ms: number): void;
    set(time: Date | number): void;
  };
  /** The request log. */
  readonly requests: {
    entries(filter?: { endpoint?: string }): RequestLogEntry[];
    clear(): void;
    /** Calls `listener` with every request logged from now on (as it finishes); returns the function that stops it. */
    subscribe(listener: (entry: RequestLogEntry) => void): () => void;
  };
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
