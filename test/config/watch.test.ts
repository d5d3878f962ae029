import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConfigValidationError,
  type LoadedSettings,
  type SettingsWatcher,
  type WatchSettingsOptions,
  watchMaskinportenSettings,
} from '../../src/config/index.ts';
import { MaskinportenError } from '../../src/errors.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { waitFor } from '../helpers/wait.ts';
import { assertNoSecret, type TempDir, type TestKey, tempDir, testKeys } from './fixtures.ts';

const TEST = 'https://test.maskinporten.no/';
/** Long enough that the timer never fires during a test that calls reload() itself. */
const NEVER = 3_600_000;

describe('watchMaskinportenSettings: hot reload', () => {
  let keys: TestKey[];
  const dirs: TempDir[] = [];
  const watchers: SettingsWatcher[] = [];
  const dir = () => {
    const d = tempDir('maskinporten-watch-');
    dirs.push(d);
    return d;
  };
  const watch = async (options: WatchSettingsOptions) => {
    const w = await watchMaskinportenSettings({ env: {}, environment: 'Production', intervalMs: NEVER, ...options });
    watchers.push(w);
    return w;
  };
  const appsettings = (clientId: string, key: TestKey, extra: Record<string, unknown> = {}) => ({
    MaskinportenSettings: { Authority: TEST, ClientId: clientId, JwkBase64: key.base64, ...extra },
  });

  before(async () => {
    keys = await testKeys();
  });
  after(() => {
    for (const w of watchers) w.stop();
    for (const d of dirs) d.cleanup();
  });

  it('starts with the loaded settings and picks up a changed file on reload()', async () => {
    const d = dir();
    const file = d.write('appsettings.json', appsettings('client-1', keys[0]!));
    const changes: LoadedSettings[] = [];
    const w = await watch({ configDir: d.path, onChange: (l) => changes.push(l) });
    assert.equal(w.current.settings.clientId, 'client-1');
    assert.deepEqual(w.current.sources.clientId, { kind: 'file', file });

    assert.equal(await w.reload(), false, 'nothing changed yet');
    assert.equal(changes.length, 0);

    d.write('appsettings.json', appsettings('client-2', keys[1]!));
    assert.equal(await w.reload(), true);
    assert.equal(w.current.settings.clientId, 'client-2');
    assert.equal(w.current.settings.jwkBase64, keys[1]!.base64);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.settings.clientId, 'client-2');
    assert.equal(await w.reload(), false, 'no change the second time');
  });

  it('sees a change of authority and of the environment file', async () => {
    const d = dir();
    d.write('appsettings.json', appsettings('c', keys[0]!));
    const w = await watch({ configDir: d.path });
    d.write('appsettings.Production.json', { MaskinportenSettings: { Authority: 'prod' } });
    assert.equal(await w.reload(), true);
    assert.equal(w.current.settings.authority, 'https://maskinporten.no/');
  });

  it('polls on its interval: a change shows up without reload()', async () => {
    const d = dir();
    d.write('appsettings.json', appsettings('polled-1', keys[0]!));
    const changes: string[] = [];
    const w = await watch({ configDir: d.path, intervalMs: 20, onChange: (l) => changes.push(l.settings.clientId) });
    d.write('appsettings.json', appsettings('polled-2', keys[0]!));
    await waitFor(() => w.current.settings.clientId === 'polled-2', 'the poll to see the new client id');
    assert.deepEqual(changes, ['polled-2']);
  });

  it('sees a Kubernetes secret update: the ..data symlink swapped by rename', async () => {
    const d = dir();
    d.write('appsettings.json', { MaskinportenSettings: { Authority: TEST } });
    const secrets = join(d.path, 'secrets');
    const version = (name: string, clientId: string, key: TestKey) => {
      mkdirSync(join(secrets, name), { recursive: true });
      writeFileSync(join(secrets, name, 'MaskinportenSettings__ClientId'), clientId);
      writeFileSync(
        join(secrets, name, 'maskinporten-settings.json'),
        JSON.stringify({ MaskinportenSettings: { JwkBase64: key.base64 } }),
      );
    };
    // As the kubelet lays a secret volume out.
    version('..2026_01_01_v1', 'client-v1', keys[0]!);
    symlinkSync('..2026_01_01_v1', join(secrets, '..data'));
    symlinkSync('..data/MaskinportenSettings__ClientId', join(secrets, 'MaskinportenSettings__ClientId'));
    symlinkSync('..data/maskinporten-settings.json', join(secrets, 'maskinporten-settings.json'));

    const w = await watch({ configDir: d.path, secretsDir: secrets });
    assert.equal(w.current.settings.clientId, 'client-v1');
    assert.equal(w.current.settings.jwkBase64, keys[0]!.base64);
    assert.deepEqual(w.current.sources.clientId, {
      kind: 'secret-file',
      file: join(secrets, 'MaskinportenSettings__ClientId'),
    });

    // The update: a new version directory, a temporary link to it, renamed over ..data (atomic), the old one gone.
    version('..2026_01_01_v2', 'client-v2', keys[1]!);
    symlinkSync('..2026_01_01_v2', join(secrets, '..data_tmp'));
    renameSync(join(secrets, '..data_tmp'), join(secrets, '..data'));
    rmSync(join(secrets, '..2026_01_01_v1'), { recursive: true });

    assert.equal(await w.reload(), true);
    assert.equal(w.current.settings.clientId, 'client-v2');
    assert.equal(w.current.settings.jwkBase64, keys[1]!.base64);
  });

  it('keeps the last good settings when a reload fails, rejecting reload() with the problems', async () => {
    const d = dir();
    const file = d.write('appsettings.json', appsettings('good', keys[0]!));
    const w = await watch({ configDir: d.path });

    d.write('appsettings.json', `{ "MaskinportenSettings": { "JwkBase64": "${keys[1]!.base64}" `);
    await assert.rejects(w.reload(), (err: unknown) => {
      assert.ok(err instanceof ConfigValidationError);
      assert.ok(err instanceof MaskinportenError);
      assert.equal(err.code, 'ERR_CONFIG');
      assert.match(
        err.message,
        new RegExp(`${file.replaceAll('.', '\\.')} is not valid JSON \\(line 1, column \\d+\\)`),
      );
      assertNoSecret(
        err,
        keys.flatMap((k) => k.secrets),
      );
      return true;
    });
    assert.equal(w.current.settings.clientId, 'good');
    assert.equal(w.current.settings.jwkBase64, keys[0]!.base64);

    // Valid JSON, invalid settings: also refused.
    d.write('appsettings.json', appsettings('', keys[1]!));
    await assert.rejects(w.reload(), /MaskinportenSettings:ClientId: is required/);
    assert.equal(w.current.settings.clientId, 'good');

    // Fixed: taken.
    d.write('appsettings.json', appsettings('fixed', keys[1]!));
    assert.equal(await w.reload(), true);
    assert.equal(w.current.settings.clientId, 'fixed');
  });

  it('reports a failed poll through onError, and recovers on the next one', async () => {
    const d = dir();
    d.write('appsettings.json', appsettings('good', keys[0]!));
    const errors: unknown[] = [];
    const w = await watch({ configDir: d.path, intervalMs: 20, onError: (err) => errors.push(err) });
    d.write('appsettings.json', '{ "MaskinportenSettings": ');
    await waitFor(() => errors.length > 0, 'onError');
    assert.ok(errors[0] instanceof ConfigValidationError);
    assert.match((errors[0] as Error).message, /appsettings\.json is not valid JSON/);
    assert.equal(w.current.settings.clientId, 'good');
    d.write('appsettings.json', appsettings('recovered', keys[0]!));
    await waitFor(() => w.current.settings.clientId === 'recovered', 'the recovery');
  });

  it('hands new settings to attached objects (reconfigure), awaiting them, until detached', async () => {
    const d = dir();
    d.write('appsettings.json', appsettings('first', keys[0]!));
    const w = await watch({ configDir: d.path });
    const received: MaskinportenSettings[] = [];
    let finished = 0;
    const client = {
      async reconfigure(settings: MaskinportenSettings) {
        await new Promise((resolve) => setImmediate(resolve));
        received.push(settings);
        finished += 1;
      },
    };
    const other = { reconfigure: (settings: MaskinportenSettings) => void received.push(settings) };
    const detach = w.attach(client);
    w.attach(other);

    d.write('appsettings.json', appsettings('second', keys[1]!));
    assert.equal(await w.reload(), true);
    assert.equal(finished, 1, 'reload() waits for reconfigure');
    assert.deepEqual(
      received.map((s) => [s.clientId, s.jwkBase64]),
      [
        ['second', keys[1]!.base64],
        ['second', keys[1]!.base64],
      ],
    );

    detach();
    d.write('appsettings.json', appsettings('third', keys[2]!));
    assert.equal(await w.reload(), true);
    assert.equal(finished, 1, 'a detached object hears nothing more');
    assert.equal(received.at(-1)!.clientId, 'third');
    assert.equal(received.length, 3);
  });

  it('does not reconfigure when a reload changes nothing, nor when it fails', async () => {
    const d = dir();
    d.write('appsettings.json', appsettings('same', keys[0]!));
    const w = await watch({ configDir: d.path });
    let calls = 0;
    w.attach({
      reconfigure: () => {
        calls += 1;
      },
    });
    d.write('appsettings.json', { ...appsettings('same', keys[0]!), Logging: { LogLevel: { Default: 'Debug' } } });
    assert.equal(await w.reload(), false);
    d.write('appsettings.json', '{');
    await assert.rejects(w.reload());
    assert.equal(calls, 0);
  });

  it('stops polling when stopped, and with a using declaration', async () => {
    const d = dir();
    d.write('appsettings.json', appsettings('a', keys[0]!));
    const w = await watch({ configDir: d.path });
    w.stop();
    // reload() still works on demand after stop.
    d.write('appsettings.json', appsettings('b', keys[0]!));
    assert.equal(await w.reload(), true);
    assert.equal(typeof w[Symbol.dispose], 'function');
    w[Symbol.dispose]();
  });

  it('fails to start when the first load fails', async () => {
    const d = dir();
    d.write('appsettings.json', { MaskinportenSettings: { Authority: TEST } });
    await assert.rejects(
      watchMaskinportenSettings({ configDir: d.path, env: {}, intervalMs: NEVER }),
      ConfigValidationError,
    );
  });
});
