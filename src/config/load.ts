/**
 * `loadMaskinportenSettings`: layers every configuration source, later winning — appsettings files, mounted
 * secrets, environment variables, Azure Key Vault, values from code — and returns validated settings together with
 * where each value came from.
 */
import { ConfigError } from '../errors.ts';
import type { MaskinportenSettings } from '../settings.ts';
import { FlatConfig, type SettingSource } from './flat-config.ts';
import { readSection, type SectionSettings } from './section.ts';
import { addAppSettings } from './sources/app-settings.ts';
import { addEnvironment } from './sources/env.ts';
import { addKeyVault, type KeyVaultOptions } from './sources/key-vault.ts';
import { addSecretsDir, addSecretsJsonFile } from './sources/secrets-dir.ts';
import { type ConfigProblem, ConfigValidationError } from './validation-error.ts';

/**
 * The default section name, as in Altinn's .NET app library.
 * @see {@link loadMaskinportenSettings}
 */
export const DEFAULT_SECTION = 'MaskinportenSettings';

/**
 * Options of {@link loadMaskinportenSettings}.
 * @see {@link KeyVaultOptions}
 */
export interface LoadSettingsOptions {
  /** Directory of `appsettings*.json`; the working directory by default. */
  configDir?: string;
  /** Environment name for `appsettings.{Environment}.json`; from NODE_ENV, DOTNET_ENVIRONMENT, ASPNETCORE_ENVIRONMENT, else Production. */
  environment?: string;
  /** Section path, e.g. `MaskinportenSettings` (default) or `Integrations:Maskinporten`. */
  section?: string;
  /** Environment variables; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** Directory of mounted secrets: key-per-file entries and `*.json` section files. */
  secretsDir?: string;
  /** JSON files holding sections (e.g. `/mnt/app-secrets/maskinporten-settings.json`); missing files are skipped. */
  secretsFiles?: string[];
  /** Azure Key Vault: `true` to use the `kvSetting:SecretUri` setting, or the vault's URL and credential. Never used in Development. */
  keyVault?: boolean | KeyVaultOptions;
  /** Values set from code, on top of every source: an object, or a function that edits the loaded values. */
  configure?:
    | Partial<MaskinportenSettings>
    | ((settings: Partial<MaskinportenSettings>) => Partial<MaskinportenSettings> | undefined);
  /** Permit plain-http authorities on hosts other than loopback. */
  allowInsecureRequests?: boolean;
}

/**
 * Validated settings and their provenance.
 * @see {@link loadMaskinportenSettings}
 */
export interface LoadedSettings {
  settings: MaskinportenSettings;
  /** Where each setting's value came from. */
  sources: Partial<Record<keyof MaskinportenSettings, SettingSource>>;
  section: string;
  environment: string;
  /** True when the section used the legacy shape (`EncodedJwk`, `Environment`). */
  legacy: boolean;
}

/** Refuses options that are not an object, and a section path that is not a string (coded, not a TypeError). */
function checkOptions(options: LoadSettingsOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('options must be an object (or left out)', { setting: 'options' });
  }
  if (options.section !== undefined && (typeof options.section !== 'string' || !options.section)) {
    throw new ConfigError(`section must be a non-empty string such as "MaskinportenSettings"`, { setting: 'section' });
  }
}

/**
 * The environment name the options resolve to: `environment`, else `NODE_ENV`, `DOTNET_ENVIRONMENT`,
 * `ASPNETCORE_ENVIRONMENT`, else `Production` (the order .NET's host uses, with `NODE_ENV` first).
 *
 * @param options - `environment` and `env` (the variables to read; `process.env` by default).
 * @returns The name, e.g. `Production` or `Staging`; it picks `appsettings.{name}.json`.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export function resolveEnvironment(options: Pick<LoadSettingsOptions, 'environment' | 'env'>): string {
  const env = options.env ?? process.env;
  // An empty value counts as unset, as `NODE_ENV=` in a shell or an empty key in a manifest means.
  return options.environment || env.NODE_ENV || env.DOTNET_ENVIRONMENT || env.ASPNETCORE_ENVIRONMENT || 'Production';
}

/** One layer's values, kept so a watcher can re-apply a slow source (Key Vault) without reading it again. */
export type Layer = Array<{ key: string; value: string; source: SettingSource }>;

/** Reads the file and environment sources into a fresh configuration. */
export function readLocalSources(options: LoadSettingsOptions, sections: string[]): FlatConfig {
  const config = new FlatConfig();
  addAppSettings(config, options.configDir ?? process.cwd(), resolveEnvironment(options));
  if (options.secretsDir) addSecretsDir(config, options.secretsDir);
  for (const file of options.secretsFiles ?? []) addSecretsJsonFile(config, file);
  addEnvironment(config, options.env ?? process.env, [...sections, 'kvSetting']);
  return config;
}

/** Whether Key Vault applies, and its URL (or a problem). */
export function keyVaultTarget(
  options: LoadSettingsOptions,
  config: FlatConfig,
): { url: string; options: KeyVaultOptions } | { problem: ConfigProblem } | undefined {
  if (!options.keyVault) return undefined;
  if (resolveEnvironment(options).toLowerCase() === 'development') return undefined;
  const kv = options.keyVault === true ? {} : options.keyVault;
  const url = kv.url ?? config.get('kvSetting:SecretUri')?.value;
  if (!url) {
    return {
      problem: {
        path: 'kvSetting:SecretUri',
        message: 'Key Vault is enabled but no vault URL is set: set kvSetting:SecretUri or keyVault.url',
      },
    };
  }
  return { url, options: kv };
}

