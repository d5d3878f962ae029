/**
 * `SelfServiceClient` against real servers on loopback: the emulator (its admin client gives the tokens) and, where
 * what was posted must be seen byte for byte, a recording HTTP server standing in for the API.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { SelfServiceClient, SelfServiceError } from '../../src/self-service/index.ts';
import { useEmulator } from '../helpers/emulator.ts';

interface Seen {
  method: string;
  path: string;
  body: unknown;
  authorization?: string | undefined;
}

/** A server that records each request's method, path and JSON body, and answers with `answer`. */
async function recordingServer(
  answer: (req: { method: string; path: string; body: unknown }) => { status: number; body?: unknown },
): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        path: req.url ?? '',
        body: text ? JSON.parse(text) : undefined,
        authorization: req.headers.authorization,
      };
      seen.push(entry);
      const { status, body } = answer(entry);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('SelfServiceClient', () => {
  const emulator = useEmulator();
  let admin: MaskinportenClient;

  before(async () => {
    admin = new MaskinportenClient({
      authority: emulator.issuer,
      clientId: emulator.adminClient.clientId,
      jwkBase64: emulator.adminClient.jwkBase64,
    });
  });

  it('refuses a plain-http baseUrl on a host other than loopback unless insecure requests are allowed', () => {
    assert.throws(
      () => new SelfServiceClient(admin, { baseUrl: 'http://api.example.org' }),
      (err: Error & { code?: string }) => err.code === 'ERR_INSECURE_URL' && /baseUrl/.test(err.message),
    );
    const insecure = new SelfServiceClient(admin, { baseUrl: 'http://api.example.org', allowInsecureRequests: true });
    assert.equal(insecure.baseUrl, 'http://api.example.org/api/v1');
    assert.equal(
      new SelfServiceClient(admin, { baseUrl: 'http://127.0.0.1:8080/' }).baseUrl,
      'http://127.0.0.1:8080/api/v1',
    );
  });

  it('strips every private member before posting keys, whatever the caller passes', async () => {
    const { privateJwk } = await generateRsaKeyPair({ kid: 'strip-me' });
    const api = await recordingServer(() => ({ status: 201, body: { keys: [] } }));
    try {
      const client = new SelfServiceClient(admin, { baseUrl: api.url });
      const hostile = { ...privateJwk, oth: [{ r: 'x', d: 'y', t: 'z' }], k: 'c3ltbWV0cmlj' };
      await client.replaceKeys('some-client', [hostile]);
      const posted = (api.seen.at(-1)!.body as { keys: Record<string, unknown>[] }).keys[0]!;
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) assert.ok(!(member in posted), member);
      assert.equal(posted.n, privateJwk.n);
      assert.equal(posted.kid, 'strip-me');
    } finally {
      api.server.close();
    }
  });

  it('posts only the known public members as plain data: an own toJSON or getter cannot post the private key', async () => {
    const { privateJwk } = await generateRsaKeyPair({ kid: 'tojson' });
    const api = await recordingServer(() => ({ status: 201, body: { keys: [] } }));
    try {
      const client = new SelfServiceClient(admin, { baseUrl: api.url });
      const withToJson = { ...privateJwk, toJSON: () => privateJwk };
      const withGetter = Object.defineProperty({ ...privateJwk }, 'extra', { get: () => privateJwk, enumerable: true });
      for (const hostile of [withToJson, withGetter]) {
        await client.replaceKeys('some-client', [hostile]);
        const raw = JSON.stringify(api.seen.at(-1)!.body);
        assert.ok(!raw.includes(privateJwk.d), 'the private exponent was not posted');
        const posted = (api.seen.at(-1)!.body as { keys: Record<string, unknown>[] }).keys[0]!;
        for (const member of Object.keys(posted)) {
          assert.ok(['kty', 'n', 'e', 'kid', 'alg', 'use'].includes(member), `only public members: ${member}`);
        }
        assert.equal(posted.n, privateJwk.n);
      }
      const fnValued = { ...privateJwk, kid: { toJSON: () => privateJwk.d } as unknown as string };
      await assert.rejects(
        async () => client.replaceKeys('some-client', [fnValued]),
        (err: Error & { code?: string }) => err.code === 'ERR_INVALID_ARGUMENT' && /kid/.test(err.message),
      );
    } finally {
      api.server.close();
    }
  });

  const selfServicePaths = () =>
    emulator.requests.entries({ endpoint: 'self-service' }).map((e) => `${e.method} ${e.path}`);

  it('calls /api/v1 under the default origin of test, prod and dev, or under baseUrl', () => {
    const adminAt = (authority: string) =>
      new MaskinportenClient({
        authority,
        clientId: emulator.adminClient.clientId,
        jwkBase64: emulator.adminClient.jwkBase64,
      });
    assert.equal(
      new SelfServiceClient(adminAt('https://test.maskinporten.no/')).baseUrl,
      'https://api.test.samarbeid.digdir.no/api/v1',
    );
    assert.equal(
      new SelfServiceClient(adminAt('https://maskinporten.no/')).baseUrl,
      'https://api.samarbeid.digdir.no/api/v1',
    );
    assert.equal(
      new SelfServiceClient(adminAt('https://maskinporten.dev/')).baseUrl,
      'https://api.samarbeid.digdir.dev/api/v1',
    );
    assert.equal(new SelfServiceClient(admin).baseUrl, `${emulator.url}/api/v1`);
    assert.equal(
      new SelfServiceClient(admin, { baseUrl: 'https://api.example.org/api/v1/' }).baseUrl,
      'https://api.example.org/api/v1',
    );
    assert.throws(() => new SelfServiceClient(adminAt('https://idp.example.org/')), /pass baseUrl/);
  });

  it('registers a client and its keys on /api/v1: use "sig" added, exp posted and read back, deleteKeys', async () => {
    const api = new SelfServiceClient(admin);
    emulator.requests.clear();
    const created = await api.createClient({ clientName: 'v1', description: 'v1 client', scopes: ['test:read'] });
    const { publicJwk } = await generateRsaKeyPair({ kid: 'no-use' });
    const { use: _use, ...withoutUse } = publicJwk;
    const exp = Math.floor(api.serverNow() / 1000) + 90 * 24 * 3600;
    const set = await api.replaceKeys(created.client_id, [{ ...withoutUse, exp }]);
    assert.deepEqual(
      set.keys.map((k) => [k.kid, k.use, k.exp]),
      [['no-use', 'sig', exp]],
    );
    const read = await api.getKeys(created.client_id);
    assert.equal(read.keys[0]!.exp, exp);
    // Keys read back go again as they are, with use and exp.
    const again = await api.replaceKeys(created.client_id, read.keys);
    assert.equal(again.keys[0]!.exp, exp);
    assert.throws(() => api.replaceKeys(created.client_id, []), /deleteKeys/);
    await api.deleteKeys(created.client_id);
    assert.deepEqual((await api.getKeys(created.client_id)).keys, []);
    await api.deleteClient(created.client_id);
    const id = created.client_id;
    assert.deepEqual(selfServicePaths(), [
      'POST /api/v1/clients',
      `POST /api/v1/clients/${id}/jwks`,
      `GET /api/v1/clients/${id}/jwks`,
      `POST /api/v1/clients/${id}/jwks`,
      `DELETE /api/v1/clients/${id}/jwks`,
      `GET /api/v1/clients/${id}/jwks`,
      `DELETE /api/v1/clients/${id}`,
    ]);
  });

  it("SelfServiceError leads with the errorMessages of Digdir's error body", async () => {
    const api = new SelfServiceClient(admin);
    const created = await api.createClient({ clientName: 'errors', description: 'x', scopes: [] });
    const { publicJwk } = await generateRsaKeyPair();
    const tooLong = Math.floor(api.serverNow() / 1000) + 400 * 24 * 3600;
    await assert.rejects(api.replaceKeys(created.client_id, [{ ...publicJwk, exp: tooLong }]), (err: unknown) => {
      const e = err as SelfServiceError;
      assert.ok(e instanceof SelfServiceError);
      assert.equal(e.code, 'ERR_SELF_SERVICE');
      assert.equal(e.status, 400);
      assert.equal(e.errors[0]!.isFieldError, true);
      assert.match(e.errors[0]!.fieldIdentifier ?? '', /exp/);
      assert.match(e.message, /^POST \/api\/v1\/clients\/[^ ]+\/jwks answered 400: .*exp.*one year/);
      assert.ok(e.correlationId);
      return true;
    });
    // A body exactly as Digdir's live API sends one.
    const digdir = await recordingServer(() => ({
      status: 400,
      body: {
        status: 400,
        timestamp: '2025-07-02T08:30:00.000000000Z',
        correlation_id: '4f1c2a9e-0000-4000-8000-000000000001',
        errors: [
          {
            errorMessage: 'Invalid scope: foo:bar',
            isFieldError: true,
            objectName: 'Client',
            fieldIdentifier: 'scopes',
          },
          {
            errorMessage: 'client_name is required',
            isFieldError: true,
            objectName: 'Client',
            fieldIdentifier: 'client_name',
          },
        ],
        error: ', Invalid scope: foo:bar, client_name is required',
        error_description: ', Invalid scope: foo:bar, client_name is required',
      },
    }));
    try {
      const remote = new SelfServiceClient(admin, { baseUrl: digdir.url });
      await assert.rejects(
        remote.createClient({ clientName: 'x', description: '', scopes: ['foo:bar'] }),
        (err: unknown) => {
          const e = err as SelfServiceError;
          assert.equal(
            e.message,
            'POST /api/v1/clients answered 400: scopes: Invalid scope: foo:bar; client_name: client_name is required [correlation id 4f1c2a9e-0000-4000-8000-000000000001]',
          );
          assert.deepEqual(
            e.errors.map((x) => x.fieldIdentifier),
            ['scopes', 'client_name'],
          );
          return true;
        },
      );
    } finally {
      digdir.server.close();
    }
  });

  it('lists the public scopes without a token, and administers scopes: create, grant, withdraw (MP-250), delete', async () => {
    const recorder = await recordingServer(() => ({ status: 200, body: [] }));
    try {
      await new SelfServiceClient(admin, { baseUrl: recorder.url }).listPublicScopes({ accessibleForAll: true });
      assert.deepEqual(
        recorder.seen.map((r) => [r.method, r.path, r.authorization]),
        [['GET', '/api/v1/scopes/all?accessible_for_all=true', undefined]],
      );
    } finally {
      recorder.server.close();
    }
    const api = new SelfServiceClient(admin);
    const scope = 'emulator:orders.read';
    const created = await api.createScope({ name: scope, description: 'Orders', accessibleForAll: false });
    assert.equal(created.name, scope);
    assert.ok((await api.listPublicScopes()).some((s) => s.name === scope));
    assert.ok(!(await api.listPublicScopes({ accessibleForAll: true })).some((s) => s.name === scope));
    assert.ok((await api.listOwnScopes()).some((s) => s.name === scope));

    const consumer = await emulator.createClient({ scopes: [scope], orgNo: '310000009' });
    const consumerClient = new MaskinportenClient(consumer.settings as never);
    await assert.rejects(consumerClient.getAccessToken([scope]), /MP-250|not been granted/);
    const granted = await api.grantScopeAccess(scope, '310000009');
    assert.equal(granted.consumer_orgno, '310000009');
    assert.deepEqual(
      (await api.listScopeAccess(scope)).map((a) => a.consumer_orgno),
      ['310000009'],
    );
    assert.ok((await consumerClient.getAccessToken([scope])).value);
    await api.withdrawScopeAccess(scope, '310000009');
    await assert.rejects(
      new MaskinportenClient(consumer.settings as never).getAccessToken([scope]),
      (err: Error & { mpCode?: string }) => err.mpCode === 'MP-250',
    );
    await api.updateScope(scope, { description: 'Orders, read' });
    assert.equal((await api.getScope(scope)).description, 'Orders, read');
    await api.deleteScope(scope);
    assert.equal((await api.getScope(scope)).active, false);
    assert.throws(() => api.grantScopeAccess(scope, '12'), /9 digits/);
    assert.throws(() => api.getScope('no-colon'), /prefix:subscope/);
  });
});
