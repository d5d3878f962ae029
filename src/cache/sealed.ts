/**
 * Tokens at rest, for shared stores: entries are sealed with AES-256-GCM (a fresh 96-bit IV each, the entry's name
 * as additional data, so an entry moved to another name does not open), and entry names are HMAC-SHA256 of the
 * cache key, so a store holds no client id, scope or token in clear, and names cannot be guessed from them. Both
 * keys are derived by HKDF from one secret: the client's {@link StoreContext} secret or a key the user passes.
 *
 * An entry starts with a fingerprint of its token (an HMAC under the naming key: it tells tokens apart without
 * revealing them), so a store can delete an entry only while it holds a given token (compare-and-delete) without
 * opening it. Names are derived once per key, and a sealed entry equal to one already opened under the same keys
 * and name reuses what that opening produced: an unchanged entry costs a string comparison, not a decryption.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { StoreContext, StoredToken } from './store.ts';

/** The two keys a store works with; derive once per secret with {@link sealKeys}. */
export interface SealKeys {
  readonly naming: KeyObject;
  readonly encryption: KeyObject;
}

/** Names remembered per keys; past this many the memo starts over (a name is cheap to derive again). */
const MAX_MEMO = 10_000;
const names = new WeakMap<SealKeys, Map<string, string>>();

const derived = new WeakMap<Uint8Array, SealKeys>();

/** The keys of a secret (memoised per secret object). */
export function sealKeys(secret: Uint8Array): SealKeys {
  let keys = derived.get(secret);
  if (!keys) {
    keys = Object.freeze({
      // Key objects, made once: raw key bytes would be turned into one on every call.
      naming: createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'maskinporten token store', 'entry names', 32))),
      encryption: createSecretKey(
        Buffer.from(hkdfSync('sha256', secret, 'maskinporten token store', 'aes-256-gcm', 32)),
      ),
    });
    derived.set(secret, keys);
  }
  return keys;
}

/**
 * The secret a store seals with: the user's `encryptionKey` when given (as UTF-8 text or bytes, at least 16 bytes),
 * else the client's context. `setting` names the option in errors.
 */
export function userSecret(encryptionKey: string | Uint8Array | undefined, setting: string): Uint8Array | undefined {
  if (encryptionKey === undefined) return undefined;
  const bytes = typeof encryptionKey === 'string' ? Buffer.from(encryptionKey, 'utf8') : encryptionKey;
  if (!(bytes instanceof Uint8Array) || bytes.length < 16) {
    throw new ConfigError(
      `${setting} must be at least 16 bytes (a random string or Uint8Array shared by every process), or left out to derive one from the client's private key`,
    );
  }
  return new Uint8Array(bytes);
}

/** The secret for a call: the store's own, else the context's; a ConfigError when there is neither. */
export function secretFor(own: Uint8Array | undefined, context: StoreContext | undefined, store: string): Uint8Array {
  const secret = own ?? context?.secret;
  if (!secret) {
    throw new ConfigError(
      `${store} got no encryption key: pass it to MaskinportenClient as cache.store (which supplies one derived from the client's key), or set encryptionKey`,
    );
  }
  return secret;
}

/** The store name of a cache key: base64url HMAC-SHA256, 43 characters (derived once per keys and cache key). */
export function entryName(keys: SealKeys, key: string): string {
  let memo = names.get(keys);
  if (!memo) {
    memo = new Map();
    names.set(keys, memo);
  }
  let name = memo.get(key);
  if (name === undefined) {
    name = createHmac('sha256', keys.naming).update(key).digest('base64url');
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(key, name);
  }
  return name;
}

/** A token's fingerprint: base64url of 16 bytes of HMAC-SHA256 under the naming key, 22 characters. */
export function fingerprint(keys: SealKeys, tokenValue: string): string {
  return createHmac('sha256', keys.naming)
    .update('token\n')
    .update(tokenValue)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/** The start of every entry that holds the token with fingerprint `fp`, for compare-and-delete by prefix. */
export function sealedPrefix(fp: string): string {
  return `v2.${fp}.`;
}

/** Seals a token as `v2.<fingerprint>.<iv>.<ciphertext>.<tag>` (base64url parts; name and fingerprint authenticated). */
export function seal(keys: SealKeys, name: string, token: StoredToken): string {
  const fp = fingerprint(keys, token.value);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.encryption, iv);
  cipher.setAAD(Buffer.from(`${name}.${fp}`));
  const body = Buffer.concat([cipher.update(JSON.stringify(token), 'utf8'), cipher.final()]);
  return `${sealedPrefix(fp)}${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/**
 * Opens a sealed entry; undefined when it is not one, was sealed under another key or name, was altered, or its
 * fingerprint is not its token's. Entries of the earlier format (`v1.<iv>.<ciphertext>.<tag>`, name authenticated)
 * still open, so processes of both versions share a store during an upgrade.
 */
export function open(keys: SealKeys, name: string, sealed: string): StoredToken | undefined {
  const parts = sealed.split('.');
  const v2 = parts.length === 5 && parts[0] === 'v2';
  if (!v2 && (parts.length !== 4 || parts[0] !== 'v1')) return undefined;
  const [iv, body, tag] = v2 ? parts.slice(2) : parts.slice(1);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.encryption, Buffer.from(iv!, 'base64url'), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(v2 ? `${name}.${parts[1]}` : name));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body!, 'base64url')), decipher.final()]);
    const token = JSON.parse(plain.toString('utf8')) as StoredToken;
    if (v2 && (typeof token?.value !== 'string' || fingerprint(keys, token.value) !== parts[1])) return undefined;
    return token;
  } catch {
    return undefined;
  }
}

/**
 * {@link open} with a memory of the last entry opened per name: the same sealed text under the same keys and name
 * opens to the same token, so it is handed back (frozen, shared) without decrypting again. Bounded: past `max`
 * names the memory starts over.
 */
export class OpenedEntries {
  readonly #max: number;
  readonly #last = new Map<string, { keys: SealKeys; sealed: string; token: StoredToken }>();

  constructor(max = MAX_MEMO) {
    this.#max = max;
  }

  open(keys: SealKeys, name: string, sealed: string): StoredToken | undefined {
    const last = this.#last.get(name);
    if (last !== undefined && last.sealed === sealed && last.keys === keys) return last.token;
    const token = open(keys, name, sealed);
    // The remembered (frozen) token from the first read on, so a memo keyed by it hits from the first read.
    return token === undefined ? undefined : this.remember(keys, name, sealed, token);
  }

  /** Records what `sealed` holds (it was just sealed here, or opened). */
  remember(keys: SealKeys, name: string, sealed: string, token: StoredToken): StoredToken {
    const frozen = Object.isFrozen(token)
      ? token
      : Object.freeze({ ...token, scopes: Object.freeze([...token.scopes]) as string[] });
    if (this.#last.size >= this.#max && !this.#last.has(name)) this.#last.clear();
    this.#last.set(name, { keys, sealed, token: frozen });
    return frozen;
  }

  /** Every name with the keys and token last seen under it. */
  *entries(): IterableIterator<[name: string, keys: SealKeys, token: StoredToken]> {
    for (const [name, { keys, token }] of this.#last) yield [name, keys, token];
  }
}
