/**
 * The verifier's options, checked once at creation: which issuers (a Maskinporten authority or preset, an Altinn
 * platform or preset), what a token must grant (scopes, consumers, audience) and how keys are fetched.
 */
import { type Clock, resolveClock } from '../clock.ts';
import { ArgumentError } from '../errors.ts';
import { ALTINN_OPENID_PATH, WELL_KNOWN_PATH } from '../protocol/constants.ts';
import { AUTHORITY_PRESETS, altinnPreset, authorityKindOf, authorityPreset } from '../protocol/environments.ts';
import { isKeyUrl, type KeySourceOptions, type KeySourceTarget } from './key-source.ts';

/**
 * Presets for `authority`: every authority preset (`prod`, `test`, `dev`, `skyporten-prod`, `skyporten-test`) and
 * `skyporten` for Skyporten's production. Skyporten's issuers have no trailing slash.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export const VERIFIER_AUTHORITY_PRESETS: Readonly<Record<string, string>> = Object.freeze({
  ...AUTHORITY_PRESETS,
  skyporten: AUTHORITY_PRESETS['skyporten-prod'],
});

/**
 * Requirements a token must meet; given at creation and, added to those, per call.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export interface TokenRequirements {
  /** Scopes the token must all have (a space-separated string or a list). */
  scopes?: readonly string[] | string;
  /** Scopes of which the token must have at least one. */
  anyScopes?: readonly string[];
  /** Consumer organisation numbers allowed to call; every consumer when left out. */
  consumers?: readonly string[];
}

/**
 * Options of {@link createTokenVerifier}.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_guide_apitilbyder
 */
export interface TokenVerifierOptions extends TokenRequirements {
  /**
   * The Maskinporten issuer whose tokens are accepted: a preset (`test`, `prod`, `skyporten`, `skyporten-test`,
   * `dev`) or a URL — https, or http on a loopback host such as the emulator's `emulator.issuer`.
   */
  authority?: string;
  /**
   * Accept tokens exchanged by Altinn from this platform (a URL or a preset: `prod`, `tt02`, `at22`…, `yt01`),
   * checked against Altinn's own keys. Alone, only Altinn tokens are accepted; see {@link accept}.
   */
  altinnPlatformUrl?: string;
  /**
   * Which kinds of token are accepted. Default: `altinn` when `altinnPlatformUrl` is set, else `maskinporten`.
   * `both` needs `authority` and `altinnPlatformUrl`.
   */
  accept?: 'maskinporten' | 'altinn' | 'both';
  /** Accepted `aud` values, for APIs that use audience-restricted tokens (Maskinporten tokens; Altinn drops `aud`). */
  audience?: string | readonly string[];
  /**
   * The issuer's keys given in code (a JWKS, or a function returning the current one) instead of discovered from
   * its metadata: for an issuer in the same process, or pinned keys. Needs a single accepted kind; `authority` (or
   * `altinnPlatformUrl`) is then the exact issuer.
   */
  jwks?: { keys: readonly unknown[] } | (() => { keys: readonly unknown[] });
  /** Seconds of clock skew allowed on `exp` and `nbf`; 10 by default (what Altinn allows). */
  clockTolerance?: number;
  /** `realm` of the `WWW-Authenticate` challenge, when the API has one. */
  realm?: string;
  /** How long fetched keys are used before they are fetched again (ms); 24 h by default (Digdir's well-known page). */
  cacheMaxAgeMs?: number;
  /** Least time between two key fetches caused by unknown `kid`s or by failures (ms); 30 s by default. */
  cooldownMs?: number;
  /** Timeout of each metadata or key request (ms); 10 s by default. */
  timeoutMs?: number;
  /** The `fetch` used for metadata and keys; the global one by default. */
  fetch?: typeof globalThis.fetch;
  /**
   * The clock for token lifetimes and key caching (`now`, epoch ms) and, when it has timers, the key requests'
   * timeouts; the system clock by default.
   * @see {@link Clock}
   */
  clock?: Clock;
}

/** The options, checked and resolved. */
export interface ResolvedVerifierOptions {
  maskinporten: KeySourceTarget | undefined;
  altinn: KeySourceTarget | undefined;
  requirements: NormalizedRequirements;
  audience: readonly string[] | undefined;
  clockToleranceSeconds: number;
  realm: string | undefined;
  keySource: KeySourceOptions;
}

/** Requirements in one shape. */
export interface NormalizedRequirements {
  scopes: readonly string[];
  anyScopes: readonly string[];
  consumers: ReadonlySet<string> | undefined;
}

