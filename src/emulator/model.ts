/**
 * What the emulator knows: registered clients with their keys, scope definitions, Altinn delegations, system users
 * and consents, and its own signing keys. Plain data, so it persists as JSON and travels over the admin routes.
 */
import type { RsaPrivateJwk, RsaPublicJwk } from '../keys/jwk.ts';

/**
 * A public key registered on a client, with its life: the `exp` it was posted with, else one year.
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
export interface RegisteredKey {
  jwk: RsaPublicJwk;
  /** Epoch ms when the key was (last) posted. */
  createdAt: number;
  /** Epoch ms after which grants signed with it get MP-121 (the posted `exp`, or one year after posting). */
  expiresAt: number;
}

/**
 * A Maskinporten integration (client) as the emulator holds it.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export interface EmulatedClient {
  clientId: string;
  clientName: string;
  description: string;
  /** The owning organisation's number (nine digits). */
  orgNo: string;
  scopes: string[];
  /** Seconds; tokens live no longer than this. Defaults to 120. */
  accessTokenLifetime: number;
  keys: RegisteredKey[];
  keysCreatedAt: number | null;
  keysUpdatedAt: number | null;
  /** A deleted client stays known but inactive: its grants fail as an unknown client's. */
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * How Maskinporten delivers a token for a scope: a signed JWT, or a reference the resource server looks up.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export type ScopeTokenType = 'SELF_CONTAINED' | 'OPAQUE';

/**
 * Where a scope is listed: `PUBLIC` in the public scope list, `PRIVATE` only to its owner and consumers.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export type ScopeVisibility = 'PUBLIC' | 'PRIVATE' | 'INTERNAL';

/**
 * A scope the emulator knows about, with the properties that change how tokens are issued. A scope with an
 * `ownerOrgNo` was created through the API-provider side of the self-service API: only its owner, organisations
 * granted access, or everyone when `accessibleForAll`, may get tokens with it (MP-250 otherwise). A scope without
 * an owner (defined in code or over the admin route) is open to every client that has it registered.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export interface ScopeDefinition {
  name: string;
  /** Longest lifetime (seconds) of a token carrying this scope; 0 or absent means no limit of its own. */
  atMaxAge?: number;
  /** Any client may request it without having it registered, and no access grant is needed. */
  accessibleForAll?: boolean;
  description?: string;
  /** The organisation (nine digits) that created the scope through the self-service API. */
  ownerOrgNo?: string;
  longDescription?: string;
  /** Defaults to `['maskinporten']`. */
  allowedIntegrationTypes?: string[];
  /** Defaults to `SELF_CONTAINED`. */
  tokenType?: ScopeTokenType;
  /** Defaults to `PUBLIC`. */
  visibility?: ScopeVisibility;
  /** The Altinn portal issuer for a scope delegated in Altinn, e.g. `https://tt02.altinn.no/`. */
  delegationSource?: string;
  /** Seconds; 0 or absent means no limit. */
  authorizationMaxLifetime?: number;
  requiresUserConsent?: boolean;
  requiresUserAuthentication?: boolean;
  requiresPseudonymousTokens?: boolean;
  /** False once the owner deleted it: nobody gets tokens with it until it is made active again. */
  active?: boolean;
  /** Epoch ms. */
  createdAt?: number;
  /** Epoch ms. */
  updatedAt?: number;
}

/** An organisation's access to an owned scope, as the owner granted (`APPROVED`) or withdrew (`DENIED`) it. */
export interface ScopeAccess {
  scope: string;
  consumerOrgNo: string;
  state: 'APPROVED' | 'DENIED';
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  updatedAt: number;
}

/**
 * An Altinn API delegation: `consumerOrg` lets `supplierOrg` fetch tokens with `scope` on its behalf.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export interface Delegation {
  consumerOrg: string;
  supplierOrg: string;
  scope: string;
}

/**
 * An Altinn system user: a party (organisation) that has let a vendor's system act for it.
 * @see https://docs.altinn.studio/authentication/
 */
export interface SystemUser {
  id: string;
  /** The party's organisation number, the `systemuser_org` the grant names. */
  org: string;
  systemId: string;
  /** Clients (of the vendor) that may request tokens for this system user. */
  clientIds: string[];
  externalRef?: string;
}

/**
 * An Altinn consent: a person or organisation (`from`) consented to `toOrg` using the listed rights.
 * @see https://docs.altinn.studio/authentication/
 */
export interface Consent {
  id: string;
  from: string;
  toOrg: string;
  consentRights: unknown[];
  /** Epoch ms when the consent was given. */
  consentedAt: number;
  /** Epoch ms after which the consent no longer applies. */
  validTo: number;
}

/** One of the emulator's own signing keys. */
export interface SigningKeyRecord {
  kid: string;
  privateJwk: RsaPrivateJwk;
}

/** The whole persistent state, as written to the state file. */
export interface EmulatorStateData {
  version: 1;
  signingKeys: { maskinporten: SigningKeyRecord; altinn: SigningKeyRecord };
  admin: { clientId: string; privateJwk: RsaPrivateJwk };
  clients: EmulatedClient[];
  scopes: ScopeDefinition[];
  /** Access grants to owned scopes; absent in state files written before there were any. */
  scopeAccess?: ScopeAccess[];
  delegations: Delegation[];
  systemUsers: SystemUser[];
  consents: Consent[];
}

/**
 * What a system user is registered with.
 * @see {@link SystemUser}
 */
export interface NewSystemUser {
  org: string;
  clientIds: string[];
  systemId?: string;
  externalRef?: string;
  id?: string;
}

/**
 * What a consent is registered with.
 * @see {@link Consent}
 */
export interface NewConsent {
  from: string;
  toOrg: string;
  consentRights?: unknown[];
  validTo?: Date | number;
  id?: string;
}

/** What a new client is registered with. */
export interface NewClient {
  scopes: string[];
  clientName?: string;
  description?: string;
  orgNo?: string;
  accessTokenLifetime?: number;
  /** Public JWKs to register; an empty array makes a certificate-only (x5c) client. */
  jwks?: unknown[];
  clientId?: string;
}
