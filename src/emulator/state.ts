/**
 * The emulator's live state over {@link EmulatorStateData}: lookups the token endpoint needs on every request
 * (client, key, scope, delegation) kept in maps with parsed keys cached, and every change written atomically to
 * the optional state file so clients, keys and signing keys survive a restart.
 */
import { type KeyObject, randomUUID } from 'node:crypto';
import { ArgumentError, MaskinportenError } from '../errors.ts';
import { importPublicJwk } from '../keys/jwk.ts';
import { isOrgNumber } from '../protocol/constants.ts';
import type { Clock } from './clock.ts';
import { isUnread } from './first-read.ts';
import { validateJwkSet } from './key-registration.ts';
import type {
  Consent,
  Delegation,
  EmulatedClient,
  EmulatorStateData,
  NewClient,
  NewConsent,
  NewSystemUser,
  ScopeDefinition,
  SystemUser,
} from './model.ts';
import { ScopeRegistry } from './scope-registry.ts';
import { type SigningKey, signingKeyFrom } from './signing-key.ts';
import { readStateFile, writeStateFile } from './state-file.ts';

export type { SigningKey };

import { checkNewClient, checkScopes, epochMs, optionalString, tokenLifetimeOrDefault } from './state-input.ts';
import { DEFAULT_ORG_NO, DEFAULT_TOKEN_LIFETIME, newStateData } from './state-new.ts';

export type { NewClient } from './model.ts';

export { DEFAULT_ORG_NO } from './state-new.ts';

/** The emulator's registry of clients, keys, scopes, delegations, system users and consents. */
export class EmulatorState {
  readonly #clock: Clock;
  readonly #file: string | undefined;
  readonly #data: EmulatorStateData;
  readonly #clients = new Map<string, EmulatedClient>();
  readonly #keyCache = new Map<string, KeyObject>();
  /** Scope definitions and per-organisation access to owned scopes. */
  readonly scopeRegistry: ScopeRegistry;
  readonly maskinportenKey: SigningKey;
  #altinnKey: SigningKey | undefined;
  /** The administrator client's key id, known before a key made on first read exists. */
  readonly adminKid: string;

  private constructor(
    data: EmulatorStateData,
    clock: Clock,
    file: string | undefined,
    options: { adminKid?: string } = {},
  ) {
    this.#data = data;
    this.#clock = clock;
    this.#file = file;
    for (const c of data.clients) this.#clients.set(c.clientId, c);
    this.scopeRegistry = new ScopeRegistry(
      data,
      () => clock.now(),
      () => this.persist(),
    );
    this.maskinportenKey = signingKeyFrom(data.signingKeys.maskinporten, 'maskinporten');
    // The published kid is the certificate's thumbprint: the state file names the keys by it too.
    data.signingKeys.maskinporten.kid = this.maskinportenKey.kid;
    // Keys read from a state file are checked now, so a file that holds an unreadable one is refused at start; a
    // fresh state's Altinn key that is made on first read (see state-new.ts) waits for its first reader.
    if (!isUnread(data.signingKeys, 'altinn')) this.#altinnKey = this.#makeAltinnKey();
    this.adminKid = options.adminKid ?? data.admin.privateJwk.kid!;
  }

  /** The Altinn signing key; in a fresh RSA-2048 state without a file, made when first asked for. */
  get altinnKey(): SigningKey {
    this.#altinnKey ??= this.#makeAltinnKey();
    return this.#altinnKey;
  }

