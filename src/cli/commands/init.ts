/**
 * `maskinporten init`: the whole onboarding guide in one command — environment, scopes, a key pair made locally,
 * registration through the self-service API (or exactly what to paste into the portal), `appsettings.{env}.json`
 * without secrets, the private key written once (a git-ignored secrets file, or Key Vault plus one local file), and
 * the Key Vault names. Asks on a terminal — again after an empty answer to a required question, and only once the
 * files it would write are known to be free — and runs from flags otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { keyVaultSecretNames, maskinportenAuthority, writeSettingsToKeyVault } from '../../config/index.ts';
import { toJwkBase64 } from '../../keys/jwk.ts';
import { isLoopbackHost } from '../../url-policy.ts';
import { ADMIN_SECTION, selfServiceFromFlags } from '../admin.ts';
import { parse, UsageError } from '../args.ts';
import { altinnPlatformFlag, authorityFlag, didYouMean } from '../authority-hint.ts';
import { occupied, writeFilesAtomically } from '../files.ts';
import { type IgnoreTarget, ignoreInGit } from '../gitignore.ts';
import { type CliIo, pathIn } from '../io.ts';
import { generateKeyFiles, PRIVATE_KEY_FILE, plannedKeyFiles } from '../key-files.ts';
import { painter } from '../output.ts';
import { keyVaultAccess, listFlag, TRUST_VAULT_HOST_FLAG } from '../settings-flags.ts';

export const help = `Usage: maskinporten init [options]

Walks through onboarding: asks on a terminal, or runs from flags (always without a terminal).

Options:
  --environment test|prod   Maskinporten environment (default test)
  --scope SCOPE             scope the integration needs (repeatable)
  --name NAME               integration name; --description TEXT
  --register                register the integration through the self-service API with the admin credentials
                            (section ${ADMIN_SECTION}: env vars ${ADMIN_SECTION}__ClientId, __JwkBase64, __Authority),
                            and --admin-api URL if it cannot be derived
  --client-id ID            the client id, if you registered in the portal yourself
  --out-dir DIR             where public.jwk.json goes, and private.jwk.json with --vault-url
                            (default ./maskinporten-keys)
  --config-dir DIR          where appsettings.{Environment}.json is written (default .)
  --app-environment NAME    its Environment name (default Staging for test, Production for prod)
  --secrets-file FILE       write the private key (as JwkBase64) to this git-ignored file, its only copy
                            (default .maskinporten-secrets.json)
  --vault-url URL           write the secrets to Azure Key Vault instead (real SDK); the private key's local
                            copy is then private.jwk.json
  --dangerously-trust-vault-host
                            let a --vault-url that is neither *.vault.azure.net (or a sovereign cloud's) nor
                            loopback receive an Azure token
  --section NAME            settings section (default MaskinportenSettings)
  --authority URL           the Maskinporten authority to write (default: the environment's; e.g. a local emulator)
  --altinn-platform-url URL the Altinn platform to write (default: derived from the authority; a local emulator's
                            own URL is written for it)
  --insecure                allow a plain-http authority (an emulator on another host)
  --force                   replace existing files
  --yes                     never ask; fail on what is missing
  --json                    print a JSON summary instead of the steps (never a secret); implies --yes

Examples:
  maskinporten init
  maskinporten init --environment test --scope altinn:serviceowner/notifications.create --name my-app --register
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, {
    environment: { type: 'string' },
    scope: { type: 'string', multiple: true },
    name: { type: 'string' },
    description: { type: 'string' },
    register: { type: 'boolean' },
    'client-id': { type: 'string' },
    'admin-api': { type: 'string' },
    'out-dir': { type: 'string' },
    'config-dir': { type: 'string' },
    'app-environment': { type: 'string' },
    'secrets-file': { type: 'string' },
    'vault-url': { type: 'string' },
    [TRUST_VAULT_HOST_FLAG]: { type: 'boolean' },
    section: { type: 'string' },
    authority: { type: 'string' },
    'altinn-platform-url': { type: 'string' },
    insecure: { type: 'boolean' },
    force: { type: 'boolean' },
    yes: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const json = values.json === true;
  const { bold, green, warn } = painter(io);
  const interactive = Boolean(io.stdin.isTTY && io.stdout.isTTY) && !values.yes && !json;
  const rl = interactive ? createInterface({ input: io.stdin, output: io.stdout }) : undefined;
  /** Files written so far, for a walk-through stopped half-way. */
  const made: string[] = [];
  /**
   * Asks on a terminal (without one, the fallback). An empty answer takes the fallback; a question without one is
   * asked again when `required`, so a stray Enter never ends the walk-through.
   */
  const ask = async (question: string, fallback?: string, required = false): Promise<string | undefined> => {
    if (!rl) return fallback;
    for (;;) {
      let answer: string;
      try {
        answer = (await rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim();
      } catch {
        // Ctrl+D or Ctrl+C: before the key is made, stopping leaves nothing behind; after, say what is there.
        throw new UsageError(
          `no answer to "${question}" (the input ended or was interrupted): ${made.length ? `${made.join(', ')} were written` : 'nothing was written'}`,
        );
      }
      if (answer || fallback !== undefined || !required) return answer || fallback;
      io.stdout.write('   an answer is needed here (Ctrl+C stops)\n');
    }
  };
  try {
    const say = (text: string) => {
      if (!json) io.stdout.write(`${text}\n`);
    };
    const configDir = pathIn(io, values['config-dir'] ?? '.');
    const outDir = pathIn(io, values['out-dir'] ?? 'maskinporten-keys');
    const force = values.force === true;
    // The private key is written once: into the secrets file (as JwkBase64), or — when Key Vault holds the secret —
    // into private.jwk.json, the local copy until the vault is known to hold it.
    const vaultUrl = values['vault-url'];
    const vaultAccess = { flag: '--vault-url', trustHost: values[TRUST_VAULT_HOST_FLAG] === true };
    // An untrusted vault host is refused before anything is asked, made or registered.
    if (vaultUrl) keyVaultAccess(vaultUrl, vaultAccess, io.env);
    const secretsPath = vaultUrl ? undefined : pathIn(io, values['secrets-file'] ?? '.maskinporten-secrets.json');
    const keyPaths = plannedKeyFiles(outDir, secretsPath ? 'none' : 'jwk');
    // Every file init makes, checked before any question is asked and before anything is made or registered: a
    // refusal half-way would leave a registered client whose key or secret is missing, or answers typed for nothing.
    if (!force) {
      const planned = [keyPaths.privateJwk, keyPaths.publicJwks, secretsPath].filter((f) => f !== undefined);
      const existing = planned.filter((f) => occupied(f));
      if (existing.length) throw new UsageError(`refusing to overwrite ${existing.join(', ')}: use --force to replace`);
    }

    let env = values.environment?.toLowerCase();
    while (env !== 'test' && env !== 'prod') {
      const given = env;
      if (given !== undefined) {
        const guess = didYouMean(given, ['test', 'prod']);
        const problem = `--environment must be test or prod (the Maskinporten environment), got ${given}${guess ? `: did you mean ${guess}?` : ''}`;
        // Only an answer typed at the prompt is asked again; a flag's value is a usage error.
        if (!rl || values.environment !== undefined) throw new UsageError(problem);
        io.stdout.write(`   ${problem.replace('--environment must be', 'the environment must be')}\n`);
      }
      env = ((await ask('Maskinporten environment (test or prod)', 'test')) ?? 'test').toLowerCase();
    }
    const authority = values.authority === undefined ? maskinportenAuthority(env) : authorityFlag(values.authority);
    // A local emulator serves the Altinn exchange on its own origin; Digdir's environments pair with Altinn's own
    // (the client derives those), so only the emulator's needs writing for token --altinn to work.
    const altinnPlatformUrl =
      values['altinn-platform-url'] !== undefined
        ? altinnPlatformFlag(values['altinn-platform-url'])
        : isLoopbackHost(new URL(authority).hostname)
          ? new URL(authority).origin
          : undefined;
    let scopes = listFlag(values.scope);
    if (!scopes.length)
      scopes = listFlag(
        await ask('Scopes (space-separated), e.g. altinn:serviceowner/notifications.create', undefined, true),
      );
    if (!scopes.length) throw new UsageError('--scope is required (at least one)');
    const name = values.name ?? (await ask('Integration name', 'my-integration')) ?? 'my-integration';
    const description = values.description ?? (await ask('Description', name)) ?? name;
    const section = values.section ?? 'MaskinportenSettings';
    const appEnv = values['app-environment'] ?? (env === 'prod' ? 'Production' : 'Staging');

    const appsettingsPath = join(configDir, `appsettings.${appEnv}.json`);
    // Read (and check) an existing settings file first: nothing is made or registered when it cannot be updated.
    let doc: Record<string, unknown> = {};
    if (existsSync(appsettingsPath)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(appsettingsPath, 'utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        doc = parsed as Record<string, unknown>;
      } catch {
        throw new UsageError(`${appsettingsPath} exists but is not plain JSON; add the ${section} section by hand`);
      }
    }

    let register = values.register === true;
    if (!register && !values['client-id'] && rl)
      register = /^y/i.test((await ask('Register through the self-service API now? (y/n)', 'n')) ?? 'n');
    // Load the admin credentials before making anything, so missing ones fail without leaving key files behind.
    const api = register
      ? await selfServiceFromFlags(
          {
            ...(values['admin-api'] ? { 'admin-api': values['admin-api'] } : {}),
            ...(values['config-dir'] ? { 'config-dir': values['config-dir'] } : {}),
            ...(values.insecure ? { insecure: true } : {}),
          },
          io,
        )
      : undefined;

    say(bold(`1. Key pair (made here; the private key never leaves this machine)`));
    const { pair, files } = await generateKeyFiles({
      outDir,
      bits: 2048,
      alg: 'RS256',
      force,
      privateFormat: secretsPath ? 'none' : 'jwk',
      // The secrets file is the private key's one copy here: written with the public key, all or nothing.
      alongside: (pair) =>
        secretsPath
          ? [
              {
                path: secretsPath,
                content: `${JSON.stringify({ [section]: { JwkBase64: toJwkBase64(pair.privateJwk) } }, null, 2)}\n`,
                mode: 0o600,
              },
            ]
          : [],
    });
    made.push(...[files.privateJwk, files.publicJwks, secretsPath].filter((f) => f !== undefined));
    say(
      `   kid ${pair.kid}; the private key in ${files.privateJwk ?? `${secretsPath} (as JwkBase64, mode 0600)`}, the public key in ${files.publicJwks}`,
    );

    let clientId = values['client-id'];
    say(bold('2. Registration'));
    if (api) {
      const created = await api.createClient({ clientName: name, description, scopes });
      await api.replaceKeys(created.client_id, [pair.publicJwk]);
      clientId = created.client_id;
      say(`   registered ${name}: client id ${clientId}, key ${pair.kid}`);
    } else if (!clientId) {
      say('   In the portal (Samarbeidsportalen → Integrasjoner → Ny integrasjon):');
      say(`     Difi-tjeneste: Maskinporten; scopes: ${scopes.join(' ')}; name: ${name}; description: ${description}`);
      say(`     "Egne offentlige nøkler": paste the contents of ${files.publicJwks}:`);
      say(JSON.stringify([pair.publicJwk]));
      clientId = (await ask('Client id (leave empty to fill in later)')) || undefined;
      // Running init again would make a new key, not the one just pasted: the id goes into the settings instead.
      if (!clientId) say(`   Note the client id, then set ${section}:ClientId to it in ${appsettingsPath}.`);
    } else {
      say(`   client id ${clientId} (registered in the portal): register the public key in ${files.publicJwks} on it`);
    }

    say(bold(`3. Settings without secrets: appsettings.${appEnv}.json`));
    doc[section] = {
      ...(doc[section] as object | undefined),
      Authority: authority,
      ...(clientId ? { ClientId: clientId } : {}),
      ...(altinnPlatformUrl ? { AltinnPlatformUrl: altinnPlatformUrl } : {}),
    };
    writeFilesAtomically([{ path: appsettingsPath, content: `${JSON.stringify(doc, null, 2)}\n`, mode: 0o644 }], true);
    const written = [
      'Authority',
      ...(clientId ? ['ClientId'] : []),
      ...(altinnPlatformUrl ? ['AltinnPlatformUrl'] : []),
    ];
    say(`   wrote ${written.map((k) => `${section}:${k}`).join(', ')} to ${appsettingsPath}`);

    say(bold('4. Secrets'));
    const rel = (path: string) => relative(io.cwd, path) || '.';
    // The private key stays out of git whichever way the secret is stored.
    const ignored: IgnoreTarget[] = files.privateJwk
      ? [{ path: outDir, directory: { privateFiles: [PRIVATE_KEY_FILE.jwk] } }]
      : [];
    let secretsFile: string | undefined;
    let vaultSecrets: string[] | undefined;
    if (vaultUrl) {
      vaultSecrets = await writeSettingsToKeyVault(
        vaultUrl,
        { Authority: authority, ...(clientId ? { ClientId: clientId } : {}), JwkBase64: toJwkBase64(pair.privateJwk) },
        { section, access: (url) => keyVaultAccess(url, vaultAccess, io.env) },
      );
      say(`   wrote ${vaultSecrets.join(', ')} to ${vaultUrl} (values not shown)`);
      say(`   ${files.privateJwk} is the only local copy of the private key: keep it safe, or delete it`);
    } else if (secretsPath) {
      secretsFile = secretsPath;
      ignored.unshift({ path: secretsFile });
      say(
        `   JwkBase64 is in ${secretsFile} (mode 0600, git-ignored), the private key's only copy; load it with secretsFiles: ['${rel(secretsFile)}']`,
      );
    }
    const git = ignoreInGit(io.cwd, ignored);
    if (git.added.length) say(`   added ${git.added.join(', ')} to ${git.gitignore}`);
    for (const path of git.outside)
      say(`   ${path} is outside ${dirname(git.gitignore)}: keep it out of any repository yourself`);
    for (const path of git.notIgnored)
      warn(
        `warning: git does not ignore ${path} (git check-ignore): another .gitignore rule re-includes it; fix that before committing`,
      );
    const names = keyVaultSecretNames(section);
    say(bold('5. Key Vault secret names'));
    say(`   ${Object.values(names).join('\n   ')}`);
    const sectionFlag = section === 'MaskinportenSettings' ? '' : ` --section ${section}`;
    const keyFlag = secretsFile ? `--secrets-file ${rel(secretsFile)}` : `--key-file ${rel(files.privateJwk!)}`;
    const doctor = `maskinporten doctor --config-dir ${rel(configDir)} --app-environment ${appEnv}${sectionFlag} ${keyFlag} --scope ${scopes[0]}`;
    say(`${green('Done.')} Check the setup with: ${doctor}`);
    if (json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            environment: env,
            authority,
            ...(clientId ? { clientId } : {}),
            registered: register,
            kid: pair.kid,
            scopes,
            files: { ...files, appsettings: appsettingsPath, ...(secretsFile ? { secrets: secretsFile } : {}) },
            ...(vaultSecrets ? { vaultUrl, vaultSecrets } : {}),
            keyVaultSecretNames: names,
            ...(clientId ? {} : { publicJwks: [pair.publicJwk] }),
            next: doctor,
          },
          null,
          2,
        )}\n`,
      );
    }
    return 0;
  } finally {
    rl?.close();
  }
}
