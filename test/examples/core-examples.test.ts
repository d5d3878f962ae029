/**
 * The programs in examples/ run as a user would run them — a child process importing the built package by its
 * name — against the emulator, with settings in environment variables as an Altinn app has them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { runExample } from './run-example.ts';

const NOTIFY = 'altinn:serviceowner/notifications.create';

describe('examples/ run against the emulator', () => {
  const emulator = useEmulator();
  const registered = useClient(emulator, { scopes: [NOTIFY] });

  const example = async (file: string, args: string[], env: Record<string, string> = {}) => {
    const run = await runExample(file, { NODE_ENV: 'Development', ...env }, args);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.trim().split('\n');
  };
  const settingsEnv = () => ({
    MaskinportenSettings__Authority: registered.settings.authority,
    MaskinportenSettings__ClientId: registered.settings.clientId,
    MaskinportenSettings__JwkBase64: registered.settings.jwkBase64 ?? '',
    MaskinportenSettings__AltinnPlatformUrl: registered.settings.altinnPlatformUrl,
  });

  it('get-token.ts: settings from the environment, a token for the scope, printed masked', async () => {
    const lines = await example('get-token.ts', [NOTIFY], settingsEnv());
    assert.match(lines[0] ?? '', /^AccessToken\(/);
    const printed = JSON.parse(lines[1] ?? '{}');
    assert.equal(printed.scope, NOTIFY);
    assert.ok(Date.parse(printed.expiresAt) > Date.now());
  });

  it('altinn-notification.ts: an Altinn token, the order accepted by the Notifications stand-in', async () => {
    const lines = await example('altinn-notification.ts', ['someone@example.no'], settingsEnv());
    const [status, body] = [lines[0]?.split(' ')[0], lines[0]?.slice(4)];
    assert.equal(status, '201');
    assert.ok(JSON.parse(body ?? '{}').orderId, 'the stand-in answers with an order id');
  });

  it('emulator-in-a-test.ts: starts its own emulator, gets both tokens, stops', async () => {
    const lines = await example('emulator-in-a-test.ts', []);
    assert.deepEqual(JSON.parse(lines.at(-1) ?? '{}'), { maskinporten: NOTIFY, altinnOrg: 'digdir' });
  });
});
