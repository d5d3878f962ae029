import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type Emulator, NOTIFICATIONS_SCOPE, startEmulator } from '../../src/emulator/index.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { accessToken, makeGrant, mpCode, postToken } from '../helpers/grants.ts';
import { adminToken, altinnToken, bearer, call, obj } from '../helpers/http.ts';

const ALTINN_JWKS = '/authentication/api/v1/openid/.well-known/openid-configuration/jwks';

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

describe('state file', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-state-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps clients, keys, signing keys and registrations across a restart', async () => {
    const stateFile = join(dir, 'restart', 'nested', 'state.json');
    let first: Emulator | undefined = await startEmulator({ stateFile });
    let token: string;
    let altinn: string;
    let clientId: string;
    let apiClientId: string;
    const client = await first.createClient({ scopes: [NOTIFICATIONS_SCOPE, 'test:kept'], clientName: 'kept' });
    const adminId = first.adminClient.clientId;
    const adminKid = first.adminClient.kid;
    const firstUrl = first.url;
    try {
      clientId = client.clientId;
      first.defineScope({ name: 'test:short', atMaxAge: 30 });
      first.addDelegation({ consumerOrg: '910000009', supplierOrg: client.orgNo, scope: 'test:kept' });
      token = await accessToken(first, client);
      altinn = await altinnToken(first, token);
      // A client made through the self-service API, then deleted, must stay deleted.
      const admin = await adminToken(first);
      const made = await call(`${first.selfServiceUrl}/clients`, {
        method: 'POST',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'gone', scopes: ['test:gone'] }),
      });
      apiClientId = obj(made).client_id as string;
      const deleted = await call(`${first.selfServiceUrl}/clients/${apiClientId}`, {
        method: 'DELETE',
        headers: bearer(admin),
      });
      assert.equal(deleted.status, 200);
    } finally {
      await first.close();
      first = undefined;
    }

    const second = await startEmulator({ stateFile });
    try {
      assert.notEqual(second.url, firstUrl, 'a new port: nothing is carried over by the address');
      assert.equal(second.adminClient.clientId, adminId);
      assert.equal(second.adminClient.kid, adminKid);
      const restored = second.getClient(clientId);
      assert.ok(restored);
      assert.equal(restored.clientName, 'kept');
      assert.equal(restored.keys[0]?.jwk.kid, client.kid);
      assert.equal(second.getClient(apiClientId)?.active, false);

      // The token issued before the restart verifies against the new instance's /jwk …
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${second.url}/jwk`)), {
        currentDate: new Date(second.clock.now()),
      });
      assert.equal(payload.client_id, clientId);
      // … and the Altinn token against its Altinn JWKS.
      await jwtVerify(altinn, createRemoteJWKSet(new URL(`${second.url}${ALTINN_JWKS}`)), {
        currentDate: new Date(second.clock.now()),
      });

      // The client's key still gets new tokens.
      const fresh = await postToken(second, makeGrant(second, client));
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
      // The delegation survived …
      const delegated = await postToken(
        second,
        makeGrant(second, client, { claims: { scope: 'test:kept', consumer_org: '910000009' } }),
      );
      assert.equal(delegated.status, 200, JSON.stringify(delegated.body));
      // … and so did the scope definition.
      const admin = await adminToken(second);
      const scopes = await call(`${second.selfServiceUrl}/scopes/all`, { headers: bearer(admin) });
      assert.deepEqual(scopes.json, [
        { name: 'test:short', description: '', at_max_age: 30, accessible_for_all: false },
      ]);
      // The deleted client stays deleted.
      const gone = await call(`${second.selfServiceUrl}/clients/${apiClientId}`, { headers: bearer(admin) });
      assert.equal(gone.status, 404);
    } finally {
      await second.close();
    }
  });

  it('keeps a restarted emulator on the same port serving the same issuer, so old tokens stay good', async () => {
    const stateFile = join(dir, 'same-port.json');
    const first = await startEmulator({ stateFile });
    const port = Number(new URL(first.url).port);
    const client = await first.createClient({ scopes: ['test:echo'] });
    const token = await accessToken(first, client);
    await first.close();
    const second = await startEmulator({ stateFile, port });
    try {
      assert.equal(second.issuer, first.issuer);
      const echo = await call(`${second.url}/api/echo`, { headers: bearer(token) });
      assert.equal(echo.status, 200, echo.text);
      assert.equal((obj(echo).claims as { client_id: string }).client_id, client.clientId);
      // The same grant's jti is not remembered across restarts, but a fresh grant works.
      assert.equal((await postToken(second, makeGrant(second, client))).status, 200);
    } finally {
      await second.close();
    }
  });

  it('writes the file with mode 0600, atomically, on every change', async () => {
    const stateFile = join(dir, 'mode', 'state.json');
    const emulator = await startEmulator({ stateFile });
    try {
      assert.equal(modeOf(stateFile), 0o600);
      const data = JSON.parse(readFileSync(stateFile, 'utf8')) as { version: number; clients: unknown[] };
      assert.equal(data.version, 1);
      assert.equal(data.clients.length, 1, 'the admin client');

      const client = await emulator.createClient({ scopes: ['test:mode'] });
      assert.equal(modeOf(stateFile), 0o600);
      const written = JSON.parse(readFileSync(stateFile, 'utf8')) as { clients: { clientId: string }[] };
      assert.ok(written.clients.some((c) => c.clientId === client.clientId));

      // Changes made over the self-service API are written too.
      const admin = await adminToken(emulator);
      const put = await call(`${emulator.selfServiceUrl}/clients/${client.clientId}`, {
        method: 'PUT',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'renamed' }),
      });
      assert.equal(put.status, 200);
      const renamed = JSON.parse(readFileSync(stateFile, 'utf8')) as { clients: { clientName: string }[] };
      assert.ok(renamed.clients.some((c) => c.clientName === 'renamed'));
      assert.equal(modeOf(stateFile), 0o600);
      // No temporary files are left behind.
      assert.deepEqual(readdirSync(join(dir, 'mode')), ['state.json']);
    } finally {
      await emulator.close();
    }
  });

  it('rewrites a loosely permissioned state file as 0600 on the next change', async () => {
    const stateFile = join(dir, 'loose.json');
    const first = await startEmulator({ stateFile });
    await first.close();
    chmodSync(stateFile, 0o644);
    const second = await startEmulator({ stateFile });
    try {
      await second.createClient({ scopes: ['test:x'] });
      assert.equal(modeOf(stateFile), 0o600);
    } finally {
      await second.close();
    }
  });

  describe('a state file that cannot be used gives ERR_EMULATOR_STATE', () => {
    const cases: [string, string][] = [
      ['not JSON', '{"version": 1,'],
      ['empty', ''],
      ['JSON null', 'null'],
      ['an array', '[]'],
      ['another version', '{"version":2,"signingKeys":{},"clients":[]}'],
      ['missing signing keys', '{"version":1,"signingKeys":{},"clients":[]}'],
      [
        'missing parts',
        JSON.stringify({
          version: 1,
          signingKeys: { maskinporten: { kid: 'a', privateJwk: {} }, altinn: { kid: 'b', privateJwk: {} } },
          clients: [],
        }),
      ],
      [
        'signing keys that are not keys',
        JSON.stringify({
          version: 1,
          signingKeys: {
            maskinporten: { kid: 'a', privateJwk: { kty: 'RSA', n: 'x', e: 'AQAB', d: 'y' } },
            altinn: { kid: 'b', privateJwk: { kty: 'RSA', n: 'x', e: 'AQAB', d: 'y' } },
          },
          admin: { clientId: 'c', privateJwk: { kty: 'RSA' } },
          clients: [],
          scopes: [],
          delegations: [],
          systemUsers: [],
          consents: [],
        }),
      ],
    ];
    for (const [why, text] of cases) {
      it(why, async () => {
        const stateFile = join(dir, `corrupt-${why.replaceAll(' ', '-')}.json`);
        writeFileSync(stateFile, text);
        await assert.rejects(startEmulator({ stateFile }), (err: unknown) => {
          assert.ok(err instanceof MaskinportenError, String(err));
          assert.equal(err.code, 'ERR_EMULATOR_STATE');
          assert.ok(err.message.includes(stateFile), err.message);
          return true;
        });
        // The file is left alone for the user to inspect.
        assert.equal(readFileSync(stateFile, 'utf8'), text);
      });
    }

    it('a directory where the file should be', async () => {
      const stateFile = join(dir, 'a-directory');
      mkdirSync(stateFile);
      await assert.rejects(
        startEmulator({ stateFile }),
        (err: unknown) => err instanceof MaskinportenError && err.code === 'ERR_EMULATOR_STATE',
      );
    });
  });

  it('a state file from one emulator rejects grants that name clients it never had', async () => {
    const stateFile = join(dir, 'isolated.json');
    const other = await startEmulator();
    const stranger = await other.createClient({ scopes: ['test:x'] });
    await other.close();
    const emulator = await startEmulator({ stateFile });
    try {
      const answer = await postToken(emulator, makeGrant(emulator, stranger));
      assert.equal(answer.status, 400);
      assert.equal(mpCode(answer), 'MP-100');
    } finally {
      await emulator.close();
    }
  });
});
