/**
 * The flags every command that acts as a client shares, and how they become settings: through the configuration
 * loader (appsettings, secrets, env vars, Key Vault), with flags on top, exactly as an app would load them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import {
  type ConfigProblem,
  ConfigValidationError,
  describeSource,
  type KeyVaultOptions,
  type LoadedSettings,
  loadMaskinportenSettings,
  resolveEnvironment,
  type SettingSource,
} from '../config/index.ts';
import { isKeyVaultHost, KEY_VAULT_HOST_SUFFIXES } from '../config/sources/key-vault.ts';
import type { MaskinportenSettings } from '../settings.ts';
import { isLoopbackHost } from '../url-policy.ts';
import {
  type AppSettingsLookup,
  describeLookup,
  environmentFileMissing,
  lookUpAppSettings,
} from './app-settings-files.ts';
import { UsageError } from './args.ts';
import { altinnPlatformFlag, authorityFlag, authorityMistake } from './authority-hint.ts';
import { type CliIo, pathAsGiven, pathIn } from './io.ts';
import { painter } from './output.ts';

/** Flags for settings, shared by token, doctor, keyvault push, clients and keys. */
export const SETTINGS_FLAGS = {
  'config-dir': { type: 'string' },
  'app-environment': { type: 'string' },
  environment: { type: 'string' },
  'secrets-file': { type: 'string', multiple: true },
  section: { type: 'string' },
  authority: { type: 'string' },
  'client-id': { type: 'string' },
  'key-file': { type: 'string' },
  kid: { type: 'string' },
  'altinn-platform-url': { type: 'string' },
  insecure: { type: 'boolean' },
  keyvault: { type: 'boolean' },
  'keyvault-url': { type: 'string' },
  'dangerously-trust-vault-host': { type: 'boolean' },
} as const;

/** Help text for {@link SETTINGS_FLAGS}. */
export function settingsHelp(defaultSection: string): string {
  return `Settings (loaded as an app loads them, flags on top):
  --config-dir DIR          directory of appsettings.json and appsettings.{Environment}.json (default: .)
  --app-environment NAME    the app's environment name, which picks appsettings.{NAME}.json (default: NODE_ENV,
                            DOTNET_ENVIRONMENT, ASPNETCORE_ENVIRONMENT, Production); --environment is its old name
  --section PATH            settings section (default: ${defaultSection}); env vars ${defaultSection}__ClientId etc. apply
  --secrets-file FILE       a JSON file of secret settings, e.g. .maskinporten-secrets.json from init (repeatable)
  --authority URL|PRESET    Maskinporten authority: a URL, or test, prod, dev, skyporten-test, skyporten-prod
  --client-id ID            client id
  --key-file FILE           private key: JWK (.json), base64 JWK, PEM, or PKCS#12 (.p12/.pfx; password in MASKINPORTEN_KEY_PASSWORD)
  --kid KID                 key id (for a PEM key, or to override the JWK's)
  --altinn-platform-url URL Altinn platform (default: derived from the authority)
  --insecure                allow plain-http authorities on hosts other than loopback
  --keyvault                also read Azure Key Vault, as the app does (vault from kvSetting:SecretUri; never in
                            Development); credentials: Azure's default chain, or AZURE_KEYVAULT_ACCESS_TOKEN
  --keyvault-url URL        the same, with this vault
  --dangerously-trust-vault-host
                            let a vault URL that is neither *.vault.azure.net (or a sovereign cloud's vault
                            suffix) nor loopback receive an Azure token; only for a vault service you trust`;
}

type Values = Partial<Record<keyof typeof SETTINGS_FLAGS, string | boolean | string[]>>;

