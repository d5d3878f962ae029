/**
 * A fetch coordinated through a shared store, so that however many processes miss the same key at once, one asks
 * upstream and the others use its result: read the store; else take the store's fetch lock, read again (a holder
 * may just have finished) and fetch; else wait for the holder (bounded), then read, and try the lock again (the
 * holder may have died: its lock expires). A caller never waits longer than the store's bound before fetching
 * itself, and a store that fails is skipped: the fetch goes upstream directly.
 */
import { sleep, type Timekeeper } from '../clock.ts';
import { AccessToken } from '../token.ts';
import type { StoreContext, StoredToken, TokenStore } from './store.ts';

/** Where a token came from: the process's memory, the shared store, a wait on another process, or upstream. */
export type TokenSource = 'memory' | 'store' | 'wait' | 'upstream';

/** A token with where it came from. */
export interface SourcedToken {
  token: AccessToken;
  source: TokenSource;
}

/** What {@link fetchThroughStore} needs. */
export interface SharedFetch {
  store: TokenStore;
  key: string;
  context: StoreContext | undefined;
  /** The timers the wait for another process's fetch is bounded and paced on. */
  timers: Timekeeper;
  fetch: () => Promise<AccessToken>;
  /** Whether a stored entry is believable at all; one that is not is a miss, and is deleted from the store. */
  sane: (stored: StoredToken) => boolean;
  /** Whether a stored token is good enough (usable; for a refresh, newer than the one held). */
  accept: (stored: StoredToken) => boolean;
  /** How long (ms) the store keeps a fetched token; ≤ 0: not stored. */
  ttlFor: (token: AccessToken) => number;
}

/** Plain data for a store. */
export function toStored(token: AccessToken): StoredToken {
  return {
    value: token.value,
    kind: token.kind,
    expiresAt: token.expiresAt.getTime(),
    issuedAt: token.issuedAt.getTime(),
    scopes: [...token.scopes],
  };
}

/** Tokens built from frozen store data: a store handing back the same entry again gets the same token. */
const built = new WeakMap<StoredToken, AccessToken>();

/** A token from a store's data (built once per frozen entry: a token is immutable, so it can be shared). */
export function fromStored(s: StoredToken): AccessToken {
  const known = built.get(s);
  if (known !== undefined) return known;
  const token = AccessToken.fromValue(s.value, s.kind, {
    expiresAt: new Date(s.expiresAt),
    issuedAt: new Date(s.issuedAt),
    scope: s.scopes.join(' '),
  });
  if (Object.isFrozen(s)) built.set(s, token);
  return token;
}

const UNAVAILABLE = Symbol('unavailable');

/** A store call whose failure means "the store is unavailable", never a failed token call. */
async function attempt<T>(call: () => Promise<T> | undefined): Promise<T | typeof UNAVAILABLE> {
  try {
    return (await call()) as T;
  } catch {
    return UNAVAILABLE;
  }
}

/** See the module comment. */
export async function fetchThroughStore(f: SharedFetch): Promise<SourcedToken> {
  const { store, key, context, timers } = f;
  const read = async (): Promise<AccessToken | undefined | typeof UNAVAILABLE> => {
    const stored = await attempt(() => store.get(key, context));
    if (stored === UNAVAILABLE) return UNAVAILABLE;
    if (!stored || !isStoredToken(stored)) return undefined;
    if (!f.sane(stored)) {
      // Only this entry: another process may have replaced it meanwhile.
      await attempt(() => store.delete(key, context, stored));
      return undefined;
    }
    if (!f.accept(stored)) return undefined;
    try {
      return fromStored(stored);
    } catch {
      return undefined; // a malformed entry is a miss, not an error
    }
  };
  const upstream = async (): Promise<SourcedToken> => {
    const token = await f.fetch();
    const ttl = f.ttlFor(token);
    // A shared store failing must not fail the caller, who already has a good token.
    if (ttl > 0) await attempt(() => store.set(key, toStored(token), ttl, context));
    return { token, source: 'upstream' };
  };

  const first = await read();
  if (first === UNAVAILABLE) return upstream();
  if (first) return { token: first, source: 'store' };
  if (!store.lock) return upstream();

  const started = timers.monotonic();
  const bound = store.maxWaitMs ?? 10_000;
  let waited = false;
  for (;;) {
    const lock = await attempt(() => store.lock!(key, context));
    if (lock === UNAVAILABLE) return upstream();
    if (lock) {
      try {
        // Another process may have stored its token between our read and our lock.
        const again = await read();
        if (again && again !== UNAVAILABLE) return { token: again, source: waited ? 'wait' : 'store' };
        return await upstream();
      } finally {
        await attempt(() => lock.release());
      }
    }
    const left = bound - (timers.monotonic() - started);
    if (left <= 0) return upstream();
    if (store.changed) {
      if ((await attempt(() => store.changed!(key, left, context))) === UNAVAILABLE) return upstream();
    } else {
      await sleep(timers, Math.min(left, 50));
    }
    waited = true;
    const after = await read();
    if (after === UNAVAILABLE) return upstream();
    if (after) return { token: after, source: 'wait' };
  }
}

/** Guards against entries of another shape (an older format, or written by something else). */
function isStoredToken(s: unknown): s is StoredToken {
  const t = s as StoredToken;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.value === 'string' &&
    (t.kind === 'maskinporten' || t.kind === 'altinn') &&
    Number.isFinite(t.expiresAt) &&
    Number.isFinite(t.issuedAt) &&
    Array.isArray(t.scopes) &&
    t.scopes.every((x) => typeof x === 'string')
  );
}
