/**
 * A fresh emulator state: new signing keys for Maskinporten and Altinn, and the administrator client of the
 * self-service API with its own key pair (Digdir's self-service API docs), owned by the default organisation.
 */
import { randomUUID } from 'node:crypto';
import { generateRsaKeyPair } from '../keys/jwk.ts';
import { KEY_LIFETIME_MS, SELF_SERVICE_SCOPES } from '../protocol/constants.ts';
import { defineOnFirstRead, keyPairOnFirstUse } from './first-read.ts';
import type { EmulatedClient, EmulatorStateData, SigningKeyRecord } from './model.ts';

/** Organisation number used when none is given: Digdir's, which Altinn maps to the service owner `digdir`. */
export const DEFAULT_ORG_NO = '991825827';

/** A client's token lifetime (seconds) when none is set, or 0 is (Digdir's token page). */
export const DEFAULT_TOKEN_LIFETIME = 120;

async function newSigningKeyRecord(bits: 2048 | 3072 | 4096): Promise<SigningKeyRecord> {
  const pair = await generateRsaKeyPair({ modulusLength: bits });
  return { kid: pair.kid, privateJwk: pair.privateJwk };
}

/** A new state, and the `kid` of its administrator client's key (known before the key itself is made). */
export interface NewState {
  data: EmulatorStateData;
  adminKid: string;
}

/**
 * Generates the keys of a new state; `nowMs` dates the administrator client and its key. With `onFirstRead`, only
 * the Maskinporten signing key is generated now: the Altinn signing key and the administrator's key pair are made
 * when first read (see first-read.ts); otherwise all three are generated now, side by side on the thread pool.
 */
export async function newStateData(
  nowMs: () => number,
  bits: 2048 | 3072 | 4096,
  options: { onFirstRead: boolean },
): Promise<NewState> {
  const adminKid = randomUUID();
  const signingKeys = {} as EmulatorStateData['signingKeys'];
  const admin = { clientId: randomUUID() } as EmulatorStateData['admin'];
  const now = nowMs();
  const adminClient: EmulatedClient = {
    clientId: admin.clientId,
    clientName: 'emulator-admin',
    description: 'Self-service API administrator created by the emulator',
    orgNo: DEFAULT_ORG_NO,
    scopes: [...SELF_SERVICE_SCOPES],
    accessTokenLifetime: DEFAULT_TOKEN_LIFETIME,
    keys: [],
    keysCreatedAt: now,
    keysUpdatedAt: now,
    active: true,
    createdAt: now,
    updatedAt: now,
  };
  const adminKeys = (publicJwk: EmulatedClient['keys'][number]['jwk']): EmulatedClient['keys'] => [
    { jwk: publicJwk, createdAt: now, expiresAt: now + KEY_LIFETIME_MS },
  ];
  if (options.onFirstRead) {
    signingKeys.maskinporten = await newSigningKeyRecord(bits);
    const altinnPair = keyPairOnFirstUse({ kid: randomUUID(), modulusLength: bits });
    defineOnFirstRead(signingKeys, 'altinn', () => ({ kid: altinnPair().kid, privateJwk: altinnPair().privateJwk }));
    const adminPair = keyPairOnFirstUse({ kid: adminKid });
    defineOnFirstRead(admin, 'privateJwk', () => adminPair().privateJwk);
    defineOnFirstRead(adminClient, 'keys', () => adminKeys(adminPair().publicJwk));
  } else {
    const [mp, altinn, pair] = await Promise.all([
      newSigningKeyRecord(bits),
      newSigningKeyRecord(bits),
      generateRsaKeyPair({ kid: adminKid }),
    ]);
    signingKeys.maskinporten = mp;
    signingKeys.altinn = altinn;
    admin.privateJwk = pair.privateJwk;
    adminClient.keys = adminKeys(pair.publicJwk);
  }
  const data: EmulatorStateData = {
    version: 1,
    signingKeys,
    admin,
    clients: [adminClient],
    scopes: [],
    scopeAccess: [],
    delegations: [],
    systemUsers: [],
    consents: [],
  };
  return { data, adminKid };
}
