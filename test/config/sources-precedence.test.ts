import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ALTINN_PLATFORM_URLS,
  altinnPlatformUrl,
  ConfigValidationError,
  DEFAULT_SECTION,
  describeSource,
  type LoadSettingsOptions,
  loadMaskinportenSettings,
  loadNamedMaskinportenSettings,
  maskinportenAuthority,
  resolveAltinnPlatform,
  resolveAuthority,
  resolveEnvironment,
} from '../../src/config/index.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { type TempDir, type TestKey, tempDir, testKeys } from './fixtures.ts';

const TEST = 'https://test.maskinporten.no/';
const PROD = 'https://maskinporten.no/';

describe('configuration sources and their precedence', () => {
  let keys: TestKey[];
  let key: TestKey;
  const dirs: TempDir[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  before(async () => {
    keys = await testKeys();
    key = keys[0]!;
  });
  after(() => {
    for (const d of dirs) d.cleanup();
  });

  describe('each source alone', () => {
    it('reads appsettings.json (the seed section)', async () => {
      const d = dir();
      const file = d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'client-from-file', JwkBase64: key.base64 },
      });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {}, environment: 'Production' });
      assert.equal(loaded.settings.authority, TEST);
      assert.equal(loaded.settings.clientId, 'client-from-file');
      assert.equal(loaded.settings.jwkBase64, key.base64);
      assert.equal(loaded.section, DEFAULT_SECTION);
      assert.equal(loaded.environment, 'Production');
      assert.equal(loaded.legacy, false);
      for (const k of ['authority', 'clientId', 'jwkBase64'] as const) {
        assert.deepEqual(loaded.sources[k], { kind: 'file', file });
      }
    });

    it('reads appsettings.{Environment}.json without a base file', async () => {
      const d = dir();
      const file = d.write('appsettings.Staging.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'staging', JwkBase64: key.base64 },
      });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {}, environment: 'Staging' });
      assert.equal(loaded.settings.clientId, 'staging');
      assert.deepEqual(loaded.sources.clientId, { kind: 'file', file });
    });

    it('reads key-per-file mounted secrets (MaskinportenSettings__ClientId), trimming the final newline', async () => {
      const secrets = dir();
      const clientFile = secrets.write('MaskinportenSettings__ClientId', 'client-from-secret\n');
      secrets.write('MaskinportenSettings__Authority', TEST);
      secrets.write('MaskinportenSettings__JwkBase64', `${key.base64}\n`);
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: {},
        secretsDir: secrets.path,
      });
      assert.equal(loaded.settings.clientId, 'client-from-secret');
      assert.equal(loaded.settings.jwkBase64, key.base64);
      assert.deepEqual(loaded.sources.clientId, { kind: 'secret-file', file: clientFile });
    });

    it("reads a mounted JSON section file (Altinn's maskinporten-settings.json) from the secrets directory", async () => {
      const secrets = dir();
      const file = secrets.write('maskinporten-settings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'client-from-json-secret', JwkBase64: key.base64 },
      });
      const loaded = await loadMaskinportenSettings({ configDir: dir().path, env: {}, secretsDir: secrets.path });
      assert.equal(loaded.settings.clientId, 'client-from-json-secret');
      assert.deepEqual(loaded.sources.jwkBase64, { kind: 'secret-file', file });
    });

    it('reads a JSON section file named in secretsFiles, and skips one that does not exist', async () => {
      const secrets = dir();
      const file = secrets.write('mnt/app-secrets/maskinporten-settings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'client-from-secrets-file', JwkBase64: key.base64 },
      });
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: {},
        secretsFiles: [join(secrets.path, 'missing.json'), file],
      });
      assert.equal(loaded.settings.clientId, 'client-from-secrets-file');
      assert.deepEqual(loaded.sources.clientId, { kind: 'secret-file', file });
    });

    it('reads environment variables with the .NET convention (MaskinportenSettings__ClientId), case-insensitively', async () => {
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: {
          MaskinportenSettings__Authority: TEST,
          MASKINPORTENSETTINGS__CLIENTID: 'client-from-env',
          maskinportensettings__jwkbase64: key.base64,
        },
      });
      assert.equal(loaded.settings.clientId, 'client-from-env');
      assert.deepEqual(loaded.sources.clientId, { kind: 'env', name: 'MASKINPORTENSETTINGS__CLIENTID' });
      assert.deepEqual(loaded.sources.jwkBase64, { kind: 'env', name: 'maskinportensettings__jwkbase64' });
    });

    it('takes settings from code alone (the configure object) when no source has the section', async () => {
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: {},
        configure: { authority: TEST, clientId: 'client-from-code', jwkBase64: key.base64 },
      });
      assert.equal(loaded.settings.clientId, 'client-from-code');
      assert.deepEqual(loaded.sources.clientId, { kind: 'code' });
      assert.deepEqual(loaded.sources.authority, { kind: 'code' });
    });

    it('reads process.env when no env map is given', async () => {
      const names = ['MaskinportenSettings__Authority', 'MaskinportenSettings__ClientId', 'MaskinportenSettings__Jwk'];
      const saved = names.map((n) => process.env[n]);
      process.env.MaskinportenSettings__Authority = TEST;
      process.env.MaskinportenSettings__ClientId = 'client-from-process-env';
      process.env.MaskinportenSettings__Jwk = key.json;
      try {
        const loaded = await loadMaskinportenSettings({ configDir: dir().path, environment: 'Production' });
        assert.equal(loaded.settings.clientId, 'client-from-process-env');
      } finally {
        names.forEach((n, i) => {
          if (saved[i] === undefined) delete process.env[n];
          else process.env[n] = saved[i];
        });
      }
    });
  });

  describe('precedence: later sources win', () => {
    // Every layer sets ClientId (and the code layer more); the key and authority come from appsettings.json.
    const LAYERS = ['appsettings', 'environment file', 'secret file', 'secret json', 'env', 'code'] as const;
    type Layer = (typeof LAYERS)[number];

    async function loadWith(layers: readonly Layer[], form: 'object' | 'function' = 'object') {
      const config = dir();
      const secrets = dir();
      const files: Record<string, string> = {};
      files.appsettings = config.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'appsettings', JwkBase64: key.base64 },
      });
      if (layers.includes('environment file')) {
        files['environment file'] = config.write('appsettings.Production.json', {
          MaskinportenSettings: { ClientId: 'environment file' },
        });
      }
      if (layers.includes('secret file')) {
        files['secret file'] = secrets.write('MaskinportenSettings__ClientId', 'secret file');
      }
      const secretsFiles: string[] = [];
      if (layers.includes('secret json')) {
        // A JSON section file given by name is read after the directory's key-per-file entries.
        const f = dir().write('maskinporten-settings.json', { MaskinportenSettings: { ClientId: 'secret json' } });
        secretsFiles.push(f);
        files['secret json'] = f;
      }
      const env: Record<string, string> = { UNRELATED__ClientId: 'unrelated' };
      if (layers.includes('env')) env.MaskinportenSettings__ClientId = 'env';
      let configure: LoadSettingsOptions['configure'];
      if (layers.includes('code')) {
        configure =
          form === 'object'
            ? { clientId: 'code' }
            : (s: Partial<MaskinportenSettings>) => {
                s.clientId = 'code';
                return undefined;
              };
      }
      const loaded = await loadMaskinportenSettings({
        configDir: config.path,
        environment: 'Production',
        env,
        secretsDir: secrets.path,
        secretsFiles,
        ...(configure ? { configure } : {}),
      });
      return { loaded, files };
    }

    for (let top = 0; top < LAYERS.length; top++) {
      const layers = LAYERS.slice(0, top + 1);
      const winner = layers.at(-1)!;
      it(`${layers.join(' < ')}: ClientId comes from ${winner}`, async () => {
        const { loaded, files } = await loadWith(layers);
        assert.equal(loaded.settings.clientId, winner);
        const source = loaded.sources.clientId!;
        if (winner === 'appsettings' || winner === 'environment file') {
          assert.deepEqual(source, { kind: 'file', file: files[winner] });
        } else if (winner === 'secret json') {
          assert.deepEqual(source, { kind: 'secret-file', file: files[winner] });
        } else if (winner === 'secret file') {
          assert.equal(source.kind, 'secret-file');
        } else if (winner === 'env') {
          assert.deepEqual(source, { kind: 'env', name: 'MaskinportenSettings__ClientId' });
        } else {
          assert.deepEqual(source, { kind: 'code' });
        }
        // What no later layer set keeps its own source.
        assert.deepEqual(loaded.sources.authority, { kind: 'file', file: files.appsettings });
        assert.deepEqual(loaded.sources.jwkBase64, { kind: 'file', file: files.appsettings });
      });
    }

    it('each layer skipped alone still leaves the highest remaining one winning', async () => {
      for (const skipped of LAYERS.slice(0, -1)) {
        if (skipped === 'appsettings') continue;
        const layers = LAYERS.filter((l) => l !== skipped && l !== 'code');
        const { loaded } = await loadWith(layers);
        assert.equal(loaded.settings.clientId, skipped === 'env' ? 'secret json' : 'env', `without ${skipped}`);
      }
    });

    it('the configure function form also wins over every source', async () => {
      const { loaded } = await loadWith(LAYERS, 'function');
      assert.equal(loaded.settings.clientId, 'code');
      assert.deepEqual(loaded.sources.clientId, { kind: 'code' });
    });

    it('the configure function sees the loaded values; values it leaves alone keep their sources', async () => {
      const d = dir();
      const file = d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'from-file', JwkBase64: key.base64 },
      });
      let seen: Partial<MaskinportenSettings> | undefined;
      const loaded = await loadMaskinportenSettings({
        configDir: d.path,
        env: { MaskinportenSettings__ClientId: 'from-env' },
        configure: (s) => {
          seen = { ...s };
          return { ...s, clientId: `${s.clientId}-edited` };
        },
      });
      assert.equal(seen?.clientId, 'from-env');
      assert.equal(seen?.authority, TEST);
      assert.equal(seen?.jwkBase64, key.base64);
      assert.equal(loaded.settings.clientId, 'from-env-edited');
      assert.deepEqual(loaded.sources.clientId, { kind: 'code' });
      assert.deepEqual(loaded.sources.authority, { kind: 'file', file });
    });

    it('the configure function sees what the sources gave even when that alone does not validate', async () => {
      // As the seed's delegate: the sources give authority and key, code fills in the client id from them.
      const d = dir();
      d.write('appsettings.json', { MaskinportenSettings: { Authority: 'test', JwkBase64: key.base64 } });
      const loaded = await loadMaskinportenSettings({
        configDir: d.path,
        env: {},
        configure: (s) => {
          s.clientId = s.authority === TEST ? 'test-client' : 'prod-client';
          return undefined;
        },
      });
      assert.equal(loaded.settings.clientId, 'test-client');
      assert.equal(loaded.settings.authority, TEST);
    });

    it("a code value replaces the file's JwkBase64", async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'c', JwkBase64: key.base64 },
      });
      const loaded = await loadMaskinportenSettings({
        configDir: d.path,
        env: {},
        configure: (s) => ({ ...s, jwkBase64: keys[1]!.base64 }),
      });
      assert.equal(loaded.settings.jwkBase64, keys[1]!.base64);
      assert.deepEqual(loaded.sources.jwkBase64, { kind: 'code' });
    });
  });

  describe('sources report', () => {
    it('describes every kind of source without values', () => {
      assert.equal(describeSource({ kind: 'file', file: '/app/appsettings.json' }), 'file /app/appsettings.json');
      assert.equal(describeSource({ kind: 'secret-file', file: '/mnt/s/x' }), 'secret file /mnt/s/x');
      assert.equal(describeSource({ kind: 'env', name: 'A__B' }), 'environment variable A__B');
      assert.equal(
        describeSource({ kind: 'key-vault', vaultUrl: 'https://v.vault.azure.net', secretName: 'A--B' }),
        'Key Vault https://v.vault.azure.net secret A--B',
      );
      assert.equal(describeSource({ kind: 'code' }), 'code');
    });

    it('reports a source for each setting that came from one, mixing sources', async () => {
      const d = dir();
      const file = d.write('appsettings.json', { MaskinportenSettings: { Authority: 'test' } });
      const secrets = dir();
      const jwkFile = secrets.write('MaskinportenSettings__Jwk', key.json);
      const loaded = await loadMaskinportenSettings({
        configDir: d.path,
        env: { MaskinportenSettings__ClientId: 'mixed', MaskinportenSettings__AltinnPlatformUrl: 'tt02' },
        secretsDir: secrets.path,
        configure: { kid: key.kid },
      });
      assert.deepEqual(loaded.sources, {
        authority: { kind: 'file', file },
        clientId: { kind: 'env', name: 'MaskinportenSettings__ClientId' },
        altinnPlatformUrl: { kind: 'env', name: 'MaskinportenSettings__AltinnPlatformUrl' },
        jwk: { kind: 'secret-file', file: jwkFile },
        kid: { kind: 'code' },
      });
    });
  });

  describe('the environment name', () => {
    const files = () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'base', JwkBase64: key.base64 },
      });
      for (const env of ['Production', 'Development', 'Staging', 'Test', 'Dotnet', 'Aspnet']) {
        d.write(`appsettings.${env}.json`, { MaskinportenSettings: { ClientId: env } });
      }
      return d;
    };

    const cases: Array<[string, { environment?: string; env: Record<string, string> }, string]> = [
      ['defaults to Production', { env: {} }, 'Production'],
      ['comes from options first', { environment: 'Staging', env: { NODE_ENV: 'Test' } }, 'Staging'],
      ['then NODE_ENV', { env: { NODE_ENV: 'Test', DOTNET_ENVIRONMENT: 'Dotnet' } }, 'Test'],
      [
        'then DOTNET_ENVIRONMENT',
        { env: { DOTNET_ENVIRONMENT: 'Dotnet', ASPNETCORE_ENVIRONMENT: 'Aspnet' } },
        'Dotnet',
      ],
      ['then ASPNETCORE_ENVIRONMENT', { env: { ASPNETCORE_ENVIRONMENT: 'Aspnet' } }, 'Aspnet'],
      ['an empty NODE_ENV counts as unset', { env: { NODE_ENV: '', ASPNETCORE_ENVIRONMENT: 'Aspnet' } }, 'Aspnet'],
    ];
    for (const [title, options, expected] of cases) {
      it(`${title} (${expected})`, async () => {
        assert.equal(resolveEnvironment(options), expected);
        const loaded = await loadMaskinportenSettings({ configDir: files().path, ...options });
        assert.equal(loaded.environment, expected);
        assert.equal(loaded.settings.clientId, expected);
      });
    }

    it('matches the environment file case-insensitively (NODE_ENV=production finds appsettings.Production.json)', async () => {
      const d = files();
      const lower = await loadMaskinportenSettings({ configDir: d.path, env: { NODE_ENV: 'production' } });
      assert.equal(lower.environment, 'production');
      assert.equal(lower.settings.clientId, 'Production');
      const upper = await loadMaskinportenSettings({ configDir: d.path, env: {}, environment: 'STAGING' });
      assert.equal(upper.settings.clientId, 'Staging');
    });

    it('prefers the exactly named file when two differ only in case', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'base', JwkBase64: key.base64 },
      });
      d.write('appsettings.production.json', { MaskinportenSettings: { ClientId: 'lower' } });
      d.write('appsettings.Production.json', { MaskinportenSettings: { ClientId: 'exact' } });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {}, environment: 'Production' });
      assert.equal(loaded.settings.clientId, 'exact');
    });

    it('ignores an environment file of another environment', async () => {
      const loaded = await loadMaskinportenSettings({ configDir: files().path, env: {}, environment: 'Qa' });
      assert.equal(loaded.settings.clientId, 'base');
    });
  });

  describe('custom section paths', () => {
    it('reads a custom top-level section', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: PROD, ClientId: 'default', JwkBase64: key.base64 },
        YourCustomMaskinportenSettingsPath: { Authority: TEST, ClientId: 'custom', JwkBase64: keys[1]!.base64 },
      });
      const loaded = await loadMaskinportenSettings({
        configDir: d.path,
        env: {},
        section: 'YourCustomMaskinportenSettingsPath',
      });
      assert.equal(loaded.section, 'YourCustomMaskinportenSettingsPath');
      assert.equal(loaded.settings.clientId, 'custom');
      assert.equal(loaded.settings.jwkBase64, keys[1]!.base64);
    });

    it('reads a nested section (Integrations:Maskinporten) from files, secrets and env', async () => {
      const d = dir();
      const file = d.write('appsettings.json', {
        Integrations: { Maskinporten: { Authority: TEST, ClientId: 'nested-file', JwkBase64: key.base64 } },
      });
      const fromFile = await loadMaskinportenSettings({
        configDir: d.path,
        env: {},
        section: 'Integrations:Maskinporten',
      });
      assert.equal(fromFile.settings.clientId, 'nested-file');
      assert.deepEqual(fromFile.sources.clientId, { kind: 'file', file });

      const secrets = dir();
      secrets.write('Integrations__Maskinporten__ClientId', 'nested-secret');
      const fromSecret = await loadMaskinportenSettings({
        configDir: d.path,
        env: {},
        secretsDir: secrets.path,
        section: 'Integrations:Maskinporten',
      });
      assert.equal(fromSecret.settings.clientId, 'nested-secret');

      const fromEnv = await loadMaskinportenSettings({
        configDir: d.path,
        env: { Integrations__Maskinporten__ClientId: 'nested-env', MaskinportenSettings__ClientId: 'other-section' },
        secretsDir: secrets.path,
        section: 'Integrations:Maskinporten',
      });
      assert.equal(fromEnv.settings.clientId, 'nested-env');
      assert.deepEqual(fromEnv.sources.clientId, { kind: 'env', name: 'Integrations__Maskinporten__ClientId' });
    });

    it('matches section and key names case-insensitively', async () => {
      const d = dir();
      d.write('appsettings.json', {
        maskinportensettings: { authority: TEST, CLIENTID: 'any-case', jwkbase64: key.base64 },
      });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {}, section: 'MaskinportenSettings' });
      assert.equal(loaded.settings.clientId, 'any-case');
    });
  });

  describe('several named clients', () => {
    it('loads a default and an internal client, each from its own section, with its own overrides', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'default-client', JwkBase64: key.base64 },
        MaskinportenSettingsInternal: { Authority: 'prod', ClientId: 'internal-client', Jwk: keys[1]!.pair.privateJwk },
      });
      const clients = await loadNamedMaskinportenSettings(
        { default: 'MaskinportenSettings', internal: 'MaskinportenSettingsInternal' },
        { configDir: d.path, env: { MaskinportenSettingsInternal__ClientId: 'internal-from-env' } },
      );
      assert.deepEqual(Object.keys(clients).sort(), ['default', 'internal']);
      assert.equal(clients.default!.settings.clientId, 'default-client');
      assert.equal(clients.default!.settings.authority, TEST);
      assert.equal(clients.default!.section, 'MaskinportenSettings');
      assert.equal(clients.internal!.settings.clientId, 'internal-from-env');
      assert.equal(clients.internal!.settings.authority, PROD);
      assert.equal((clients.internal!.settings.jwk as { kid?: string }).kid, keys[1]!.kid);
      assert.equal(clients.internal!.section, 'MaskinportenSettingsInternal');
    });

    it('lists the problems of every client in one error', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: '', JwkBase64: key.base64 },
        Internal: { Authority: TEST, ClientId: 'ok' },
      });
      await assert.rejects(
        loadNamedMaskinportenSettings(
          { default: 'MaskinportenSettings', internal: 'Internal' },
          {
            configDir: d.path,
            env: {},
          },
        ),
        (err: unknown) => {
          assert.ok(err instanceof ConfigValidationError);
          const paths = err.problems.map((p) => p.path).sort();
          assert.deepEqual(paths, ['Internal:JwkBase64', 'MaskinportenSettings:ClientId']);
          return true;
        },
      );
    });
  });

  describe('the key as a JWK', () => {
    it('takes Jwk as a JSON object in appsettings', async () => {
      const d = dir();
      const file = d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'c', Jwk: key.pair.privateJwk },
      });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {} });
      assert.deepEqual(loaded.settings.jwk, key.pair.privateJwk);
      assert.deepEqual(loaded.sources.jwk, { kind: 'file', file });
    });

    it('takes a JWK object with non-string members (key_ops, ext) as exported by WebCrypto', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: {
          Authority: TEST,
          ClientId: 'c',
          Jwk: { ...key.pair.privateJwk, key_ops: ['sign'], ext: true },
        },
      });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {} });
      assert.equal((loaded.settings.jwk as { kid?: string }).kid, key.kid);
    });

    it('takes Jwk as JSON text in an environment variable', async () => {
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: {
          MaskinportenSettings__Authority: TEST,
          MaskinportenSettings__ClientId: 'c',
          MaskinportenSettings__Jwk: key.json,
        },
      });
      assert.equal(loaded.settings.jwk, key.json);
      assert.deepEqual(loaded.sources.jwk, { kind: 'env', name: 'MaskinportenSettings__Jwk' });
    });

    it('lets Jwk JSON text from an env var replace a Jwk object from appsettings', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'c', Jwk: key.pair.privateJwk },
      });
      const loaded = await loadMaskinportenSettings({
        configDir: d.path,
        env: { MaskinportenSettings__Jwk: keys[1]!.json },
      });
      assert.equal(loaded.settings.jwk, keys[1]!.json);
      assert.deepEqual(loaded.sources.jwk, { kind: 'env', name: 'MaskinportenSettings__Jwk' });
    });

    it('lets a Jwk object from a later file replace Jwk JSON text from an earlier one', async () => {
      const d = dir();
      d.write('appsettings.json', { MaskinportenSettings: { Authority: TEST, ClientId: 'c', Jwk: key.json } });
      const file = d.write('appsettings.Production.json', { MaskinportenSettings: { Jwk: keys[2]!.pair.privateJwk } });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {}, environment: 'Production' });
      assert.deepEqual(loaded.settings.jwk, keys[2]!.pair.privateJwk);
      assert.deepEqual(loaded.sources.jwk, { kind: 'file', file });
    });

    it('accepts the same key as both Jwk and JwkBase64', async () => {
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: {
          MaskinportenSettings__Authority: TEST,
          MaskinportenSettings__ClientId: 'c',
          MaskinportenSettings__Jwk: key.json,
          MaskinportenSettings__JwkBase64: key.base64,
        },
      });
      assert.equal(loaded.settings.jwk, key.json);
    });
  });

  describe('presets', () => {
    it('maps Authority "test"/"prod"/"dev" (any case) to the Maskinporten authorities', async () => {
      for (const [preset, url] of [
        ['test', TEST],
        ['prod', PROD],
        ['dev', 'https://maskinporten.dev/'],
        ['TEST', TEST],
      ] as const) {
        const loaded = await loadMaskinportenSettings({
          configDir: dir().path,
          env: {
            MaskinportenSettings__Authority: preset,
            MaskinportenSettings__ClientId: 'c',
            MaskinportenSettings__JwkBase64: key.base64,
          },
        });
        assert.equal(loaded.settings.authority, url, preset);
      }
    });

    it('maps AltinnPlatformUrl "tt02" and the other Altinn environments; a URL passes unchanged', async () => {
      const d = dir();
      for (const [value, url] of [
        ['tt02', 'https://platform.tt02.altinn.no'],
        ['prod', 'https://platform.altinn.no'],
        ['at22', 'https://platform.at22.altinn.cloud'],
        ['yt01', 'https://platform.yt01.altinn.cloud'],
        ['https://platform.example.no', 'https://platform.example.no'],
      ] as const) {
        d.write('appsettings.json', {
          MaskinportenSettings: { Authority: 'test', ClientId: 'c', JwkBase64: key.base64, AltinnPlatformUrl: value },
        });
        const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {} });
        assert.equal(loaded.settings.altinnPlatformUrl, url, value);
      }
    });

    it('offers the presets to code', () => {
      assert.equal(maskinportenAuthority('test'), TEST);
      assert.equal(maskinportenAuthority('prod'), PROD);
      assert.equal(altinnPlatformUrl('tt02'), ALTINN_PLATFORM_URLS.tt02);
      assert.equal(resolveAuthority('https://x.example/'), 'https://x.example/');
      assert.equal(resolveAltinnPlatform('YT01'), 'https://platform.yt01.altinn.cloud');
      assert.throws(() => maskinportenAuthority('staging' as 'test'), /staging.*prod, test or dev/);
      assert.throws(() => altinnPlatformUrl('at99' as 'tt02'), /at99.*tt02/);
    });
  });

  describe('appsettings syntax', () => {
    it('allows comments, trailing commas and a byte-order mark, keeping // inside strings', async () => {
      const d = dir();
      d.write(
        'appsettings.json',
        `\uFEFF{
  // the seed's section
  "MaskinportenSettings": {
    /* TEST environment */
    "Authority": "https://test.maskinporten.no/", // a URL with // in it
    "ClientId": "with // and /* inside, }",
    "JwkBase64": "${key.base64}",
  },
  "Other": [1, 2, 3,],
}
`,
      );
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {} });
      assert.equal(loaded.settings.authority, TEST);
      assert.equal(loaded.settings.clientId, 'with // and /* inside, }');
    });

    it('reads numbers and booleans as their text, as .NET does', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 12345, JwkBase64: key.base64 },
      });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {} });
      assert.equal(loaded.settings.clientId, '12345');
    });

    it('treats a null value as unset, so an earlier source still counts', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'base', JwkBase64: key.base64 },
      });
      d.write('appsettings.Production.json', { MaskinportenSettings: { ClientId: null, JwkBase64: null } });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {}, environment: 'Production' });
      assert.equal(loaded.settings.clientId, 'base');
      assert.equal(loaded.settings.jwkBase64, key.base64);
    });
  });

  it('does not read a mounted secret whose name starts with a dot, nor a subdirectory', async () => {
    const secrets = dir();
    secrets.write('.MaskinportenSettings__ClientId', 'hidden');
    mkdirSync(join(secrets.path, 'MaskinportenSettings__Authority'));
    writeFileSync(join(secrets.path, 'MaskinportenSettings__ClientId'), 'visible');
    const loaded = await loadMaskinportenSettings({
      configDir: dir().path,
      env: { MaskinportenSettings__Authority: TEST, MaskinportenSettings__JwkBase64: key.base64 },
      secretsDir: secrets.path,
    });
    assert.equal(loaded.settings.clientId, 'visible');
    assert.equal(loaded.settings.authority, TEST);
  });
});
