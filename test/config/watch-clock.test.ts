/**
 * The settings watcher on an injected clock: it polls when the clock moves (never in real time), and a broken
 * settings file is reported to `onError` once, until the failure changes or the settings load again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigValidationError, type SettingsWatcher, watchMaskinportenSettings } from '../../src/config/index.ts';
import { ManualClock } from '../../src/manual-clock.ts';
import { type TempDir, type TestKey, tempDir, testKeys } from './fixtures.ts';

const TEST = 'https://test.maskinporten.no/';
const INTERVAL_MS = 5000;

/** Waits until the watcher's poll has run, as shown by its scheduling the next one; fails if it never does. */
async function rescheduled(clock: ManualClock): Promise<void> {
  for (let turn = 0; clock.pending === 0; turn++) {
    assert.ok(turn < 10_000, 'the poll never finished');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('watchMaskinportenSettings on an injected clock', () => {
  let keys: TestKey[];
  const dirs: TempDir[] = [];
  const watchers: SettingsWatcher[] = [];
  const appsettings = (clientId: string, key: TestKey) => ({
    MaskinportenSettings: { Authority: TEST, ClientId: clientId, JwkBase64: key.base64 },
  });

  before(async () => {
    keys = await testKeys();
  });
  after(() => {
    for (const w of watchers) w.stop();
    for (const d of dirs) d.cleanup();
  });

  /** A watcher on `clock` over a fresh directory, and a `poll()` that moves the clock one interval and lets it run. */
  const setUp = async (clock: ManualClock) => {
    const d = tempDir('maskinporten-watch-clock-');
    dirs.push(d);
    d.write('appsettings.json', appsettings('good', keys[0]!));
    const errors: unknown[] = [];
    const changes: string[] = [];
    const w = await watchMaskinportenSettings({
      env: {},
      environment: 'Production',
      configDir: d.path,
      intervalMs: INTERVAL_MS,
      clock,
      onError: (err) => errors.push(err),
      onChange: (loaded) => changes.push(loaded.settings.clientId),
    });
    watchers.push(w);
    const poll = async () => {
      assert.equal(clock.nextDueIn(), INTERVAL_MS, 'the next poll is one interval away on the clock');
      clock.advance(INTERVAL_MS);
      await rescheduled(clock);
    };
    return { d, w, errors, changes, poll };
  };

  it('polls only when the clock moves', async () => {
    const clock = new ManualClock();
    const { d, w, changes, poll } = await setUp(clock);
    d.write('appsettings.json', appsettings('changed', keys[1]!));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(w.current.settings.clientId, 'good', 'no poll without the clock moving');
    clock.advance(INTERVAL_MS - 1);
    assert.equal(w.current.settings.clientId, 'good');
    clock.advance(1);
    await rescheduled(clock);
    assert.equal(w.current.settings.clientId, 'changed');
    assert.deepEqual(changes, ['changed']);
    await poll();
    assert.deepEqual(changes, ['changed'], 'an unchanged poll reports nothing');
    w.stop();
    assert.equal(clock.pending, 0, 'stopped: no poll scheduled');
  });

  it('reports a broken file once until the failure changes, and again after a recovery', async () => {
    const clock = new ManualClock();
    const { d, w, errors, poll } = await setUp(clock);

    d.write('appsettings.json', '{ "MaskinportenSettings": ');
    await poll();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ConfigValidationError);
    assert.match((errors[0] as Error).message, /appsettings\.json is not valid JSON/);
    for (let i = 0; i < 5; i++) await poll();
    assert.equal(errors.length, 1, 'the same failure on later polls is not reported again');
    assert.equal(w.current.settings.clientId, 'good', 'the last good settings stay');

    // A different failure is news.
    d.write('appsettings.json', { MaskinportenSettings: { Authority: TEST, ClientId: 'no-key' } });
    await poll();
    assert.equal(errors.length, 2);
    assert.notEqual((errors[1] as Error).message, (errors[0] as Error).message);
    await poll();
    assert.equal(errors.length, 2);

    // An explicit reload still fails loudly each time: its caller asked.
    await assert.rejects(w.reload(), ConfigValidationError);
    await assert.rejects(w.reload(), ConfigValidationError);

    // Fixed, then broken the first way again: reported again.
    d.write('appsettings.json', appsettings('fixed', keys[1]!));
    await poll();
    assert.equal(w.current.settings.clientId, 'fixed');
    d.write('appsettings.json', '{ "MaskinportenSettings": ');
    await poll();
    await poll();
    assert.equal(errors.length, 3, 'a failure after a recovery is reported, once');
  });
});
