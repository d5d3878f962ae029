/**
 * Azure Key Vault through the real `@azure/keyvault-secrets` SDK, against a local HTTPS stand-in of the secrets REST
 * API with a certificate made at test time. The SDK trusts that certificate through its own `tlsOptions.ca`, so TLS
 * verification stays on, for this client only.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  ConfigValidationError,
  KEY_VAULT_SETTING_KEYS,
  type KeyVaultOptions,
  keyVaultSecretNames,
  loadMaskinportenSettings,
  loadNamedMaskinportenSettings,
  watchMaskinportenSettings,
  writeSettingsToKeyVault,
} from '../../src/config/index.ts';
import { ConfigError, MaskinportenError } from '../../src/errors.ts';
import { KEY_VAULT_CHALLENGE, type KeyVaultStandIn, startKeyVaultStandIn } from '../helpers/key-vault-stand-in.ts';
import { waitFor } from '../helpers/wait.ts';
import { assertNoSecret, type TempDir, type TestKey, tempDir, testKeys } from './fixtures.ts';

const TEST = 'https://test.maskinporten.no/';
const PAGE_SIZE = 3;

describe('Azure Key Vault (real SDK, local HTTPS stand-in)', () => {
  let vault: KeyVaultStandIn;
  let keys: TestKey[];
  let secrets: string[];
  const dirs: TempDir[] = [];
  let tokenRequests = 0;
  const credential = {
    getToken: async () => {
      tokenRequests += 1;
      return { token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  /** Options for the SDK: the stand-in's URL, a test credential, and trust in its certificate for this client only. */
  const kv = (extra: Partial<KeyVaultOptions> = {}): KeyVaultOptions => ({
    url: vault.url,
    credential,
    clientOptions: {
      disableChallengeResourceVerification: true,
      tlsOptions: { ca: vault.ca },
      retryOptions: { maxRetries: 0 },
    },
    ...extra,
  });
  const dir = () => {
    const d = tempDir('maskinporten-kv-');
    dirs.push(d);
    return d;
  };

  before(async () => {
    [vault, keys] = await Promise.all([startKeyVaultStandIn({ pageSize: PAGE_SIZE }), testKeys()]);
    secrets = keys.flatMap((k) => k.secrets);
  });
  beforeEach(() => vault.reset());
  after(async () => {
    await vault.close();
    for (const d of dirs) d.cleanup();
  });

  describe('the stand-in speaks the protocol the SDK expects', () => {
    it('challenges a request without a token, then serves it with the bearer token', async () => {
      vault.setSecret('Plain', 'value');
      const client = new SecretClient(vault.url, credential, kv().clientOptions);
      const secret = await client.getSecret('Plain');
      assert.equal(secret.value, 'value');
      assert.equal(secret.name, 'Plain');
      assert.equal(vault.requests[0]!.authorized, false, 'the first request goes without a token');
      assert.equal(vault.requests[1]!.authorized, true);
      assert.match(KEY_VAULT_CHALLENGE, /^Bearer authorization="https:\/\/login\.microsoftonline\.com\/tenant"/);
    });

    it('refuses the challenge resource without disableChallengeResourceVerification (127.0.0.1 is not *.vault.azure.net)', async () => {
      vault.setSecret('Plain', 'value');
      const client = new SecretClient(vault.url, credential, {
        tlsOptions: { ca: vault.ca },
        retryOptions: { maxRetries: 0 },
      });
      await assert.rejects(client.getSecret('Plain'), /does not match the requested domain/);
    });

    it('pages the list and honours maxresults', async () => {
      for (let i = 0; i < 7; i++) vault.setSecret(`S${i}`, `v${i}`);
      const client = new SecretClient(vault.url, credential, kv().clientOptions);
      const sizes: number[] = [];
      for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) sizes.push(page.length);
      assert.deepEqual(sizes, [2, 2, 2, 1]);
      const names: string[] = [];
      for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
      assert.equal(names.length, 7);
      assert.ok(vault.requests.some((r) => r.query.get('maxresults') === '2'));
    });

    it('answers 404 for a missing secret and 403 SecretDisabled for a disabled one', async () => {
      vault.setSecret('Off', 'x', { enabled: false });
      const client = new SecretClient(vault.url, credential, kv().clientOptions);
      await assert.rejects(client.getSecret('Missing'), (err: { statusCode?: number; code?: string }) => {
        assert.equal(err.statusCode, 404);
        assert.equal(err.code, 'SecretNotFound');
        return true;
      });
      await assert.rejects(client.getSecret('Off'), (err: { statusCode?: number; code?: string }) => {
        assert.equal(err.statusCode, 403);
        assert.equal(err.code, 'Forbidden');
        return true;
      });
    });
  });

  describe('loading', () => {
    it('takes values from the vault over environment variables and files; code still wins', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: 'prod', ClientId: 'from-file', JwkBase64: keys[0]!.base64 },
      });
      vault.setSecret('MaskinportenSettings--ClientId', 'from-vault');
      vault.setSecret('MaskinportenSettings--Authority', 'test');
      vault.setSecret('MaskinportenSettings--JwkBase64', keys[1]!.base64);
      const env = { MaskinportenSettings__ClientId: 'from-env', MaskinportenSettings__Kid: keys[1]!.kid };
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env, keyVault: kv() });
      assert.equal(loaded.settings.clientId, 'from-vault');
      assert.equal(loaded.settings.authority, TEST);
      assert.equal(loaded.settings.jwkBase64, keys[1]!.base64);
      assert.deepEqual(loaded.sources.clientId, {
        kind: 'key-vault',
        vaultUrl: vault.url,
        secretName: 'MaskinportenSettings--ClientId',
      });
      assert.deepEqual(loaded.sources.kid, { kind: 'env', name: 'MaskinportenSettings__Kid' });

      const coded = await loadMaskinportenSettings({
        configDir: d.path,
        env,
        keyVault: kv(),
        configure: { clientId: 'from-code' },
      });
      assert.equal(coded.settings.clientId, 'from-code');
      assert.ok(tokenRequests > 0, 'the credential was asked for a token');
    });

    it('maps secret A--B to setting A:B, nested sections included, and only for the sections asked', async () => {
      vault.setSecret('Integrations--Maskinporten--Authority', TEST);
      vault.setSecret('Integrations--Maskinporten--ClientId', 'nested-from-vault');
      vault.setSecret('Integrations--Maskinporten--Jwk', keys[2]!.json);
      vault.setSecret('MaskinportenSettings--ClientId', 'other-section');
      vault.setSecret('Unrelated', 'x');
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: {},
        section: 'Integrations:Maskinporten',
        keyVault: kv(),
      });
      assert.equal(loaded.settings.clientId, 'nested-from-vault');
      assert.equal(loaded.settings.jwk, keys[2]!.json);
      assert.deepEqual(loaded.sources.jwk, {
        kind: 'key-vault',
        vaultUrl: vault.url,
        secretName: 'Integrations--Maskinporten--Jwk',
      });
      const read = vault.requests
        .filter((r) => r.method === 'GET' && r.path.startsWith('/secrets/'))
        .map((r) => r.path);
      assert.ok(!read.some((p) => p.includes('Unrelated') || p.includes('MaskinportenSettings--')), read.join());
    });

    it('lets Jwk JSON text from the vault replace a Jwk object from appsettings', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'c', Jwk: keys[0]!.pair.privateJwk },
      });
      vault.setSecret('MaskinportenSettings--Jwk', keys[1]!.json);
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {}, keyVault: kv() });
      assert.equal(loaded.settings.jwk, keys[1]!.json);
    });

    it('pages through a vault with more secrets than a page holds', async () => {
      for (let i = 0; i < 10; i++) vault.setSecret(`AAA-Filler-${i}`, 'x');
      vault.setSecret('MaskinportenSettings--Authority', TEST);
      vault.setSecret('MaskinportenSettings--ClientId', 'on-a-later-page');
      vault.setSecret('MaskinportenSettings--JwkBase64', keys[0]!.base64);
      for (let i = 0; i < 4; i++) vault.setSecret(`ZZZ-Filler-${i}`, 'x');
      const loaded = await loadMaskinportenSettings({ configDir: dir().path, env: {}, keyVault: kv() });
      assert.equal(loaded.settings.clientId, 'on-a-later-page');
      const lists = vault.requests.filter((r) => r.path === '/secrets' && r.authorized);
      assert.equal(lists.length, Math.ceil(17 / PAGE_SIZE), 'every page was read');
      assert.ok(
        lists.slice(1).every((r) => r.query.has('$skiptoken')),
        'later pages follow nextLink',
      );
    });

    it('skips a secret missing when read (deleted after listing) and one the vault does not have', async () => {
      vault.setSecret('MaskinportenSettings--Authority', TEST);
      vault.setSecret('MaskinportenSettings--ClientId', 'gone');
      vault.vanishing.add('maskinportensettings--clientid');
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: { MaskinportenSettings__ClientId: 'from-env', MaskinportenSettings__JwkBase64: keys[0]!.base64 },
        keyVault: kv(),
      });
      assert.equal(loaded.settings.clientId, 'from-env');
      assert.equal(loaded.settings.authority, TEST);
      assert.deepEqual(loaded.sources.jwkBase64, { kind: 'env', name: 'MaskinportenSettings__JwkBase64' });
    });

    it('skips a disabled secret without reading it', async () => {
      vault.setSecret('MaskinportenSettings--ClientId', 'disabled-value', { enabled: false });
      vault.setSecret('MaskinportenSettings--Authority', TEST);
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: { MaskinportenSettings__ClientId: 'from-env', MaskinportenSettings__JwkBase64: keys[0]!.base64 },
        keyVault: kv(),
      });
      assert.equal(loaded.settings.clientId, 'from-env');
      assert.ok(!vault.requests.some((r) => r.path.startsWith('/secrets/MaskinportenSettings--ClientId')));
    });

    it('reports a bad value from the vault with the secret name, never the value', async () => {
      vault.setSecret('MaskinportenSettings--Authority', TEST);
      vault.setSecret('MaskinportenSettings--ClientId', 'c');
      vault.setSecret('MaskinportenSettings--JwkBase64', keys[0]!.publicBase64);
      vault.setSecret('MaskinportenSettings--Jwk', keys[1]!.json);
      await assert.rejects(
        loadMaskinportenSettings({ configDir: dir().path, env: {}, keyVault: kv() }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigValidationError);
          const p = err.problems.find((x) => x.path === 'MaskinportenSettings:Jwk');
          assert.ok(p, err.message);
          assert.equal(p.source, `Key Vault ${vault.url} secret MaskinportenSettings--Jwk`);
          assertNoSecret(err, secrets);
          return true;
        },
      );
    });

    it('loads several named clients from one vault read', async () => {
      vault.setSecret('MaskinportenSettings--ClientId', 'default-from-vault');
      vault.setSecret('MaskinportenSettingsInternal--ClientId', 'internal-from-vault');
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, JwkBase64: keys[0]!.base64 },
        MaskinportenSettingsInternal: { Authority: 'prod', JwkBase64: keys[1]!.base64 },
      });
      const clients = await loadNamedMaskinportenSettings(
        { default: 'MaskinportenSettings', internal: 'MaskinportenSettingsInternal' },
        { configDir: d.path, env: {}, keyVault: kv() },
      );
      assert.equal(clients.default!.settings.clientId, 'default-from-vault');
      assert.equal(clients.internal!.settings.clientId, 'internal-from-vault');
      assert.equal(vault.requests.filter((r) => r.path === '/secrets' && r.authorized).length, 1);
    });
  });

  describe('when the vault refuses', () => {
    const env = {
      MaskinportenSettings__Authority: TEST,
      MaskinportenSettings__ClientId: 'c',
      MaskinportenSettings__JwkBase64: '',
    };
    const refusal = (status: number, action: RegExp) => (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err instanceof MaskinportenError);
      assert.equal(err.code, 'ERR_CONFIG');
      assert.equal(err.status, status);
      assert.ok(err.message.includes(vault.url), err.message);
      assert.match(err.message, action);
      assert.match(err.message, /"Key Vault Secrets User" role \(get and list\)/);
      assertNoSecret(err, secrets);
      return true;
    };

    it('401 (a token the vault does not accept): says which role to grant', async () => {
      vault.rejectTokens = true;
      await assert.rejects(
        loadMaskinportenSettings({ configDir: dir().path, env, keyVault: kv() }),
        refusal(401, /refused to list secrets \(401\)/),
      );
    });

    it('403 on list: says which role to grant', async () => {
      vault.denied.add('list');
      await assert.rejects(
        loadMaskinportenSettings({ configDir: dir().path, env, keyVault: kv() }),
        refusal(403, /refused to list secrets \(403\)/),
      );
    });

    it('403 on get: names the secret and the role', async () => {
      vault.setSecret('MaskinportenSettings--JwkBase64', keys[0]!.base64);
      vault.denied.add('get');
      await assert.rejects(
        loadMaskinportenSettings({ configDir: dir().path, env, keyVault: kv() }),
        refusal(403, /refused to read the secret MaskinportenSettings--JwkBase64 \(403\)/),
      );
    });

    it('an unreachable vault is a coded error too', async () => {
      const closed = await startKeyVaultStandIn();
      const url = closed.url;
      await closed.close();
      await assert.rejects(
        loadMaskinportenSettings({ configDir: dir().path, env, keyVault: { ...kv(), url } }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /could not list secrets/);
          return true;
        },
      );
    });
  });

  describe('when Key Vault applies', () => {
    const env = {
      MaskinportenSettings__Authority: TEST,
      MaskinportenSettings__ClientId: 'from-env',
      MaskinportenSettings__JwkBase64: '',
    };

    it('is not used in Development, from options or from the environment', async () => {
      vault.setSecret('MaskinportenSettings--ClientId', 'from-vault');
      for (const options of [
        { environment: 'Development', env: { ...env } },
        { env: { ...env, NODE_ENV: 'development' } },
        { env: { ...env, ASPNETCORE_ENVIRONMENT: 'Development' } },
      ]) {
        options.env.MaskinportenSettings__JwkBase64 = keys[0]!.base64;
        const loaded = await loadMaskinportenSettings({ configDir: dir().path, ...options, keyVault: kv() });
        assert.equal(loaded.settings.clientId, 'from-env');
      }
      assert.equal(vault.requests.length, 0, 'the vault was never called');
      // Not even a missing vault URL is a problem in Development.
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        environment: 'Development',
        env: { ...env, MaskinportenSettings__JwkBase64: keys[0]!.base64 },
        keyVault: true,
      });
      assert.equal(loaded.settings.clientId, 'from-env');
    });

    it('is used in every other environment', async () => {
      vault.setSecret('MaskinportenSettings--ClientId', 'from-vault');
      for (const environment of ['Production', 'Staging', 'tt02']) {
        const loaded = await loadMaskinportenSettings({
          configDir: dir().path,
          environment,
          env: { ...env, MaskinportenSettings__JwkBase64: keys[0]!.base64 },
          keyVault: kv(),
        });
        assert.equal(loaded.settings.clientId, 'from-vault', environment);
      }
    });

    it('takes the vault URL from the kvSetting:SecretUri setting (env var or appsettings)', async () => {
      vault.setSecret('MaskinportenSettings--ClientId', 'via-secret-uri');
      const { url: _url, ...withoutUrl } = kv();
      const fromEnv = await loadMaskinportenSettings({
        configDir: dir().path,
        env: { ...env, MaskinportenSettings__JwkBase64: keys[0]!.base64, kvSetting__SecretUri: vault.url },
        keyVault: withoutUrl,
      });
      assert.equal(fromEnv.settings.clientId, 'via-secret-uri');
      assert.equal(fromEnv.sources.clientId?.kind, 'key-vault');

      const d = dir();
      d.write('appsettings.json', { kvSetting: { SecretUri: vault.url } });
      const fromFile = await loadMaskinportenSettings({
        configDir: d.path,
        env: { ...env, MaskinportenSettings__JwkBase64: keys[0]!.base64 },
        keyVault: withoutUrl,
      });
      assert.equal(fromFile.settings.clientId, 'via-secret-uri');
    });

    it('reports a vault that is enabled with no URL anywhere', async () => {
      await assert.rejects(
        loadMaskinportenSettings({ configDir: dir().path, env, keyVault: { credential } }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigValidationError);
          assert.equal(err.problems[0]!.path, 'kvSetting:SecretUri');
          return true;
        },
      );
    });

    it('is not used when not asked for', async () => {
      vault.setSecret('MaskinportenSettings--ClientId', 'from-vault');
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: { ...env, MaskinportenSettings__JwkBase64: keys[0]!.base64, kvSetting__SecretUri: vault.url },
      });
      assert.equal(loaded.settings.clientId, 'from-env');
      assert.equal(vault.requests.length, 0);
    });
  });

  describe('helpers for the CLI', () => {
    it('keyVaultSecretNames: the secret names of a section', () => {
      assert.deepEqual([...KEY_VAULT_SETTING_KEYS], ['Authority', 'ClientId', 'JwkBase64']);
      assert.deepEqual(keyVaultSecretNames(), {
        Authority: 'MaskinportenSettings--Authority',
        ClientId: 'MaskinportenSettings--ClientId',
        JwkBase64: 'MaskinportenSettings--JwkBase64',
      });
      assert.deepEqual(keyVaultSecretNames('Integrations:Maskinporten', ['ClientId', 'Jwk']), {
        ClientId: 'Integrations--Maskinporten--ClientId',
        Jwk: 'Integrations--Maskinporten--Jwk',
      });
    });

    it('writeSettingsToKeyVault writes MaskinportenSettings--ClientId etc., which then load back', async () => {
      const written = await writeSettingsToKeyVault(
        vault.url,
        { Authority: TEST, ClientId: 'written-client', JwkBase64: keys[2]!.base64 },
        kv(),
      );
      assert.deepEqual(written, [
        'MaskinportenSettings--Authority',
        'MaskinportenSettings--ClientId',
        'MaskinportenSettings--JwkBase64',
      ]);
      assert.equal(vault.value('MaskinportenSettings--ClientId'), 'written-client');
      assert.equal(vault.value('MaskinportenSettings--JwkBase64'), keys[2]!.base64);
      assert.equal(vault.properties('MaskinportenSettings--JwkBase64')?.contentType, 'application/jwk+json;base64');

      const loaded = await loadMaskinportenSettings({ configDir: dir().path, env: {}, keyVault: kv() });
      assert.deepEqual(
        [loaded.settings.authority, loaded.settings.clientId, loaded.settings.jwkBase64],
        [TEST, 'written-client', keys[2]!.base64],
      );

      // Writing again makes new versions.
      await writeSettingsToKeyVault(vault.url, { ClientId: 'rotated' }, kv());
      assert.equal(vault.properties('MaskinportenSettings--ClientId')?.versions, 2);
      assert.equal(vault.value('MaskinportenSettings--ClientId'), 'rotated');
    });

    it('writeSettingsToKeyVault writes a custom section', async () => {
      const written = await writeSettingsToKeyVault(
        vault.url,
        { ClientId: 'x' },
        {
          ...kv(),
          section: 'Integrations:Maskinporten',
        },
      );
      assert.deepEqual(written, ['Integrations--Maskinporten--ClientId']);
      assert.deepEqual(vault.names(), ['Integrations--Maskinporten--ClientId']);
    });

    it('writeSettingsToKeyVault refused: says which role writes, without the value', async () => {
      vault.denied.add('set');
      await assert.rejects(writeSettingsToKeyVault(vault.url, { JwkBase64: keys[0]!.base64 }, kv()), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.status, 403);
        assert.match(err.message, /refused to write the secret MaskinportenSettings--JwkBase64 \(403\)/);
        assert.match(err.message, /"Key Vault Secrets Officer" to write/);
        assertNoSecret(err, secrets);
        return true;
      });
    });
  });

  describe('hot reload with a vault', () => {
    it('re-reads the vault on reload(); a failed vault read keeps the last good settings', async () => {
      vault.setSecret('MaskinportenSettings--Authority', TEST);
      vault.setSecret('MaskinportenSettings--ClientId', 'vault-v1');
      vault.setSecret('MaskinportenSettings--JwkBase64', keys[0]!.base64);
      const w = await watchMaskinportenSettings({
        configDir: dir().path,
        env: {},
        keyVault: kv(),
        intervalMs: 3_600_000,
        keyVaultIntervalMs: 3_600_000,
      });
      try {
        assert.equal(w.current.settings.clientId, 'vault-v1');
        vault.setSecret('MaskinportenSettings--ClientId', 'vault-v2');
        vault.setSecret('MaskinportenSettings--JwkBase64', keys[1]!.base64);
        assert.equal(await w.reload(), true);
        assert.equal(w.current.settings.clientId, 'vault-v2');
        assert.equal(w.current.settings.jwkBase64, keys[1]!.base64);

        // A vault that starts refusing: the reload fails, the last good settings stay.
        vault.denied.add('list');
        await assert.rejects(w.reload(), /Key Vault Secrets User/);
        assert.equal(w.current.settings.clientId, 'vault-v2');
      } finally {
        w.stop();
      }
    });

    it('refuses a reload after the vault URL (kvSetting:SecretUri) went from the files, keeping the settings', async () => {
      vault.setSecret('MaskinportenSettings--ClientId', 'from-vault');
      const d = dir();
      const base = { MaskinportenSettings: { Authority: TEST, ClientId: 'from-file', JwkBase64: keys[0]!.base64 } };
      d.write('appsettings.json', { ...base, kvSetting: { SecretUri: vault.url } });
      const { url: _url, ...withoutUrl } = kv();
      const w = await watchMaskinportenSettings({
        configDir: d.path,
        env: {},
        keyVault: withoutUrl,
        intervalMs: 3_600_000,
      });
      try {
        assert.equal(w.current.settings.clientId, 'from-vault');
        d.write('appsettings.json', base);
        await assert.rejects(w.reload(), (err: unknown) => {
          assert.ok(err instanceof ConfigValidationError);
          assert.equal(err.problems[0]!.path, 'kvSetting:SecretUri');
          return true;
        });
        assert.equal(w.current.settings.clientId, 'from-vault');
      } finally {
        w.stop();
      }
    });

    it('re-reads the vault on its own interval, while file polls between reuse the last vault read', async () => {
      vault.setSecret('MaskinportenSettings--Authority', TEST);
      vault.setSecret('MaskinportenSettings--ClientId', 'interval-v1');
      vault.setSecret('MaskinportenSettings--JwkBase64', keys[0]!.base64);
      const w = await watchMaskinportenSettings({
        configDir: dir().path,
        env: {},
        keyVault: kv(),
        intervalMs: 10,
        keyVaultIntervalMs: 30,
      });
      try {
        vault.setSecret('MaskinportenSettings--ClientId', 'interval-v2');
        await waitFor(() => w.current.settings.clientId === 'interval-v2', 'the vault poll');
        assert.equal(w.current.sources.clientId?.kind, 'key-vault');
      } finally {
        w.stop();
      }
    });
  });
});
