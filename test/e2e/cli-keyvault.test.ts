/**
 * `maskinporten keyvault names|push` and `maskinporten init --vault-url`, the built CLI run against the local HTTPS
 * Key Vault stand-in (test/helpers/key-vault-stand-in.ts) through the real Azure SDK, authenticating with the static
 * token in AZURE_KEYVAULT_ACCESS_TOKEN. A subprocess trusts the stand-in's self-signed certificate through
 * NODE_EXTRA_CA_CERTS; runs in this process, through this process's default CA certificates, which get it too
 * (where Node cannot add one, every run is a subprocess).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import tls from 'node:tls';
import { keyVaultAccess } from '../../src/cli/settings-flags.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { type KeyVaultStandIn, startKeyVaultStandIn } from '../helpers/key-vault-stand-in.ts';
import {
  adminEnv,
  assertBuilt,
  type CliResult,
  failure,
  ok,
  type RunOptions,
  runCli,
  runCliProcess,
  Secrets,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

const SCOPE = 'altinn:serviceowner/notifications.create';

describe('maskinporten keyvault (built CLI, Key Vault stand-in)', () => {
  let vault: KeyVaultStandIn;
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: [SCOPE], clientName: 'cli-keyvault' });
  let dir: string;
  let keyFile: string;
  let vaultEnv: Record<string, string>;
  const secrets = new Secrets();
  /** Node 22 before 22.19 cannot add a CA certificate to a running process: there every run is a subprocess. */
  const canTrustInProcess = typeof tls.setDefaultCACertificates === 'function';
  const defaultCas = canTrustInProcess ? tls.getCACertificates('default') : [];
  const run = async (args: string[], options: RunOptions & { subprocess?: boolean } = {}): Promise<CliResult> =>
    secrets.check(
      await (options.subprocess || !canTrustInProcess ? runCliProcess : runCli)(args, {
        cwd: dir,
        ...options,
        env: { ...vaultEnv, ...options.env },
      }),
    );
  const pushFlags = () => [
    '--vault-url',
    vault.url,
    '--authority',
    emulator.issuer,
    '--client-id',
    client.clientId,
    '--key-file',
    keyFile,
  ];

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-kv-'));
    vault = await startKeyVaultStandIn();
    const caFile = join(dir, 'stand-in-ca.pem');
    writeFileSync(caFile, vault.ca);
    vaultEnv = { NODE_EXTRA_CA_CERTS: caFile, AZURE_KEYVAULT_ACCESS_TOKEN: 'test-token' };
    // Runs in this process trust the stand-in as a subprocess does through NODE_EXTRA_CA_CERTS.
    if (canTrustInProcess) tls.setDefaultCACertificates([...defaultCas, vault.ca]);
    secrets.addJwkBase64(client.jwkBase64!).addJwkBase64(emulator.adminClient.jwkBase64);
    secrets.add('test-token'); // the vault access token
    keyFile = join(dir, 'jwk.base64');
    writeFileSync(keyFile, `${client.jwkBase64}\n`, { mode: 0o600 });
  });
  beforeEach(() => vault.reset());
  after(async () => {
    await vault?.close();
    if (canTrustInProcess) tls.setDefaultCACertificates(defaultCas);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('names', () => {
    it('prints the secret names of a section, one a line, or as JSON', TIMEOUT, async () => {
      const r = ok(await run(['keyvault', 'names']));
      assert.equal(
        r.stdout,
        'MaskinportenSettings--Authority\nMaskinportenSettings--ClientId\nMaskinportenSettings--JwkBase64\n',
      );
      assert.equal(r.stderr, '');
      const nested = ok(await run(['keyvault', 'names', '--section', 'Integrations:Internal']));
      assert.equal(
        nested.stdout,
        'Integrations--Internal--Authority\nIntegrations--Internal--ClientId\nIntegrations--Internal--JwkBase64\n',
      );
      const json = JSON.parse(
        ok(await run(['keyvault', 'names', '--section', 'MaskinportenSettingsInternal', '--json'])).stdout,
      );
      assert.deepEqual(json, {
        Authority: 'MaskinportenSettingsInternal--Authority',
        ClientId: 'MaskinportenSettingsInternal--ClientId',
        JwkBase64: 'MaskinportenSettingsInternal--JwkBase64',
      });
      assert.deepEqual(vault.requests, [], 'names calls nobody');
    });
  });

  describe('push', () => {
    it('writes ClientId, Authority and JwkBase64 with the real SDK, and shows no value', TIMEOUT, async () => {
      const r = ok(await run(['keyvault', 'push', ...pushFlags()], { subprocess: true }));
      assert.match(
        r.stdout,
        /^Wrote MaskinportenSettings--ClientId, MaskinportenSettings--Authority, MaskinportenSettings--JwkBase64 to https:\/\/127\.0\.0\.1:\d+ \(values not shown\)\.\n$/,
      );
      assert.equal(vault.value('MaskinportenSettings--ClientId'), client.clientId);
      assert.equal(vault.value('MaskinportenSettings--Authority'), emulator.issuer);
      assert.equal(vault.value('MaskinportenSettings--JwkBase64'), client.jwkBase64);
      assert.equal(vault.properties('MaskinportenSettings--JwkBase64')?.contentType, 'application/jwk+json;base64');
      assert.ok(
        vault.requests.some((q) => q.method === 'PUT' && q.authorized),
        'authorized writes',
      );
      assert.ok(!r.stdout.includes(client.clientId), 'not even the client id');

      // Again: a new version of each.
      const json = JSON.parse(ok(await run(['keyvault', 'push', ...pushFlags(), '--json'])).stdout);
      assert.deepEqual(json, {
        vaultUrl: vault.url,
        written: [
          'MaskinportenSettings--ClientId',
          'MaskinportenSettings--Authority',
          'MaskinportenSettings--JwkBase64',
        ],
      });
      assert.equal(vault.properties('MaskinportenSettings--ClientId')?.versions, 2);
    });

    it('under another section, and from settings loaded from files and environment variables', TIMEOUT, async () => {
      ok(await run(['keyvault', 'push', ...pushFlags(), '--section', 'MaskinportenSettingsInternal']));
      assert.deepEqual(vault.names().sort(), [
        'MaskinportenSettingsInternal--Authority',
        'MaskinportenSettingsInternal--ClientId',
        'MaskinportenSettingsInternal--JwkBase64',
      ]);
      vault.reset();
      const config = join(dir, 'app');
      mkdirSync(config, { recursive: true });
      writeFileSync(
        join(config, 'appsettings.json'),
        JSON.stringify({ MaskinportenSettings: { Authority: emulator.issuer, ClientId: client.clientId } }),
      );
      ok(
        await run(['keyvault', 'push', '--vault-url', vault.url, '--config-dir', config], {
          env: { MaskinportenSettings__JwkBase64: client.jwkBase64! },
        }),
      );
      assert.equal(vault.value('MaskinportenSettings--JwkBase64'), client.jwkBase64);
      assert.equal(vault.value('MaskinportenSettings--ClientId'), client.clientId);
    });

    it('a JWK key file is pushed as the JwkBase64 an app reads; PEM keys are refused', TIMEOUT, async () => {
      const pair = await generateRsaKeyPair({ kid: 'jwk-file' });
      secrets.addJwk(pair.privateJwk as unknown as Record<string, unknown>);
      const jwkFile = join(dir, 'private.jwk.json');
      writeFileSync(jwkFile, JSON.stringify(pair.privateJwk, null, 2), { mode: 0o600 });
      ok(
        await run([
          'keyvault',
          'push',
          '--vault-url',
          vault.url,
          '--authority',
          emulator.issuer,
          '--client-id',
          client.clientId,
          '--key-file',
          jwkFile,
        ]),
      );
      const pushed = vault.value('MaskinportenSettings--JwkBase64')!;
      assert.deepEqual(JSON.parse(Buffer.from(pushed, 'base64').toString('utf8')), pair.privateJwk);
      secrets.add(pushed);

      const { createPrivateKey } = await import('node:crypto');
      const pem = createPrivateKey({ key: pair.privateJwk as never, format: 'jwk' })
        .export({ format: 'pem', type: 'pkcs8' })
        .toString();
      secrets.add(pem.split('\n')[1]);
      const pemFile = join(dir, 'key.pem');
      writeFileSync(pemFile, pem, { mode: 0o600 });
      vault.reset();
      usageError(
        await run([
          'keyvault',
          'push',
          '--vault-url',
          vault.url,
          '--authority',
          emulator.issuer,
          '--client-id',
          client.clientId,
          '--key-file',
          pemFile,
          '--kid',
          'pem-key',
        ]),
        /PEM/,
      );
      assert.deepEqual(vault.names(), [], 'nothing written');
    });

    it('a refused write or a refused token fails with exit 1 and what to do', TIMEOUT, async () => {
      vault.denied.add('set');
      failure(await run(['keyvault', 'push', ...pushFlags()]), /refused to write .*Key Vault Secrets Officer/);
      vault.reset();
      vault.rejectTokens = true;
      failure(await run(['keyvault', 'push', ...pushFlags()]));
      assert.deepEqual(vault.names(), []);
    });

    it('usage errors: no action, an unknown one, no --vault-url', TIMEOUT, async () => {
      usageError(await run(['keyvault']), /names or push/);
      usageError(await run(['keyvault', 'pull']), /names or push/);
      usageError(await run(['keyvault', 'push', '--client-id', client.clientId]), /--vault-url/);
      usageError(await run(['keyvault', 'names', '--nope']));
      assert.deepEqual(vault.requests, []);
    });
  });

  describe('init --vault-url', () => {
    it(
      'registers, writes appsettings without secrets and the secrets to the vault, no secrets file',
      TIMEOUT,
      async () => {
        const cwd = join(dir, 'init-vault');
        mkdirSync(cwd);
        const r = ok(
          await run(
            [
              'init',
              '--scope',
              SCOPE,
              '--name',
              'vaulted',
              '--register',
              '--authority',
              emulator.issuer,
              '--vault-url',
              vault.url,
            ],
            { cwd, env: adminEnv(emulator) },
          ),
        );
        // The vault holds the key; its one local copy is private.jwk.json.
        const privateText = readFileSync(join(cwd, 'maskinporten-keys', 'private.jwk.json'), 'utf8');
        const jwkBase64 = Buffer.from(JSON.stringify(JSON.parse(privateText))).toString('base64');
        secrets.addJwkBase64(jwkBase64).add(privateText);
        assert.deepEqual(readdirSync(join(cwd, 'maskinporten-keys')).sort(), ['private.jwk.json', 'public.jwk.json']);
        secrets.check(r);
        const clientId = /client id ([0-9a-f-]{36})/.exec(r.stdout)?.[1];
        assert.ok(clientId, r.stdout);
        assert.equal(vault.value('MaskinportenSettings--JwkBase64'), jwkBase64);
        assert.equal(vault.value('MaskinportenSettings--ClientId'), clientId);
        assert.equal(vault.value('MaskinportenSettings--Authority'), emulator.issuer);
        assert.ok(!existsSync(join(cwd, '.maskinporten-secrets.json')), 'no secrets file');
        const settings = readFileSync(join(cwd, 'appsettings.Staging.json'), 'utf8');
        assert.doesNotMatch(settings, /JwkBase64|"d"/);
        assert.deepEqual(JSON.parse(settings), {
          MaskinportenSettings: { Authority: emulator.issuer, ClientId: clientId, AltinnPlatformUrl: emulator.url },
        });
        assert.equal(
          readFileSync(join(cwd, '.gitignore'), 'utf8'),
          'maskinporten-keys/\n',
          'the key files stay out of git',
        );
        assert.match(
          r.stdout,
          /MaskinportenSettings--Authority\n\s+MaskinportenSettings--ClientId\n\s+MaskinportenSettings--JwkBase64\n/,
        );
      },
    );
  });
  describe('settings from the vault (--keyvault-url)', () => {
    it(
      'token and doctor read ClientId, Authority and JwkBase64 from the vault, as the app would',
      TIMEOUT,
      async () => {
        vault.setSecret('MaskinportenSettings--Authority', emulator.issuer);
        vault.setSecret('MaskinportenSettings--ClientId', client.clientId);
        vault.setSecret('MaskinportenSettings--JwkBase64', client.jwkBase64!);
        const dry = ok(await run(['token', '--keyvault-url', vault.url, '--scope', SCOPE, '--dry-run']));
        const grant = JSON.parse(dry.stdout) as { claims: { iss: string; aud: string } };
        assert.equal(grant.claims.iss, client.clientId);
        assert.equal(grant.claims.aud, emulator.issuer);
        const doctor = ok(await run(['doctor', '--keyvault-url', vault.url, '--scope', SCOPE]));
        assert.match(doctor.stdout, /clientId .* from Key Vault .* secret MaskinportenSettings--ClientId/);
      },
    );

    it('is not used in Development, as in the app', TIMEOUT, async () => {
      vault.setSecret('MaskinportenSettings--ClientId', client.clientId);
      const r = await run([
        'token',
        '--keyvault-url',
        vault.url,
        '--environment',
        'Development',
        '--scope',
        SCOPE,
        '--dry-run',
      ]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not found in any configuration source/);
    });
  });

  describe('vault hosts: the Azure SDK challenge check stays on; other hosts only by name', () => {
    it(
      'a vault URL that is not a Key Vault host (a look-alike) is refused before anything is sent',
      TIMEOUT,
      async () => {
        for (const url of ['https://my-vault.vault.azure.net.example.org', 'https://vault-azure.example.org/']) {
          usageError(
            await run(['keyvault', 'push', ...pushFlags().slice(2), '--vault-url', url]),
            /not an Azure Key Vault host .*--dangerously-trust-vault-host/,
          );
          usageError(
            await run(['token', '--keyvault-url', url, '--scope', SCOPE, '--dry-run']),
            /--keyvault-url .* not an Azure Key Vault host/,
          );
        }
        const cwd = join(dir, 'init-lookalike');
        mkdirSync(cwd);
        usageError(
          await run(['init', '--scope', SCOPE, '--vault-url', 'https://x.vault.azure.net.example.org'], { cwd }),
          /--vault-url .*not an Azure Key Vault host/,
        );
        assert.ok(!existsSync(join(cwd, 'maskinporten-keys')), 'no key made');
        usageError(
          await run(['keyvault', 'push', ...pushFlags().slice(2), '--vault-url', 'http://127.0.0.1:1']),
          /https/,
        );
      },
    );

    it('AZURE_KEYVAULT_ACCESS_TOKEN never goes to a host named only by kvSetting:SecretUri', TIMEOUT, async () => {
      const cwd = join(dir, 'config-vault');
      mkdirSync(cwd, { recursive: true });
      writeFileSync(
        join(cwd, 'appsettings.json'),
        JSON.stringify({ kvSetting: { SecretUri: 'https://vault.example.org/' } }),
      );
      // Even with the loud flag, a host the user did not type gets no token from the environment.
      usageError(
        await run(['token', '--keyvault', '--dangerously-trust-vault-host', '--scope', SCOPE, '--dry-run'], { cwd }),
        /AZURE_KEYVAULT_ACCESS_TOKEN is not sent to https:\/\/vault\.example\.org, a host named only by kvSetting:SecretUri/,
      );
      usageError(
        await run(['token', '--keyvault', '--scope', SCOPE, '--dry-run'], { cwd }),
        /kvSetting:SecretUri https:\/\/vault\.example\.org is not an Azure Key Vault host/,
      );
      // A loopback vault named by the configuration is a local stand-in: allowed.
      vault.setSecret('MaskinportenSettings--Authority', emulator.issuer);
      vault.setSecret('MaskinportenSettings--ClientId', client.clientId);
      vault.setSecret('MaskinportenSettings--JwkBase64', client.jwkBase64!);
      writeFileSync(join(cwd, 'appsettings.json'), JSON.stringify({ kvSetting: { SecretUri: vault.url } }));
      const dry = ok(await run(['token', '--keyvault', '--scope', SCOPE, '--dry-run'], { cwd }));
      assert.equal((JSON.parse(dry.stdout) as { claims: { iss: string } }).claims.iss, client.clientId);
    });

    it('keeps the challenge-resource check on for every Key Vault host, sovereign clouds included', () => {
      const access = { flag: '--vault-url', trustHost: false };
      for (const url of [
        'https://v.vault.azure.net',
        'https://v.vault.azure.cn/',
        'https://v.vault.usgovcloudapi.net',
        'https://v.vault.microsoftazure.de',
      ]) {
        assert.equal(keyVaultAccess(url, access, {}).clientOptions, undefined, url);
      }
      // Loopback (a local stand-in) and hosts trusted by name turn it off; nothing else does.
      assert.deepEqual(keyVaultAccess('https://127.0.0.1:8443', access, {}).clientOptions, {
        disableChallengeResourceVerification: true,
      });
      assert.deepEqual(keyVaultAccess('https://vault.example.org', { ...access, trustHost: true }, {}).clientOptions, {
        disableChallengeResourceVerification: true,
      });
      assert.throws(() => keyVaultAccess('https://vault.azure.net', access, {}), /not an Azure Key Vault host/);
    });
  });
});
