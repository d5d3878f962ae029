import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, beforeEach, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type CreatedClient, type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { type GeneratedKeyPair, generateRsaKeyPair, type RsaPublicJwk } from '../../src/keys/jwk.ts';
import { JWT_BEARER_GRANT_TYPE } from '../../src/protocol/constants.ts';
import { assertDigdirError } from '../helpers/digdir.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { accessToken, makeGrant, mpCode, postToken } from '../helpers/grants.ts';
import { adminAsClient, adminToken, altinnToken, bearer, call, type HttpAnswer, obj } from '../helpers/http.ts';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A client as a registered-but-keyless one, with a key pair the test controls, for the grant helpers. */
function asClient(emulator: Emulator, clientId: string, scopes: string[], key: GeneratedKeyPair): CreatedClient {
  return {
    clientId,
    clientName: clientId,
    orgNo: '991825827',
    scopes,
    accessTokenLifetime: 120,
    kid: key.kid,
    privateJwk: key.privateJwk,
    settings: { authority: emulator.issuer, clientId, altinnPlatformUrl: emulator.altinnPlatformUrl },
  };
}

describe('self-service API', () => {
  const emulator = useEmulator();
  let token: string;
  let api: (path: string, init?: { method?: string; body?: unknown; token?: string | null }) => Promise<HttpAnswer>;
  // A small pool of keys generated once, so the key tests do not spend their time in RSA key generation.
  let keys: GeneratedKeyPair[];

  before(async () => {
    token = await adminToken(emulator);
    keys = await Promise.all(Array.from({ length: 6 }, () => generateRsaKeyPair()));
    api = (path, init = {}) => {
      const headers: Record<string, string> = {};
      const t = init.token === undefined ? token : init.token;
      if (t !== null) headers.authorization = `Bearer ${t}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      return call(`${emulator.selfServiceUrl}/api/v1${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body === undefined
          ? {}
          : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      });
    };
  });

  async function createViaApi(body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const answer = await api('/clients', {
      method: 'POST',
      body: {
        integration_type: 'maskinporten',
        client_name: 'api-client',
        description: 'made by a test',
        token_endpoint_auth_method: 'private_key_jwt',
        grant_types: [JWT_BEARER_GRANT_TYPE],
        scopes: ['test:onboard'],
        ...body,
      },
    });
    assert.equal(answer.status, 201, answer.text);
    return obj(answer);
  }

  describe('the admin client', () => {
    it('holds every idporten:dcr.* scope and gets a token with them', () => {
      for (const s of ['idporten:dcr.read', 'idporten:dcr.write', 'idporten:dcr.modify', 'idporten:dcr.supplier']) {
        assert.ok(emulator.adminClient.scopes.includes(s), s);
      }
      assert.equal(emulator.adminClient.privateJwk.kid, emulator.adminClient.kid);
      const decoded = JSON.parse(Buffer.from(emulator.adminClient.jwkBase64, 'base64').toString('utf8')) as {
        kid: string;
        d: string;
      };
      assert.equal(decoded.kid, emulator.adminClient.kid);
      assert.equal(typeof decoded.d, 'string');
    });
  });

  describe('clients', () => {
    it('creates a client: 201, Location, the full client object with a UUID client_id', async () => {
      const answer = await api('/clients', {
        method: 'POST',
        body: {
          integration_type: 'maskinporten',
          client_name: 'created',
          description: 'd',
          token_endpoint_auth_method: 'private_key_jwt',
          grant_types: [JWT_BEARER_GRANT_TYPE],
          scopes: ['test:a', 'test:b'],
        },
      });
      assert.equal(answer.status, 201, answer.text);
      const client = obj(answer);
      assert.match(client.client_id as string, UUID);
      assert.equal(answer.headers.get('location'), `${emulator.selfServiceUrl}/api/v1/clients/${client.client_id}`);
      assert.equal(client.client_name, 'created');
      assert.equal(client.description, 'd');
      assert.deepEqual(client.scopes, ['test:a', 'test:b']);
      assert.equal(client.integration_type, 'maskinporten');
      assert.equal(client.token_endpoint_auth_method, 'private_key_jwt');
      assert.deepEqual(client.grant_types, [JWT_BEARER_GRANT_TYPE]);
      assert.equal(client.client_orgno, '991825827', 'the caller’s organisation owns it');
      assert.equal(client.access_token_lifetime, 120);
      assert.equal(client.active, true);
      assert.ok(!Number.isNaN(Date.parse(client.created as string)));
      assert.ok(emulator.getClient(client.client_id as string));
    });

    it('creates with a minimal body and honours access_token_lifetime', async () => {
      const created = await createViaApi({ access_token_lifetime: 60, scopes: undefined });
      assert.deepEqual(created.scopes, []);
      assert.equal(created.access_token_lifetime, 60);
    });

    it('lists the caller’s organisation’s clients only', async () => {
      const created = await createViaApi({ client_name: 'listed' });
      const mine = await emulator.createClient({ scopes: ['test:x'] });
      const theirs = await emulator.createClient({ scopes: ['test:x'], orgNo: '974761076' });
      const answer = await api('/clients');
      assert.equal(answer.status, 200, answer.text);
      assert.ok(Array.isArray(answer.json));
      const ids = (answer.json as { client_id: string }[]).map((c) => c.client_id);
      assert.ok(ids.includes(created.client_id as string));
      assert.ok(ids.includes(mine.clientId));
      assert.ok(ids.includes(emulator.adminClient.clientId));
      assert.ok(!ids.includes(theirs.clientId));
      for (const c of answer.json as { client_orgno: string }[]) assert.equal(c.client_orgno, '991825827');
      // /clients/ (trailing slash) is the same collection.
      assert.equal((await api('/clients/')).status, 200);
    });

    it('reads one client', async () => {
      const created = await createViaApi({ client_name: 'readable' });
      const answer = await api(`/clients/${created.client_id}`);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json, created);
    });

    it('updates name, description, scopes and token lifetime; the token endpoint follows', async () => {
      const created = await createViaApi({ client_name: 'before', scopes: ['test:old'] });
      const id = created.client_id as string;
      const answer = await api(`/clients/${id}`, {
        method: 'PUT',
        body: { client_name: 'after', description: 'changed', scopes: ['test:new'], access_token_lifetime: 30 },
      });
      assert.equal(answer.status, 200, answer.text);
      const updated = obj(answer);
      assert.equal(updated.client_id, id);
      assert.equal(updated.client_name, 'after');
      assert.equal(updated.description, 'changed');
      assert.deepEqual(updated.scopes, ['test:new']);
      assert.equal(updated.access_token_lifetime, 30);
      assert.deepEqual((await api(`/clients/${id}`)).json, updated);

      const key = keys[0]!;
      assert.equal((await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [key.publicJwk] } })).status, 201);
      const client = asClient(emulator, id, ['test:new'], key);
      const ok = await postToken(emulator, makeGrant(emulator, client));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.expires_in, 30);
      const old = await postToken(emulator, makeGrant(emulator, client, { claims: { scope: 'test:old' } }));
      assert.equal(old.status, 400);
      assert.equal(mpCode(old), 'MP-200');
    });

    it('rejects bad client metadata with 400', async () => {
      const bodies: [string, unknown, string][] = [
        ['no client_name', { scopes: ['a'] }, 'client_name'],
        ['blank client_name', { client_name: '  ' }, 'client_name'],
        ['client_name not a string', { client_name: 42 }, 'client_name'],
        ['wrong integration_type', { client_name: 'x', integration_type: 'idporten' }, 'integration_type'],
        [
          'wrong auth method',
          { client_name: 'x', token_endpoint_auth_method: 'client_secret_basic' },
          'token_endpoint_auth_method',
        ],
        ['wrong grant types', { client_name: 'x', grant_types: ['client_credentials'] }, 'grant_types'],
        ['grant types not an array', { client_name: 'x', grant_types: JWT_BEARER_GRANT_TYPE }, 'grant_types'],
        ['scopes not an array', { client_name: 'x', scopes: 'a b' }, 'scopes'],
        ['scope with whitespace', { client_name: 'x', scopes: ['a b'] }, 'scopes'],
        ['scope not a string', { client_name: 'x', scopes: [1] }, 'scopes'],
        ['description not a string', { client_name: 'x', description: 5 }, 'description'],
        ['lifetime not a whole number', { client_name: 'x', access_token_lifetime: 1.5 }, 'access_token_lifetime'],
        ['lifetime negative', { client_name: 'x', access_token_lifetime: -1 }, 'access_token_lifetime'],
        ['lifetime a string', { client_name: 'x', access_token_lifetime: '60' }, 'access_token_lifetime'],
      ];
      const before = (await api('/clients')).json as unknown[];
      for (const [why, body, field] of bodies) {
        const answer = await api('/clients', { method: 'POST', body });
        assertDigdirError(answer, 400, { objectName: 'Client', field, label: why });
      }
      assert.equal(((await api('/clients')).json as unknown[]).length, before.length, 'nothing was created');
    });

    it('rejects bad updates with 400 and leaves the client as it was', async () => {
      const created = await createViaApi({ client_name: 'stable' });
      const id = created.client_id as string;
      for (const body of [
        { scopes: 'x' },
        { scopes: ['a b'] },
        { access_token_lifetime: -1 },
        { integration_type: 'idporten' },
        { client_name: '' },
        { client_name: 7 },
      ]) {
        const answer = await api(`/clients/${id}`, { method: 'PUT', body });
        assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      }
      assert.deepEqual((await api(`/clients/${id}`)).json, created);
    });

    it('needs a JSON object body (415 for another type, 400 for bad JSON)', async () => {
      const form = await call(`${emulator.selfServiceUrl}/api/v1/clients`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_name=x',
      });
      assert.equal(form.status, 415);
      assert.equal(obj(form).error, 'invalid_request');
      for (const body of ['{', '[]', 'null', '"x"', '']) {
        const answer = await api('/clients', { method: 'POST', body });
        assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      }
    });

    it('deletes (deactivates) a client: gone from reads and lists, and its grants fail with MP-100', async () => {
      const created = await createViaApi({ client_name: 'doomed', scopes: ['test:doomed'] });
      const id = created.client_id as string;
      const key = keys[1]!;
      assert.equal((await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [key.publicJwk] } })).status, 201);
      const client = asClient(emulator, id, ['test:doomed'], key);
      assert.equal((await postToken(emulator, makeGrant(emulator, client))).status, 200);

      // protocol.md §6: 204 on DELETE of a client, which deactivates it.
      const deleted = await api(`/clients/${id}`, { method: 'DELETE' });
      assert.equal(deleted.status, 204, deleted.text);
      assert.equal(deleted.text, '');
      assert.equal(emulator.getClient(id)?.active, false);

      assert.equal((await api(`/clients/${id}`)).status, 404);
      assert.equal((await api(`/clients/${id}/jwks`)).status, 404);
      assert.equal((await api(`/clients/${id}`, { method: 'DELETE' })).status, 404);
      assert.equal((await api(`/clients/${id}`, { method: 'PUT', body: { client_name: 'back' } })).status, 404);
      assert.equal((await api(`/clients/${id}/jwks`, { method: 'PUT', body: { keys: [key.publicJwk] } })).status, 404);
      const ids = ((await api('/clients')).json as { client_id: string }[]).map((c) => c.client_id);
      assert.ok(!ids.includes(id));

      const refused = await postToken(emulator, makeGrant(emulator, client));
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      assert.equal(mpCode(refused), 'MP-100');
    });

    it('answers 404 for another organisation’s client and for unknown ids', async () => {
      const theirs = await emulator.createClient({ scopes: ['test:x'], orgNo: '974761076' });
      const paths = [`/clients/${theirs.clientId}`, '/clients/00000000-0000-4000-8000-000000000000', '/clients/nope'];
      for (const path of paths) {
        for (const [method, body] of [
          ['GET', undefined],
          ['PUT', { client_name: 'mine now' }],
          ['DELETE', undefined],
        ] as const) {
          const answer = await api(path, { method, body });
          assert.equal(answer.status, 404, `${method} ${path}: ${answer.text}`);
          assert.equal(obj(answer).error, 'not_found');
        }
        for (const method of ['GET', 'POST', 'PUT']) {
          const answer = await api(`${path}/jwks`, {
            method,
            body: method === 'GET' ? undefined : { keys: [keys[2]!.publicJwk] },
          });
          assert.equal(answer.status, 404, `${method} ${path}/jwks: ${answer.text}`);
        }
      }
      // The other organisation's client is untouched and still works.
      assert.equal(emulator.getClient(theirs.clientId)?.active, true);
      assert.equal(emulator.getClient(theirs.clientId)?.clientName, theirs.clientName);
      assert.equal((await postToken(emulator, makeGrant(emulator, theirs))).status, 200);
    });

    it('lets another organisation’s administrator see only its own clients', async () => {
      const otherAdmin = await emulator.createClient({
        scopes: ['idporten:dcr.read', 'idporten:dcr.write', 'idporten:dcr.modify'],
        orgNo: '974761076',
      });
      const otherToken = await accessToken(emulator, otherAdmin);
      const created = await api('/clients', {
        method: 'POST',
        token: otherToken,
        body: { client_name: 'skd-client', scopes: ['test:skd'] },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(obj(created).client_orgno, '974761076');
      const list = (await api('/clients', { token: otherToken })).json as { client_id: string; client_orgno: string }[];
      assert.ok(list.some((c) => c.client_id === obj(created).client_id));
      assert.ok(list.some((c) => c.client_id === otherAdmin.clientId));
      for (const c of list) assert.equal(c.client_orgno, '974761076');
      // Digdir's admin cannot see it.
      assert.equal((await api(`/clients/${obj(created).client_id}`)).status, 404);
      assert.equal((await api(`/clients/${emulator.adminClient.clientId}`, { token: otherToken })).status, 404);
    });
  });

  describe('key sets', () => {
    it('starts empty, and GET/POST/PUT each show {created, last_updated, keys}', async () => {
      const id = (await createViaApi()).client_id as string;
      const empty = await api(`/clients/${id}/jwks`);
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(obj(empty).keys, []);
      assert.ok('created' in obj(empty) && 'last_updated' in obj(empty));

      const posted = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [keys[0]!.publicJwk] } });
      assert.equal(posted.status, 201, posted.text);
      const view = obj(posted);
      assert.ok(!Number.isNaN(Date.parse(view.created as string)));
      assert.ok(!Number.isNaN(Date.parse(view.last_updated as string)));
      const [key] = view.keys as (RsaPublicJwk & { exp: number })[];
      assert.equal(key?.kid, keys[0]!.kid);
      assert.equal(key?.kty, 'RSA');
      assert.equal(key?.n, keys[0]!.publicJwk.n);
      assert.equal(key?.use, 'sig');
      assert.deepEqual((await api(`/clients/${id}/jwks`)).json, view);
    });

    it('replaces the whole set on POST and on PUT: a key left out stops working', async () => {
      const id = (await createViaApi({ scopes: ['test:rotate'] })).client_id as string;
      const [a, b, c] = [keys[0]!, keys[1]!, keys[2]!];
      const withKey = (k: GeneratedKeyPair) => asClient(emulator, id, ['test:rotate'], k);
      const grantStatus = async (k: GeneratedKeyPair) => {
        const answer = await postToken(emulator, makeGrant(emulator, withKey(k)));
        // A kid the client no longer has gets the live "Unknown key identifier" text, without an MP code.
        const unknownKid = /Unknown key identifier \(kid\)/.test(String(answer.body.error_description));
        return answer.status === 200 ? 200 : `${answer.status} ${unknownKid ? 'unknown kid' : mpCode(answer)}`;
      };

      assert.equal((await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [a.publicJwk] } })).status, 201);
      assert.equal(await grantStatus(a), 200);
      assert.equal(await grantStatus(b), '400 unknown kid');

      // POST again with a and b: both work.
      const both = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [a.publicJwk, b.publicJwk] } });
      assert.deepEqual(
        (obj(both).keys as { kid: string }[]).map((k) => k.kid),
        [a.kid, b.kid],
      );
      assert.equal(await grantStatus(a), 200);
      assert.equal(await grantStatus(b), 200);

      // PUT with c only: a and b are gone.
      const put = await api(`/clients/${id}/jwks`, { method: 'PUT', body: { keys: [c.publicJwk] } });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(
        (obj(put).keys as { kid: string }[]).map((k) => k.kid),
        [c.kid],
      );
      assert.equal(await grantStatus(c), 200);
      assert.equal(await grantStatus(a), '400 unknown kid');
      assert.equal(await grantStatus(b), '400 unknown kid');

      // DELETE removes every key (protocol.md §6 (rev)).
      assert.equal((await api(`/clients/${id}/jwks`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(obj(await api(`/clients/${id}/jwks`)).keys, []);
      assert.notEqual(await grantStatus(c), 200);
    });

    it('takes at most 5 keys: 6 get 400 and the set stays as it was', async () => {
      const id = (await createViaApi()).client_id as string;
      const five = keys.slice(0, 5).map((k) => k.publicJwk);
      const ok = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: five } });
      assert.equal(ok.status, 201, ok.text);
      assert.equal((obj(ok).keys as unknown[]).length, 5);
      for (const method of ['POST', 'PUT']) {
        const six = await api(`/clients/${id}/jwks`, { method, body: { keys: keys.map((k) => k.publicJwk) } });
        assertDigdirError(six, 400, { objectName: 'Jwks', field: 'keys' });
        assert.match(String(obj(six).error_description), /5/);
      }
      assert.equal((obj(await api(`/clients/${id}/jwks`)).keys as unknown[]).length, 5);
    });

    it('checks the kid format', async () => {
      const id = (await createViaApi()).client_id as string;
      const pub = keys[0]!.publicJwk;
      for (const kid of ['has space', 'a/b', 'ü', '', 'x'.repeat(101), 'a:b', 7, null, undefined]) {
        const jwk: Record<string, unknown> = { ...pub, kid };
        if (kid === undefined) delete jwk.kid;
        const answer = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [jwk] } });
        assert.equal(answer.status, 400, `kid ${JSON.stringify(kid)}: ${answer.text}`);
        assert.match(String(obj(answer).error_description), /kid/);
      }
      for (const kid of ['abc.DEF_1-2', 'x'.repeat(100), '0']) {
        const answer = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [{ ...pub, kid }] } });
        assert.equal(answer.status, 201, `kid ${kid}: ${answer.text}`);
      }
      const twice = await api(`/clients/${id}/jwks`, {
        method: 'POST',
        body: {
          keys: [
            { ...pub, kid: 'same' },
            { ...keys[1]!.publicJwk, kid: 'same' },
          ],
        },
      });
      assert.equal(twice.status, 400, 'a kid may appear once in the set');
    });

    it('refuses private key members, without echoing them', async () => {
      const id = (await createViaApi()).client_id as string;
      const priv = keys[0]!.privateJwk;
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
        const jwk = { ...keys[0]!.publicJwk, [member]: priv[member] };
        const answer = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [jwk] } });
        assert.equal(answer.status, 400, `${member}: ${answer.text}`);
        assert.match(String(obj(answer).error_description), /private/);
        assert.ok(!answer.text.includes(priv[member]), `the answer must not echo ${member}`);
      }
      const whole = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [priv] } });
      assert.equal(whole.status, 400);
      assert.deepEqual(obj(await api(`/clients/${id}/jwks`)).keys, []);
      for (const entry of emulator.requests.entries()) {
        const logged = JSON.stringify(entry);
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) assert.ok(!logged.includes(priv[member]));
      }
    });

    it('refuses keys smaller than 2048 bits', async () => {
      const id = (await createViaApi()).client_id as string;
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
      const answer = await api(`/clients/${id}/jwks`, {
        method: 'POST',
        body: { keys: [{ ...small, kid: 'small', use: 'sig', alg: 'RS256' }] },
      });
      assert.equal(answer.status, 400, answer.text);
      assert.match(String(obj(answer).error_description), /1024|2048/);
    });

    it('refuses what is not an RSA signing key', async () => {
      const id = (await createViaApi()).client_id as string;
      const pub = keys[0]!.publicJwk;
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
      const bad: [string, unknown][] = [
        ['keys missing', {}],
        ['keys not an array', { keys: pub }],
        ['a key not an object', { keys: ['x'] }],
        ['a null key', { keys: [null] }],
        ['an EC key', { keys: [{ ...ec, kid: 'ec' }] }],
        ['use enc', { keys: [{ ...pub, use: 'enc' }] }],
        ['alg ES256', { keys: [{ ...pub, alg: 'ES256' }] }],
        ['alg HS256', { keys: [{ ...pub, alg: 'HS256' }] }],
        ['n garbage', { keys: [{ ...pub, n: '!!!' }] }],
        ['n missing', { keys: [{ kty: 'RSA', e: pub.e, kid: 'k' }] }],
        ['n a number', { keys: [{ ...pub, n: 12345 }] }],
      ];
      for (const [why, body] of bad) {
        const answer = await api(`/clients/${id}/jwks`, { method: 'POST', body });
        assertDigdirError(answer, 400, { objectName: 'Jwks', label: why });
      }
      assert.deepEqual(obj(await api(`/clients/${id}/jwks`)).keys, []);
    });

    it('gives each key an exp one year from posting', async () => {
      const id = (await createViaApi()).client_id as string;
      const before = emulator.clock.now();
      const answer = await api(`/clients/${id}/jwks`, {
        method: 'POST',
        body: { keys: [keys[0]!.publicJwk, keys[1]!.publicJwk] },
      });
      const afterNow = emulator.clock.now();
      for (const key of obj(answer).keys as { exp: number }[]) {
        assert.ok(key.exp >= Math.floor((before + YEAR_MS) / 1000), `${key.exp}`);
        assert.ok(key.exp <= Math.floor((afterNow + YEAR_MS) / 1000), `${key.exp}`);
      }
    });

    it('accepts its own GET answer back (exp and all) as a renewal', async () => {
      const id = (await createViaApi()).client_id as string;
      await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [keys[0]!.publicJwk] } });
      const got = obj(await api(`/clients/${id}/jwks`));
      const answer = await api(`/clients/${id}/jwks`, { method: 'PUT', body: got });
      assert.equal(answer.status, 200, answer.text);
      assert.equal((obj(answer).keys as { kid: string }[])[0]?.kid, keys[0]!.kid);
    });
  });

  describe('key expiry and renewal', () => {
    let clockEmulator: Emulator;
    let t: number;
    let ssToken: () => Promise<string>;

    beforeEach(async () => {
      // A frozen base clock: every "now" is exactly t until the test moves it.
      t = Date.UTC(2030, 0, 1);
      clockEmulator = await startEmulator({ clock: { now: () => t } });
      ssToken = () => adminToken(clockEmulator);
    });

    async function postKeys(id: string, jwks: RsaPublicJwk[]): Promise<HttpAnswer> {
      return call(`${clockEmulator.selfServiceUrl}/api/v1/clients/${id}/jwks`, {
        method: 'POST',
        headers: { ...bearer(await ssToken()), 'content-type': 'application/json' },
        body: JSON.stringify({ keys: jwks }),
      });
    }

    async function renewAdminKey(): Promise<void> {
      const admin = adminAsClient(clockEmulator);
      const { kid, n, e, alg, use } = admin.privateJwk!;
      const answer = await postKeys(admin.clientId, [{ kty: 'RSA', kid, n, e, alg, use } as RsaPublicJwk]);
      assert.equal(answer.status, 201, answer.text);
    }

    it('keys work for a year after posting, then MP-121; re-posting renews', async () => {
      try {
        const created = await call(`${clockEmulator.selfServiceUrl}/api/v1/clients`, {
          method: 'POST',
          headers: { ...bearer(await ssToken()), 'content-type': 'application/json' },
          body: JSON.stringify({ client_name: 'yearly', scopes: ['test:yearly'] }),
        });
        const id = obj(created).client_id as string;
        const first = keys[0]!;
        const second = keys[1]!;
        const posted = await postKeys(id, [first.publicJwk, second.publicJwk]);
        for (const key of obj(posted).keys as { exp: number }[]) assert.equal(key.exp, (t + YEAR_MS) / 1000);

        const grant = (k: GeneratedKeyPair) =>
          postToken(clockEmulator, makeGrant(clockEmulator, asClient(clockEmulator, id, ['test:yearly'], k)));

        // 300 days on: both work; re-posting the same keys gives each a fresh year from now.
        t += 300 * DAY_MS;
        assert.equal((await grant(first)).status, 200);
        assert.equal((await grant(second)).status, 200);
        await renewAdminKey();
        const again = await postKeys(id, [first.publicJwk, second.publicJwk]);
        assert.equal(again.status, 201, again.text);
        for (const key of obj(again).keys as { exp: number }[]) assert.equal(key.exp, (t + YEAR_MS) / 1000);

        // 400 days after the first posting (100 after the renewal): still good.
        t += 100 * DAY_MS;
        assert.equal((await grant(first)).status, 200);
        assert.equal((await grant(second)).status, 200);

        // One year and a second after the renewal: MP-121.
        t += 265 * DAY_MS + 1000;
        const expired = await grant(first);
        assert.equal(expired.status, 400, JSON.stringify(expired.body));
        assert.equal(expired.body.error, 'invalid_grant');
        assert.equal(mpCode(expired), 'MP-121');
      } finally {
        await clockEmulator.close();
      }
    });

    it('a key posted with its own exp works until then, then MP-121 (protocol.md §6 (rev), §4)', async () => {
      try {
        const client = await clockEmulator.createClient({ scopes: ['test:weekly'], jwks: [] });
        const exp = t / 1000 + 7 * 24 * 3600;
        const posted = await postKeys(client.clientId, [{ ...keys[0]!.publicJwk, exp } as RsaPublicJwk]);
        assert.equal(posted.status, 201, posted.text);
        assert.equal((obj(posted).keys as { exp: number }[])[0]?.exp, exp);
        const grant = () =>
          postToken(
            clockEmulator,
            makeGrant(clockEmulator, asClient(clockEmulator, client.clientId, ['test:weekly'], keys[0]!)),
          );
        t += 7 * DAY_MS - 1000;
        assert.equal((await grant()).status, 200);
        t += 2000;
        const expired = await grant();
        assert.equal(expired.status, 400, JSON.stringify(expired.body));
        assert.equal(mpCode(expired), 'MP-121');
      } finally {
        await clockEmulator.close();
      }
    });

    it('a key posted once expires after a year while a re-posted one goes on', async () => {
      try {
        const lasting = await clockEmulator.createClient({ scopes: ['test:lasting'], jwks: [] });
        const lapsing = await clockEmulator.createClient({ scopes: ['test:lapsing'], jwks: [] });
        assert.equal((await postKeys(lasting.clientId, [keys[0]!.publicJwk])).status, 201);
        assert.equal((await postKeys(lapsing.clientId, [keys[1]!.publicJwk])).status, 201);
        const grant = (clientId: string, scope: string, k: GeneratedKeyPair) =>
          postToken(clockEmulator, makeGrant(clockEmulator, asClient(clockEmulator, clientId, [scope], k)));

        t += 200 * DAY_MS;
        await renewAdminKey();
        assert.equal((await postKeys(lasting.clientId, [keys[0]!.publicJwk])).status, 201);

        // Just inside the year of the first posting: both work.
        t += 165 * DAY_MS - 1000;
        assert.equal((await grant(lasting.clientId, 'test:lasting', keys[0]!)).status, 200);
        assert.equal((await grant(lapsing.clientId, 'test:lapsing', keys[1]!)).status, 200);

        // Just past it: the key posted once is expired; the re-posted one still works.
        t += 2000;
        const lapsed = await grant(lapsing.clientId, 'test:lapsing', keys[1]!);
        assert.equal(lapsed.status, 400);
        assert.equal(mpCode(lapsed), 'MP-121');
        assert.equal((await grant(lasting.clientId, 'test:lasting', keys[0]!)).status, 200);

        // Re-posting the lapsed key brings it back.
        await renewAdminKey();
        assert.equal((await postKeys(lapsing.clientId, [keys[1]!.publicJwk])).status, 201);
        assert.equal((await grant(lapsing.clientId, 'test:lapsing', keys[1]!)).status, 200);
      } finally {
        await clockEmulator.close();
      }
    });
  });

  it('supports the whole onboarding flow: create, post a key, get a token, use it', async () => {
    emulator.defineScope({ name: 'test:onboarding' });
    // 1. The administrator creates the integration.
    const created = await createViaApi({ client_name: 'onboarded', scopes: ['test:onboarding'] });
    const id = created.client_id as string;
    // 2. The new client generates its key pair where it will be used; before the key is posted it gets no token.
    const key = await generateRsaKeyPair();
    const client = asClient(emulator, id, ['test:onboarding'], key);
    const early = await postToken(emulator, makeGrant(emulator, client));
    assert.equal(early.status, 400);
    assert.match(String(early.body.error_description), /Unknown key identifier \(kid\)/);
    // 3. The administrator posts the public half.
    const posted = await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [key.publicJwk] } });
    assert.equal(posted.status, 201, posted.text);
    // 4. The client gets a token, which jose verifies against /jwk.
    const answer = await postToken(emulator, makeGrant(emulator, client));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const { payload } = await jwtVerify(
      answer.body.access_token as string,
      createRemoteJWKSet(new URL(`${emulator.url}/jwk`)),
      { issuer: emulator.issuer, currentDate: new Date(emulator.clock.now()) },
    );
    assert.equal(payload.client_id, id);
    assert.equal(payload.scope, 'test:onboarding');
    // 5. It works at the echo API and the Altinn exchange.
    const echo = await call(`${emulator.url}/api/echo?scope=test:onboarding`, {
      headers: bearer(answer.body.access_token as string),
    });
    assert.equal(echo.status, 200, echo.text);
    const altinn = await altinnToken(emulator, answer.body.access_token as string);
    assert.ok(altinn.split('.').length === 3);
  });

  describe('authentication and authorisation', () => {
    it('401 without a token or with a bad one, with a Bearer challenge', async () => {
      const stranger = await startEmulator();
      let foreign: string;
      try {
        foreign = await adminToken(stranger);
      } finally {
        await stranger.close();
      }
      const altinn = await altinnToken(emulator, token);
      const [h, p] = token.split('.');
      const forged = `${h}.${p}.${Buffer.from('nope').toString('base64url')}`;
      for (const [why, t] of [
        ['none', null],
        ['garbage', 'garbage'],
        ['forged signature', forged],
        ['another emulator’s admin token', foreign],
        ['an Altinn token', altinn],
      ] as const) {
        for (const path of ['/clients', `/clients/${emulator.adminClient.clientId}`, '/scopes?scope=x:y']) {
          const answer = await api(path, { token: t });
          assert.equal(answer.status, 401, `${why} ${path}: ${answer.text}`);
          assert.equal(obj(answer).error, 'invalid_token');
          assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
        }
        const post = await api('/clients', { method: 'POST', token: t, body: { client_name: 'x' } });
        assert.equal(post.status, 401, why);
      }
    });

    it('401 for an expired admin token', async () => {
      const shortLived = await adminToken(emulator);
      const offset = emulator.clock.offsetMs;
      try {
        emulator.clock.advance(200_000);
        const answer = await api('/clients', { token: shortLived });
        assert.equal(answer.status, 401, answer.text);
      } finally {
        emulator.clock.setOffset(offset);
      }
    });

    it('403 for a token without idporten:dcr.* scopes', async () => {
      const ordinary = await emulator.createClient({ scopes: ['test:read'] });
      const t = await accessToken(emulator, ordinary);
      for (const [method, path, body] of [
        ['GET', '/clients', undefined],
        ['POST', '/clients', { client_name: 'x' }],
        ['GET', `/clients/${ordinary.clientId}`, undefined],
        ['PUT', `/clients/${ordinary.clientId}`, { client_name: 'x' }],
        ['DELETE', `/clients/${ordinary.clientId}`, undefined],
        ['GET', `/clients/${ordinary.clientId}/jwks`, undefined],
        ['POST', `/clients/${ordinary.clientId}/jwks`, { keys: [] }],
      ] as const) {
        const answer = await api(path, { method, body, token: t });
        assert.equal(answer.status, 403, `${method} ${path}: ${answer.text}`);
        assert.equal(obj(answer).error, 'insufficient_scope');
      }
      assert.equal(emulator.getClient(ordinary.clientId)?.active, true);
      assert.equal(emulator.getClient(ordinary.clientId)?.keys.length, 1);
    });

    it('idporten:dcr.read may read but not create, change or delete', async () => {
      const readOnly = await adminToken(emulator, ['idporten:dcr.read']);
      const target = (await createViaApi({ client_name: 'read-only target' })).client_id as string;
      assert.equal((await api('/clients', { token: readOnly })).status, 200);
      assert.equal((await api(`/clients/${target}`, { token: readOnly })).status, 200);
      assert.equal((await api(`/clients/${target}/jwks`, { token: readOnly })).status, 200);
      for (const [method, path, body] of [
        ['POST', '/clients', { client_name: 'x' }],
        ['PUT', `/clients/${target}`, { client_name: 'x' }],
        ['DELETE', `/clients/${target}`, undefined],
        ['POST', `/clients/${target}/jwks`, { keys: [] }],
        ['PUT', `/clients/${target}/jwks`, { keys: [] }],
      ] as const) {
        const answer = await api(path, { method, body, token: readOnly });
        assert.equal(answer.status, 403, `${method} ${path}: ${answer.text}`);
      }
    });

    it('idporten:dcr.modify may change and post keys but not create', async () => {
      const modify = await adminToken(emulator, ['idporten:dcr.modify']);
      const target = (await createViaApi({ client_name: 'modify target' })).client_id as string;
      assert.equal((await api('/clients', { method: 'POST', token: modify, body: { client_name: 'x' } })).status, 403);
      assert.equal(
        (await api(`/clients/${target}`, { method: 'PUT', token: modify, body: { client_name: 'y' } })).status,
        200,
      );
      assert.equal(
        (await api(`/clients/${target}/jwks`, { method: 'PUT', token: modify, body: { keys: [keys[3]!.publicJwk] } }))
          .status,
        200,
      );
    });
  });

  describe('the live API’s rules (protocol.md §6 (rev))', () => {
    it('refuses a key without use, naming keys[i].use, and keeps the set as it was', async () => {
      const id = (await createViaApi()).client_id as string;
      assert.equal(
        (await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [keys[0]!.publicJwk] } })).status,
        201,
      );
      const { use: _use, ...withoutUse } = keys[1]!.publicJwk;
      for (const method of ['POST', 'PUT']) {
        const answer = await api(`/clients/${id}/jwks`, {
          method,
          body: { keys: [keys[0]!.publicJwk, withoutUse] },
        });
        const [entry] = assertDigdirError(answer, 400, { objectName: 'Jwks', field: 'keys[1].use' });
        assert.match(entry!.errorMessage, /use/);
        assert.match(entry!.errorMessage, /"sig"/);
      }
      const kids = (obj(await api(`/clients/${id}/jwks`)).keys as { kid: string }[]).map((k) => k.kid);
      assert.deepEqual(kids, [keys[0]!.kid]);
      // The same key with use "sig" added, as okdata patches keys it read back, is taken.
      const patched = await api(`/clients/${id}/jwks`, {
        method: 'POST',
        body: { keys: [{ ...withoutUse, use: 'sig' }] },
      });
      assert.equal(patched.status, 201, patched.text);
    });

    it('stores a posted exp as posted and reads it back; at most one year ahead', async () => {
      const id = (await createViaApi()).client_id as string;
      const nowS = Math.floor(emulator.clock.now() / 1000);
      const in90days = nowS + 90 * 24 * 3600;
      const posted = await api(`/clients/${id}/jwks`, {
        method: 'POST',
        body: { keys: [{ ...keys[0]!.publicJwk, exp: in90days }, keys[1]!.publicJwk] },
      });
      assert.equal(posted.status, 201, posted.text);
      const read = obj(await api(`/clients/${id}/jwks`)).keys as { kid: string; exp: number }[];
      assert.equal(read.find((k) => k.kid === keys[0]!.kid)?.exp, in90days, 'the posted exp');
      const yearly = read.find((k) => k.kid === keys[1]!.kid)?.exp ?? 0;
      assert.ok(Math.abs(yearly - (nowS + YEAR_MS / 1000)) <= 5, 'one year when none was posted');
      // Exactly one year is allowed.
      const oneYear = await api(`/clients/${id}/jwks`, {
        method: 'PUT',
        body: { keys: [{ ...keys[0]!.publicJwk, exp: nowS + YEAR_MS / 1000 }] },
      });
      assert.equal(oneYear.status, 200, oneYear.text);
      for (const [why, exp] of [
        ['more than a year', nowS + YEAR_MS / 1000 + 2 * 24 * 3600],
        ['two years', nowS + 2 * (YEAR_MS / 1000)],
        ['not whole seconds', nowS + 3600.5],
        ['a string', String(nowS + 3600)],
      ] as const) {
        const answer = await api(`/clients/${id}/jwks`, {
          method: 'POST',
          body: { keys: [{ ...keys[2]!.publicJwk, exp }] },
        });
        assertDigdirError(answer, 400, { objectName: 'Jwks', field: 'keys[0].exp', label: why });
      }
      const kids = (obj(await api(`/clients/${id}/jwks`)).keys as { kid: string }[]).map((k) => k.kid);
      assert.deepEqual(kids, [keys[0]!.kid], 'a refused set changes nothing');
    });

    it('stores a past exp as posted (a read-back set re-posted); grants with that key get MP-121', async () => {
      const id = (await createViaApi({ scopes: ['test:pastexp'] })).client_id as string;
      const past = Math.floor(emulator.clock.now() / 1000) - 3600;
      const posted = await api(`/clients/${id}/jwks`, {
        method: 'POST',
        body: { keys: [{ ...keys[3]!.publicJwk, exp: past }, keys[4]!.publicJwk] },
      });
      assert.equal(posted.status, 201, posted.text);
      assert.equal((obj(posted).keys as { exp: number }[])[0]?.exp, past);
      const expired = await postToken(
        emulator,
        makeGrant(emulator, asClient(emulator, id, ['test:pastexp'], keys[3]!)),
      );
      assert.equal(mpCode(expired), 'MP-121', JSON.stringify(expired.body));
      const fine = await postToken(emulator, makeGrant(emulator, asClient(emulator, id, ['test:pastexp'], keys[4]!)));
      assert.equal(fine.status, 200, JSON.stringify(fine.body));
    });

    it('DELETE …/jwks removes the key set: 204, no keys, and grants with them fail', async () => {
      const id = (await createViaApi({ scopes: ['test:deletekeys'] })).client_id as string;
      const key = keys[4]!;
      assert.equal((await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [key.publicJwk] } })).status, 201);
      const client = asClient(emulator, id, ['test:deletekeys'], key);
      assert.equal((await postToken(emulator, makeGrant(emulator, client))).status, 200);
      const deleted = await api(`/clients/${id}/jwks`, { method: 'DELETE' });
      assert.equal(deleted.status, 204, deleted.text);
      assert.equal(deleted.text, '');
      const view = obj(await api(`/clients/${id}/jwks`));
      assert.deepEqual(view.keys, []);
      assert.ok(!Number.isNaN(Date.parse(view.last_updated as string)));
      const refused = await postToken(emulator, makeGrant(emulator, client));
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      // Deleting again is harmless; another organisation's or an unknown client's set is 404.
      assert.equal((await api(`/clients/${id}/jwks`, { method: 'DELETE' })).status, 204);
      assertDigdirError(await api('/clients/nope/jwks', { method: 'DELETE' }), 404, { objectName: 'Client' });
      const readOnly = await adminToken(emulator, ['idporten:dcr.read']);
      assertDigdirError(await api(`/clients/${id}/jwks`, { method: 'DELETE', token: readOnly }), 403);
    });

    it('refuses an empty key set on POST and PUT, pointing at DELETE, and keeps the set', async () => {
      const id = (await createViaApi()).client_id as string;
      assert.equal(
        (await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [keys[0]!.publicJwk] } })).status,
        201,
      );
      for (const method of ['POST', 'PUT']) {
        const answer = await api(`/clients/${id}/jwks`, { method, body: { keys: [] } });
        const [entry] = assertDigdirError(answer, 400, { objectName: 'Jwks', field: 'keys' });
        assert.match(entry!.errorMessage, /DELETE/);
      }
      assert.equal((obj(await api(`/clients/${id}/jwks`)).keys as unknown[]).length, 1);
    });

    it('access_token_lifetime 0 means the default (120 s), on create and on update (protocol.md §3, §6)', async () => {
      const created = await createViaApi({ access_token_lifetime: 0, scopes: ['test:zero'] });
      assert.equal(created.access_token_lifetime, 120);
      const id = created.client_id as string;
      const key = keys[5]!;
      assert.equal((await api(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [key.publicJwk] } })).status, 201);
      const client = asClient(emulator, id, ['test:zero'], key);
      const first = await postToken(emulator, makeGrant(emulator, client));
      assert.equal(first.body.expires_in, 120, JSON.stringify(first.body));
      assert.equal(
        obj(await api(`/clients/${id}`, { method: 'PUT', body: { access_token_lifetime: 30 } })).access_token_lifetime,
        30,
      );
      assert.equal((await postToken(emulator, makeGrant(emulator, client))).body.expires_in, 30);
      const reset = await api(`/clients/${id}`, { method: 'PUT', body: { access_token_lifetime: 0 } });
      assert.equal(obj(reset).access_token_lifetime, 120);
      assert.equal((await postToken(emulator, makeGrant(emulator, client))).body.expires_in, 120);
    });

    it('GET /api/v1/scopes/all is public, shows the full scope object, and filters on accessible_for_all', async () => {
      emulator.defineScope({ name: 'test:public', atMaxAge: 60, description: 'listed' });
      emulator.defineScope({ name: 'test:forall', accessibleForAll: true });
      emulator.defineScope({ name: 'test:hidden', visibility: 'PRIVATE' });
      const answer = await call(`${emulator.selfServiceUrl}/api/v1/scopes/all`);
      assert.equal(answer.status, 200, answer.text);
      const all = answer.json as Record<string, unknown>[];
      const listed = all.find((s) => s.name === 'test:public');
      const defined = new Date(emulator.clock.now()).toISOString();
      assert.deepEqual(
        { ...listed, created: defined, last_updated: defined },
        {
          prefix: 'test',
          subscope: 'public',
          name: 'test:public',
          description: 'listed',
          long_description: '',
          token_type: 'SELF_CONTAINED',
          visibility: 'PUBLIC',
          allowed_integration_types: ['maskinporten'],
          delegation_source: null,
          at_max_age: 60,
          authorization_max_lifetime: 0,
          accessible_for_all: false,
          requires_user_consent: false,
          requires_user_authentication: false,
          requires_pseudonymous_tokens: false,
          active: true,
          owner_orgno: null,
          created: defined,
          last_updated: defined,
        },
      );
      assert.ok(!Number.isNaN(Date.parse(String(listed?.created))));
      assert.ok(!all.some((s) => s.name === 'test:hidden'), 'a PRIVATE scope is not in the public list');
      const forAll = (await call(`${emulator.selfServiceUrl}/api/v1/scopes/all?accessible_for_all=true`)).json as {
        name: string;
        accessible_for_all: boolean;
      }[];
      assert.ok(forAll.some((s) => s.name === 'test:forall'));
      assert.ok(forAll.every((s) => s.accessible_for_all === true));
      assertDigdirError(await call(`${emulator.selfServiceUrl}/api/v1/scopes/all?accessible_for_all=maybe`), 400, {
        objectName: 'Scope',
        field: 'accessible_for_all',
      });
    });

    it('answers every failure in Digdir’s error body', async () => {
      const ordinary = await emulator.createClient({ scopes: ['test:plain'] });
      const plain = await accessToken(emulator, ordinary);
      assertDigdirError(await api('/clients', { token: null }), 401);
      assertDigdirError(await api('/clients', { token: 'garbage' }), 401);
      assertDigdirError(await api('/clients', { token: plain }), 403);
      assertDigdirError(await api('/clients/00000000-0000-4000-8000-000000000000'), 404, { objectName: 'Client' });
      assertDigdirError(await api('/no/such/thing'), 404);
      assertDigdirError(await api('/clients', { method: 'POST', body: '{' }), 400);
      assertDigdirError(await api('/clients', { method: 'POST', body: '[]' }), 400);
      const form = await call(`${emulator.selfServiceUrl}/api/v1/clients`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'text/plain' },
        body: 'x',
      });
      assertDigdirError(form, 415);
      const huge = await api('/clients', { method: 'POST', body: JSON.stringify({ client_name: 'x'.repeat(70_000) }) });
      assertDigdirError(huge, 413);
      const unauthorised = await api('/clients', { token: null });
      assert.match(unauthorised.headers.get('www-authenticate') ?? '', /^Bearer/);
      // The trace id the emulator logs is the correlation_id the caller sees.
      assert.equal(obj(unauthorised).correlation_id, unauthorised.headers.get('x-trace-id'));
    });
  });

  describe('first-edition aliases at the bare paths', () => {
    const bare = (path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) => {
      const headers: Record<string, string> = {};
      const t = init.token === undefined ? token : init.token;
      if (t !== null) headers.authorization = `Bearer ${t}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      return call(`${emulator.selfServiceUrl}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    };

    it('create, key set and delete answer as before (201 + Location, 200, 200 with the client)', async () => {
      const created = await bare('/clients', {
        method: 'POST',
        body: { client_name: 'alias', scopes: ['test:alias'] },
      });
      assert.equal(created.status, 201, created.text);
      const id = obj(created).client_id as string;
      assert.equal(created.headers.get('location'), `${emulator.selfServiceUrl}/clients/${id}`);
      assert.deepEqual((await bare(`/clients/${id}`)).json, (await api(`/clients/${id}`)).json, 'the same client');
      const { use: _use, ...noUse } = keys[0]!.publicJwk;
      const posted = await bare(`/clients/${id}/jwks`, { method: 'POST', body: { keys: [noUse] } });
      assert.equal(posted.status, 200, posted.text);
      assert.equal((obj(posted).keys as { use: string }[])[0]?.use, 'sig');
      const cleared = await bare(`/clients/${id}/jwks`, { method: 'PUT', body: { keys: [] } });
      assert.equal(cleared.status, 200, cleared.text);
      assert.deepEqual(obj(cleared).keys, []);
      const deleted = await bare(`/clients/${id}`, { method: 'DELETE' });
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal(obj(deleted).active, false);
    });

    it('errors stay {error, error_description}', async () => {
      const missing = await bare('/clients/nope');
      assert.equal(missing.status, 404);
      assert.deepEqual(Object.keys(obj(missing)).sort(), ['error', 'error_description']);
      assert.equal(obj(missing).error, 'not_found');
      const invalid = await bare('/clients', { method: 'POST', body: { client_name: 7 } });
      assert.equal(invalid.status, 400);
      assert.equal(obj(invalid).error, 'invalid_client_metadata');
      const noToken = await bare('/clients', { token: null });
      assert.equal(noToken.status, 401);
      assert.equal(obj(noToken).error, 'invalid_token');
    });

    it('/scopes/all needs a token and lists name, description, at_max_age and accessible_for_all', async () => {
      emulator.defineScope({ name: 'test:listed', atMaxAge: 60, accessibleForAll: true, description: 'listed' });
      assert.equal((await bare('/scopes/all', { token: null })).status, 401);
      const answer = await bare('/scopes/all');
      assert.equal(answer.status, 200, answer.text);
      const listed = (answer.json as Record<string, unknown>[]).find((s) => s.name === 'test:listed');
      assert.deepEqual(listed, {
        name: 'test:listed',
        description: 'listed',
        at_max_age: 60,
        accessible_for_all: true,
      });
    });

    it('has no DELETE on the key set and no scope administration', async () => {
      const jwks = await bare(`/clients/${emulator.adminClient.clientId}/jwks`, { method: 'DELETE' });
      assert.equal(jwks.status, 405);
      assert.equal(jwks.headers.get('allow'), 'GET, POST, PUT, HEAD');
      assert.equal((await bare('/scopes?scope=test:x')).status, 404);
    });
  });

  it('answers 405 with Allow for methods an endpoint lacks, in Digdir’s error body (protocol.md §6)', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/clients', 'GET, POST, HEAD'],
      ['PUT', '/clients', 'GET, POST, HEAD'],
      ['PATCH', '/clients', 'GET, POST, HEAD'],
      ['POST', `/clients/${emulator.adminClient.clientId}`, 'GET, PUT, DELETE, HEAD'],
      ['PATCH', `/clients/${emulator.adminClient.clientId}/jwks`, 'GET, POST, PUT, DELETE, HEAD'],
      ['POST', '/scopes/all', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await api(path, { method });
      assertDigdirError(answer, 405);
      assert.equal(answer.headers.get('allow'), allow, `${method} ${path}`);
      assert.equal(obj(answer).error, 'method_not_allowed');
    }
  });
});
