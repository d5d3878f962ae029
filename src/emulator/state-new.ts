/**
 * A fresh emulator state: new signing keys for Maskinporten and Altinn, and the administrator client of the
 * self-service API with its own key pair (Digdir's self-service API docs), owned by the default organisation.
 */
import { randomUUID } from 'node:crypto';
import { generateRsaKeyPair } from '../keys/jwk.ts';
import { KEY_LIFETIME_MS, SELF_SERVICE_SCOPES } from '../protocol/constants.ts';
import type { EmulatedClient, EmulatorStateData, SigningKeyRecord } from './model.ts';

/** Organisation number used when none is given: Digdir's, which Altinn maps to the service owner `digdir`. */
export const DEFAULT_ORG_NO = '991825827';

/** A client's token lifetime (seconds) when none is set, or 0 is (Digdir's token page). */
export const DEFAULT_TOKEN_LIFETIME = 120;

async function newSigningKeyRecord(bits: 2048 | 3072 | 4096): Promise<SigningKeyRecord> {
  const pair = await generateRsaKeyPair({ modulusLength: bits });
  return { kid: pair.kid, privateJwk: pair.privateJwk };
}

/** Generates the keys of a new state; `nowMs` dates the administrator client and its key. */
export async function newStateData(nowMs: () => number, bits: 2048 | 3072 | 4096): Promise<EmulatorStateData> {
  const [maskinporten, altinn, admin] = await Promise.all([
    newSigningKeyRecord(bits),
    newSigningKeyRecord(bits),
    generateRsaKeyPair(),
  ]);
  const now = nowMs();
  const adminClient: EmulatedClient = {
    clientId: randomUUID(),
    clientName: 'emulator-admin',
    description: 'Self-service API administrator created by the emulator',
    orgNo: DEFAULT_ORG_NO,
    scopes: [...SELF_SERVICE_SCOPES],
    accessTokenLifetime: DEFAULT_TOKEN_LIFETIME,
    keys: [{ jwk: admin.publicJwk, createdAt: now, expiresAt: now + KEY_LIFETIME_MS }],
    keysCreatedAt: now,
    keysUpdatedAt: now,
    active: true,
    createdAt: now,
    updatedAt: now,
  };
  return {
    version: 1,
    signingKeys: { maskinporten, altinn },
    admin: { clientId: adminClient.clientId, privateJwk: admin.privateJwk },
    clients: [adminClient],
    scopes: [],
    scopeAccess: [],
    delegations: [],
    systemUsers: [],
    consents: [],
  };
}