/** Key material from a file (relative to the run's directory), by its content (or extension for PKCS#12). */
export function keyFromFile(file: string, io: Pick<CliIo, 'cwd' | 'env'>): Partial<MaskinportenSettings> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(pathIn(io, file));
  } catch (err) {
    throw new UsageError(`--key-file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.p12' || ext === '.pfx') {
    const password = io.env.MASKINPORTEN_KEY_PASSWORD;
    return password === undefined ? { pkcs12: bytes } : { pkcs12: bytes, pkcs12Password: password };
  }
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('{') || text.startsWith('[')) return { jwk: text };
  if (text.startsWith('-----BEGIN')) return { pem: text };
  return { jwkBase64: text };
}

/**
 * Where a value the CLI set came from, by setting: every value "from code" in the loader's terms came from a flag
 * (or, for the PKCS#12 password, the variable the CLI reads it from). Keyed by the setting's configuration name.
 */
const FLAG_OF_SETTING: Record<string, string> = {
  authority: '--authority',
  clientid: '--client-id',
  kid: '--kid',
  altinnplatformurl: '--altinn-platform-url',
  jwk: '--key-file',
  jwkbase64: '--key-file',
  encodedjwk: '--key-file',
  pem: '--key-file',
  pkcs12: '--key-file',
  pkcs12password: 'MASKINPORTEN_KEY_PASSWORD',
};

/** The flag behind a setting set "from code", by its name (`clientId`) or configuration path (`Section:ClientId`). */
function flagOf(setting: string): string {
  return FLAG_OF_SETTING[setting.slice(setting.lastIndexOf(':') + 1).toLowerCase()] ?? 'a command-line flag';
}

/**
 * A setting's source in the CLI's words: a flag by its name (`--client-id`), anything else as the loader says it.
 *
 * @param setting the setting's name, e.g. `clientId`
 */
export function describeSettingSource(setting: string, source: SettingSource | undefined): string {
  if (!source) return 'default';
  return source.kind === 'code' ? flagOf(setting) : describeSource(source);
}

/** What {@link settingsFromFlags} returns: the loaded settings and the appsettings files looked for. */
export type FlagSettings = LoadedSettings & { appSettings: AppSettingsLookup };

/**
 * Loads settings for a command from the configuration sources and the flags. Problems with values from flags name
 * the flag; when the app environment's appsettings file is missing, the problems say which files were looked for
 * and which exist (and with `--app-environment` given, so does a note on stderr when loading succeeds anyway).
 */
export async function settingsFromFlags(values: Values, defaultSection: string, io: CliIo): Promise<FlagSettings> {
  const overrides: Partial<MaskinportenSettings> = {};
  if (typeof values.authority === 'string') overrides.authority = authorityFlag(values.authority);
  if (typeof values['client-id'] === 'string') overrides.clientId = values['client-id'];
  if (typeof values['key-file'] === 'string') Object.assign(overrides, keyFromFile(values['key-file'], io));
  if (typeof values.kid === 'string') overrides.kid = values.kid;
  if (typeof values['altinn-platform-url'] === 'string')
    overrides.altinnPlatformUrl = altinnPlatformFlag(values['altinn-platform-url']);
  const environment = appEnvironment(values);
  const given = listOf(values['secrets-file']);
  for (const file of given) {
    // The loader skips missing secrets files (an app's mount may come later); a file named on the command line
    // must be there.
    if (!existsSync(pathIn(io, file))) throw new UsageError(`--secrets-file ${file} does not exist`);
  }
  const secretsFiles = given.map((file) => pathAsGiven(io, file));
  const configDir = typeof values['config-dir'] === 'string' ? pathAsGiven(io, values['config-dir']) : pathIn(io, '.');
  const appSettings = lookUpAppSettings(
    configDir,
    resolveEnvironment({ env: io.env, ...(environment === undefined ? {} : { environment }) }),
  );
  let loaded: LoadedSettings;
  try {
    loaded = await loadMaskinportenSettings({
      configDir,
      env: io.env,
      ...(secretsFiles.length ? { secretsFiles } : {}),
      ...(environment === undefined ? {} : { environment }),
      section: typeof values.section === 'string' ? values.section : defaultSection,
      configure: overrides,
      allowInsecureRequests: values.insecure === true,
      ...keyVaultOption(values, io),
    });
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    const problems: ConfigProblem[] = err.problems.map((p) =>
      p.source === 'code' ? { ...p, source: flagOf(p.path) } : { ...p },
    );
    if (environmentFileMissing(appSettings))
      problems.push({ path: appSettings.lookedFor[1]!, message: describeLookup(appSettings) });
    throw new ConfigValidationError(problems);
  }
  if (environment !== undefined && environmentFileMissing(appSettings))
    painter(io).warn(`note: ${describeLookup(appSettings)}`);
  // An endpoint pasted as the authority (…/token) from a settings file fails late and obscurely: say it now.
  const mistake = authorityMistake(loaded.settings.authority);
  if (mistake) {
    const source = loaded.sources.authority;
    throw new UsageError(
      `Authority ${mistake}${source && source.kind !== 'code' ? ` (set in ${describeSource(source)})` : ''}`,
    );
  }
  return { ...loaded, appSettings };
}

/** `--app-environment`, or its old name `--environment`. */
function appEnvironment(values: Values): string | undefined {
  const app = typeof values['app-environment'] === 'string' ? values['app-environment'] : undefined;
  const old = typeof values.environment === 'string' ? values.environment : undefined;
  if (app !== undefined && old !== undefined && app !== old)
    throw new UsageError(`--app-environment ${app} and --environment ${old} (its old name) contradict each other`);
  return app ?? old;
}

/** The loader's `keyVault` option for `--keyvault` / `--keyvault-url`. */
export function keyVaultOption(values: Values, io: Pick<CliIo, 'env'>): { keyVault?: KeyVaultOptions } {
  const url = typeof values['keyvault-url'] === 'string' ? values['keyvault-url'] : undefined;
  if (!url && values.keyvault !== true) return {};
  return {
    keyVault: {
      ...(url ? { url } : {}),
      access: (vault) =>
        keyVaultAccess(
          vault,
          { flag: url ? '--keyvault-url' : undefined, trustHost: values[TRUST_VAULT_HOST_FLAG] === true },
          io.env,
        ),
    },
  };
}

/** The loudly named flag that lets the CLI talk to a vault host that is neither Azure Key Vault nor loopback. */
export const TRUST_VAULT_HOST_FLAG = 'dangerously-trust-vault-host';

/**
 * How the CLI reaches a vault: a ready token from AZURE_KEYVAULT_ACCESS_TOKEN when set (else Azure's default
 * credential chain), with the Azure SDK's challenge-resource check kept on for Key Vault hosts. That check is what
 * stops a look-alike host from asking for (and getting) an Azure token, so it is turned off only for loopback (a
 * local stand-in, which cannot answer for vault.azure.net) or when the user names the host as trusted with
 * `--dangerously-trust-vault-host`. The static token from the environment is never sent to a host the user did
 * not type (one from `kvSetting:SecretUri`) unless it is a Key Vault host or loopback.
 *
 * @param vault the vault's URL
 * @param origin `flag`: the flag that named the URL (undefined when it came from configuration); `trustHost`: the
 *   loud flag was given
 * @param env the run's environment, for AZURE_KEYVAULT_ACCESS_TOKEN
 * @throws UsageError when the host is neither a Key Vault host nor loopback and may not be used
 */
export function keyVaultAccess(
  vault: string | URL,
  origin: { flag: string | undefined; trustHost: boolean },
  env: CliIo['env'],
): Pick<KeyVaultOptions, 'credential' | 'clientOptions'> {
  const named = origin.flag ?? 'kvSetting:SecretUri';
  let url: URL;
  try {
    url = typeof vault === 'string' ? new URL(vault) : vault;
  } catch {
    throw new UsageError(
      `${named} must be a vault URL such as https://<name>.vault.azure.net, got ${JSON.stringify(vault)}`,
    );
  }
  const token = env.AZURE_KEYVAULT_ACCESS_TOKEN;
  const credential = token
    ? { credential: { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) } }
    : {};
  if (url.protocol !== 'https:')
    throw new UsageError(`${named} ${url.origin} must be an https URL: Key Vault is reached over https only`);
  if (isKeyVaultHost(url.hostname)) return credential;
  const local = isLoopbackHost(url.hostname);
  if (!local && !origin.trustHost) {
    throw new UsageError(
      `${named} ${url.origin} is not an Azure Key Vault host (${KEY_VAULT_HOST_SUFFIXES.map((s) => `*${s}`).join(', ')}): check the vault URL, or pass --${TRUST_VAULT_HOST_FLAG} if this host is a vault you trust with an Azure token`,
    );
  }
  if (!local && token && origin.flag === undefined) {
    throw new UsageError(
      `AZURE_KEYVAULT_ACCESS_TOKEN is not sent to ${url.origin}, a host named only by kvSetting:SecretUri that is not an Azure Key Vault host: name the vault with --keyvault-url, or unset the variable`,
    );
  }
  return { ...credential, clientOptions: { disableChallengeResourceVerification: true } };
}

function listOf(value: string | boolean | string[] | undefined): string[] {
  return typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
}

/** Parses a repeatable flag that may also hold space- or comma-separated values. */
export function listFlag(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
}
