/**
 * `maskinporten/config`: `MaskinportenSettings` from appsettings files, mounted secrets, environment variables and
 * Azure Key Vault, with hot reload; legacy settings; environment presets.
 * @packageDocumentation
 */
export type {
  AltinnEnvironment,
  AuthorityKind,
  AuthorityPreset,
  EnvironmentRecord,
  MaskinportenEnvironment,
  SkyportenEnvironment,
} from '../protocol/environments.ts';
export {
  ALTINN_PLATFORM_URLS,
  AUTHORITY_PRESETS,
  ENVIRONMENTS,
  MASKINPORTEN_BASE_URLS,
  maskinportenIssuer,
  SELF_SERVICE_API_URLS,
  SKYPORTEN_BASE_URLS,
} from '../protocol/environments.ts';
export type { MaskinportenSettings } from '../settings.ts';
export type { SettingSource } from './flat-config.ts';
export { describeSource } from './flat-config.ts';
export { KEY_VAULT_SETTING_KEYS, keyVaultSecretNames, writeSettingsToKeyVault } from './key-vault-setup.ts';
export type { LegacyMaskinportenSettings } from './legacy.ts';
export { fromLegacySettings, LEGACY_ENVIRONMENTS, legacyAuthority } from './legacy.ts';
export type { LoadedSettings, LoadSettingsOptions } from './load.ts';
export {
  DEFAULT_SECTION,
  loadMaskinportenSettings,
  loadNamedMaskinportenSettings,
  resolveEnvironment,
} from './load.ts';
export {
  altinnPlatformUrl,
  maskinportenAuthority,
  resolveAltinnPlatform,
  resolveAuthority,
  skyportenAuthority,
} from './presets.ts';
export type { KeyVaultOptions } from './sources/key-vault.ts';
export type { ConfigProblem } from './validation-error.ts';
export { ConfigValidationError } from './validation-error.ts';
export type { Reconfigurable, SettingsWatcher, WatchSettingsOptions } from './watch.ts';
export { watchMaskinportenSettings } from './watch.ts';
