/**
 * One issuer's signing keys for a resource server: the metadata document names the issuer and the JWKS; the keys
 * are cached, refreshed when they grow old, and refreshed on an unknown `kid` at most once per cooldown — so a
 * stream of tokens with forged `kid`s costs at most one fetch per cooldown — and a failed refresh keeps the keys
 * already known. Concurrent refreshes share one fetch.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { type Timekeeper, timeoutController } from '../clock.ts';
import type { RsaAlgorithm } from '../keys/jws.ts';
import { isSecureOrLoopback } from '../url-policy.ts';
import { TokenVerificationError } from './errors.ts';

/** How a key source fetches and keeps time. */
export interface KeySourceOptions {
  fetch: typeof globalThis.fetch;
  clock: Timekeeper;
  /** Keys older than this are refetched before use (ms). */
  cacheMaxAgeMs: number;
  /** Least time between two fetches caused by unknown `kid`s or failures (ms). */
  cooldownMs: number;
  /** Per-request timeout (ms). */
  timeoutMs: number;
}

/** Where an issuer's metadata may be, in order, and the issuer it must name. */
export interface KeySourceTarget {
  /** For messages: `Maskinporten` or `Altinn`. */
  label: string;
  /** The issuer the metadata must name (compared without trailing slashes). */
  issuer: string;
  metadataUrls: readonly string[];
  /** Keys given in code instead of discovered: the current JWKS each time it is asked (no fetching, no cache). */
  local?: (() => { keys: readonly unknown[] }) | undefined;
}

interface UsableKey {
  key: KeyObject;
  alg: string | undefined;
}

/** Most keys read from one JWKS: a real one has one or two; more is a hostile or broken document. */
const MAX_KEYS = 50;
/** RSA keys below this size are refused (Maskinporten and Altinn sign with 2048 bits or more). */
const MIN_MODULUS_BITS = 2048;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** True for an https URL or plain http on a loopback host: where keys may be fetched from. */
export function isKeyUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  return isSecureOrLoopback(new URL(value));
}

function toUsableKey(jwk: unknown): [string, UsableKey] | undefined {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return undefined;
  const { kty, n, e, kid, use, alg } = jwk as Record<string, unknown>;
  if (kty !== 'RSA' || typeof n !== 'string' || typeof e !== 'string' || typeof kid !== 'string' || !kid) return;
  if (use !== undefined && use !== 'sig') return undefined;
  try {
    const key = createPublicKey({ key: { kty, n, e }, format: 'jwk' });
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS) return undefined;
    return [kid, { key, alg: typeof alg === 'string' ? alg : undefined }];
  } catch {
    return undefined;
  }
}

/** The signing keys of one issuer, fetched from its metadata's `jwks_uri`. */
export class KeySource {
  readonly #target: KeySourceTarget;
  readonly #options: KeySourceOptions;
  #jwksUri: string | undefined;
  #keys: Map<string, UsableKey> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #lastFailure: unknown;

  constructor(target: KeySourceTarget, options: KeySourceOptions) {
    this.#target = target;
    this.#options = options;
  }

  /** The issuer tokens of this source carry. */
  get issuer(): string {
    return this.#target.issuer;
  }

  /** How many fetches of metadata or keys this source has started (for tests and diagnostics). */
  fetches = 0;

  /**
   * The key `kid` for `alg`, or undefined when the issuer has no such key even after a refresh (or a refresh was
   * made too recently to make another).
   *
   * @throws TokenVerificationError `ERR_KEYS_UNAVAILABLE` when no keys were ever fetched and fetching fails.
   */
  async key(kid: string, alg: RsaAlgorithm): Promise<KeyObject | undefined> {
    if (this.#target.local) return this.#localKey(kid, alg);
    const now = this.#options.clock.now();
    if (this.#keys === undefined || now - this.#fetchedAt >= this.#options.cacheMaxAgeMs) {
      await this.#refreshIfAllowed(this.#keys === undefined);
    }
    let found = this.#keys?.get(kid);
    if (found === undefined && this.#options.clock.now() - this.#lastAttempt >= this.#options.cooldownMs) {
      await this.#refreshIfAllowed(false);
      found = this.#keys?.get(kid);
    }
    if (found === undefined || (found.alg !== undefined && found.alg !== alg)) return undefined;
    return found.key;
  }

  /** Converted local keys, by the JWK object they came from (a set given in code is usually the same objects). */
  readonly #converted = new WeakMap<object, [string, UsableKey] | null>();

  #localKey(kid: string, alg: RsaAlgorithm): KeyObject | undefined {
    const list = this.#target.local?.().keys ?? [];
    for (const jwk of list.slice(0, MAX_KEYS)) {
      if (jwk === null || typeof jwk !== 'object' || (jwk as { kid?: unknown }).kid !== kid) continue;
      let usable = this.#converted.get(jwk);
      if (usable === undefined) {
        usable = toUsableKey(jwk) ?? null;
        this.#converted.set(jwk, usable);
      }
      if (usable && (usable[1].alg === undefined || usable[1].alg === alg)) return usable[1].key;
    }
    return undefined;
  }

