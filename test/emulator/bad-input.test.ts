import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type CreatedClient, type Emulator, MAX_BODY_BYTES, startEmulator } from '../../src/emulator/index.ts';
import { JWT_BEARER_GRANT_TYPE } from '../../src/protocol/constants.ts';
import { accessToken, makeGrant, postToken } from '../helpers/grants.ts';
import { adminToken, call, exchangeUrl, type HttpAnswer, rawRequest } from '../helpers/http.ts';

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Asserts the answer is a JSON error below 500. */
function assertJsonError(
  answer: { status: number; text: string; headers: Headers | Record<string, unknown> },
  what: string,
) {
  assert.ok(
    answer.status >= 400 && answer.status < 500,
    `${what}: status ${answer.status} ${answer.text.slice(0, 300)}`,
  );
  const type =
    answer.headers instanceof Headers
      ? answer.headers.get('content-type')
      : (answer.headers['content-type'] as string | undefined);
  assert.match(type ?? '', /^application\/(problem\+)?json/, `${what}: content type ${type}`);
  let body: unknown;
  assert.doesNotThrow(
    () => {
      body = JSON.parse(answer.text);
    },
    `${what}: not JSON: ${answer.text.slice(0, 200)}`,
  );
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), what);
}

/** Writes raw bytes to the emulator's socket and returns everything it answers. */
function rawSocket(url: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

describe('bad input never crashes the emulator or produces a 500', () => {
  let emulator: Emulator;
  let client: CreatedClient;
  let admin: string;
  let mpToken: string;

  before(async () => {
    emulator = await startEmulator();
    client = await emulator.createClient({ scopes: ['test:read'] });
    admin = await adminToken(emulator);
    mpToken = await accessToken(emulator, client);
  });
  after(async () => {
    // Whatever was thrown at it, the emulator still works and never answered 500.
    // (A fresh client: the randomized requests may have deleted or re-keyed the others.)
    const fresh = await emulator.createClient({ scopes: ['test:read'] });
    const healthy = await postToken(emulator, makeGrant(emulator, fresh));
    assert.equal(healthy.status, 200);
    const errors = emulator.requests.entries().filter((e) => e.status >= 500);
    await emulator.close();
    assert.deepEqual(errors, []);
  });

  describe('the token endpoint', () => {
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

    it('malformed forms get JSON errors', async () => {
      const bodies: [string, string, string][] = [
        ['empty body', '', 'application/x-www-form-urlencoded'],
        ['no grant_type', form({ assertion: 'a.b.c' }), 'application/x-www-form-urlencoded'],
        ['no assertion', form({ grant_type: JWT_BEARER_GRANT_TYPE }), 'application/x-www-form-urlencoded'],
        [
          'empty assertion',
          form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: '' }),
          'application/x-www-form-urlencoded',
        ],
        ['other grant type', form({ grant_type: 'client_credentials' }), 'application/x-www-form-urlencoded'],
        ['bad percent-encoding', 'grant_type=%zz&assertion=%', 'application/x-www-form-urlencoded'],
        [
          'repeated fields',
          `${form({ grant_type: JWT_BEARER_GRANT_TYPE })}&grant_type=x&assertion=a&assertion=b`,
          'application/x-www-form-urlencoded',
        ],
        ['just ampersands', '&&&&===&', 'application/x-www-form-urlencoded'],
        ['JSON body', JSON.stringify({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: 'a.b.c' }), 'application/json'],
        ['form as text/plain', form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: 'a.b.c' }), 'text/plain'],
        ['no content type', form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: 'a.b.c' }), ''],
        ['content type with junk params', 'x', 'application/x-www-form-urlencoded; charset=nonsense; ;;='],
        ['NUL bytes', 'grant_type=\u0000&assertion=\u0000.\u0000.\u0000', 'application/x-www-form-urlencoded'],
      ];
      for (const [why, body, contentType] of bodies) {
        const answer = await call(emulator.tokenEndpoint, {
          method: 'POST',
          headers: contentType ? { 'content-type': contentType } : {},
          body,
        });
        assertJsonError(answer, why);
      }
    });

    it('garbage JWTs get JSON errors', async () => {
      const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
      const good = makeGrant(emulator, client);
      const [h, p, s] = good.split('.') as [string, string, string];
      const assertions: string[] = [
        'x',
        'a.b',
        'a.b.c',
        'a.b.c.d',
        'a.b.c.d.e',
        '...',
        '..',
        `${h}..${s}`,
        `.${p}.${s}`,
        `${h}.${p}`,
        `${b64('null')}.${p}.${s}`,
        `${b64('[]')}.${p}.${s}`,
        `${b64('"str"')}.${p}.${s}`,
        `${b64({})}.${p}.${s}`,
        `${b64({ alg: 7 })}.${p}.${s}`,
        `${b64({ alg: 'none' })}.${p}.`,
        `${b64({ alg: 'RS256', kid: 7 })}.${p}.${s}`,
        `${b64({ alg: 'RS256', kid: { a: 1 } })}.${p}.${s}`,
        `${b64({ alg: 'RS256', x5c: 'abc' })}.${p}.${s}`,
        `${b64({ alg: 'RS256', x5c: [1, null, {}] })}.${p}.${s}`,
        `${b64({ alg: 'RS256', x5c: ['not base64!'] })}.${p}.${s}`,
        `${b64({ alg: 'RS256', x5c: [Buffer.from('garbage der').toString('base64')] })}.${p}.${s}`,
        `${h}.${b64('not json')}.${s}`,
        `${h}.${b64('[]')}.${s}`,
        `${h}.${b64({ iss: 7, aud: [], iat: 'x', exp: null, scope: {} })}.${s}`,
        `${h}.${b64({ iss: client.clientId, aud: emulator.issuer, iat: 1e300, exp: -1, scope: 'test:read' })}.${s}`,
        `${h}.${b64({ iss: { toString: 1 }, __proto__: { admin: true } })}.${s}`,
        `${h}.${b64({ iss: client.clientId, constructor: 1, authorization_details: 'x', resource: 5 })}.${s}`,
        `${h}.${p}.${'A'.repeat(10_000)}`,
        `${h}.${p}.!!!`,
        `${h}.${p}.${s}=`,
        good.replaceAll('.', '..'),
        `${'a'.repeat(60_000)}.b.c`,
        '\u00ff\u00fe.\u0000.\u2028',
      ];
      for (const assertion of assertions) {
        const answer = await postToken(emulator, assertion);
        assert.ok(answer.status >= 400 && answer.status < 500, `${assertion.slice(0, 80)}: ${answer.status}`);
        assert.equal(typeof answer.body.error, 'string', `${assertion.slice(0, 80)}: ${JSON.stringify(answer.body)}`);
        assert.ok(!('unparsed' in answer.body), assertion.slice(0, 80));
      }
    });
  });

  describe('huge bodies', () => {
    const huge = 'a'.repeat(MAX_BODY_BYTES + 1);

    it('the limit is 64 KiB', () => {
      assert.equal(MAX_BODY_BYTES, 64 * 1024);
    });

    it('get 413 with a JSON error at every endpoint that reads a body', async () => {
      const targets: [string, string, Record<string, string>][] = [
        [emulator.tokenEndpoint, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }],
        [
          `${emulator.selfServiceUrl}/clients`,
          'POST',
          { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        ],
        [
          `${emulator.selfServiceUrl}/clients/${client.clientId}/jwks`,
          'PUT',
          { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        ],
        [`${emulator.url}/_emulator/faults`, 'POST', { 'content-type': 'application/json' }],
        [`${emulator.url}/_emulator/clients`, 'POST', { 'content-type': 'application/json' }],
      ];
      for (const [url, method, headers] of targets) {
        const answer = await call(url, { method, headers, body: huge });
        assert.equal(answer.status, 413, `${method} ${url}: ${answer.text}`);
        assertJsonError(answer, `${method} ${url}`);
      }
    });

    it('get 413 when sent chunked, without a Content-Length', async () => {
      const chunk = Buffer.alloc(16 * 1024, 'a');
      const answer = await rawRequest(emulator.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
        body: Array.from({ length: 8 }, () => chunk),
      });
      assert.equal(answer.status, 413, answer.text);
      assertJsonError(answer, 'chunked');
    });

    it('a body of exactly the limit is read (and refused on its merits)', async () => {
      const answer = await call(emulator.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=${'x'.repeat(MAX_BODY_BYTES - 'grant_type='.length)}`,
      });
      assert.equal(answer.status, 400, answer.text);
      assertJsonError(answer, 'at the limit');
    });
  });

  describe('methods and paths', () => {
    it('wrong methods get 405 with Allow and a JSON error', async () => {
      const cases: [string, string, string][] = [
        ['GET', '/token', 'POST'],
        ['PUT', '/token', 'POST'],
        ['DELETE', '/token', 'POST'],
        ['PATCH', '/token', 'POST'],
        ['OPTIONS', '/token', 'POST'],
        ['POST', '/jwk', 'GET, HEAD'],
        ['DELETE', '/.well-known/oauth-authorization-server', 'GET, HEAD'],
        ['POST', '/authentication/api/v1/exchange/maskinporten', 'GET, HEAD'],
        ['PUT', '/authentication/api/v1/openid/.well-known/openid-configuration/jwks', 'GET, HEAD'],
        ['GET', '/notifications/api/v1/orders', 'POST'],
        ['PATCH', '/clients', 'GET, POST, HEAD'],
        ['GET', '/_emulator/clients', 'POST'],
        ['PUT', '/_emulator/clock', 'GET, POST, HEAD'],
      ];
      for (const [method, path, allow] of cases) {
        const answer = await call(`${emulator.url}${path}`, { method });
        assert.equal(answer.status, 405, `${method} ${path}`);
        assert.equal(answer.headers.get('allow'), allow, `${method} ${path}`);
        assertJsonError(answer, `${method} ${path}`);
      }
    });

    it('HEAD is GET without a body where GET exists; odd methods (PROPFIND, custom) get 405, not a crash', async () => {
      const head = await rawRequest(`${emulator.url}/token`, { method: 'HEAD' });
      assert.equal(head.status, 405);
      const jwks = await fetch(`${emulator.url}/jwk`, { method: 'HEAD' });
      assert.equal(jwks.status, 200);
      assert.match(jwks.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(await jwks.text(), '');
      for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'SEARCH']) {
        const answer = await rawRequest(`${emulator.url}/token`, { method });
        assert.ok(answer.status === 405 || answer.status === 400, `${method}: ${answer.status}`);
        assertJsonError(answer, method);
      }
    });

    it('unknown paths get 404 with a JSON error', async () => {
      for (const path of [
        '/nope',
        '/token/',
        '/token/extra',
        '/jwk.json',
        '/TOKEN',
        '/clients/a/b/c',
        '/clients//jwks',
        '/_emulator',
        '/_emulator/unknown',
        '/%00',
        '/%ZZ',
        '/..%2f..%2fetc%2fpasswd',
        '/authentication/api/v1/exchange/maskinporten/extra',
        `/${'x'.repeat(4000)}`,
        '/nope?'.padEnd(3000, '&'),
      ]) {
        const answer = await call(`${emulator.url}${path}`);
        assert.equal(answer.status, 404, path.slice(0, 60));
        assertJsonError(answer, path.slice(0, 60));
      }
    });

    it('odd request targets get a JSON 400 or 404', async () => {
      for (const path of ['//evil.example/token', '*', 'http://evil.example/token', '/token#frag', '/a b']) {
        let answer: { status: number; text: string; headers: Record<string, unknown> };
        try {
          answer = await rawRequest(emulator.url, { path });
        } catch {
          continue; // node:http refuses to send some of these itself
        }
        assertJsonError(answer, path);
      }
    });

    it('garbage on the socket gets a 400 and the server carries on', async () => {
      for (const bytes of [
        'NOT HTTP AT ALL\r\n\r\n',
        'GET / HTTP/9.9\r\n\r\n',
        'GET /jwk HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
        'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        `GET /jwk HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        '\u0000\u0001\u0002\r\n\r\n',
      ]) {
        const answer = await rawSocket(emulator.url, bytes);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        assert.ok(status >= 400 && status < 500, `${JSON.stringify(bytes.slice(0, 40))}: ${answer.slice(0, 80)}`);
      }
      assert.equal((await call(`${emulator.url}/jwk`)).status, 200);
    });

    it('a client that hangs up mid-body does not hurt the server', async () => {
      const u = new URL(emulator.tokenEndpoint);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(u.port), u.hostname, () => {
          socket.write(
            'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=',
          );
          setImmediate(() => {
            socket.destroy();
            resolve();
          });
        });
      });
      assert.equal((await call(`${emulator.url}/jwk`)).status, 200);
    });
  });

  describe('token lifetimes', () => {
    it('are bounded to 24 h, with a clear error naming the setting, in code and over HTTP', async () => {
      for (const lifetime of [1e300, 86_401, 2 ** 53]) {
        await assert.rejects(
          emulator.createClient({ scopes: ['a'], accessTokenLifetime: lifetime }),
          (err: Error & { code?: string; setting?: string }) =>
            err.code === 'ERR_INVALID_ARGUMENT' && err.setting === 'accessTokenLifetime' && /86400/.test(err.message),
        );
        const headers = { 'content-type': 'application/json', authorization: `Bearer ${admin}` };
        const created = await call(`${emulator.selfServiceUrl}/clients`, {
          method: 'POST',
          headers,
          body: `{"client_name":"x","description":"x","scopes":[],"access_token_lifetime":${lifetime}}`,
        });
        assertJsonError(created, `POST access_token_lifetime ${lifetime}`);
        const updated = await call(`${emulator.selfServiceUrl}/clients/${client.clientId}`, {
          method: 'PUT',
          headers,
          body: `{"access_token_lifetime":${lifetime}}`,
        });
        assertJsonError(updated, `PUT access_token_lifetime ${lifetime}`);
        assert.throws(
          () => emulator.defineScope({ name: 'test:long', atMaxAge: lifetime }),
          (err: Error & { code?: string }) => err.code === 'ERR_INVALID_ARGUMENT' && /atMaxAge/.test(err.message),
        );
      }
      const longest = await emulator.createClient({ scopes: ['a'], accessTokenLifetime: 86_400 });
      assert.equal(longest.accessTokenLifetime, 86_400);
    });

    it('the clock cannot be moved so near the Date limit that a token would expire beyond it', async () => {
      const e = await startEmulator();
      try {
        const toLimit = 8.64e15 - e.clock.now();
        assert.throws(
          () => e.clock.setOffset(toLimit - 60_000),
          (err: Error & { code?: string }) => err.code === 'ERR_INVALID_ARGUMENT' && /Date range/.test(err.message),
        );
        e.clock.setOffset(toLimit - 2 * 86_400_000);
      } finally {
        await e.close();
      }
    });
  });

  describe('JSON bodies of the self-service API and the exchange', () => {
    it('all errors are JSON', async () => {
      const auth = { authorization: `Bearer ${admin}` };
      const json = { ...auth, 'content-type': 'application/json' };
      const cases: [string, string, Record<string, string>, string | undefined][] = [
        ['POST', '/clients', json, '{"client_name":'],
        ['POST', '/clients', json, '{"client_name":"x","scopes":[{"a":1}]}'],
        ['POST', '/clients', json, '{"client_name":"x","scopes":null}'],
        ['POST', '/clients', json, '{"client_name":"x","access_token_lifetime":1e400}'],
        ['POST', '/clients', json, '[1,2,3]'],
        ['POST', '/clients', { ...auth, 'content-type': 'application/json; charset=latin1' }, '\u00ff'],
        ['POST', '/clients', auth, '{}'],
        ['PUT', `/clients/${client.clientId}`, json, '{"scopes":[null]}'],
        ['PUT', `/clients/${client.clientId}`, json, '{"access_token_lifetime":"soon"}'],
        ['PUT', `/clients/${client.clientId}/jwks`, json, '{"keys":{"length":3}}'],
        ['PUT', `/clients/${client.clientId}/jwks`, json, '{"keys":[{"kty":"RSA","kid":"k","n":"","e":""}]}'],
        ['PUT', `/clients/${client.clientId}/jwks`, json, '{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}'],
        ['PUT', `/clients/${client.clientId}/jwks`, json, `{"keys":[${'{},'.repeat(10)}{}]}`],
        ['PUT', `/clients/${encodeURIComponent('../../etc')}/jwks`, json, '{"keys":[]}'],
        ['GET', `/clients/${'%'}`, auth, undefined],
        ['GET', '/clients', { authorization: 'Bearer ' }, undefined],
        ['GET', '/clients', { authorization: `Bearer ${'a'.repeat(8000)}` }, undefined],
        ['GET', '/clients', { authorization: 'Bearer a.b.c' }, undefined],
        ['POST', '/_emulator/clients', { 'content-type': 'application/json' }, '{"scopes":"x"}'],
        ['POST', '/_emulator/clients', { 'content-type': 'application/json' }, '{"scopes":["a"],"jwks":[{"d":"x"}]}'],
        ['POST', '/_emulator/clients', { 'content-type': 'application/json' }, '{"scopes":["a"],"orgNo":123}'],
        ['POST', '/_emulator/scopes', { 'content-type': 'application/json' }, '{"name":["x"]}'],
        ['POST', '/_emulator/delegations', { 'content-type': 'application/json' }, '{}'],
        [
          'POST',
          '/_emulator/system-users',
          { 'content-type': 'application/json' },
          '{"org":"123456789","clientIds":"x"}',
        ],
        ['POST', '/_emulator/consents', { 'content-type': 'application/json' }, '{"from":"x","toOrg":"1"}'],
        [
          'POST',
          '/_emulator/consents',
          { 'content-type': 'application/json' },
          '{"from":"urn:altinn:x","toOrg":"123456789","validTo":"soon"}',
        ],
        ['POST', '/notifications/api/v1/orders', json, '{}'],
      ];
      for (const [method, path, headers, body] of cases) {
        const answer = await call(`${emulator.url}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
        });
        assertJsonError(answer, `${method} ${path} ${body ?? ''}`);
      }
    });

    it('a __proto__ member in a JSON body is just data', async () => {
      const answer = await call(`${emulator.selfServiceUrl}/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: '{"client_name":"proto","__proto__":{"active":false,"orgNo":"974761076"}}',
      });
      assert.equal(answer.status, 201, answer.text);
      const created = answer.json as { client_id: string; active: boolean; client_orgno: string };
      assert.equal(created.active, true);
      assert.equal(created.client_orgno, '991825827');
      assert.equal(({} as Record<string, unknown>).active, undefined, 'Object.prototype is untouched');
    });

    it('exchange: junk Authorization headers get a JSON 401', async () => {
      for (const authorization of [
        'Bearer',
        'Bearer .',
        'Bearer ..',
        `Bearer ${'a.'.repeat(2000)}a`,
        `Bearer ${Buffer.from('{"alg":"RS256"}').toString('base64url')}.e30.`,
        `Bearer ${mpToken}.${mpToken}`,
        `Bearer\t${mpToken.slice(0, -2)}`,
        `bearer ${mpToken.replace(/^./, '_')}`,
      ]) {
        const answer = await call(exchangeUrl(emulator), { headers: { authorization } });
        assert.equal(answer.status, 401, authorization.slice(0, 60));
        assertJsonError(answer, authorization.slice(0, 60));
      }
    });
  });

  it('randomized junk to the token endpoint, the exchange, the self-service and control APIs never gets a 500', async () => {
    const random = prng(Number(process.env.FUZZ_SEED ?? 0x5eed_2026));
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const int = (max: number) => Math.floor(random() * max);
    const printable = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join('');
    const unicode = (n: number) => Array.from({ length: n }, () => String.fromCodePoint(int(0xd7ff))).join('');
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    // Header values must be byte strings without control characters, or fetch refuses to send them.
    const latin1 = (s: string) => s.replaceAll(/[^\x20-\x7e\xa0-\xff]/g, '?');
    const junkJson = (): unknown =>
      pick([
        () => null,
        () => int(1e6) - 5e5,
        () => printable(int(20)),
        () => [junkJson(), junkJson()],
        () => ({ [printable(int(8))]: junkJson(), kid: pick(['k', 7, null]), keys: pick([[], [{}], 'x', null]) }),
        () => ({
          client_name: pick(['x', '', 5, null]),
          scopes: pick([['a'], 'a', [1], null]),
          access_token_lifetime: pick([1, -1, 0.5, '3', null, 1e20]),
        }),
        () => ({
          // Members the control routes read, with wrong and right types mixed.
          scopes: pick([['test:read'], 'x', [5], null]),
          clientId: pick([undefined, 5, '', 'fixed-id', {}]),
          clientName: pick([undefined, 5, 'n']),
          jwks: pick([undefined, [], [{}], 'x']),
          orgNo: pick([undefined, '974761076', 5, 'abc']),
          name: pick(['test:junk', '', 5, ['x']]),
          atMaxAge: pick([undefined, 5, -1, 'x', 1.5]),
          accessibleForAll: pick([undefined, true, 'yes']),
          consumerOrg: pick(['910000009', 5, undefined]),
          supplierOrg: pick(['991825827', 'x', undefined]),
          scope: pick(['test:read', 5, undefined]),
          org: pick(['910000009', 5, undefined]),
          clientIds: pick([[client.clientId], [5], 'x', [], undefined]),
          from: pick(['urn:altinn:person:identifier-no:01010112345', 5, undefined]),
          toOrg: pick(['991825827', 5, undefined]),
          validTo: pick([undefined, 'soon', 1e300, -1, '2030-01-01', {}, null]),
          consentRights: pick([undefined, [], 'x', [{ action: ['read'] }]]),
        }),
        () => true,
      ])();
    const junkJwt = () =>
      pick([
        () => `${b64(JSON.stringify(junkJson()))}.${b64(JSON.stringify(junkJson()))}.${b64(printable(int(40)))}`,
        () =>
          `${b64(JSON.stringify({ alg: pick(['RS256', 'none', 'HS256', 'ES256', 7]), kid: pick([client.kid, 'x', 1]) }))}.${b64(JSON.stringify({ iss: pick([client.clientId, 'x', 5]), aud: pick([emulator.issuer, ['x'], null]), scope: pick(['test:read', 5, '']) }))}.${b64(printable(int(300)))}`,
        () => printable(int(200)),
        () => unicode(int(50)),
        () => makeGrant(emulator, client, { claims: { [printable(5)]: junkJson() } }),
        () => makeGrant(emulator, client).slice(0, int(400)),
        () => mpToken,
      ])();
    const junkBody = (): string =>
      pick([
        () => '',
        () => printable(int(300)),
        () => unicode(int(100)),
        () => JSON.stringify(junkJson()),
        () =>
          new URLSearchParams({ grant_type: pick([JWT_BEARER_GRANT_TYPE, 'x', '']), assertion: junkJwt() }).toString(),
        () => `${printable(int(20))}=${printable(int(20))}&${printable(int(5))}`,
        () => '%'.repeat(int(50)),
      ])();
    const junkHeaders = (): Record<string, string> => {
      const headers: Record<string, string> = {};
      if (random() < 0.8)
        headers['content-type'] = pick([
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
          printable(int(30)).replaceAll(/[\r\n]/g, ''),
          'application/json; charset=utf-16',
        ]);
      if (random() < 0.7)
        headers.authorization = latin1(
          pick([
            `Bearer ${junkJwt()}`,
            `Bearer ${admin}`,
            `Bearer ${mpToken}`,
            `Basic ${b64(printable(10))}`,
            printable(int(60)),
          ]),
        );
      if (random() < 0.2) headers.accept = pick(['application/json', '*/*', printable(10)]);
      if (random() < 0.1) headers['x-altinn-enterpriseuser-authentication'] = printable(5);
      if (random() < 0.2) headers[`x-${printable(6).replaceAll(/[^a-z]/gi, 'a')}`] = printable(int(100));
      return headers;
    };
    const paths = (): string =>
      pick([
        () => '/token',
        () => '/authentication/api/v1/exchange/maskinporten',
        () => `/authentication/api/v1/exchange/maskinporten?test=${pick(['true', 'false', printable(5)])}`,
        () => '/clients',
        () =>
          `/clients/${pick([client.clientId, emulator.adminClient.clientId, encodeURIComponent(printable(int(30)))])}`,
        () => `/clients/${pick([client.clientId, encodeURIComponent(printable(10))])}/jwks`,
        () => `/${encodeURIComponent(printable(int(40)))}`,
        () => `/token?${encodeURIComponent(printable(20))}`,
        () =>
          pick([
            '/_emulator/clients',
            '/_emulator/scopes',
            '/_emulator/delegations',
            '/_emulator/system-users',
            '/_emulator/consents',
          ]),
        () => '/notifications/api/v1/orders',
        () => `/api/echo?scope=${encodeURIComponent(printable(8))}`,
      ])();

    const failures: string[] = [];
    const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 300);
    for (let i = 0; i < ITERATIONS; i++) {
      const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      const path = paths();
      const headers = junkHeaders();
      const body = method === 'GET' ? undefined : junkBody();
      let answer: HttpAnswer;
      try {
        answer = await call(`${emulator.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      } catch (err) {
        failures.push(`#${i} ${method} ${path}: request failed: ${(err as Error).message}`);
        continue;
      }
      if (answer.status >= 500) failures.push(`#${i} ${method} ${path}: ${answer.status} ${answer.text.slice(0, 200)}`);
      const exchanged =
        answer.status === 200 &&
        path.startsWith('/authentication/api/v1/exchange/maskinporten') &&
        /^text\/plain/.test(answer.headers.get('content-type') ?? '');
      if (answer.json === undefined && !exchanged)
        failures.push(`#${i} ${method} ${path}: not JSON (${answer.status}): ${answer.text.slice(0, 100)}`);
    }
    assert.deepEqual(failures, []);
  });
});
