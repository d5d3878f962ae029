/**
 * The JWT grant the client sends (protocol notes §2), read back from the emulator's request log: header, every
 * claim, the optional claims only when asked for, and nothing else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { count, FakeClock, grants, lastGrant, rejectsWith, throwsWith } from '../helpers/client-env.ts';
import { useClient, useEmulator, useProxy } from '../helpers/emulator.ts';

const REQUIRED = ['aud', 'exp', 'iat', 'iss', 'jti', 'scope'];

describe('client grant: header and claims', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['test:read', 'test:write', 'test:admin'] });
  const proxy = useProxy(emulator);

  const client = (options: MaskinportenClientOptions = {}, settings: Partial<MaskinportenSettings> = {}) =>
    new MaskinportenClient({ ...created.settings, ...settings }, { clock, ...options });

  it('signs RS256 with the kid, and sends exactly aud, iss, scope, iat, exp and jti', async () => {
    const token = await client().getAccessToken(['test:write', 'test:read']);
    const { header, claims } = lastGrant(emulator);
    assert.deepEqual(header, { alg: 'RS256', kid: created.kid });
    assert.deepEqual(Object.keys(claims).sort(), REQUIRED);
    assert.equal(claims.iss, created.clientId);
    assert.equal(claims.aud, emulator.issuer);
    assert.equal(typeof claims.aud, 'string', 'aud is one string, not an array');
    assert.equal(claims.scope, 'test:read test:write');
    assert.equal(claims.iat, Math.floor(clock.now() / 1000));
    assert.equal((claims.exp as number) - (claims.iat as number), 60, 'grantLifetimeSeconds defaults to 60');
    assert.match(claims.jti as string, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(token.claims.client_id, created.clientId);
    assert.deepEqual(token.scopes, ['test:read', 'test:write']);
  });

  it('takes aud from the discovered issuer (with its trailing slash), whatever the authority looks like', async () => {
    // No trailing slash on the authority: aud still has one, because it is the issuer from discovery.
    await client({}, { authority: emulator.url }).getAccessToken(['test:read']);
    assert.equal(lastGrant(emulator).claims.aud, emulator.issuer);
    // Behind a proxy the authority differs from the issuer: aud is the issuer the metadata names, not the authority.
    await client({}, { authority: `${proxy.url}/` }).getAccessToken(['test:read']);
    assert.equal(lastGrant(emulator).claims.aud, emulator.issuer);
    assert.notEqual(emulator.issuer, `${proxy.url}/`);
  });

  it('splits scopes on spaces, drops duplicates and sorts them (control characters such as tab are refused)', async () => {
    await client().getAccessToken(['  test:write test:read ', 'test:admin test:read', 'test:write']);
    assert.equal(lastGrant(emulator).claims.scope, 'test:admin test:read test:write');
    await client().getAccessToken('test:write test:read  test:write');
    assert.equal(lastGrant(emulator).claims.scope, 'test:read test:write');
  });

  it('makes exp − iat equal grantLifetimeSeconds (at most 120)', async () => {
    for (const lifetime of [1, 30, 120]) {
      await client({ grantLifetimeSeconds: lifetime }).getAccessToken(['test:read']);
      const { claims } = lastGrant(emulator);
      assert.equal((claims.exp as number) - (claims.iat as number), lifetime);
    }
    for (const bad of [0, 121, 1.5, -1, Number.NaN]) {
      const err = throwsWith(() => client({ grantLifetimeSeconds: bad }), 'ERR_CONFIG');
      assert.match(err.message, /grantLifetimeSeconds/);
    }
  });

  it('uses a new random jti for every grant', async () => {
    const c = client();
    const before = grants(emulator).length;
    for (let i = 0; i < 25; i++) await c.getAccessToken(['test:read'], { forceRefresh: true });
    const jtis = grants(emulator)
      .slice(before)
      .map((g) => g.claims.jti as string);
    assert.equal(jtis.length, 25);
    assert.equal(new Set(jtis).size, 25, 'no jti repeats');
    for (const jti of jtis) assert.match(jti, /^[A-Za-z0-9_-]{43}$/);
  });

  it('sends resource (as a sorted array) only when asked for', async () => {
    const token = await client().getAccessToken({
      scopes: ['test:read'],
      resource: ['https://b.example/api', 'https://a.example/api', 'https://b.example/api'],
    });
    const { claims } = lastGrant(emulator);
    assert.deepEqual(Object.keys(claims).sort(), [...REQUIRED, 'resource'].sort());
    assert.deepEqual(claims.resource, ['https://a.example/api', 'https://b.example/api']);
    assert.deepEqual(token.claims.aud, ['https://a.example/api', 'https://b.example/api']);
    await client().getAccessToken({ scopes: ['test:read'], resource: 'https://a.example/api' });
    assert.deepEqual(lastGrant(emulator).claims.resource, ['https://a.example/api'], 'a single resource is an array');
  });

  it('sends pid only when asked for', async () => {
    const token = await client().getAccessToken({ scopes: ['test:read'], pid: '12345678901' });
    const { claims } = lastGrant(emulator);
    assert.deepEqual(Object.keys(claims).sort(), [...REQUIRED, 'pid'].sort());
    assert.equal(claims.pid, '12345678901');
    assert.equal(token.claims.pid, '12345678901');
  });

  it('sends consumer_org only when asked for', async () => {
    emulator.addDelegation({ consumerOrg: '310000001', supplierOrg: created.orgNo, scope: 'test:read' });
    const token = await client().getAccessToken({ scopes: ['test:read'], consumerOrg: '310000001' });
    const { claims } = lastGrant(emulator);
    assert.deepEqual(Object.keys(claims).sort(), [...REQUIRED, 'consumer_org'].sort());
    assert.equal(claims.consumer_org, '310000001');
    assert.deepEqual(token.claims.consumer, { authority: 'iso6523-actorid-upis', ID: '0192:310000001' });
    assert.deepEqual(token.claims.supplier, { authority: 'iso6523-actorid-upis', ID: `0192:${created.orgNo}` });
  });

  it('sends a system user as authorization_details only when asked for', async () => {
    emulator.addSystemUser({ org: '310000002', clientIds: [created.clientId] });
    emulator.addSystemUser({ org: '310000003', clientIds: [created.clientId], externalRef: 'ref_1' });
    await client().getAccessToken({ scopes: ['test:read'], systemUser: { org: '310000002' } });
    let { claims } = lastGrant(emulator);
    assert.deepEqual(Object.keys(claims).sort(), [...REQUIRED, 'authorization_details'].sort());
    assert.deepEqual(claims.authorization_details, [
      {
        type: 'urn:altinn:systemuser',
        systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:310000002' },
      },
    ]);
    const token = await client().getAccessToken({
      scopes: ['test:read'],
      systemUser: { org: '310000003', externalRef: 'ref_1' },
    });
    ({ claims } = lastGrant(emulator));
    assert.deepEqual(claims.authorization_details, [
      {
        type: 'urn:altinn:systemuser',
        systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:310000003' },
        externalRef: 'ref_1',
      },
    ]);
    const details = token.claims.authorization_details as Record<string, unknown>[];
    assert.equal(details[0]?.type, 'urn:altinn:systemuser');
  });

  it('sends a consent as authorization_details only when asked for', async () => {
    const from = 'urn:altinn:person:identifier-no:12345678901';
    const consent = emulator.addConsent({ from, toOrg: created.orgNo });
    await client().getAccessToken({ scopes: ['test:read'], consent: { id: consent.id, from } });
    const { claims } = lastGrant(emulator);
    assert.deepEqual(Object.keys(claims).sort(), [...REQUIRED, 'authorization_details'].sort());
    assert.deepEqual(claims.authorization_details, [{ type: 'urn:altinn:consent', id: consent.id, from }]);
  });

  it("signs with the JWK's own alg (RS384, RS512), or the alg setting", async () => {
    for (const alg of ['RS384', 'RS512'] as const) {
      const pair = await generateRsaKeyPair({ alg });
      const c = await emulator.createClient({ scopes: ['test:read'], jwks: [pair.publicJwk] });
      const token = await new MaskinportenClient(
        { authority: emulator.issuer, clientId: c.clientId, jwk: pair.privateJwk },
        { clock },
      ).getAccessToken(['test:read']);
      assert.deepEqual(lastGrant(emulator).header, { alg, kid: pair.kid });
      assert.ok(token.value);
    }
    await client({}, { alg: 'RS512' }).getAccessToken(['test:read']);
    assert.deepEqual(lastGrant(emulator).header, { alg: 'RS512', kid: created.kid });
  });

  it('refuses malformed requests before any grant is made', async () => {
    const c = client();
    const before = count(emulator, 'token');
    const cases: unknown[] = [
      [],
      '',
      ['  '],
      [42],
      { scopes: ['test:read'], consumerOrg: '12345' },
      { scopes: ['test:read'], pid: '123' },
      { scopes: ['test:read'], resource: 'not a url' },
      { scopes: ['test:read'], resource: 'https://a.example/#frag' },
      { scopes: ['test:read'], systemUser: { org: 'x' } },
      { scopes: ['test:read'], systemUser: { org: '310000002', externalRef: 'has space' } },
      { scopes: ['test:read'], consent: { id: 'x', from: 'nobody' } },
    ];
    for (const request of cases) {
      const err = await rejectsWith(c.getAccessToken(request as string[]), 'ERR_INVALID_ARGUMENT');
      assert.ok(err.message.length > 10);
    }
    assert.equal(count(emulator, 'token'), before, 'no request reached the token endpoint');
  });

  it('refuses control characters in resource, as in scopes, before anything is sent', async () => {
    const c = client();
    const before = count(emulator, 'token');
    for (const resource of [
      'https://a.example/api\r\n',
      'https://a.example/\r\napi',
      ['https://a.example/', 'https://b.example/\u0000'],
      'https://a.example/\u001b[31m',
    ]) {
      const err = await rejectsWith(c.getAccessToken({ scopes: ['test:read'], resource }), 'ERR_INVALID_ARGUMENT');
      assert.equal(err.setting, 'resource');
      assert.match(err.message, /resource must not contain control characters: found U\+00(0D|00|1B)/);
    }
    assert.equal(count(emulator, 'token'), before, 'no request reached the token endpoint');
  });
});
