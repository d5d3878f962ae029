/**
 * Known Maskinporten, Skyporten and Altinn environments: one table each, from which presets, the legacy mapping and
 * defaults derive. The issuer of each Maskinporten environment ends with a slash; a Skyporten issuer has none. That
 * exact string is the grant's `aud`.
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_skyporten
 */

/** Names of the Maskinporten environments with a public base URL. */
export type MaskinportenEnvironment = 'prod' | 'test' | 'dev';

/** Base URL (no trailing slash) of each Maskinporten environment. */
export const MASKINPORTEN_BASE_URLS: Readonly<Record<MaskinportenEnvironment, string>> = Object.freeze({
  prod: 'https://maskinporten.no',
  test: 'https://test.maskinporten.no',
  dev: 'https://maskinporten.dev',
});

/** Names of the Skyporten environments. */
export type SkyportenEnvironment = 'prod' | 'test';

/** Base URL of each Skyporten environment; also its issuer and grant `aud` (no trailing slash). */
export const SKYPORTEN_BASE_URLS: Readonly<Record<SkyportenEnvironment, string>> = Object.freeze({
  prod: 'https://sky.maskinporten.no',
  test: 'https://test.sky.maskinporten.no',
});

/**
 * What kind of authorization server an authority is. `maskinporten`: the issuer is the base URL plus `/`.
 * `skyporten`: Maskinporten's issuer for cloud workloads, whose issuer (and so the grant's `aud`) is the base URL
 * without a trailing slash.
 */
export type AuthorityKind = 'maskinporten' | 'skyporten';

/** Every authority kind, for validation. */
export const AUTHORITY_KINDS: readonly AuthorityKind[] = Object.freeze(['maskinporten', 'skyporten']);

/** Names of the authority presets: the Maskinporten environments, and `skyporten-prod`, `skyporten-test`. */
export type AuthorityPreset = MaskinportenEnvironment | `skyporten-${SkyportenEnvironment}`;

/** The authority each preset name stands for (Maskinporten's with its trailing slash, Skyporten's without). */
export const AUTHORITY_PRESETS: Readonly<Record<AuthorityPreset, string>> = Object.freeze({
  prod: `${MASKINPORTEN_BASE_URLS.prod}/`,
  test: `${MASKINPORTEN_BASE_URLS.test}/`,
  dev: `${MASKINPORTEN_BASE_URLS.dev}/`,
  'skyporten-prod': SKYPORTEN_BASE_URLS.prod,
  'skyporten-test': SKYPORTEN_BASE_URLS.test,
});

/**
 * The authority of a preset name (case and surrounding spaces ignored), or undefined when `value` is not one. Own
 * properties only, so `constructor` or `toString` are not presets.
 *
 * @param value - A preset name such as `test` or `skyporten-prod`, or anything else.
 * @returns The preset's authority URL, or undefined.
 */
export function authorityPreset(value: string): string | undefined {
  const name = String(value).trim().toLowerCase();
  return Object.hasOwn(AUTHORITY_PRESETS, name) ? AUTHORITY_PRESETS[name as AuthorityPreset] : undefined;
}

/**
 * The kind of an authority: `skyporten` for Skyporten's hosts, else `maskinporten`. An authority on another host
 * (a local emulator in Skyporten mode) names its kind in the settings.
 *
 * @param authority - The authority URL.
 * @returns Its kind, judged by its host.
 */
export function authorityKindOf(authority: string): AuthorityKind {
  if (!URL.canParse(authority)) return 'maskinporten';
  const host = new URL(authority).hostname;
  return Object.values(SKYPORTEN_BASE_URLS).some((base) => new URL(base).hostname === host)
    ? 'skyporten'
    : 'maskinporten';
}

/** Names of the Altinn platform environments. */
export type AltinnEnvironment = 'prod' | 'tt02' | 'at22' | 'at23' | 'at24' | 'yt01';

/** Platform base URL (no trailing slash) of each Altinn environment. */
export const ALTINN_PLATFORM_URLS: Readonly<Record<AltinnEnvironment, string>> = Object.freeze({
  prod: 'https://platform.altinn.no',
  tt02: 'https://platform.tt02.altinn.no',
  at22: 'https://platform.at22.altinn.cloud',
  at23: 'https://platform.at23.altinn.cloud',
  at24: 'https://platform.at24.altinn.cloud',
  yt01: 'https://platform.yt01.altinn.cloud',
});

/**
 * The issuer (base URL plus `/`) of a Maskinporten environment.
 *
 * @param environment - `prod`, `test` or `dev`.
 * @returns The issuer, also the grant's `aud`, e.g. `https://test.maskinporten.no/`.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export function maskinportenIssuer(environment: MaskinportenEnvironment): string {
  return `${MASKINPORTEN_BASE_URLS[environment]}/`;
}

/**
 * Self-service API origins (client registration) per Maskinporten environment; the API itself is under `/api/v1`.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export const SELF_SERVICE_API_URLS: Readonly<Record<MaskinportenEnvironment, string>> = Object.freeze({
  prod: 'https://api.samarbeid.digdir.no',
  test: 'https://api.test.samarbeid.digdir.no',
  dev: 'https://api.samarbeid.digdir.dev',
});

/**
 * The platform URL of an Altinn environment name (case ignored), or undefined when `value` is not one. Own
 * properties only.
 *
 * @param value - An environment name such as `tt02`, or anything else.
 * @returns The platform URL, or undefined.
 */
export function altinnPreset(value: string): string | undefined {
  const name = String(value).trim().toLowerCase();
  return Object.hasOwn(ALTINN_PLATFORM_URLS, name) ? ALTINN_PLATFORM_URLS[name as AltinnEnvironment] : undefined;
}

/**
 * The Altinn platform paired with a Maskinporten authority: prod ↔ platform.altinn.no, test ↔ platform.tt02.altinn.no.
 * Undefined for any other authority (set `altinnPlatformUrl` then).
 *
 * @param authority - A Maskinporten authority URL.
 * @returns The Altinn platform URL, or `undefined`.
 * @see https://docs.altinn.studio/authentication/
 */
export function defaultAltinnPlatformUrl(authority: string): string | undefined {
  let host: string;
  try {
    host = new URL(authority).host;
  } catch {
    return undefined;
  }
  if (host === 'maskinporten.no') return ALTINN_PLATFORM_URLS.prod;
  if (host === 'test.maskinporten.no') return ALTINN_PLATFORM_URLS.tt02;
  return undefined;
}
