/**
 * The {@link StoreContext} of a client: a secret every process holding the same private key derives alike (HKDF
 * over the key's PKCS#8 bytes), so shared stores can encrypt entries and hash key names with no new configuration.
 * The private key never leaves this function; the derived bytes cannot be turned back into it.
 */
import { hkdfSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import type { Logger } from '../telemetry.ts';
import type { StoreContext } from './store.ts';

/** Derives the store context of the client whose private key is `privateKey`. */
export function deriveStoreContext(privateKey: KeyObject, logger: Logger | undefined): StoreContext {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const secret = new Uint8Array(hkdfSync('sha256', der, 'maskinporten token store', 'v1', 32));
  der.fill(0);
  const context = { logger };
  // Not enumerable and not printed: the derived secret decrypts every stored token of this client.
  Object.defineProperty(context, 'secret', { value: secret, enumerable: false });
  Object.defineProperty(context, inspect.custom, { value: () => 'StoreContext([secret])' });
  return Object.freeze(context) as StoreContext;
}