  /** Fetches now unless a fetch ran within the cooldown; with no keys at all, a failure is thrown. */
  async #refreshIfAllowed(mustHaveKeys: boolean): Promise<void> {
    if (this.#inflight === undefined && this.#options.clock.now() - this.#lastAttempt >= this.#options.cooldownMs) {
      this.#lastAttempt = this.#options.clock.now();
      this.#inflight = this.#refresh().finally(() => {
        this.#inflight = undefined;
      });
    }
    try {
      await this.#inflight;
    } catch {
      // The failure is kept in #lastFailure; known keys stay in use.
    }
    if (mustHaveKeys && this.#keys === undefined) {
      const cause = this.#lastFailure;
      const why = cause instanceof Error ? cause.message : 'no attempt could be made yet';
      throw new TokenVerificationError(
        'ERR_KEYS_UNAVAILABLE',
        `the ${this.#target.label} signing keys could not be fetched (${why}); retried at most once per ${Math.round(this.#options.cooldownMs / 1000)} s`,
        { cause },
      );
    }
  }

  async #refresh(): Promise<void> {
    try {
      this.#jwksUri ??= await this.#discover();
      const body = await this.#getJson(this.#jwksUri);
      const list = (body as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(list)) throw new Error(`${this.#jwksUri} has no "keys" array`);
      const keys = new Map<string, UsableKey>();
      for (const jwk of list.slice(0, MAX_KEYS)) {
        const usable = toUsableKey(jwk);
        if (usable && !keys.has(usable[0])) keys.set(usable[0], usable[1]);
      }
      if (keys.size === 0) throw new Error(`${this.#jwksUri} has no usable RSA signing key`);
      this.#keys = keys;
      this.#fetchedAt = this.#options.clock.now();
      this.#lastFailure = undefined;
    } catch (err) {
      this.#lastFailure = err;
      throw err;
    }
  }

  /** Reads the metadata; the first URL that answers 200 wins. Its issuer must be the expected one. */
  async #discover(): Promise<string> {
    let lastError: unknown;
    for (const url of this.#target.metadataUrls) {
      let doc: unknown;
      try {
        doc = await this.#getJson(url);
      } catch (err) {
        lastError = err;
        continue;
      }
      const { issuer, jwks_uri: jwksUri } = (doc ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof issuer !== 'string' || trimSlash(issuer) !== trimSlash(this.#target.issuer)) {
        throw new Error(
          `the metadata at ${url} names the issuer ${JSON.stringify(issuer)}, not ${this.#target.issuer}`,
        );
      }
      if (!isKeyUrl(jwksUri)) throw new Error(`the metadata at ${url} has no https jwks_uri`);
      return jwksUri;
    }
    throw lastError instanceof Error ? lastError : new Error('no metadata URL answered');
  }

  async #getJson(url: string): Promise<unknown> {
    this.fetches++;
    // The timeout covers the answer's body too; its timer goes as soon as the request is over.
    const timeout = timeoutController(this.#options.clock, this.#options.timeoutMs);
    try {
      const res = await this.#options.fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: timeout.signal,
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`${url} answered ${res.status}`);
      }
      try {
        return await res.json();
      } catch {
        throw new Error(`${url} did not answer JSON`);
      }
    } finally {
      timeout.clear();
    }
  }
}
