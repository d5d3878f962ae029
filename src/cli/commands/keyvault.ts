/**
 * `maskinporten keyvault names|push`: the Key Vault secret names a settings section uses (`Section--Key`), and
 * writing ClientId, Authority and JwkBase64 to a vault with the real Azure SDK — instead of copying them by hand.
 */
import { composeCredentials } from '../../client/grant-preview.ts';
import { KEY_VAULT_SETTING_KEYS, keyVaultSecretNames, writeSettingsToKeyVault } from '../../config/index.ts';
import { parse, UsageError } from '../args.ts';
import type { CliIo } from '../io.ts';
import { painter } from '../output.ts';
import {
  keyVaultAccess,
  SETTINGS_FLAGS,
  settingsFromFlags,
  settingsHelp,
  TRUST_VAULT_HOST_FLAG,
} from '../settings-flags.ts';

export const help = `Usage: maskinporten keyvault <names|push> [options]

  names [--section S]           prints the secret names for a section (default MaskinportenSettings)
  push --vault-url URL          writes ClientId, Authority and JwkBase64 of the loaded settings to the vault
                                (credentials: Azure's default chain — az login, managed identity, AZURE_* env vars;
                                or a ready access token in AZURE_KEYVAULT_ACCESS_TOKEN)

Options:
  --json                        print JSON
${settingsHelp('MaskinportenSettings')}

Examples:
  maskinporten keyvault names --section MaskinportenSettingsInternal
  maskinporten keyvault push --vault-url https://my-vault.vault.azure.net --key-file maskinporten-keys/private.jwk.json --client-id ID --authority test
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = argv;
  const { values } = parse(rest, { ...SETTINGS_FLAGS, 'vault-url': { type: 'string' }, json: { type: 'boolean' } });
  const section = values.section ?? 'MaskinportenSettings';
  if (action === 'names') {
    const names = keyVaultSecretNames(section);
    if (values.json) io.stdout.write(`${JSON.stringify(names, null, 2)}\n`);
    else io.stdout.write(`${KEY_VAULT_SETTING_KEYS.map((k) => `${names[k]}`).join('\n')}\n`);
    return 0;
  }
  if (action !== 'push')
    throw new UsageError(`keyvault needs names or push${action ? `, got ${JSON.stringify(action)}` : ''}`);
  const vaultUrl = values['vault-url'];
  if (!vaultUrl) throw new UsageError('keyvault push needs --vault-url https://<name>.vault.azure.net');
  const access = { flag: '--vault-url', trustHost: values[TRUST_VAULT_HOST_FLAG] === true };
  keyVaultAccess(vaultUrl, access, io.env); // refuses an untrusted host before anything is loaded
  const { settings } = await settingsFromFlags(values, section, io);
  // The vault gets the key the settings hold, as the JwkBase64 an app reads.
  let jwkBase64 = settings.jwkBase64;
  if (jwkBase64 === undefined && settings.jwk !== undefined) {
    jwkBase64 = Buffer.from(typeof settings.jwk === 'string' ? settings.jwk : JSON.stringify(settings.jwk)).toString(
      'base64',
    );
  }
  if (jwkBase64 === undefined)
    throw new UsageError('keyvault push needs a JWK key (JwkBase64 or Jwk); PEM and PKCS#12 keys are not pushed');
  // What is pushed must work as an app will load it: checked by the client's own composition.
  await composeCredentials(
    { authority: settings.authority, clientId: settings.clientId, jwkBase64 },
    { allowInsecureRequests: values.insecure === true },
  );
  const written = await writeSettingsToKeyVault(
    vaultUrl,
    { ClientId: settings.clientId, Authority: settings.authority, JwkBase64: jwkBase64 },
    { section, access: (url) => keyVaultAccess(url, access, io.env) },
  );
  if (values.json) io.stdout.write(`${JSON.stringify({ vaultUrl, written }, null, 2)}\n`);
  else io.stdout.write(`${painter(io).bold('Wrote')} ${written.join(', ')} to ${vaultUrl} (values not shown).\n`);
  return 0;
}
