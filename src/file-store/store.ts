/**
 * A token store in files, for scripts and the CLI on one machine: `maskinporten token` run twice in a minute asks
 * Maskinporten once. One file per environment, client and request (named by HMAC of the cache key), sealed like
 * the Redis store's entries (AES-256-GCM under a key derived from the client's private key), mode 0600 in a
 * directory of mode 0700. Writes are atomic (a temporary file renamed over the entry), so a reader never sees a
 * torn file; two invocations racing take a lock file (see lock.ts), so only one fetches and the other waits for its
 * entry (by polling: files have no change notification that works everywhere).
 */

import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { entryName, open, type SealKeys, seal, sealKeys, secretFor, userSecret } from '../cache/sealed.ts';
import type { StoreContext, StoredToken, StoreLock, TokenStore } from '../cache/store.ts';
import { ConfigError } from '../errors.ts';
import { takeFileLock } from './lock.ts';

/**
 * Options of {@link createFileTokenStore}.
 * @see https://specifications.freedesktop.org/basedir-spec/latest/
 */
export interface FileTokenStoreOptions {
  /** The secret entries are sealed under instead of the one derived from the client's key (≥ 16 bytes). */
  encryptionKey?: string | Uint8Array;
  /** A lock older than this (ms) is taken over (a dead owner's is taken over at once); 30000 by default. */
  lockTtlMs?: number;
  /** The longest (ms) one invocation waits for another's fetch before fetching itself; 15000 by default. */
  maxWaitMs?: number;
  /** How often (ms) a waiting invocation looks for the other's entry; 50 by default. */
  pollIntervalMs?: number;
}

/**
 * The user's cache directory for this package: `$XDG_CACHE_HOME/maskinporten`, else `~/.cache/maskinporten`.
 *
 * @param env - The environment to read `XDG_CACHE_HOME` from; `process.env` by default.
 * @returns An absolute directory path (not created).
 * @see https://specifications.freedesktop.org/basedir-spec/latest/
 */
export function defaultTokenCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says a relative path is invalid and must be ignored.
  const base = xdg?.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(base, 'maskinporten');
}

class FileStore implements TokenStore {
  readonly name = 'file';
  readonly maxWaitMs: number;
  readonly #dir: string;
  readonly #secret: Uint8Array | undefined;
  readonly #lockTtlMs: number;
  readonly #pollMs: number;
  #ready: Promise<void> | undefined;

  constructor(dir: string, options: FileTokenStoreOptions) {
    this.#dir = dir;
    this.#secret = userSecret(options.encryptionKey, 'createFileTokenStore options.encryptionKey');
    this.#lockTtlMs = whole(options.lockTtlMs, 30_000, 'lockTtlMs');
    this.maxWaitMs = whole(options.maxWaitMs, 15_000, 'maxWaitMs');
    this.#pollMs = whole(options.pollIntervalMs, 50, 'pollIntervalMs');
  }

  async get(key: string, context?: StoreContext): Promise<StoredToken | undefined> {
    const { path, keys, name } = await this.#entry(key, context);
    const entry = await this.#read(path, keys, name);
    if (entry === 'expired') await unlink(path).catch(() => undefined);
    return entry === 'expired' ? undefined : entry;
  }

