/**
 * The interface of a shared token store (e.g. Redis), consulted when the in-process cache misses, so several
 * processes can share tokens. The in-process cache works without one.
 */
import type { TokenKind } from '../token.ts';

/** A token as a shared store holds it: plain, serialisable data. */
export interface StoredToken {
  value: string;
  kind: TokenKind;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms. */
  issuedAt: number;
  scopes: string[];
}

/**
 * A shared, asynchronous token store. Keys are opaque strings that already include the authority, client id, key
 * id, variant and request; a store must keep entries no longer than the given TTL.
 */
export interface TokenStore {
  get(key: string): Promise<StoredToken | undefined>;
  set(key: string, token: StoredToken, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}