function urlOption(name: string, value: string): string {
  if (!isKeyUrl(value)) {
    throw new ArgumentError(
      `createTokenVerifier: ${name} must be a preset or an https URL (http only on a loopback host), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function maskinportenTarget(authority: string): KeySourceTarget {
  // The client's presets, plus the verifier's one extra name: `skyporten` for Skyporten's production.
  const preset =
    authority.trim().toLowerCase() === 'skyporten' ? VERIFIER_AUTHORITY_PRESETS.skyporten : authorityPreset(authority);
  const issuer = preset ?? urlOption('authority', authority);
  const base = issuer.replace(/\/+$/, '');
  const sky = authorityKindOf(base) === 'skyporten';
  const oauth = `${base}${WELL_KNOWN_PATH}`;
  const oidc = `${base}/.well-known/openid-configuration`;
  // Maskinporten's issuer ends with "/", Skyporten's does not; a URL given without its slash gets Maskinporten's.
  return {
    label: 'Maskinporten',
    issuer: sky ? base : `${base}/`,
    metadataUrls: sky ? [oidc] : [oauth, oidc],
  };
}

function altinnTarget(platform: string): KeySourceTarget {
  const preset = altinnPreset(platform);
  const base = (preset ?? urlOption('altinnPlatformUrl', platform)).replace(/\/+$/, '');
  const issuer = `${base}${ALTINN_OPENID_PATH}`;
  return { label: 'Altinn', issuer, metadataUrls: [`${issuer}.well-known/openid-configuration`] };
}

function stringList(name: string, value: unknown, split: boolean): string[] {
  const list = typeof value === 'string' && split ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0 && !/\s/.test(s))) {
    throw new ArgumentError(
      `createTokenVerifier: ${name} must be a list of non-empty strings without spaces, got ${JSON.stringify(value)}`,
    );
  }
  return [...list];
}

/**
 * Checks requirements given at creation or per call.
 *
 * @throws ArgumentError naming the option.
 */
export function normalizeRequirements(input: TokenRequirements | undefined): NormalizedRequirements {
  const scopes = input?.scopes === undefined ? [] : stringList('scopes', input.scopes, true);
  const anyScopes = input?.anyScopes === undefined ? [] : stringList('anyScopes', input.anyScopes, false);
  let consumers: Set<string> | undefined;
  if (input?.consumers !== undefined) {
    const list = stringList('consumers', input.consumers, false).map((c) => c.replace(/^0192:/, ''));
    const bad = list.find((c) => !/^\d{9}$/.test(c));
    if (bad !== undefined) {
      throw new ArgumentError(
        `createTokenVerifier: consumers must be nine-digit organisation numbers, got ${JSON.stringify(bad)}`,
      );
    }
    consumers = new Set(list);
  }
  return { scopes, anyScopes, consumers };
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ArgumentError(
      `createTokenVerifier: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`,
    );
  }
  return value;
}

function localKeys(
  jwks: TokenVerifierOptions['jwks'],
  accept: string,
): (() => { keys: readonly unknown[] }) | undefined {
  if (jwks === undefined) return undefined;
  if (accept === 'both') {
    throw new ArgumentError("createTokenVerifier: jwks holds one issuer's keys; accept one kind of token with it");
  }
  if (typeof jwks === 'function') return jwks;
  if (jwks === null || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) {
    throw new ArgumentError('createTokenVerifier: jwks must be a JWKS ({ keys: [...] }) or a function returning one');
  }
  return () => jwks;
}

/**
 * Checks and resolves the options.
 *
 * @throws ArgumentError naming the option that cannot be used.
 */
export function resolveVerifierOptions(options: TokenVerifierOptions): ResolvedVerifierOptions {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('createTokenVerifier: expected an options object with authority and/or altinnPlatformUrl');
  }
  const { authority, altinnPlatformUrl } = options;
  if (authority !== undefined && typeof authority !== 'string')
    throw new ArgumentError('createTokenVerifier: authority must be a string');
  if (altinnPlatformUrl !== undefined && typeof altinnPlatformUrl !== 'string') {
    throw new ArgumentError('createTokenVerifier: altinnPlatformUrl must be a string');
  }
  const accept = options.accept ?? (altinnPlatformUrl ? 'altinn' : 'maskinporten');
  if (accept !== 'maskinporten' && accept !== 'altinn' && accept !== 'both') {
    throw new ArgumentError(
      `createTokenVerifier: accept must be maskinporten, altinn or both, got ${JSON.stringify(accept)}`,
    );
  }
  if (accept !== 'altinn' && !authority) {
    throw new ArgumentError(
      'createTokenVerifier: set authority (a preset such as "test" or "prod", or the issuer URL) to verify Maskinporten tokens',
    );
  }
  if (accept !== 'maskinporten' && !altinnPlatformUrl) {
    throw new ArgumentError(
      'createTokenVerifier: set altinnPlatformUrl (a preset such as "tt02" or a URL) to verify Altinn tokens',
    );
  }
  const audience =
    options.audience === undefined
      ? undefined
      : stringList('audience', typeof options.audience === 'string' ? [options.audience] : options.audience, false);
  if (audience?.length === 0) throw new ArgumentError('createTokenVerifier: audience must not be empty');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new ArgumentError('createTokenVerifier: fetch must be a function');
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
    throw new ArgumentError('createTokenVerifier: clock must have a now() method');
  }
  const clock = resolveClock(options.clock);
  const local = localKeys(options.jwks, accept);
  return {
    maskinporten: accept !== 'altinn' ? { ...maskinportenTarget(authority!), local } : undefined,
    altinn: accept !== 'maskinporten' ? { ...altinnTarget(altinnPlatformUrl!), local } : undefined,
    requirements: normalizeRequirements(options),
    audience,
    clockToleranceSeconds: positive('clockTolerance', options.clockTolerance, 10, true),
    realm: typeof options.realm === 'string' && options.realm ? options.realm : undefined,
    keySource: {
      fetch: fetchImpl,
      clock,
      cacheMaxAgeMs: positive('cacheMaxAgeMs', options.cacheMaxAgeMs, 24 * 60 * 60 * 1000),
      cooldownMs: positive('cooldownMs', options.cooldownMs, 30_000, true),
      timeoutMs: positive('timeoutMs', options.timeoutMs, 10_000),
    },
  };
}