  async set(key: string, token: StoredToken, ttlMs: number, context?: StoreContext): Promise<void> {
    const { path, keys, name } = await this.#entry(key, context);
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, `${Date.now() + ttlMs}\n${seal(keys, name, token)}\n`, { mode: 0o600, flag: 'wx' });
      await rename(temporary, path);
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Removes the entry; with `token`, only while it holds that token (a newer one is kept). Without a lock: the
   * entry is moved aside (one atomic rename) and looked at there; a newer token is linked back, and `link` never
   * replaces an entry written meanwhile. A reader in between finds no entry and fetches, which costs a request but
   * never loses a token.
   */
  async delete(key: string, context?: StoreContext, token?: StoredToken): Promise<void> {
    const { path, keys, name } = await this.#entry(key, context);
    if (token === undefined) {
      await unlink(path).catch(() => undefined);
      return;
    }
    const aside = `${path}.${randomBytes(6).toString('hex')}.deleting`;
    try {
      await rename(path, aside);
    } catch {
      return; // no entry: nothing to delete
    }
    try {
      const moved = await this.#read(aside, keys, name);
      if (moved !== undefined && moved !== 'expired' && moved.value !== token.value)
        await link(aside, path).catch(() => undefined); // EEXIST: an even newer entry is there; it wins
    } finally {
      await unlink(aside).catch(() => undefined);
    }
  }

  async lock(key: string, context?: StoreContext): Promise<StoreLock | null> {
    const { path } = await this.#entry(key, context);
    const release = await takeFileLock(`${path}.lock`, this.#lockTtlMs);
    return release ? { release } : null;
  }

  async changed(_key: string, maxMs: number): Promise<void> {
    await sleep(Math.max(1, Math.min(maxMs, this.#pollMs)));
  }

  toString(): string {
    return `FileTokenStore(${this.#dir})`;
  }

  /**
   * The token in the entry file at `path`: `'expired'` when it is out of date or has no sealed part (such files are
   * removed), `undefined` when there is none or the seal does not open (tampered, another key).
   */
  async #read(path: string, keys: SealKeys, name: string): Promise<StoredToken | 'expired' | undefined> {
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) return undefined;
    const [until, sealed] = text.split('\n');
    if (!(Number(until) > Date.now()) || !sealed) return 'expired';
    return open(keys, name, sealed);
  }

  async #entry(key: string, context: StoreContext | undefined) {
    this.#ready ??= this.#prepare().catch((err: unknown) => {
      this.#ready = undefined; // tried again on the next call
      throw err;
    });
    await this.#ready;
    const keys = sealKeys(secretFor(this.#secret, context, 'The file token store'));
    const name = entryName(keys, key);
    return { keys, name, path: join(this.#dir, `${name}.token`) };
  }

  /** Makes the directory (0700) or checks it: ours, a real directory, closed to others (tightened if not). */
  async #prepare(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const info = await lstat(this.#dir);
    if (!info.isDirectory()) throw new ConfigError(`${this.#dir} is not a directory (a symbolic link?): remove it`);
    if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
      throw new ConfigError(`${this.#dir} belongs to another user: use a directory of your own`);
    }
    if ((info.mode & 0o077) !== 0) await chmod(this.#dir, 0o700);
  }
}

function whole(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > 3_600_000) {
    throw new ConfigError(`createFileTokenStore options.${name} must be a whole number of ms from 1 to 3600000`);
  }
  return v;
}

/**
 * A token store in files under `dir` (by default the user's cache directory, {@link defaultTokenCacheDir}), for
 * `new MaskinportenClient(settings, { cache: { store } })` in scripts and command-line tools: tokens survive the
 * process, sealed at rest, and two processes racing make one request.
 *
 * @param dir - The directory (created 0700; files 0600); {@link defaultTokenCacheDir} by default.
 * @param options - Lock TTL, the longest wait on another process's fetch, and the poll interval (ms).
 * @returns The store, for `cache.store`.
 * @throws ConfigError `ERR_CONFIG` for a `dir` that is not a path or an option out of range; its calls reject with
 *   `ERR_CONFIG` when the directory belongs to another user (the client then serves from memory).
 *
 * @see https://specifications.freedesktop.org/basedir-spec/latest/ (XDG_CACHE_HOME)
 */
export function createFileTokenStore(
  dir: string = defaultTokenCacheDir(),
  options: FileTokenStoreOptions = {},
): TokenStore {
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    throw new ConfigError('createFileTokenStore(dir): dir must be a directory path');
  }
  return new FileStore(dir, options);
}
