/**
 * The verified token as an API provider reads it: who called (client id, consumer and supplier organisations),
 * what for (scopes), until when, and on whose behalf (Altinn system user, consent, `pid`). Built from claims whose
 * signature, issuer and lifetime were already checked (Digdir's token page and Altinn's token exchange docs).
 */
import { CONSENT_TYPE, NORWEGIAN_ORG_PREFIX, ORG_AUTHORITY, SYSTEM_USER_TYPE } from '../protocol/constants.ts';
import type { TokenKind } from '../token.ts';
import { TokenVerificationError } from './errors.ts';

/**
 * An Altinn system user the token acts as (`authorization_details` of type `urn:altinn:systemuser`).
 * @see https://docs.altinn.studio/authentication/
 */
export interface VerifiedSystemUser {
  /** The system user's id (first of `systemuser_id`). */
  id: string;
  /** The organisation number the system user belongs to (`systemuser_org`). */
  org: string;
  /** The registered system (`system_id`). */
  systemId: string | undefined;
}

/**
 * An Altinn consent the token carries (`authorization_details` of type `urn:altinn:consent`).
 * @see https://docs.altinn.studio/authentication/
 */
export interface VerifiedConsent {
  /** The consent id (a UUID). */
  id: string;
  /** Who consented, as sent: `urn:altinn:person:identifier-no:<fnr>` or `urn:altinn:organization:identifier-no:<orgno>`. */
  from: string;
  /** The organisation number the consent was given to. */
  to: string | undefined;
  /** The consented rights (`consentRights`), as sent. */
  rights: readonly unknown[];
  /** When the consent was given (`consented`), when present. */
  consented: string | undefined;
  /** When the consent ends (`validTo`), when present. */
  validTo: string | undefined;
}

/**
 * What {@link TokenVerifier.verify} resolves with: typed claims of a good token. Holds no part of the token itself.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export interface VerifiedToken {
  /** `maskinporten` for a Maskinporten token, `altinn` for one exchanged by Altinn. */
  kind: TokenKind;
  /** The token's issuer (`iss`). */
  issuer: string;
  /** The Maskinporten client that asked for the token (`client_id`). */
  clientId: string;
  /** The organisation the token acts for (`consumer`), a nine-digit organisation number. */
  consumerOrg: string;
  /** The organisation that asked on the consumer's behalf (`supplier`), with Altinn delegation. */
  supplierOrg: string | undefined;
  /** The granted scopes. */
  scopes: readonly string[];
  /** When the token expires (`exp`). */
  expiresAt: Date;
  /** When the token was issued (`iat`), when present. */
  issuedAt: Date | undefined;
  /** The audience (`aud`) of an audience-restricted token. */
  audience: string | readonly string[] | undefined;
  /** The Altinn system user, when the token acts as one. */
  systemUser: VerifiedSystemUser | undefined;
  /** The Altinn consent, when the token carries one. */
  consent: VerifiedConsent | undefined;
  /** The end user the token is bound to (`pid`), when present. */
  pid: string | undefined;
  /** The Altinn organisation code (`urn:altinn:org`) of a service owner's Altinn token. */
  altinnOrg: string | undefined;
  /** Every claim, as sent. */
  claims: Readonly<Record<string, unknown>>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The organisation number of an ISO 6523 `{authority, ID: "0192:<orgno>"}` claim, or undefined. */
export function orgOf(value: unknown): string | undefined {
  if (!isObject(value) || value.authority !== ORG_AUTHORITY || typeof value.ID !== 'string') return undefined;
  if (!value.ID.startsWith(NORWEGIAN_ORG_PREFIX)) return undefined;
  const org = value.ID.slice(NORWEGIAN_ORG_PREFIX.length);
  return /^\d{9}$/.test(org) ? org : undefined;
}

