/**
 * Validation of the grant's `authorization_details` (RFC 9396) for Altinn system users and consents, and the
 * enriched form each takes in the issued token (Digdir's JWT grant page and token page). MP-301: unknown type; MP-302:
 * unknown fields; MP-303 (`invalid_altinn_customer_configuration`): invalid values or nothing registered to match.
 */
import {
  CONSENT_TYPE,
  isOrgNumber,
  NORWEGIAN_ORG_PREFIX,
  ORG_AUTHORITY,
  SYSTEM_USER_TYPE,
} from '../protocol/constants.ts';
import type { EmulatedClient } from './model.ts';
import { mp } from './mp-errors.ts';
import type { EmulatorState } from './state.ts';

const EXTERNAL_REF = /^[a-zA-Z0-9æøåÆØÅ_-]{1,255}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONSENT_FROM = /^urn:altinn:(person:identifier-no:\d{11}|organization:identifier-no:\d{9})$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function rejectUnknownFields(entry: Record<string, unknown>, allowed: string[]): void {
  const unknown = Object.keys(entry).filter((k) => !allowed.includes(k));
  if (unknown.length) throw mp.unknownDetailsFields(unknown);
}

function orgFromIso6523(value: unknown, what: string): string {
  if (!isObject(value))
    throw mp.invalidDetailsValue(`${what} must be {"authority":"${ORG_AUTHORITY}","ID":"0192:<orgno>"}.`);
  rejectUnknownFields(value, ['authority', 'ID']);
  if (value.authority !== ORG_AUTHORITY) throw mp.invalidDetailsValue(`${what}.authority must be "${ORG_AUTHORITY}".`);
  const id = value.ID;
  const org =
    typeof id === 'string' && id.startsWith(NORWEGIAN_ORG_PREFIX) ? id.slice(NORWEGIAN_ORG_PREFIX.length) : '';
  if (!isOrgNumber(org))
    throw mp.invalidDetailsValue(`${what}.ID must be "0192:" and a nine-digit organisation number.`);
  return org;
}

const org = (orgNo: string) => ({ authority: ORG_AUTHORITY, ID: `${NORWEGIAN_ORG_PREFIX}${orgNo}` });

/** What a grant's `authorization_details` are checked against. */
export interface DetailsContext {
  client: EmulatedClient;
  state: EmulatorState;
  nowMs: number;
  /** The grant's `consumer_org`: a supplier asking for a consent given to its customer. */
  consumerOrg?: string;
}

/**
 * Validates `authorization_details` for `client` and returns the token's `authorization_details`, enriched with
 * the registered system user or consent.
 */
export function resolveAuthorizationDetails(details: unknown, ctx: DetailsContext): Record<string, unknown>[] {
  const { client, state, nowMs } = ctx;
  if (!Array.isArray(details) || details.length === 0) {
    throw mp.invalidDetailsValue('authorization_details must be a non-empty JSON array.');
  }
  let systemUsers = 0;
  return details.map((entry, i) => {
    if (!isObject(entry)) throw mp.invalidDetailsValue(`authorization_details[${i}] must be an object.`);
    if (entry.type === SYSTEM_USER_TYPE) {
      rejectUnknownFields(entry, ['type', 'systemuser_org', 'externalRef']);
      if (++systemUsers > 1) throw mp.invalidDetailsValue('only one system user may be requested per token.');
      const party = orgFromIso6523(entry.systemuser_org, `authorization_details[${i}].systemuser_org`);
      const externalRef = entry.externalRef;
      if (externalRef !== undefined && (typeof externalRef !== 'string' || !EXTERNAL_REF.test(externalRef))) {
        throw mp.invalidDetailsValue('externalRef must be 1–255 characters of letters, digits, "_" and "-".');
      }
      const user = state.findSystemUser(party, client.clientId, externalRef as string | undefined);
      if (!user) {
        // A system user made with an externalRef is found only with it; one made without, by the party's org number
        // or no externalRef at all.
        throw mp.invalidDetailsValue(
          `no system user for organisation ${party}${externalRef ? ` with externalRef ${externalRef}` : ''} is available to client ${client.clientId}; a system user created with an externalRef must be asked for with it.`,
        );
      }
      return {
        type: SYSTEM_USER_TYPE,
        systemuser_id: [user.id],
        systemuser_org: org(user.org),
        system_id: user.systemId,
        ...(user.externalRef === undefined ? {} : { externalRef: user.externalRef }),
      };
    }
    if (entry.type === CONSENT_TYPE) {
      rejectUnknownFields(entry, ['type', 'id', 'from']);
      if (typeof entry.id !== 'string' || !UUID.test(entry.id))
        throw mp.invalidDetailsValue('consent id must be a UUID.');
      if (typeof entry.from !== 'string' || !CONSENT_FROM.test(entry.from)) {
        throw mp.invalidDetailsValue(
          'consent from must be urn:altinn:person:identifier-no:<11 digits> or urn:altinn:organization:identifier-no:<9 digits>.',
        );
      }
      const consent = state.consent(entry.id);
      // On behalf of a customer (consumer_org), the consent must have been given to that customer.
      const toOrg = ctx.consumerOrg ?? client.orgNo;
      if (!consent || consent.from !== entry.from || consent.toOrg !== toOrg) {
        throw mp.invalidDetailsValue(`no consent ${entry.id} from ${entry.from} to organisation ${toOrg}.`);
      }
      if (consent.validTo <= nowMs) throw mp.invalidDetailsValue(`consent ${entry.id} expired.`);
      return {
        type: CONSENT_TYPE,
        id: consent.id,
        from: consent.from,
        // An ISO 6523 party object, as real TT02 consent tokens carry it.
        to: org(consent.toOrg),
        consented: new Date(consent.consentedAt).toISOString(),
        validTo: new Date(consent.validTo).toISOString(),
        consentRights: consent.consentRights,
      };
    }
    throw mp.unknownDetailsType(entry.type);
  });
}