/** Reads the Key Vault layer for `sections`. */
export async function readKeyVaultLayer(url: string, kv: KeyVaultOptions, sections: string[]): Promise<Layer> {
  const scratch = new FlatConfig();
  await addKeyVault(scratch, url, sections, kv);
  return sections.flatMap((s) => scratch.children(s).map((v) => ({ ...v, key: `${s}:${v.key}` })));
}

/** Applies a layer on top of `config`. */
export function applyLayer(config: FlatConfig, layer: Layer): void {
  for (const { key, value, source } of layer) config.set(key, value, source);
}

function overridesOf(
  options: LoadSettingsOptions,
  current: Partial<MaskinportenSettings>,
): Partial<MaskinportenSettings> {
  const c = options.configure;
  if (c === undefined) return {};
  if (typeof c === 'function') {
    const draft = { ...current };
    const result = c(draft);
    const next = result ?? draft;
    return Object.fromEntries(Object.entries(next).filter(([k, v]) => v !== (current as Record<string, unknown>)[k]));
  }
  return c;
}

/** Reads `section` of a built configuration, applying code values; the settings, or every problem found. */
function readSettings(
  config: FlatConfig,
  section: string,
  options: LoadSettingsOptions,
): SectionSettings | { problems: ConfigProblem[] } {
  // The configure function sees what the sources gave, so read once without overrides to hand it the values.
  const base = readSection(config, section, { allowInsecureRequests: options.allowInsecureRequests === true });
  // When the sources alone do not validate (e.g. code is to add the client id), hand over what they did give.
  const current = 'settings' in base ? base.settings : base.partial;
  const overrides = overridesOf(options, current);
  return readSection(config, section, {
    allowInsecureRequests: options.allowInsecureRequests === true,
    overrides,
  });
}

/** The sources that could not be read, as problems of `section`. */
function sourceProblemsOf(config: FlatConfig, section: string): ConfigProblem[] {
  return config.sourceProblems.map((p) => ({ path: p.path ?? section, source: p.source, message: p.message }));
}

/**
 * A section's problems without "section not found" when a source could not be read: the section may well be in the
 * file that failed, and that file's own problem says so.
 */
function withoutMissingSection(config: FlatConfig, section: string, problems: ConfigProblem[]): ConfigProblem[] {
  if (config.sourceProblems.length === 0) return problems;
  return problems.filter((p) => p.path !== section);
}

/**
 * Loads and validates the settings of one section from `appsettings.json`, `appsettings.{environment}.json`, a
 * secrets directory, environment variables and Key Vault, later sources overriding earlier ones.
 *
 * @param options - Where to look (`cwd`, `section`, `environment`, `env`, `secretsDir`, Key Vault) and what to allow.
 * @returns The settings and where each value came from.
 * @throws ConfigValidationError `ERR_CONFIG` listing every setting at fault (`problems`), or ConfigError `ERR_CONFIG`
 *   for unusable options; neither holds a secret value.
 *
 * @example
 * const { settings, sources } = await loadMaskinportenSettings({ environment: 'Production' });
 * const client = new MaskinportenClient(settings);
 * @see {@link MaskinportenSettings}
 */
export async function loadMaskinportenSettings(options: LoadSettingsOptions = {}): Promise<LoadedSettings> {
  checkOptions(options);
  const section = options.section ?? DEFAULT_SECTION;
  const loaded = await loadNamedMaskinportenSettings({ default: section }, options);
  return loaded.default!;
}

/**
 * Loads several named clients' settings at once, each from its own section, reading every source once.
 *
 * @param sections - Section paths by client name.
 * @param options - Where to look, as for {@link loadMaskinportenSettings}.
 * @returns The loaded settings by client name.
 * @throws ConfigValidationError `ERR_CONFIG` listing every setting at fault in every section, or ConfigError
 *   `ERR_CONFIG` for unusable options.
 *
 * @example
 * const { default: main, internal } = await loadNamedMaskinportenSettings({
 *   default: 'MaskinportenSettings',
 *   internal: 'MaskinportenSettingsInternal',
 * });
 * @see {@link loadMaskinportenSettings}
 */
export async function loadNamedMaskinportenSettings(
  sections: Record<string, string>,
  options: LoadSettingsOptions = {},
): Promise<Record<string, LoadedSettings>> {
  checkOptions(options);
  if (sections === null || typeof sections !== 'object') {
    throw new ConfigError('sections must be an object of names and section paths', { setting: 'sections' });
  }
  const names = Object.values(sections);
  for (const name of names) {
    if (typeof name !== 'string' || !name) {
      throw new ConfigError(`a section must be a non-empty string, got ${JSON.stringify(name)}`, {
        setting: 'section',
      });
    }
  }
  const config = readLocalSources(options, names);
  const kv = keyVaultTarget(options, config);
  if (kv && 'problem' in kv) throw new ConfigValidationError([kv.problem]);
  if (kv) applyLayer(config, await readKeyVaultLayer(kv.url, kv.options, names));
  return namedSettingsFromConfig(config, sections, options);
}

/** The settings of each named section of a configuration whose sources are all read; throws every problem at once. */
export function namedSettingsFromConfig(
  config: FlatConfig,
  sections: Record<string, string>,
  options: LoadSettingsOptions,
): Record<string, LoadedSettings> {
  const names = Object.values(sections);
  const environment = resolveEnvironment(options);
  const out: Record<string, LoadedSettings> = {};
  // A source that could not be read is reported once, under the sections asked for.
  const problems: ConfigProblem[] = sourceProblemsOf(config, names.join(', '));
  for (const [name, section] of Object.entries(sections)) {
    const r = readSettings(config, section, options);
    if ('problems' in r) problems.push(...withoutMissingSection(config, section, r.problems));
    else out[name] = { settings: r.settings, sources: r.sources, section, environment, legacy: r.legacy };
  }
  if (problems.length) throw new ConfigValidationError(problems);
  return out;
}
