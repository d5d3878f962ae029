/**
 * Environment presets usable from code and from configuration: `Authority: "test"` means Maskinporten TEST,
 * `Authority: "skyporten-test"` Skyporten TEST, and `AltinnPlatformUrl: "tt02"` the Altinn TT02 platform. Every
 * lookup uses own properties only, so `constructor` or `__proto__` never resolve to something inherited.
 */
import { ConfigError } from '../errors.ts';
import {
  ALTINN_PLATFORM_URLS,
  type AltinnEnvironment,
  altinnPreset,
  authorityPreset,
  MASKINPORTEN_ISSUERS,
  type MaskinportenEnvironment,
  SKYPORTEN_BASE_URLS,
  type SkyportenEnvironment,
} from '../protocol/environments.ts';

/** A table's names for a message: `prod, test or dev`. */
function names(table: object): string {
  const keys = Object.keys(table);
  return keys.length < 2 ? keys.join('') : `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}`;
}

/** The entry of `table` named `environment` (own properties only), or a coded error naming the setting. */
function entryOf(table: Readonly<Record<string, string>>, environment: unknown, what: string, setting: string): string {
  const name = String(environment);
  if (!Object.hasOwn(table, name)) {
    throw new ConfigError(`unknown ${what} environment ${JSON.stringify(environment)}: use ${names(table)}`, {
      setting,
    });
  }
  return table[name] as string;
}

/**
 * The authority (issuer, with trailing slash) of a Maskinporten environment.
 *
 * @param environment - `prod`, `test` or `dev`.
 * @returns The authority URL.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 * @throws ConfigError `ERR_CONFIG` for any other name.
 */
export function maskinportenAuthority(environment: MaskinportenEnvironment): string {
  return entryOf(MASKINPORTEN_ISSUERS, environment, 'Maskinporten', 'Authority');
}

/**
 * The authority (issuer, without trailing slash) of a Skyporten environment.
 *
 * @param environment - `prod` or `test`.
 * @returns The authority URL, e.g. `https://test.sky.maskinporten.no`.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_skyporten
 * @throws ConfigError `ERR_CONFIG` for any other name.
 */
export function skyportenAuthority(environment: SkyportenEnvironment): string {
  return entryOf(SKYPORTEN_BASE_URLS, environment, 'Skyporten', 'Authority');
}

/**
 * The platform URL of an Altinn environment.
 *
 * @param environment - `prod`, `tt02`, `at22`, `at23`, `at24` or `yt01`.
 * @returns The platform URL.
 * @throws ConfigError `ERR_CONFIG` for any other name.
 * @see https://docs.altinn.studio/authentication/
 */
export function altinnPlatformUrl(environment: AltinnEnvironment): string {
  return entryOf(ALTINN_PLATFORM_URLS, environment, 'Altinn', 'AltinnPlatformUrl');
}

/**
 * Resolves an `Authority` value: a preset name (`prod`, `test`, `dev`, `skyporten-prod`, `skyporten-test`) or a
 * URL, unchanged.
 *
 * @param value - The configured value.
 * @returns The authority URL.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export function resolveAuthority(value: string): string {
  return authorityPreset(value) ?? value;
}

/**
 * Resolves an `AltinnPlatformUrl` value: a preset name (`prod`, `tt02`, `at22`…, `yt01`) or a URL, unchanged.
 *
 * @param value - The configured value.
 * @returns The platform URL.
 * @see https://docs.altinn.studio/authentication/
 */
export function resolveAltinnPlatform(value: string): string {
  return altinnPreset(value) ?? value;
}
