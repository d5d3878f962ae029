/**
 * Tokens at rest, for shared stores: entries are sealed with AES-256-GCM (a fresh 96-bit IV each, the entry's name
 * as additional data, so an entry moved to another name does not open), and entry names are HMAC-SHA256 of the
 * cache key, so a store holds no client id, scope or token in clear, and names cannot be guessed from them. Both
 * keys are derived by HKDF from one secret: the client's {@link StoreContext} secret or a key the user passes.
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

/** The store name of a cache key: base64url HMAC-SHA256, 43 characters. */
export function entryName(keys: SealKeys, key: string): string {
  return createHmac('sha256', keys.naming).update(key).digest('base64url');
}

/** Seals a token as `v1.<iv>.<ciphertext>.<tag>` (base64url parts). */
export function seal(keys: SealKeys, name: string, token: StoredToken): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.encryption, iv);
  cipher.setAAD(Buffer.from(name));
  const body = Buffer.concat([cipher.update(JSON.stringify(token), 'utf8'), cipher.final()]);
  return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/** Opens a sealed entry; undefined when it is not one, was sealed under another key or name, or was altered. */
export function open(keys: SealKeys, name: string, sealed: string): StoredToken | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.encryption, Buffer.from(parts[1]!, 'base64url'), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(parts[2]!, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as StoredToken;
  } catch {
    return undefined;
  }
}
