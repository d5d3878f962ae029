/**
 * A fresh emulator state: new signing keys for Maskinporten and Altinn, and the administrator client of the
 * self-service API with its own key pair (Digdir's self-service API docs), owned by the default organisation.
 */
import { randomUUID } from 'node:crypto';
import { generateRsaKeyPair, generateRsaKeyPairSync } from '../keys/jwk.ts';
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

/** A new state, and what of it is made on first read. */
export interface NewState {
  data: EmulatorStateData;
  /** The `kid` of the administrator client's key, known before the key itself is made. */
  adminKid: string;
}

/**
 * Generates the keys of a new state; `nowMs` dates the administrator client and its key. With `onFirstRead`, the
 * Maskinporten signing key is generated now and the administrator's key pair when first read (see first-read.ts),
 * as is the Altinn signing key when it is an RSA-2048 one (a larger one would hold up its first reader for a second
 * or more, so it is made now); otherwise all three are generated now, side by side on the thread pool.
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
  const altinnOnFirstRead = options.onFirstRead && bits === 2048;
  const [maskinporten, altinn, pair] = await Promise.all([
    newSigningKeyRecord(bits),
    altinnOnFirstRead ? undefined : newSigningKeyRecord(bits),
    options.onFirstRead ? undefined : generateRsaKeyPair({ kid: adminKid }),
  ]);
  signingKeys.maskinporten = maskinporten;
  if (altinn) {
    signingKeys.altinn = altinn;
  } else {
    // Its kid is a placeholder: the state names the key by its certificate's thumbprint once it is built.
    defineOnFirstRead(signingKeys, 'altinn', () => {
      const { kid, privateJwk } = generateRsaKeyPairSync({ modulusLength: bits });
      return { kid, privateJwk };
    });
  }
  if (pair) {
    admin.privateJwk = pair.privateJwk;
    adminClient.keys = adminKeys(pair.publicJwk);
  } else {
    const adminPair = keyPairOnFirstUse({ kid: adminKid });
    defineOnFirstRead(admin, 'privateJwk', () => adminPair().privateJwk);
    defineOnFirstRead(adminClient, 'keys', () => adminKeys(adminPair().publicJwk));
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
