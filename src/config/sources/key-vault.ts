/**
 * Azure Key Vault through the real SDK (`@azure/keyvault-secrets`, and `@azure/identity`'s default credential chain
 * unless a credential is given), both optional peers loaded only when a vault is used. Secret `A--B` is setting
 * `A:B`, as in .NET's Key Vault configuration provider.
 */
import { ConfigError } from '../../errors.ts';
import type { FlatConfig } from '../flat-config.ts';

/**
 * How to reach a vault.
 * @see https://learn.microsoft.com/en-us/azure/key-vault/general/about-keys-secrets-certificates
 */
export interface KeyVaultOptions {
  /** The vault URL, e.g. `https://my-vault.vault.azure.net/`; else the `kvSetting:SecretUri` setting. */
  url?: string;
  /** An `@azure/identity` TokenCredential; `DefaultAzureCredential` when left out. */
  credential?: unknown;
  /** Options passed to `SecretClient` (retry, transport, `disableChallengeResourceVerification`, …). */
  clientOptions?: Record<string, unknown>;
  /**
   * Decides how to reach the vault once its URL is known (it may come from the `kvSetting:SecretUri` setting):
   * returns the credential and client options for that URL, overriding `credential` and `clientOptions`, or throws
   * to refuse the vault. Lets a caller apply a host policy to a URL it did not choose.
   */
  access?: (vaultUrl: URL) => Pick<KeyVaultOptions, 'credential' | 'clientOptions'>;
}

/**
 * The DNS suffixes of Azure Key Vault in the public and sovereign clouds (Azure public, China, US Government,
 * Germany).
 * @see https://learn.microsoft.com/en-us/azure/key-vault/general/about-keys-secrets-certificates#dns-suffixes-for-object-identifiers
 */
export const KEY_VAULT_HOST_SUFFIXES = [
  '.vault.azure.net',
  '.vault.azure.cn',
  '.vault.usgovcloudapi.net',
  '.vault.microsoftazure.de',
] as const;

/** Whether `hostname` is an Azure Key Vault host (`<name>.vault.azure.net` or a sovereign cloud's suffix). */
export function isKeyVaultHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return KEY_VAULT_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
}

interface SecretProperties {
  name: string;
  enabled?: boolean;
}
interface SecretClientLike {
  listPropertiesOfSecrets(): AsyncIterable<SecretProperties>;
  getSecret(name: string): Promise<{ value?: string; properties: SecretProperties }>;
  setSecret(name: string, value: string, options?: Record<string, unknown>): Promise<unknown>;
}

async function importPeer<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    throw new ConfigError(
      `Azure Key Vault needs the package ${name}: npm install @azure/keyvault-secrets @azure/identity`,
      {
        cause,
      },
    );
  }
}

/** Creates a `SecretClient` for `url`. */
export async function createSecretClient(url: string, options: KeyVaultOptions = {}): Promise<SecretClientLike> {
  const { SecretClient } = await importPeer<{
    SecretClient: new (url: string, credential: unknown, options?: unknown) => SecretClientLike;
  }>('@azure/keyvault-secrets');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`the Key Vault URL ${JSON.stringify(url)} is not an absolute URL`);
  }
  const chosen = options.access ? options.access(parsed) : options;
  let credential = chosen.credential;
  if (credential === undefined) {
    const identity = await importPeer<{ DefaultAzureCredential: new () => unknown }>('@azure/identity');
    credential = new identity.DefaultAzureCredential();
  }
  return new SecretClient(url, credential, chosen.clientOptions);
}

/** Turns SDK failures into configuration errors that say what to do. */
export function keyVaultError(err: unknown, url: string, action: string): ConfigError {
  const status = (err as { statusCode?: number })?.statusCode;
  if (status === 401 || status === 403) {
    return new ConfigError(
      `Key Vault ${url} refused to ${action} (${status}): give this identity the "Key Vault Secrets User" role (get and list) on the vault${action.startsWith('write') ? ', or "Key Vault Secrets Officer" to write' : ''}`,
      { cause: err, status },
    );
  }
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new ConfigError(`Key Vault ${url}: could not ${action}: ${message}`, {
    cause: err,
    ...(status ? { status } : {}),
  });
}

/** The Key Vault secret name of a setting path: `MaskinportenSettings:ClientId` → `MaskinportenSettings--ClientId`. */
export function secretNameFor(path: string): string {
  return path.replaceAll(':', '--');
}

/**
 * Adds the enabled secrets of `sections` from the vault at `url` (paging through the list). Disabled secrets and
 * secrets deleted between listing and reading are skipped. Returns the secret names read.
 */
export async function addKeyVault(
  config: FlatConfig,
  url: string,
  sections: string[],
  options: KeyVaultOptions = {},
): Promise<string[]> {
  const client = await createSecretClient(url, options);
  const prefixes = sections.map((s) => `${secretNameFor(s).toLowerCase()}--`);
  const names: string[] = [];
  try {
    for await (const props of client.listPropertiesOfSecrets()) {
      if (props.enabled === false) continue;
      if (!prefixes.some((p) => props.name.toLowerCase().startsWith(p))) continue;
      names.push(props.name);
    }
  } catch (err) {
    throw keyVaultError(err, url, 'list secrets');
  }
  const read: string[] = [];
  for (const name of names.sort()) {
    let secret: { value?: string };
    try {
      secret = await client.getSecret(name);
    } catch (err) {
      const status = (err as { statusCode?: number })?.statusCode;
      if (status === 404) continue;
      throw keyVaultError(err, url, `read the secret ${name}`);
    }
    if (secret.value === undefined) continue;
    config.set(name.replaceAll('--', ':'), secret.value, { kind: 'key-vault', vaultUrl: url, secretName: name });
    read.push(name);
  }
  return read;
}
