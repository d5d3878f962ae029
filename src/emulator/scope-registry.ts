/**
 * The emulator's scopes and who may use them (Digdir's error list and self-service API docs). A scope created through
 * the API-provider side of the self-service API has an owner; only the owner, organisations it granted access, or
 * everyone when the scope is `accessible_for_all`, get tokens with it — anyone else gets MP-250, even with the scope
 * registered on the client. Scopes without an owner (the emulator's defaults, or defined from code) stay open.
 */
import { ArgumentError } from '../errors.ts';
import { isOrgNumber } from '../protocol/constants.ts';
import { FieldError } from './field-error.ts';
import type { EmulatorStateData, ScopeAccess, ScopeDefinition } from './model.ts';
import { checkScopeDefinition } from './state-input.ts';

/** The fields of a scope its owner may change after creating it. */
export type ScopePatch = Omit<ScopeDefinition, 'name' | 'ownerOrgNo' | 'createdAt' | 'updatedAt'>;

/**
 * Scope definitions and access grants over the persistent state.
 *
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin_maskinporten
 */
export class ScopeRegistry {
  readonly #data: EmulatorStateData;
  readonly #byName = new Map<string, ScopeDefinition>();
  readonly #now: () => number;
  readonly #persist: () => void;

  constructor(data: EmulatorStateData, now: () => number, persist: () => void) {
    this.#data = data;
    data.scopeAccess ??= [];
    this.#now = now;
    this.#persist = persist;
    for (const s of data.scopes) this.#byName.set(s.name, s);
  }

  /** Defines (or redefines) a scope from code or the admin route; an owner, when given, must be an org number. */
  define(scope: ScopeDefinition): ScopeDefinition {
    checkScopeDefinition(scope);
    const now = this.#now();
    const copy: ScopeDefinition = {
      ...scope,
      createdAt: this.#byName.get(scope.name)?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store(copy);
    return copy;
  }

  /** Creates an owned scope (POST of the self-service API); refuses a name that is taken. */
  create(scope: ScopeDefinition, ownerOrgNo: string): ScopeDefinition {
    checkScopeDefinition(scope);
    const existing = this.#byName.get(scope.name);
    if (existing) {
      throw new FieldError(
        'Scope',
        'name',
        existing.ownerOrgNo === ownerOrgNo && existing.active === false
          ? `scope ${scope.name} exists but is inactive: make it active again with PUT (active: true)`
          : `scope ${scope.name} already exists: choose another subscope, or change it with PUT`,
      );
    }
    const now = this.#now();
    const created: ScopeDefinition = {
      ...scope,
      ownerOrgNo,
      active: scope.active ?? true,
      createdAt: now,
      updatedAt: now,
    };
    this.#store(created);
    return created;
  }

  /** Changes an owned scope's properties (PUT); the name and owner stay. */
  update(name: string, patch: ScopePatch): ScopeDefinition {
    const current = this.#byName.get(name);
    if (!current) throw new ArgumentError(`no scope ${name}`);
    const next: ScopeDefinition = { ...current };
    for (const [k, v] of Object.entries(patch))
      if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    checkScopeDefinition(next);
    next.updatedAt = this.#now();
    this.#store(next);
    return next;
  }

  /**
   * Makes `ownerOrgNo` the owner of a scope that has none (one defined from code), so its access list applies
   * from now on; a scope that has an owner keeps it.
   */
  claim(name: string, ownerOrgNo: string): ScopeDefinition {
    const current = this.#byName.get(name);
    if (!current) throw new ArgumentError(`no scope ${name}`);
    if (current.ownerOrgNo !== undefined) return current;
    const now = this.#now();
    const claimed: ScopeDefinition = { ...current, ownerOrgNo, createdAt: current.createdAt ?? now, updatedAt: now };
    this.#store(claimed);
    return claimed;
  }

  /** The definition of a scope, if one was made. */
  get(name: string): ScopeDefinition | undefined {
    return this.#byName.get(name);
  }

  /** Every defined scope. */
  list(): ScopeDefinition[] {
    return [...this.#byName.values()];
  }

  /** Grants (or grants again) `consumerOrgNo` access to an owned scope. */
  grant(scope: string, consumerOrgNo: string): ScopeAccess {
    this.#checkOrg(consumerOrgNo);
    const now = this.#now();
    const access = this.#access().find((a) => a.scope === scope && a.consumerOrgNo === consumerOrgNo);
    if (access) {
      access.state = 'APPROVED';
      access.updatedAt = now;
      this.#persist();
      return { ...access };
    }
    const created: ScopeAccess = { scope, consumerOrgNo, state: 'APPROVED', createdAt: now, updatedAt: now };
    this.#access().push(created);
    this.#persist();
    return { ...created };
  }

  /**
   * Withdraws an organisation's access, recording it as `DENIED` even when it held no grant: withdrawing is
   * idempotent, and a withdrawn owner loses the access it otherwise has to its own scope.
   */
  withdraw(scope: string, consumerOrgNo: string): ScopeAccess {
    this.#checkOrg(consumerOrgNo);
    const now = this.#now();
    let access = this.#access().find((a) => a.scope === scope && a.consumerOrgNo === consumerOrgNo);
    if (!access) {
      access = { scope, consumerOrgNo, state: 'DENIED', createdAt: now, updatedAt: now };
      this.#access().push(access);
    }
    access.state = 'DENIED';
    access.updatedAt = now;
    this.#persist();
    return { ...access };
  }

  /** Every access grant of a scope, withdrawn ones included. */
  accessTo(scope: string): ScopeAccess[] {
    return this.#access()
      .filter((a) => a.scope === scope)
      .map((a) => ({ ...a }));
  }

  /** Every access grant an organisation holds. */
  accessOf(consumerOrgNo: string): ScopeAccess[] {
    return this.#access()
      .filter((a) => a.consumerOrgNo === consumerOrgNo)
      .map((a) => ({ ...a }));
  }

  /**
   * The first of `scopes` that `orgNo` may not get a token for (MP-250), or undefined when it may have them all.
   * Only owned scopes are checked: an inactive one is refused to everyone; an `accessible_for_all` one is open;
   * otherwise an explicit grant or withdrawal decides, and without one only the owner's organisation has access.
   *
   * @param scopes - The scopes a grant asks for.
   * @param orgNo - The consumer's organisation (the `consumer_org`, else the client's).
   * @returns The first scope refused, or undefined.
   * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking
   */
  deniedScope(scopes: readonly string[], orgNo: string): string | undefined {
    for (const name of scopes) {
      const scope = this.#byName.get(name);
      if (scope?.ownerOrgNo === undefined) continue;
      if (scope.active === false) return name;
      if (scope.accessibleForAll) continue;
      // An explicit grant or withdrawal decides; without one, only the owner's own organisation has access.
      const access = this.#access().find((a) => a.scope === name && a.consumerOrgNo === orgNo);
      if (access ? access.state !== 'APPROVED' : scope.ownerOrgNo !== orgNo) return name;
    }
    return undefined;
  }

  #access(): ScopeAccess[] {
    this.#data.scopeAccess ??= [];
    return this.#data.scopeAccess;
  }

  #checkOrg(orgNo: string): void {
    if (!isOrgNumber(orgNo)) {
      throw new FieldError(
        'ScopeAccess',
        'consumer_orgno',
        `the organisation number must be nine digits, got ${JSON.stringify(orgNo)}`,
      );
    }
  }

  #store(scope: ScopeDefinition): void {
    this.#byName.set(scope.name, scope);
    this.#data.scopes = [...this.#byName.values()];
    this.#persist();
  }
}
