import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ConfigValidationError,
  fromLegacySettings,
  LEGACY_ENVIRONMENTS,
  legacyAuthority,
  loadMaskinportenSettings,
} from '../../src/config/index.ts';
import { ConfigError, MaskinportenError } from '../../src/errors.ts';
import { assertNoSecret, type TempDir, type TestKey, tempDir, testKeys } from './fixtures.ts';

// The seed's table.
const TABLE = [
  ['prod', 'https://maskinporten.no/'],
  ['test', 'https://test.maskinporten.no/'],
  ['dev', 'https://maskinporten.dev/'],
] as const;

describe('legacy settings (Altinn.ApiClients.Maskinporten)', () => {
  let key: TestKey;
  const dirs: TempDir[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  before(async () => {
    key = (await testKeys())[0]!;
  });
  after(() => {
    for (const d of dirs) d.cleanup();
  });

  describe('fromLegacySettings', () => {
    for (const [environment, authority] of TABLE) {
      it(`maps Environment "${environment}" to ${authority}, EncodedJwk to jwkBase64`, () => {
        const settings = fromLegacySettings({ clientId: 'legacy-client', encodedJwk: key.base64, environment });
        assert.deepEqual(settings, { authority, clientId: 'legacy-client', jwkBase64: key.base64 });
        assert.equal(legacyAuthority(environment), authority);
      });
    }

    it('exposes the table, frozen', () => {
      assert.deepEqual({ ...LEGACY_ENVIRONMENTS }, Object.fromEntries(TABLE));
      assert.ok(Object.isFrozen(LEGACY_ENVIRONMENTS));
    });

    for (const environment of ['staging', 'production', 'tt02', '', 'https://maskinporten.no/']) {
      it(`refuses Environment ${JSON.stringify(environment)}, naming the value and the allowed ones`, () => {
        assert.throws(
          () => fromLegacySettings({ clientId: 'c', encodedJwk: key.base64, environment }),
          (err: unknown) => {
            assert.ok(err instanceof ConfigError);
            assert.ok(err instanceof MaskinportenError);
            assert.equal(err.code, 'ERR_CONFIG');
            assert.ok(err.message.includes(JSON.stringify(environment)), err.message);
            assert.match(err.message, /prod, test, dev/);
            assertNoSecret(err, key.secrets);
            return true;
          },
        );
      });
    }

    it('works as the seed uses it: mapping inside the configure delegate', async () => {
      const d = dir();
      d.write('appsettings.json', {
        'Maskinporten-Config-Path': { ClientId: 'legacy-client', EncodedJwk: key.base64, Environment: 'test' },
      });
      const legacy = { clientId: 'legacy-client', encodedJwk: key.base64, environment: 'test' };
      const loaded = await loadMaskinportenSettings({
        configDir: d.path,
        env: {},
        section: 'MaskinportenSettings',
        configure: () => fromLegacySettings(legacy),
      });
      assert.equal(loaded.settings.authority, 'https://test.maskinporten.no/');
      assert.equal(loaded.settings.clientId, 'legacy-client');
      assert.deepEqual(loaded.sources.authority, { kind: 'code' });
    });
  });

  describe('the legacy section shape, read directly', () => {
    for (const [environment, authority] of TABLE) {
      it(`reads { ClientId, EncodedJwk, Environment: "${environment}" } from appsettings`, async () => {
        const d = dir();
        const file = d.write('appsettings.json', {
          'Maskinporten-Config-Path': { ClientId: 'legacy-client', EncodedJwk: key.base64, Environment: environment },
        });
        const loaded = await loadMaskinportenSettings({
          configDir: d.path,
          env: {},
          section: 'Maskinporten-Config-Path',
        });
        assert.equal(loaded.legacy, true);
        assert.equal(loaded.settings.authority, authority);
        assert.equal(loaded.settings.clientId, 'legacy-client');
        assert.equal(loaded.settings.jwkBase64, key.base64);
        assert.deepEqual(loaded.sources.authority, { kind: 'file', file });
        assert.deepEqual(loaded.sources.jwkBase64, { kind: 'file', file });
      });
    }

    it('reads the legacy shape from environment variables and mounted secrets', async () => {
      const secrets = dir();
      const encodedFile = secrets.write('MaskinportenSettings__EncodedJwk', key.base64);
      const loaded = await loadMaskinportenSettings({
        configDir: dir().path,
        env: { MaskinportenSettings__ClientId: 'legacy-env', MaskinportenSettings__Environment: 'prod' },
        secretsDir: secrets.path,
      });
      assert.equal(loaded.legacy, true);
      assert.equal(loaded.settings.authority, 'https://maskinporten.no/');
      assert.deepEqual(loaded.sources.authority, { kind: 'env', name: 'MaskinportenSettings__Environment' });
      assert.deepEqual(loaded.sources.jwkBase64, { kind: 'secret-file', file: encodedFile });
    });

    it('lets Authority and JwkBase64, when also set, win over Environment and EncodedJwk', async () => {
      const keys = await testKeys();
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: {
          ClientId: 'c',
          EncodedJwk: key.base64,
          Environment: 'prod',
          Authority: 'test',
          JwkBase64: keys[1]!.base64,
        },
      });
      const loaded = await loadMaskinportenSettings({ configDir: d.path, env: {} });
      assert.equal(loaded.legacy, false);
      assert.equal(loaded.settings.authority, 'https://test.maskinporten.no/');
      assert.equal(loaded.settings.jwkBase64, keys[1]!.base64);
    });

    it('reports an unknown legacy Environment with its path, source, value and the allowed ones', async () => {
      const d = dir();
      const file = d.write('appsettings.json', {
        MaskinportenSettings: { ClientId: 'c', EncodedJwk: key.base64, Environment: 'staging' },
      });
      await assert.rejects(loadMaskinportenSettings({ configDir: d.path, env: {} }), (err: unknown) => {
        assert.ok(err instanceof ConfigValidationError);
        assert.equal(err.code, 'ERR_CONFIG');
        assert.equal(err.problems.length, 1, err.message);
        const [problem] = err.problems;
        assert.equal(problem!.path, 'MaskinportenSettings:Environment');
        assert.equal(problem!.source, `file ${file}`);
        assert.match(problem!.message, /"staging"/);
        assert.match(problem!.message, /prod, test, dev/);
        assert.match(err.message, /MaskinportenSettings:Environment/);
        assertNoSecret(err, key.secrets);
        return true;
      });
    });

    it('reports a legacy EncodedJwk that does not decode under its own name', async () => {
      await assert.rejects(
        loadMaskinportenSettings({
          configDir: dir().path,
          env: {
            MaskinportenSettings__ClientId: 'c',
            MaskinportenSettings__Environment: 'test',
            MaskinportenSettings__EncodedJwk: key.publicBase64,
          },
        }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigValidationError);
          assert.equal(err.problems.length, 1, err.message);
          assert.equal(err.problems[0]!.path, 'MaskinportenSettings:EncodedJwk');
          assert.equal(err.problems[0]!.source, 'environment variable MaskinportenSettings__EncodedJwk');
          assert.match(err.problems[0]!.message, /public half/);
          assert.match(err.problems[0]!.message, /EncodedJwk/);
          assert.doesNotMatch(err.problems[0]!.message, /JwkBase64/);
          return true;
        },
      );
    });
  });
});
