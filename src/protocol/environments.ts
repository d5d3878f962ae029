/**
 * Known Maskinporten and Altinn environments (protocol notes §1 and §5). The issuer of each Maskinporten
 * environment ends with a slash; that exact string is the grant's `aud`.
 */

/** Names of the Maskinporten environments with a public base URL. */
export type MaskinportenEnvironment = 'prod' | 'test' | 'dev';

/** Base URL (no trailing slash) of each Maskinporten environment. */
export const MASKINPORTEN_BASE_URLS: Readonly<Record<MaskinportenEnvironment, string>> = Object.freeze({
  prod: 'https://maskinporten.no',
  test: 'https://test.maskinporten.no',
  dev: 'https://maskinporten.dev',
});

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

/** The issuer (base URL plus `/`) of a Maskinporten environment. */
export function maskinportenIssuer(environment: MaskinportenEnvironment): string {
  return `${MASKINPORTEN_BASE_URLS[environment]}/`;
}

/** Self-service API base URLs (client registration) per Maskinporten environment. */
export const SELF_SERVICE_API_URLS: Readonly<Record<'prod' | 'test', string>> = Object.freeze({
  prod: 'https://api.samarbeid.digdir.no',
  test: 'https://api.test.samarbeid.digdir.no',
});

/**
 * The Altinn platform paired with a Maskinporten authority: prod ↔ platform.altinn.no, test ↔ platform.tt02.altinn.no.
 * Undefined for any other authority (set `altinnPlatformUrl` then).
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
