/**
 * The emulator under hostile input: no request may crash it or make it answer 500 (the clock and consent times are
 * held to the Date range, and a guard answers whatever escapes), a DNS-rebound `Host` is refused, the control
 * routes need the admin secret when one is set, and printing the emulator or a failed state file shows no key.
 * After every hostile request the test checks that the emulator still answers.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { accessPolicy } from '../../src/emulator/access.ts';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { makeGrant, postToken } from '../helpers/grants.ts';
import { adminToken, call, obj, rawRequest } from '../helpers/http.ts';

const CONSENT = 'urn:altinn:consent';
const PERSON = 'urn:altinn:person:identifier-no:12345678901';

/** The emulator still serves: discovery answers 200 with its issuer. */
async function assertStillServing(emulator: Emulator): Promise<void> {
  const answer = await call(`${emulator.url}/.well-known/oauth-authorization-server`);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(obj(answer).issuer, emulator.issuer);
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('emulator security', () => {
  let unhandled = 0;
  const count = () => {
    unhandled += 1;
  };
  before(() => process.on('unhandledRejection', count));
  after(() => {
    process.off('unhandledRejection', count);
    assert.equal(unhandled, 0, 'no request may leave an unhandled rejection');
  });

  describe('the clock is held to the Date range (an offset of 1e16 ms once crashed the process)', () => {
    const emulator = useEmulator();

    for (const body of [
      { offsetMs: 1e16 },
      { offsetMs: -1e16 },
      { advanceMs: 8.7e15 },
      { now: 1e300 },
      { now: '+275760-09-14T00:00:00.000Z' },
      { offsetMs: '5' },
    ]) {
      it(`refuses ${JSON.stringify(body)} with a 400 naming the field, and keeps serving`, async () => {
        const answer = await postJson(`${emulator.url}/_emulator/clock`, body);
        assert.equal(answer.status, 400, answer.text);
        assert.equal(obj(answer).error, 'invalid_request');
        assert.match(String(obj(answer).error_description), /offset|now|advanceMs|Date/);
        assert.equal(emulator.clock.offsetMs, 0, 'the clock is unchanged');
        await assertStillServing(emulator);
        const log = await call(`${emulator.url}/_emulator/log`);
        assert.equal(log.status, 200);
      });
    }

    it('refuses the same through the programmatic API with ERR_INVALID_ARGUMENT', () => {
      for (const move of [
        () => emulator.clock.setOffset(1e16),
        () => emulator.clock.advance(9e15),
        () => emulator.clock.set(new Date(Number.NaN)),
        () => emulator.clock.set(1e300),
      ]) {
        assert.throws(move, (err: unknown) => err instanceof MaskinportenError && err.code === 'ERR_INVALID_ARGUMENT');
      }
      assert.equal(emulator.clock.offsetMs, 0);
    });

    it('still accepts a far but valid date (year 9999)', async () => {
      const answer = await postJson(`${emulator.url}/_emulator/clock`, { now: '9999-12-31T00:00:00.000Z' });
      assert.equal(answer.status, 200, answer.text);
      await assertStillServing(emulator);
      emulator.clock.setOffset(0);
    });
  });

  describe('a consent validTo of 1e300 (once a 500 from /token)', () => {
    const emulator = useEmulator();
    const client = useClient(emulator, { scopes: ['test:consent'] });

    it('is refused over the control route and in code, and /token keeps answering', async () => {
      const id = randomUUID();
      const answer = await postJson(`${emulator.url}/_emulator/consents`, {
        id,
        from: PERSON,
        toOrg: client.orgNo,
        validTo: 1e300,
      });
      assert.equal(answer.status, 400, answer.text);
      assert.match(String(obj(answer).error_description), /validTo/);
      assert.throws(
        () => emulator.addConsent({ from: PERSON, toOrg: client.orgNo, validTo: 1e300 }),
        (err: unknown) => err instanceof MaskinportenError && err.code === 'ERR_INVALID_ARGUMENT',
      );
      const grant = makeGrant(emulator, client, {
        claims: { authorization_details: [{ type: CONSENT, id, from: PERSON }] },
      });
      const token = await postToken(emulator, grant);
      assert.equal(token.status, 400, JSON.stringify(token.body));
      await assertStillServing(emulator);
    });

    it('is refused in a state file with a coded error', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'emulator-security-'));
      try {
        const stateFile = join(dir, 'state.json');
        const first = await startEmulator({ stateFile });
        first.addConsent({ from: PERSON, toOrg: '991825827' });
        await first.close();
        const text = (await import('node:fs')).readFileSync(stateFile, 'utf8');
        writeFileSync(stateFile, text.replace(/"validTo": \d+/, '"validTo": 1e300'));
        await assert.rejects(
          startEmulator({ stateFile }),
          (err: unknown) => err instanceof MaskinportenError && err.code === 'ERR_EMULATOR_STATE',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('a guard answers whatever escapes with 500 and the server keeps serving', () => {
    it('survives a base clock that throws, even where the request log reads it', async () => {
      let broken = false;
      const emulator = await startEmulator({
        clock: {
          now: () => {
            if (broken) throw new Error('the clock broke');
            return Date.now();
          },
        },
      });
      try {
        broken = true;
        for (const path of ['/.well-known/oauth-authorization-server', '/token', '/jwk', '/nope']) {
          const answer = await rawRequest(emulator.url, { method: path === '/token' ? 'POST' : 'GET', path });
          assert.equal(answer.status, 500, `${path}: ${answer.text}`);
          assert.equal(JSON.parse(answer.text).error, 'server_error');
          assert.ok(!answer.text.includes('the clock broke'), 'no internals in the answer');
        }
        broken = false;
        await assertStillServing(emulator);
      } finally {
        broken = false;
        await emulator.close();
      }
    });
  });

  describe('Host header (DNS rebinding)', () => {
    const emulator = useEmulator({ hostnames: ['emulator.test'] });
    let port: string;
    before(async () => {
      port = new URL(emulator.url).port;
    });

    for (const host of [
      'evil.example',
      `evil.example:${'$'}PORT`,
      `127.0.0.1.evil.example:${'$'}PORT`,
      `127.0.0.1:1`,
      `localhost:${'$'}PORT.evil`,
      `[::1]x:${'$'}PORT`,
      'localhost',
    ]) {
      it(`refuses Host ${JSON.stringify(host)} with 403 on every route, and keeps serving`, async () => {
        const value = host.replace('$PORT', port);
        for (const [method, path] of [
          ['GET', '/.well-known/oauth-authorization-server'],
          ['POST', '/token'],
          ['GET', '/_emulator/info'],
          ['POST', '/_emulator/clock'],
        ] as const) {
          const answer = await rawRequest(emulator.url, { method, path, headers: { host: value } });
          assert.equal(answer.status, 403, `${method} ${path}: ${answer.text}`);
          assert.equal(JSON.parse(answer.text).error, 'invalid_request');
        }
        await assertStillServing(emulator);
      });
    }

    it('serves its own address, localhost and a configured name', async () => {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `emulator.test:${port}`]) {
        const answer = await rawRequest(emulator.url, {
          path: '/.well-known/oauth-authorization-server',
          headers: { host },
        });
        assert.equal(answer.status, 200, `${host}: ${answer.text}`);
      }
    });

    it('refuses a hostnames option that is not a plain name', async () => {
      for (const hostnames of [['http://x'], ['a:80'], ['a/b'], [''], 'x'] as unknown[]) {
        await assert.rejects(
          startEmulator({ hostnames: hostnames as string[] }),
          (err: unknown) => err instanceof MaskinportenError && err.code === 'ERR_INVALID_ARGUMENT',
        );
      }
    });
  });

  describe('write routes refuse another site (Origin, Sec-Fetch-Site)', () => {
    it('the control routes and the self-service API refuse a cross-site write; own origin and no Origin pass', async () => {
      const emulator = await startEmulator();
      try {
        const admin = await adminToken(emulator);
        const json = { 'content-type': 'application/json' };
        const selfService = { ...json, authorization: `Bearer ${admin}` };
        const newClient = JSON.stringify({ client_name: 'x', description: 'x', scopes: [] });
        const writes: [string, Record<string, string>, string][] = [
          [`${emulator.url}/_emulator/clients`, json, '{"scopes":["a"]}'],
          [`${emulator.url}/_emulator/faults`, json, '{"endpoint":"token","status":503}'],
          [`${emulator.selfServiceUrl}/clients`, selfService, newClient],
        ];
        const integrations = async () =>
          (obj(await call(`${emulator.url}/_emulator/overview`)).integrations as unknown[]).length;
        const clientsBefore = await integrations();
        for (const [url, headers, body] of writes) {
          for (const hostile of [
            { origin: 'https://evil.example' },
            { origin: `${emulator.url}.evil.example` },
            { origin: 'null' },
            { 'sec-fetch-site': 'cross-site' },
          ]) {
            const answer = await call(url, { method: 'POST', headers: { ...headers, ...hostile }, body });
            assert.equal(answer.status, 403, `${url} ${JSON.stringify(hostile)}: ${answer.text}`);
          }
        }
        assert.equal(await integrations(), clientsBefore, 'no client was registered');
        assert.equal(emulator.faults.list().length, 0, 'no fault was added');
        for (const [url, headers, body] of writes) {
          for (const own of [{ origin: emulator.url }, {}]) {
            const answer = await call(url, { method: 'POST', headers: { ...headers, ...own }, body });
            assert.ok(answer.status < 300, `${url} ${JSON.stringify(own)}: ${answer.status} ${answer.text}`);
          }
        }
        // Reads are not writes: a cross-site GET of discovery is still answered.
        const read = await call(`${emulator.url}/.well-known/oauth-authorization-server`, {
          headers: { origin: 'https://evil.example' },
        });
        assert.equal(read.status, 200);
      } finally {
        await emulator.close();
      }
    });
  });

  describe('admin secret', () => {
    it('is made for each run when bound beyond loopback, and open on loopback by default', () => {
      const exposed = accessPolicy({ bindAddress: '192.0.2.10', port: 8123, hostnames: [], adminSecret: undefined });
      const again = accessPolicy({ bindAddress: '192.0.2.10', port: 8123, hostnames: [], adminSecret: undefined });
      assert.ok(exposed.adminSecret && exposed.adminSecret.length >= 32);
      assert.notEqual(exposed.adminSecret, again.adminSecret, 'a new secret each run');
      assert.equal(exposed.allowsAdmin(undefined), false);
      assert.equal(exposed.allowsAdmin(`Bearer ${again.adminSecret}`), false);
      assert.equal(exposed.allowsAdmin(`Bearer ${exposed.adminSecret}`), true);
      assert.equal(exposed.allowsHost('192.0.2.10:8123'), true);
      assert.equal(exposed.allowsHost('localhost:8123'), false);
      const loopback = accessPolicy({ bindAddress: '127.0.0.1', port: 8123, hostnames: [], adminSecret: undefined });
      assert.equal(loopback.adminSecret, undefined);
      assert.equal(loopback.allowsAdmin(undefined), true);
    });

    it('guards every control route when set, and nothing else', async () => {
      const adminSecret = 'a-secret-for-this-run-only';
      const emulator = await startEmulator({ adminSecret });
      try {
        assert.equal(emulator.adminSecret, adminSecret);
        for (const [method, path] of [
          ['GET', '/_emulator/info'],
          ['GET', '/_emulator/health'],
          ['POST', '/_emulator/clock'],
          ['POST', '/_emulator/clients'],
          ['POST', '/_emulator/faults'],
          ['DELETE', '/_emulator/log'],
        ] as const) {
          for (const authorization of [undefined, 'Bearer wrong-secret-of-some-length', `Basic ${adminSecret}`]) {
            const answer = await call(`${emulator.url}${path}`, {
              method,
              headers: {
                'content-type': 'application/json',
                ...(authorization ? { authorization } : {}),
              },
              ...(method === 'POST'
                ? { body: JSON.stringify({ offsetMs: 1000, endpoint: 'token', status: 500 }) }
                : {}),
            });
            assert.equal(answer.status, 401, `${method} ${path} ${authorization}: ${answer.text}`);
            assert.ok(!answer.text.includes(adminSecret));
          }
        }
        assert.equal(emulator.clock.offsetMs, 0, 'nothing changed');
        assert.equal(emulator.faults.list().length, 0, 'nothing changed');
        const ok = await call(`${emulator.url}/_emulator/info`, {
          headers: { authorization: `Bearer ${adminSecret}` },
        });
        assert.equal(ok.status, 200, ok.text);
        await assertStillServing(emulator);
      } finally {
        await emulator.close();
      }
    });

    it('refuses a weak adminSecret option', async () => {
      for (const adminSecret of ['short', 'has spaces in it, sixteen+', 42] as unknown[]) {
        await assert.rejects(
          startEmulator({ adminSecret: adminSecret as string }),
          (err: unknown) => err instanceof MaskinportenError && err.code === 'ERR_INVALID_ARGUMENT',
        );
      }
    });
  });

  describe('printing never shows the admin key or secret', () => {
    it('util.inspect and JSON.stringify of the emulator and its admin client', async () => {
      const adminSecret = 'printing-secret-0123456789';
      const emulator = await startEmulator({ adminSecret });
      try {
        const { privateJwk, jwkBase64 } = emulator.adminClient;
        const secrets = [privateJwk.d, privateJwk.p, privateJwk.q, jwkBase64, adminSecret] as string[];
        const printed = [
          inspect(emulator, { depth: Number.POSITIVE_INFINITY }),
          inspect(emulator, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
          JSON.stringify(emulator),
          inspect(emulator.adminClient, { depth: Number.POSITIVE_INFINITY }),
          JSON.stringify(emulator.adminClient),
          JSON.stringify(emulator.adminClient.settings),
          inspect(emulator.adminClient.settings),
          inspect({ wrapped: emulator }, { depth: Number.POSITIVE_INFINITY }),
        ];
        for (const text of printed) {
          for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret was printed');
        }
        assert.match(printed[0]!, /Emulator/);
        assert.match(printed[0]!, new RegExp(emulator.adminClient.clientId));
        assert.equal(JSON.parse(printed[2]!).issuer, emulator.issuer);
        // The values stay usable where code asks for them by name.
        assert.equal(typeof emulator.adminClient.privateJwk.d, 'string');
        assert.equal(emulator.adminClient.settings.jwkBase64, jwkBase64);
      } finally {
        await emulator.close();
      }
    });

    it('util.inspect and JSON.stringify of createClient() results (keys stay readable by name)', async () => {
      const emulator = await startEmulator();
      try {
        const created = await emulator.createClient({ scopes: ['a'] });
        const { privateJwk, jwkBase64 } = created;
        const secrets = [privateJwk!.d, privateJwk!.p, privateJwk!.q, privateJwk!.dp, jwkBase64] as string[];
        const printed = [
          inspect(created, { depth: Number.POSITIVE_INFINITY }),
          inspect(created, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
          JSON.stringify(created),
          inspect(created.settings),
          JSON.stringify(created.settings),
          inspect({ wrapped: created }, { depth: Number.POSITIVE_INFINITY }),
          JSON.stringify({ wrapped: created }),
        ];
        for (const text of printed) {
          for (const secret of secrets) assert.ok(!text.includes(secret), `a secret was printed: ${text.slice(0, 80)}`);
        }
        assert.equal(JSON.parse(printed[2]!).clientId, created.clientId);
        assert.equal(JSON.parse(printed[2]!).privateJwk, '[secret]');
        assert.match(printed[0]!, /CreatedClient/);
        assert.equal(typeof created.privateJwk!.d, 'string');
        assert.equal(created.settings.jwkBase64, jwkBase64);
        assert.equal({ ...created.settings }.jwkBase64, jwkBase64, 'a copy of the settings carries the key');
        // The admin route still hands the key to its caller.
        const res = await fetch(`${emulator.url}/_emulator/clients`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ scopes: ['a'] }),
        });
        const body = (await res.json()) as { privateJwk: { d: string } };
        assert.equal(typeof body.privateJwk.d, 'string');
      } finally {
        await emulator.close();
      }
    });

    it('a corrupt state file is reported without quoting its content', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'emulator-security-'));
      try {
        const stateFile = join(dir, 'state.json');
        const material = 'sQsEcReTkEyMaTeRiAl0123456789';
        for (const text of [
          `{"signingKeys":{"maskinporten":{"privateJwk":{"d":"${material}"`,
          `{"d": ${material}}`,
          `{"d":"${material}",}`,
        ]) {
          writeFileSync(stateFile, text);
          await assert.rejects(startEmulator({ stateFile }), (err: unknown) => {
            assert.ok(err instanceof MaskinportenError);
            assert.equal(err.code, 'ERR_EMULATOR_STATE');
            for (const shown of [err.message, inspect(err, { depth: 10 }), String(err.stack), JSON.stringify(err)]) {
              assert.ok(!shown.includes(material.slice(0, 8)), `key material quoted: ${shown}`);
            }
            return true;
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
