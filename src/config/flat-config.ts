/**
 * The configuration model every source feeds: flat, case-insensitive keys joined with `:` (as .NET's
 * configuration does), each value remembering where it came from. Later sources override earlier ones.
 */

/**
 * Where a setting's value came from.
 * @see {@link describeSource}
 */
export type SettingSource =
  | { kind: 'file'; file: string }
  | { kind: 'secret-file'; file: string }
  | { kind: 'env'; name: string }
  | { kind: 'key-vault'; vaultUrl: string; secretName: string }
  | { kind: 'code' };

/**
 * A short human description of a source, with no secret in it.
 *
 * @param source - Where a value came from.
 * @returns E.g. `file appsettings.json`, `environment variable MaskinportenSettings__ClientId`, `code`.
 * @see {@link SettingSource}
 */
export function describeSource(source: SettingSource): string {
  switch (source.kind) {
    case 'file':
      return `file ${source.file}`;
    case 'secret-file':
      return `secret file ${source.file}`;
    case 'env':
      return `environment variable ${source.name}`;
    case 'key-vault':
      return `Key Vault ${source.vaultUrl} secret ${source.secretName}`;
    case 'code':
      return 'code';
  }
}

/**
 * Member names that reach an object's prototype when a tree is walked with `node[name]`: refused wherever they
 * appear in configuration (case-insensitively, as configuration keys are), so no source can change
 * `Object.prototype` — and through it, for instance, `NODE_OPTIONS` of every child process.
 */
const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first forbidden segment of a `:`-joined key, if any. */
export function forbiddenSegment(key: string): string | undefined {
  return key.split(':').find((part) => FORBIDDEN_MEMBERS.has(part.toLowerCase()));
}

/** One configured value. */
export interface ConfigValue {
  /** The key as written by its source, e.g. `MaskinportenSettings:ClientId`. */
  key: string;
  value: string;
  source: SettingSource;
}

/** Flat configuration: `Section:Key` → value, case-insensitive. */
export class FlatConfig {
  readonly #values = new Map<string, ConfigValue>();

  /**
   * Sources that could not be read (a malformed or unreadable file): where, and what is wrong — never a value.
   * Loading reports them together with the problems of the settings.
   */
  readonly sourceProblems: Array<{ source: string; message: string; path?: string }> = [];

  /** Records a key with a forbidden member name (and drops its value). */
  #refuse(key: string, member: string, source: SettingSource): void {
    this.sourceProblems.push({
      source: describeSource(source),
      path: key,
      message: `the member name ${JSON.stringify(member)} is not allowed in configuration (it would reach the prototype of every object): remove it`,
    });
  }

  /**
   * Sets one value, overriding any earlier one with the same key. A value replaces, not merges with, an object
   * given earlier under the same key (e.g. `Jwk` as JSON text from an env var over a `Jwk` object from a file), and
   * a value under a key replaces a single value given earlier for one of its parents.
   */
  set(key: string, value: string, source: SettingSource): void {
    const member = forbiddenSegment(key);
    if (member !== undefined) {
      this.#refuse(key, member, source);
      return;
    }
    this.deleteTree(key, false);
    const parts = key.toLowerCase().split(':');
    for (let i = 1; i < parts.length; i++) this.#values.delete(parts.slice(0, i).join(':'));
    this.#values.set(key.toLowerCase(), { key, value, source });
  }

  /** Adds a nested JSON object under `prefix` (arrays become `:0`, `:1`, …). Null values are ignored. */
  addObject(value: unknown, source: SettingSource, prefix = ''): void {
    if (value === null || value === undefined) return;
    if (typeof value === 'object') {
      // An object replaces, not merges with, a section given earlier as one string (e.g. Jwk as JSON text).
      if (prefix) this.#values.delete(prefix.toLowerCase());
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const key = prefix ? `${prefix}:${k}` : k;
        if (FORBIDDEN_MEMBERS.has(k.toLowerCase())) this.#refuse(key, k, source);
        else this.addObject(v, source, key);
      }
      return;
    }
    if (!prefix) return;
    // A string replaces an object given earlier under the same key.
    this.deleteTree(prefix, false);
    this.set(prefix, String(value), source);
  }

  /** The value of `key`. */
  get(key: string): ConfigValue | undefined {
    return this.#values.get(key.toLowerCase());
  }

  /** Every value under `prefix:` (the subtree), with keys relative to the prefix. */
  children(prefix: string): ConfigValue[] {
    const p = `${prefix.toLowerCase()}:`;
    const out: ConfigValue[] = [];
    for (const [k, v] of this.#values) if (k.startsWith(p)) out.push({ ...v, key: v.key.slice(p.length) });
    return out;
  }

  /** True when there is a value at `key` or under it. */
  has(key: string): boolean {
    return this.get(key) !== undefined || this.children(key).length > 0;
  }

  /** Removes the values under `prefix:` (and at `prefix` itself when `self`). */
  deleteTree(prefix: string, self = true): void {
    const p = prefix.toLowerCase();
    for (const k of [...this.#values.keys()]) if ((self && k === p) || k.startsWith(`${p}:`)) this.#values.delete(k);
  }

  /** Rebuilds the object under `prefix` from its flat values (string leaves). */
  object(prefix: string): Record<string, unknown> | undefined {
    const kids = this.children(prefix);
    if (kids.length === 0) return undefined;
    // Null-prototype nodes: walking `node[part]` can never step onto Object.prototype, whatever a key holds.
    const root: Record<string, unknown> = Object.create(null);
    for (const { key, value } of kids) {
      const parts = key.split(':');
      let node = root;
      for (const part of parts.slice(0, -1)) {
        if (typeof node[part] !== 'object' || node[part] === null) node[part] = Object.create(null);
        node = node[part] as Record<string, unknown>;
      }
      node[parts[parts.length - 1]!] = value;
    }
    return asArrays(root) as Record<string, unknown>;
  }

  /** A stable fingerprint of every value, for change detection (never printed). */
  fingerprint(): string {
    return JSON.stringify(
      [...this.#values.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.value]),
    );
  }
}

/** Turns objects keyed `0`, `1`, … (how arrays are flattened) back into arrays, as .NET's binder does. */
function asArrays(node: unknown): unknown {
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, asArrays(v)] as const);
  const isList = entries.length > 0 && entries.every(([k]) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < entries.length);
  if (isList) {
    const list: unknown[] = [];
    for (const [k, v] of entries) list[Number(k)] = v;
    return list;
  }
  // A plain object for the caller, built by defining properties (never by assignment through a prototype).
  return Object.fromEntries(entries);
}
