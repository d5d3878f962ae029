/**
 * Environment presets usable from code and from configuration: `Authority: "test"` means Maskinporten TEST, and
 * `AltinnPlatformUrl: "tt02"` the Altinn TT02 platform.
 */
import {
  ALTINN_PLATFORM_URLS,
  type AltinnEnvironment,
  MASKINPORTEN_BASE_URLS,
  type MaskinportenEnvironment,
} from '../protocol/environments.ts';

/** The authority (issuer, with trailing slash) of a Maskinporten environment. */
export function maskinportenAuthority(environment: MaskinportenEnvironment): string {
  const base = MASKINPORTEN_BASE_URLS[environment];
  if (!base)
    throw new RangeError(`unknown Maskinporten environment ${JSON.stringify(environment)}: use prod, test or dev`);
  return `${base}/`;
}

/** The platform URL of an Altinn environment. */
export function altinnPlatformUrl(environment: AltinnEnvironment): string {
  const url = ALTINN_PLATFORM_URLS[environment];
  if (!url) {
    throw new RangeError(
      `unknown Altinn environment ${JSON.stringify(environment)}: use ${Object.keys(ALTINN_PLATFORM_URLS).join(', ')}`,
    );
  }
  return url;
}

/** Resolves an `Authority` value: a preset name (`prod`, `test`, `dev`) or a URL, unchanged. */
export function resolveAuthority(value: string): string {
  const preset = value.trim().toLowerCase();
  return preset in MASKINPORTEN_BASE_URLS ? maskinportenAuthority(preset as MaskinportenEnvironment) : value;
}

/** Resolves an `AltinnPlatformUrl` value: a preset name (`prod`, `tt02`, `at22`…, `yt01`) or a URL, unchanged. */
export function resolveAltinnPlatform(value: string): string {
  const preset = value.trim().toLowerCase();
  return preset in ALTINN_PLATFORM_URLS ? altinnPlatformUrl(preset as AltinnEnvironment) : value;
}
