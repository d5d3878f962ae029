import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import { watchMaskinportenSettings } from '../../src/config/index.ts';
import type { CreatedClient } from '../../src/emulator/index.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { useEmulator } from '../helpers/emulator.ts';

describe('client reconfiguration (hot reload)', () => {
  const emulator = useEmulator();
  let a: CreatedClient;
  let b: CreatedClient;
  const scope = 'test:read';

  before(async () => {
    [a, b] = await Promise.all([
      emulator.createClient({ scopes: [scope] }),
      emulator.createClient({ scopes: [scope] }),
    ]);
  });

  it('switches credentials and never serves a token of the old ones', async () => {
    const client = new MaskinportenClient(a.settings);
    const first = await client.getAccessToken([scope]);
    assert.equal(first.claims.client_id, a.clientId);
    await client.reconfigure(b.settings);
    assert.equal(client.clientId, b.clientId);
    const second = await client.getAccessToken([scope]);
    assert.equal(second.claims.client_id, b.clientId);
    assert.notEqual(second.value, first.value);
  });

  it('keeps the old settings when the new ones are invalid', async () => {
    const client = new MaskinportenClient(a.settings);
    const before = await client.getAccessToken([scope]);
    await assert.rejects(
      client.reconfigure({ ...b.settings, jwkBase64: 'not-a-key' }),
      (err: unknown) => err instanceof MaskinportenError && err.code === 'ERR_INVALID_KEY',
    );
    assert.equal(client.clientId, a.clientId);
    assert.equal(await client.getAccessToken([scope]), before);
  });

  it('follows a settings file through a watcher it is attached to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-reconfigure-'));
    try {
      const write = (c: CreatedClient) =>
        writeFileSync(
          join(dir, 'appsettings.json'),
          JSON.stringify({
            MaskinportenSettings: { Authority: c.settings.authority, ClientId: c.clientId, JwkBase64: c.jwkBase64 },
          }),
        );
      write(a);
      const watcher = await watchMaskinportenSettings({
        configDir: dir,
        env: {},
        environment: 'Test',
        intervalMs: 60_000,
      });
      try {
        const client = new MaskinportenClient(watcher.current.settings);
        watcher.attach(client);
        assert.equal((await client.getAccessToken([scope])).claims.client_id, a.clientId);
        write(b);
        assert.equal(await watcher.reload(), true);
        assert.equal((await client.getAccessToken([scope])).claims.client_id, b.clientId);
      } finally {
        watcher.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