  #makeAltinnKey(): SigningKey {
    const record = this.#data.signingKeys.altinn;
    const key = signingKeyFrom(record, 'altinn');
    record.kid = key.kid;
    return key;
  }

  /** Loads the state file when there is one, otherwise starts fresh with new signing and admin keys. */
  static async open(options: {
    clock: Clock;
    file?: string;
    signingKeySize?: 2048 | 3072 | 4096;
  }): Promise<EmulatorState> {
    const existing = options.file ? readStateFile(options.file) : undefined;
    if (existing) {
      try {
        return new EmulatorState(existing, options.clock, options.file);
      } catch {
        // No cause: a key parser's message may quote key material.
        throw new MaskinportenError(
          'ERR_EMULATOR_STATE',
          `the emulator state file ${options.file} holds keys that cannot be read: move it away or delete it`,
        );
      }
    }
    // Without a state file nothing is written at start, so the keys a run may never use can wait until first read;
    // a state file holds every key from the start.
    const onFirstRead = options.file === undefined;
    const { data, adminKid } = await newStateData(() => options.clock.now(), options.signingKeySize ?? 2048, {
      onFirstRead,
    });
    const state = new EmulatorState(data, options.clock, options.file, { adminKid });
    state.persist();
    return state;
  }

  /** The administrator client the emulator created for the self-service API, with its key pair. */
  get admin(): EmulatorStateData['admin'] {
    return this.#data.admin;
  }

  /** Writes the state file atomically (temporary file, then rename), if there is one. */
  persist(): void {
    if (this.#file) writeStateFile(this.#file, this.#data);
  }

  // ---- clients ------------------------------------------------------------------------------------------------

  /** Registers a client; validates scopes, organisation number, lifetime (0: the default) and keys. */
  addClient(input: NewClient): EmulatedClient {
    const { orgNo, lifetime } = checkNewClient(input, DEFAULT_ORG_NO, DEFAULT_TOKEN_LIFETIME);
    const clientId = input.clientId ?? randomUUID();
    if (this.#clients.has(clientId)) throw new ArgumentError(`a client with id ${clientId} already exists`);
    const now = this.#clock.now();
    const client: EmulatedClient = {
      clientId,
      clientName: input.clientName ?? `client-${clientId.slice(0, 8)}`,
      description: input.description ?? '',
      orgNo,
      scopes: [...new Set(input.scopes)],
      accessTokenLifetime: lifetime,
      keys: [],
      keysCreatedAt: null,
      keysUpdatedAt: null,
      active: true,
      createdAt: now,
      updatedAt: now,
    };
    if (input.jwks) this.#applyKeys(client, input.jwks, false);
    this.#clients.set(clientId, client);
    this.#data.clients.push(client);
    this.persist();
    return client;
  }

  /** The client with this id, active or not. */
  client(clientId: string): EmulatedClient | undefined {
    return this.#clients.get(clientId);
  }

  /** Every active client, optionally only those of one organisation. */
  clients(orgNo?: string): EmulatedClient[] {
    return this.#data.clients.filter((c) => c.active && (orgNo === undefined || c.orgNo === orgNo));
  }

  /** Changes a client's name, description, scopes or token lifetime (0: the default). */
  updateClient(
    clientId: string,
    patch: Partial<Pick<EmulatedClient, 'clientName' | 'description' | 'scopes' | 'accessTokenLifetime'>>,
  ): EmulatedClient {
    const client = this.#activeClient(clientId);
    if (patch.scopes !== undefined) {
      checkScopes(patch.scopes);
      client.scopes = [...new Set(patch.scopes)];
    }
    if (patch.clientName !== undefined) client.clientName = String(patch.clientName);
    if (patch.description !== undefined) client.description = String(patch.description);
    if (patch.accessTokenLifetime !== undefined) {
      client.accessTokenLifetime = tokenLifetimeOrDefault(
        patch.accessTokenLifetime,
        DEFAULT_TOKEN_LIFETIME,
        'access_token_lifetime',
      );
    }
    client.updatedAt = this.#clock.now();
    this.persist();
    return client;
  }

  /** Deactivates a client (the self-service API's DELETE): it stays known, but can no longer get tokens. */
  deactivateClient(clientId: string): void {
    const client = this.#activeClient(clientId);
    client.active = false;
    client.updatedAt = this.#clock.now();
    this.#forgetKeys(clientId);
    this.persist();
  }

  /**
   * Replaces a client's whole key set (POST and PUT of the self-service API both do this), under the API's rules
   * (`posted`): `use: "sig"` on every key and at least one key. Each key's `exp` is as posted (at most a year), or
   * one year.
   */
  replaceKeys(clientId: string, jwks: unknown, posted = true): EmulatedClient {
    const client = this.#activeClient(clientId);
    this.#applyKeys(client, jwks, posted);
    this.persist();
    return client;
  }

  /** Removes every key of a client (DELETE on the key set): grants signed with them fail from now on. */
  deleteKeys(clientId: string): EmulatedClient {
    const client = this.#activeClient(clientId);
    const now = this.#clock.now();
    client.keys = [];
    client.keysUpdatedAt = now;
    client.updatedAt = now;
    this.#forgetKeys(clientId);
    this.persist();
    return client;
  }

  /** The parsed public key registered on a client under `kid`, with its registration record. */
  clientKey(clientId: string, kid: string): { key: KeyObject; expiresAt: number } | undefined {
    const client = this.#clients.get(clientId);
    const registered = client?.keys.find((k) => k.jwk.kid === kid);
    if (!registered) return undefined;
    const cacheKey = `${clientId}\u0000${kid}`;
    let key = this.#keyCache.get(cacheKey);
    if (!key) {
      key = importPublicJwk(registered.jwk);
      this.#keyCache.set(cacheKey, key);
    }
    return { key, expiresAt: registered.expiresAt };
  }

  #activeClient(clientId: string): EmulatedClient {
    const client = this.#clients.get(clientId);
    if (!client?.active) throw new ArgumentError(`no client with id ${clientId}`);
    return client;
  }

  #applyKeys(client: EmulatedClient, jwks: unknown, posted: boolean): void {
    const now = this.#clock.now();
    const validated = validateJwkSet(jwks, { nowMs: now, posted });
    // A key without its own exp gets a fresh year: re-posting a key is how it is renewed.
    client.keys = validated.map(({ jwk, expiresAt }) => ({ jwk, createdAt: now, expiresAt }));
    client.keysCreatedAt ??= now;
    client.keysUpdatedAt = now;
    client.updatedAt = now;
    this.#forgetKeys(client.clientId);
  }

  #forgetKeys(clientId: string): void {
    for (const k of this.#keyCache.keys()) if (k.startsWith(`${clientId}\u0000`)) this.#keyCache.delete(k);
  }

  // ---- scopes, delegations, system users, consents ------------------------------------------------------------

  /** Defines (or redefines) a scope's token properties. */
  defineScope(scope: ScopeDefinition): ScopeDefinition {
    return this.scopeRegistry.define(scope);
  }

  /** The definition of a scope, if one was made. */
  scope(name: string): ScopeDefinition | undefined {
    return this.scopeRegistry.get(name);
  }

  /** Every defined scope. */
  scopes(): ScopeDefinition[] {
    return this.scopeRegistry.list();
  }

  /**
   * The first of `scopes` that organisation `orgNo` has not been granted access to (the token endpoint's MP-250),
   * or undefined. Only scopes created through the self-service API have an access list; the rest stay open.
   */
  deniedScope(scopes: readonly string[], orgNo: string): string | undefined {
    return this.scopeRegistry.deniedScope(scopes, orgNo);
  }

  /** Registers an Altinn delegation from a consumer to a supplier for a scope. */
  addDelegation(delegation: Delegation): Delegation {
    const { consumerOrg, supplierOrg, scope } = delegation;
    if (!isOrgNumber(consumerOrg)) throw new ArgumentError(`consumerOrg must be a nine-digit organisation number`);
    if (!isOrgNumber(supplierOrg)) throw new ArgumentError(`supplierOrg must be a nine-digit organisation number`);
    if (typeof scope !== 'string' || !scope) throw new ArgumentError('scope must be a non-empty string');
    if (!this.hasDelegation(consumerOrg, supplierOrg, scope)) {
      this.#data.delegations.push({ consumerOrg, supplierOrg, scope });
      this.persist();
    }
    return { consumerOrg, supplierOrg, scope };
  }

  /** True when `consumerOrg` has delegated `scope` to `supplierOrg`. */
  hasDelegation(consumerOrg: string, supplierOrg: string, scope: string): boolean {
    return this.#data.delegations.some(
      (d) => d.consumerOrg === consumerOrg && d.supplierOrg === supplierOrg && d.scope === scope,
    );
  }

  /** Every registered delegation. */
  delegations(): Delegation[] {
    return this.#data.delegations.map((d) => ({ ...d }));
  }

  /** Registers a system user for a party organisation, usable by the listed clients. */
  addSystemUser(input: NewSystemUser): SystemUser {
    if (!isOrgNumber(input.org)) throw new ArgumentError('org must be the nine-digit organisation number of the party');
    if (!Array.isArray(input.clientIds) || input.clientIds.length === 0) {
      throw new ArgumentError('clientIds must name at least one client that may act as this system user');
    }
    if (input.clientIds.some((id) => typeof id !== 'string')) throw new ArgumentError('clientIds must be strings');
    optionalString(input.systemId, 'systemId');
    optionalString(input.externalRef, 'externalRef');
    optionalString(input.id, 'id');
    const first = this.#clients.get(input.clientIds[0]!);
    const user: SystemUser = {
      id: input.id ?? randomUUID(),
      org: input.org,
      systemId: input.systemId ?? `${first?.orgNo ?? DEFAULT_ORG_NO}_system`,
      clientIds: [...input.clientIds],
    };
    if (input.externalRef !== undefined) user.externalRef = input.externalRef;
    this.#data.systemUsers.push(user);
    this.persist();
    return { ...user };
  }

  /**
   * The system user of `org` that `clientId` may act as. A system user created without an `externalRef` has the
   * party's organisation number as its `externalRef`, and a grant without one asks for exactly that; a system user
   * created with one is found only when the grant names it (else MP-303).
   */
  findSystemUser(org: string, clientId: string, externalRef: string | undefined): SystemUser | undefined {
    const wanted = externalRef ?? org;
    return this.#data.systemUsers.find(
      (u) => u.org === org && u.clientIds.includes(clientId) && (u.externalRef ?? u.org) === wanted,
    );
  }

  /** Registers a consent given by `from` to `toOrg`. */
  addConsent(input: NewConsent): Consent {
    if (!isOrgNumber(input.toOrg)) throw new ArgumentError('toOrg must be a nine-digit organisation number');
    if (typeof input.from !== 'string' || !input.from.startsWith('urn:altinn:')) {
      throw new ArgumentError('from must be an Altinn party URN, e.g. urn:altinn:person:identifier-no:<fnr>');
    }
    if (input.consentRights !== undefined && !Array.isArray(input.consentRights)) {
      throw new ArgumentError('consentRights must be an array');
    }
    if (input.id !== undefined && (typeof input.id !== 'string' || !input.id)) {
      throw new ArgumentError('id must be a non-empty string');
    }
    const now = this.#clock.now();
    const validTo = input.validTo === undefined ? now + 365 * 24 * 3600 * 1000 : epochMs(input.validTo as unknown);
    if (validTo === undefined) {
      throw new ArgumentError(
        `validTo must be a valid Date, epoch milliseconds or an ISO date, got ${String(JSON.stringify(input.validTo))}`,
      );
    }
    const consent: Consent = {
      id: input.id ?? randomUUID(),
      from: input.from,
      toOrg: input.toOrg,
      consentRights: input.consentRights ?? [],
      consentedAt: now,
      validTo,
    };
    this.#data.consents.push(consent);
    this.persist();
    return { ...consent };
  }

  /** The consent with this id. */
  consent(id: string): Consent | undefined {
    return this.#data.consents.find((c) => c.id === id);
  }

  /** Every registered system user. */
  systemUsers(): SystemUser[] {
    return this.#data.systemUsers.map((u) => ({ ...u, clientIds: [...u.clientIds] }));
  }

  /** Every registered consent. */
  consents(): Consent[] {
    return this.#data.consents.map((c) => ({ ...c }));
  }
}