/** The organisation number in a consent's `to`: the ISO 6523 object of real tokens, or an organisation URN. */
function consentTo(value: unknown): string | undefined {
  if (typeof value === 'string') return /^urn:altinn:organization:identifier-no:(\d{9})$/.exec(value)?.[1];
  return orgOf(value);
}

/** `authorization_details` as a list: Altinn passes a single entry on as an object (Altinn's token exchange docs). */
function detailsOf(claims: Record<string, unknown>): Record<string, unknown>[] {
  const details = claims.authorization_details;
  if (details === undefined) return [];
  return (Array.isArray(details) ? details : [details]).filter(isObject);
}

function systemUserOf(claims: Record<string, unknown>): VerifiedSystemUser | undefined {
  const entry = detailsOf(claims).find((d) => d.type === SYSTEM_USER_TYPE);
  if (!entry) return undefined;
  const ids = entry.systemuser_id;
  const id = Array.isArray(ids) ? ids[0] : ids;
  const org = orgOf(entry.systemuser_org);
  if (typeof id !== 'string' || org === undefined) {
    throw new TokenVerificationError(
      'ERR_TOKEN_CLAIM',
      'the token names a system user without a systemuser_id or an iso6523 systemuser_org',
      { claim: 'authorization_details' },
    );
  }
  return { id, org, systemId: typeof entry.system_id === 'string' ? entry.system_id : undefined };
}

function consentOf(claims: Record<string, unknown>): VerifiedConsent | undefined {
  const entry = detailsOf(claims).find((d) => d.type === CONSENT_TYPE);
  if (!entry) return undefined;
  if (typeof entry.id !== 'string' || typeof entry.from !== 'string') {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the token names a consent without an id or a from', {
      claim: 'authorization_details',
    });
  }
  return {
    id: entry.id,
    from: entry.from,
    to: consentTo(entry.to),
    rights: Object.freeze(Array.isArray(entry.consentRights) ? [...entry.consentRights] : []),
    consented: typeof entry.consented === 'string' ? entry.consented : undefined,
    validTo: typeof entry.validTo === 'string' ? entry.validTo : undefined,
  };
}

/**
 * Reads the typed view of checked claims.
 *
 * @throws TokenVerificationError `ERR_TOKEN_CLAIM` when `client_id` or an iso6523 `consumer` is missing, or a
 * system user or consent entry lacks its id.
 */
export function readVerifiedToken(kind: TokenKind, claims: Record<string, unknown>): VerifiedToken {
  const consumerOrg = orgOf(claims.consumer);
  if (consumerOrg === undefined) {
    throw new TokenVerificationError(
      'ERR_TOKEN_CLAIM',
      `the token has no consumer claim of the form {"authority":"${ORG_AUTHORITY}","ID":"0192:<orgno>"}`,
      { claim: 'consumer' },
    );
  }
  if (typeof claims.client_id !== 'string' || !claims.client_id) {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the token has no client_id claim', { claim: 'client_id' });
  }
  const aud = claims.aud;
  return Object.freeze({
    kind,
    issuer: claims.iss as string,
    clientId: claims.client_id,
    consumerOrg,
    supplierOrg: orgOf(claims.supplier),
    scopes: Object.freeze(scopesOf(claims)),
    expiresAt: new Date((claims.exp as number) * 1000),
    issuedAt: typeof claims.iat === 'number' ? new Date(claims.iat * 1000) : undefined,
    audience:
      typeof aud === 'string'
        ? aud
        : Array.isArray(aud)
          ? Object.freeze(aud.filter((a) => typeof a === 'string'))
          : undefined,
    systemUser: systemUserOf(claims),
    consent: consentOf(claims),
    pid: typeof claims.pid === 'string' ? claims.pid : undefined,
    altinnOrg: typeof claims['urn:altinn:org'] === 'string' ? claims['urn:altinn:org'] : undefined,
    claims: Object.freeze({ ...claims }),
  });
}

/** The token's scopes: its space-separated `scope` claim. */
export function scopesOf(claims: Record<string, unknown>): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}
