/**
 * The legacy standalone client's settings (`ClientId`, `EncodedJwk`, `Environment`), mapped to today's, as the
 * migration table of Altinn's .NET app library does: `prod`, `test`, `dev` become the matching Maskinporten authority.
 */
import { ConfigError } from '../errors.ts';
import { MASKINPORTEN_ISSUERS } from '../protocol/environments.ts';
import type { MaskinportenSettings } from '../settings.ts';

/**
 * The legacy environment names and their authorities: the Maskinporten environments' issuers.
 * @see {@link fromLegacySettings}
 */
export const LEGACY_ENVIRONMENTS: Readonly<Record<string, string>> = MASKINPORTEN_ISSUERS;

/**
 * The legacy settings shape.
 * @see {@link fromLegacySettings}
 */
export interface LegacyMaskinportenSettings {
  clientId: string;
  /** The key pair JWK, base64-encoded. */
  encodedJwk: string;
  /** `prod`, `test` or `dev`. */
  environment: string;
}

/**
 * The authority of a legacy environment name.
 *
 * @param environment - `prod`, `test` or `dev` (any case).
 * @returns The authority URL of that environment.
 * @throws ConfigError `ERR_CONFIG` (`setting: 'Environment'`) for another name; the message lists the allowed ones.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export function legacyAuthority(environment: string): string {
  const name = String(environment).trim().toLowerCase();
  // Own properties only: `constructor` or `toString` must not resolve to what every object inherits.
  const authority = Object.hasOwn(LEGACY_ENVIRONMENTS, name) ? LEGACY_ENVIRONMENTS[name] : undefined;
  if (!authority) {
    throw new ConfigError(
      `Environment ${JSON.stringify(environment)} is not a known Maskinporten environment: use one of ${Object.keys(LEGACY_ENVIRONMENTS).join(', ')}`,
      { setting: 'Environment' },
    );
  }
  return authority;
}

/**
 * Maps legacy settings to {@link MaskinportenSettings}.
 *
 * @param legacy - `clientId`, `encodedJwk` and `environment`.
 * @returns The same client in today's shape (`authority`, `clientId`, `jwkBase64`).
 * @throws ConfigError `ERR_CONFIG` (`setting: 'Environment'`) for an unknown environment.
 * @see {@link LEGACY_ENVIRONMENTS}
 */
export function fromLegacySettings(legacy: LegacyMaskinportenSettings): MaskinportenSettings {
  return { authority: legacyAuthority(legacy.environment), clientId: legacy.clientId, jwkBase64: legacy.encodedJwk };
}
