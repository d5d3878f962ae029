/**
 * Setting a client up in Azure Key Vault: the secret names a section's settings go under, and writing them there.
 */
import { createSecretClient, type KeyVaultOptions, keyVaultError, secretNameFor } from './sources/key-vault.ts';

/**
 * The settings a client needs in a vault.
 * @see https://learn.microsoft.com/en-us/azure/key-vault/general/about-keys-secrets-certificates
 */
export const KEY_VAULT_SETTING_KEYS = ['Authority', 'ClientId', 'JwkBase64'] as const;

/**
 * The Key Vault secret names of a section: `MaskinportenSettings--ClientId` and so on.
 *
 * @param section - The configuration section; `MaskinportenSettings` by default.
 * @param keys - The settings to name; {@link KEY_VAULT_SETTING_KEYS} by default.
 * @returns Each setting's secret name, by setting.
 * @see https://learn.microsoft.com/en-us/azure/key-vault/general/about-keys-secrets-certificates
 */
export function keyVaultSecretNames(
  section = 'MaskinportenSettings',
  keys: readonly string[] = KEY_VAULT_SETTING_KEYS,
): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, secretNameFor(`${section}:${k}`)]));
}

/**
 * Writes settings of a section as secrets (`Section--Key`). Values are never echoed.
 *
 * @param vaultUrl - The vault, e.g. `https://my-vault.vault.azure.net/`.
 * @param values - The settings to write, by setting (`ClientId`, `JwkBase64`, …).
 * @param options - The Azure credential and client options, and the `section` (`MaskinportenSettings` by default).
 * @returns The secret names written.
 * @throws ConfigError `ERR_CONFIG` when the vault refuses (the message names the role to grant) or cannot be reached,
 *   or when `@azure/keyvault-secrets` or `@azure/identity` is not installed.
 * @see https://learn.microsoft.com/en-us/azure/key-vault/general/about-keys-secrets-certificates
 */
export async function writeSettingsToKeyVault(
  vaultUrl: string,
  values: Record<string, string>,
  options: KeyVaultOptions & { section?: string } = {},
): Promise<string[]> {
  const client = await createSecretClient(vaultUrl, options);
  const section = options.section ?? 'MaskinportenSettings';
  const written: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const name = secretNameFor(`${section}:${key}`);
    try {
      await client.setSecret(name, value, key === 'JwkBase64' ? { contentType: 'application/jwk+json;base64' } : {});
    } catch (err) {
      throw keyVaultError(err, vaultUrl, `write the secret ${name}`);
    }
    written.push(name);
  }
  return written;
}
