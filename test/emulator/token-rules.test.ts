/**
 * Every rule of the emulator's token endpoint (README "The token endpoint's rules"; protocol notes §2–4): each test
 * sends a grant that breaks exactly one rule, everything else valid, and pins HTTP status, `error` and MP code.
 * The emulator runs on a frozen base clock, so the ±10 s and 120 s boundaries are exact, never racing the wall clock.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CreatedClient, type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { JWT_BEARER_GRANT_TYPE } from '../../src/protocol/constants.ts';
import { accessToken, assertMpError, craftGrant, makeGrant, postToken, verifiedClaims } from '../helpers/grants.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const SYSTEM_USER = 'urn:altinn:systemuser';
const CONSENT = 'urn:altinn:consent';
const ORG_AUTHORITY = 'iso6523-actorid-upis';

/** An emulator whose base clock stands still (only `emulator.clock` moves it), on the documented rules. */
async function frozenEmulator(): Promise<Emulator> {
  const frozenAt = Date.now();
  return startEmulator({ clock: { now: () => frozenAt }, rules: 'documented' });
}

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

describe('emulator token endpoint: one test per rule', () => {
  let emulator: Emulator;
  let client: CreatedClient;
  const nowSeconds = () => Math.floor(emulator.clock.now() / 1000);

  before(async () => {
    emulator = await frozenEmulator();
    client = await emulator.createClient({ scopes: ['test:read', 'test:write'] });
  });
  after(() => emulator.close());

  it('accepts the valid grant the other tests start from (control)', async () => {
    const answer = await postToken(emulator, makeGrant(emulator, client));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.scope, 'test:read test:write');
  });

  describe('the request', () => {
    it('refuses a body that is not application/x-www-form-urlencoded (MP-011)', async () => {
      const grant = makeGrant(emulator, client);
      const json = await postToken(emulator, '', {
        contentType: 'application/json',
        rawBody: JSON.stringify({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: grant }),
      });
      assertMpError(json, 400, 'invalid_request', 'MP-011');
      const text = await postToken(emulator, '', {
        contentType: 'text/plain',
        rawBody: form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: makeGrant(emulator, client) }).toString(),
      });
      assertMpError(text, 400, 'invalid_request', 'MP-011');
    });

    it('accepts the form content type with a charset parameter (control)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client), {
        contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    });

    it('refuses a request without grant_type (MP-011 invalid_request)', async () => {
      const answer = await postToken(emulator, form({ assertion: makeGrant(emulator, client) }));
      assertMpError(answer, 400, 'invalid_request', 'MP-011');
    });

    it('refuses any grant_type but jwt-bearer (MP-011 unsupported_grant_type)', async () => {
      for (const grantType of ['client_credentials', 'urn:ietf:params:oauth:grant-type:saml2-bearer']) {
        const answer = await postToken(
          emulator,
          form({ grant_type: grantType, assertion: makeGrant(emulator, client) }),
        );
        assertMpError(answer, 400, 'unsupported_grant_type', 'MP-011');
      }
    });

    it('refuses a request without assertion (MP-011)', async () => {
      const missing = await postToken(emulator, form({ grant_type: JWT_BEARER_GRANT_TYPE }));
      assertMpError(missing, 400, 'invalid_request', 'MP-011');
      const empty = await postToken(emulator, form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: '' }));
      assertMpError(empty, 400, 'invalid_request', 'MP-011');
    });

    it('refuses an assertion that is not a compact JWS (MP-011)', async () => {
      const valid = makeGrant(emulator, client);
      const [h, p, s] = valid.split('.') as [string, string, string];
      const notJson = Buffer.from('not json').toString('base64url');
      const array = Buffer.from('[1,2]').toString('base64url');
      for (const assertion of [
        'not-a-jwt',
        `${h}.${p}`,
        `${h}.${p}.${s}.${s}`,
        `${h}.${p}.${s}.${s}.${s}`,
        `${notJson}.${p}.${s}`,
        `${h}.${notJson}.${s}`,
        `${array}.${p}.${s}`,
        `${h}.${p}.%%%`,
        `.${p}.${s}`,
      ]) {
        const answer = await postToken(emulator, assertion);
        assertMpError(answer, 400, 'invalid_request', 'MP-011');
      }
    });
  });

  describe('the header', () => {
    it('refuses alg none (MP-124)', async () => {
      const answer = await postToken(
        emulator,
        craftGrant(emulator, client, { header: { alg: 'none' }, signature: '' }),
      );
      assertMpError(answer, 400, 'invalid_grant', 'MP-124');
    });

    it('refuses alg HS256 (MP-124)', async () => {
      const answer = await postToken(emulator, craftGrant(emulator, client, { header: { alg: 'HS256' } }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-124');
    });

    it('refuses alg ES256 (MP-124)', async () => {
      const answer = await postToken(emulator, craftGrant(emulator, client, { header: { alg: 'ES256' } }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-124');
    });

    it('refuses PS256 and lower-case rs256 too (MP-124)', async () => {
      for (const alg of ['PS256', 'rs256']) {
        const answer = await postToken(emulator, craftGrant(emulator, client, { header: { alg } }));
        assertMpError(answer, 400, 'invalid_grant', 'MP-124');
      }
    });

    it('accepts RS384 and RS512 grants (control)', async () => {
      for (const alg of ['RS384', 'RS512']) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { header: { alg } }));
        assert.equal(answer.status, 200, `${alg}: ${JSON.stringify(answer.body)}`);
      }
    });

    it('refuses a header with both kid and x5c (MP-011)', async () => {
      const x5c = [randomBytes(300).toString('base64')];
      const answer = await postToken(emulator, makeGrant(emulator, client, { header: { x5c } }));
      assertMpError(answer, 400, 'invalid_request', 'MP-011');
    });

    it('refuses a grant without kid from a client with registered keys (MP-100)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { header: { kid: undefined } }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-100');
      assert.match(
        String(answer.body.error_description),
        /The client requires pre-registered jwk and no key identifier \(kid\) provided/,
      );
    });

    it('refuses a kid that is not registered on the client (MP-100)', async () => {
      const other = await emulator.createClient({ scopes: ['test:read'] });
      for (const kid of [randomUUID(), other.kid]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { header: { kid } }));
        assertMpError(answer, 400, 'invalid_grant', 'MP-100');
      }
    });

    it('refuses a grant signed with another key (MP-124)', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const answer = await postToken(emulator, makeGrant(emulator, client, { key: privateKey }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-124');
    });

    it('refuses a grant whose claims were changed after signing (MP-124)', async () => {
      const [h, , s] = makeGrant(emulator, client).split('.') as [string, string, string];
      const forged = craftGrant(emulator, client, { claims: { scope: 'test:read test:write admin:all' } }).split('.');
      const answer = await postToken(emulator, `${h}.${forged[1]}.${s}`);
      assertMpError(answer, 400, 'invalid_grant', 'MP-124');
    });
  });

  describe('aud and iss', () => {
    it('refuses aud as an array, even one holding the issuer (MP-110)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { aud: [emulator.issuer] } }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-110');
    });

    it('refuses aud strings other than the issuer with its trailing slash (MP-110)', async () => {
      for (const aud of [
        emulator.tokenEndpoint,
        emulator.url,
        'https://test.maskinporten.no/',
        `${emulator.issuer}/`,
      ]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { aud } }));
        assertMpError(answer, 400, 'invalid_grant', 'MP-110');
      }
    });

    it('refuses a grant without aud (MP-110)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { aud: undefined } }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-110');
    });

    it('refuses an iss that is not a registered client (MP-100)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { iss: randomUUID() } }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-100');
      assert.match(String(answer.body.error_description), /^Invalid assertion\. Client authentication failed\./);
    });

    it('refuses a grant without iss (MP-100)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { iss: undefined } }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-100');
    });

    it('refuses a client deactivated through the self-service API (MP-100)', async () => {
      const doomed = await emulator.createClient({ scopes: ['test:read'] });
      assert.equal((await postToken(emulator, makeGrant(emulator, doomed))).status, 200);
      const admin = await accessToken(emulator, emulator.adminClient);
      const res = await fetch(`${emulator.selfServiceUrl}/clients/${doomed.clientId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${admin}` },
      });
      assert.equal(res.status, 200, await res.text());
      const answer = await postToken(emulator, makeGrant(emulator, doomed));
      assertMpError(answer, 400, 'invalid_grant', 'MP-100');
    });
  });

  describe('iat, exp, nbf', () => {
    it('refuses iat 11 s ahead of the emulator clock (MP-130 "Issue time is after now")', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { now: nowSeconds() + 11 }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-130');
      assert.match(String(answer.body.error_description), /Issue time is after now/);
    });

    it('refuses iat 11 s behind the emulator clock (MP-130)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { now: nowSeconds() - 11 }));
      assertMpError(answer, 400, 'invalid_grant', 'MP-130');
    });

    it('accepts iat exactly 10 s ahead or behind (control)', async () => {
      for (const skew of [10, -10]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { now: nowSeconds() + skew }));
        assert.equal(answer.status, 200, `skew ${skew}: ${JSON.stringify(answer.body)}`);
      }
    });

    it('refuses exp − iat = 121 s (MP-130), accepts 120 s', async () => {
      const now = nowSeconds();
      const tooLong = await postToken(emulator, makeGrant(emulator, client, { claims: { iat: now, exp: now + 121 } }));
      assertMpError(tooLong, 400, 'invalid_grant', 'MP-130');
      const longest = await postToken(emulator, makeGrant(emulator, client, { claims: { iat: now, exp: now + 120 } }));
      assert.equal(longest.status, 200, JSON.stringify(longest.body));
    });

    it('refuses a grant whose exp has passed while iat is within the skew (MP-130)', async () => {
      const now = nowSeconds();
      for (const exp of [now - 1, now]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { iat: now - 10, exp } }));
        assertMpError(answer, 400, 'invalid_grant', 'MP-130');
      }
      const stillValid = await postToken(
        emulator,
        makeGrant(emulator, client, { claims: { iat: now - 10, exp: now + 1 } }),
      );
      assert.equal(stillValid.status, 200, JSON.stringify(stillValid.body));
    });

    it('refuses exp not after iat, and non-numeric times (MP-130 / MP-011)', async () => {
      const now = nowSeconds();
      const same = await postToken(emulator, makeGrant(emulator, client, { claims: { iat: now, exp: now } }));
      assertMpError(same, 400, 'invalid_grant', 'MP-130');
      for (const claims of [{ iat: String(now) }, { exp: now + 60.5 }, { iat: undefined }, { exp: undefined }]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { claims }));
        assertMpError(answer, 400, 'invalid_request', 'MP-011');
      }
    });

    it('refuses nbf in the future (MP-130), tolerates nbf now', async () => {
      const now = nowSeconds();
      const future = await postToken(emulator, makeGrant(emulator, client, { claims: { nbf: now + 60 } }));
      assertMpError(future, 400, 'invalid_grant', 'MP-130');
      const present = await postToken(emulator, makeGrant(emulator, client, { claims: { nbf: now } }));
      assert.equal(present.status, 200, JSON.stringify(present.body));
    });
  });

  describe('jti', () => {
    it('refuses the same grant twice: first 200, then MP-012 "Grant is used before"', async () => {
      const grant = makeGrant(emulator, client);
      const first = await postToken(emulator, grant);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const second = await postToken(emulator, grant);
      assertMpError(second, 400, 'invalid_grant', 'MP-012');
      assert.match(String(second.body.error_description), /Grant is used before/);
    });

    it('refuses a new grant reusing a jti (MP-012)', async () => {
      const jti = randomUUID();
      assert.equal((await postToken(emulator, makeGrant(emulator, client, { claims: { jti } }))).status, 200);
      const reused = makeGrant(emulator, client, { claims: { jti, scope: 'test:read' }, now: nowSeconds() - 1 });
      assertMpError(await postToken(emulator, reused), 400, 'invalid_grant', 'MP-012');
    });

    it('remembers a jti while its grant could still be used (MP-012 9 s later)', async () => {
      const grant = makeGrant(emulator, client);
      assert.equal((await postToken(emulator, grant)).status, 200);
      emulator.clock.advance(9_000);
      try {
        assertMpError(await postToken(emulator, grant), 400, 'invalid_grant', 'MP-012');
      } finally {
        emulator.clock.advance(-9_000);
      }
    });

    it('does not burn the jti of a grant refused for another reason', async () => {
      const jti = randomUUID();
      const refused = await postToken(emulator, makeGrant(emulator, client, { claims: { jti, scope: 'nope:x' } }));
      assertMpError(refused, 400, 'invalid_scope', 'MP-200');
      const corrected = await postToken(emulator, makeGrant(emulator, client, { claims: { jti } }));
      assert.equal(corrected.status, 200, JSON.stringify(corrected.body));
    });
  });

  describe('scope', () => {
    it('refuses a grant without scope (MP-200)', async () => {
      for (const scope of [undefined, '', '   ']) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { scope } }));
        assertMpError(answer, 400, 'invalid_scope', 'MP-200');
      }
    });

    it('refuses a scope not registered on the client (MP-200)', async () => {
      const answer = await postToken(
        emulator,
        makeGrant(emulator, client, { claims: { scope: 'test:read other:admin' } }),
      );
      assertMpError(answer, 400, 'invalid_scope', 'MP-200');
      assert.match(String(answer.body.error_description), /^Token request contains invalid scopes for client/);
      assert.match(String(answer.body.error_description), /other:admin/);
    });

    it('grants a subset of the registered scopes', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { scope: 'test:write' } }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.scope, 'test:write');
    });

    it('grants an accessibleForAll scope the client has not registered', async () => {
      emulator.defineScope({ name: 'open:everyone', accessibleForAll: true });
      const answer = await postToken(
        emulator,
        makeGrant(emulator, client, { claims: { scope: 'test:read open:everyone' } }),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.scope, 'test:read open:everyone');
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.equal(claims.scope, 'test:read open:everyone');
    });

    it('refuses a scope that is defined but not accessible for all (MP-200)', async () => {
      emulator.defineScope({ name: 'closed:some', accessibleForAll: false });
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { scope: 'closed:some' } }));
      assertMpError(answer, 400, 'invalid_scope', 'MP-200');
    });
  });

  describe('claims', () => {
    it('refuses an undocumented claim (MP-011)', async () => {
      for (const claims of [{ foo: 'bar' }, { client_id: client.clientId }, { typ: 'JWT' }]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { claims }));
        assertMpError(answer, 400, 'invalid_request', 'MP-011');
      }
    });

    it('tolerates nbf and sub equal to iss', async () => {
      const now = nowSeconds();
      const answer = await postToken(
        emulator,
        makeGrant(emulator, client, { claims: { nbf: now, sub: client.clientId } }),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    });

    it('refuses sub different from iss (MP-011)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { sub: randomUUID() } }));
      assertMpError(answer, 400, 'invalid_request', 'MP-011');
    });

    it('accepts a grant without jti (jti is recommended, not required)', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { jti: undefined } }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    });
  });

  describe('resource', () => {
    it('refuses resource as a string (MP-011)', async () => {
      const answer = await postToken(
        emulator,
        makeGrant(emulator, client, { claims: { resource: 'https://api.example.no/' } }),
      );
      assertMpError(answer, 400, 'invalid_request', 'MP-011');
    });

    it('refuses resource arrays that are empty or hold non-URIs (MP-011)', async () => {
      for (const resource of [[], ['not a uri'], ['https://api.example.no/#frag'], [42]]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { resource } }));
        assertMpError(answer, 400, 'invalid_request', 'MP-011');
      }
    });

    it('accepts resource as an array and makes it the token aud', async () => {
      const answer = await postToken(
        emulator,
        makeGrant(emulator, client, { claims: { resource: ['https://api.example.no/'] } }),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.equal(claims.aud, 'https://api.example.no/');
    });

    it('puts several resources in aud as an array', async () => {
      const resource = ['https://a.example.no/', 'https://b.example.no/api'];
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { resource } }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.deepEqual(claims.aud, resource);
    });
  });

  describe('consumer_org (Altinn delegation)', () => {
    const supplierOrg = '310000001';
    const consumerOrg = '310000002';
    let supplier: CreatedClient;

    before(async () => {
      supplier = await emulator.createClient({ scopes: ['deleg:api', 'deleg:other'], orgNo: supplierOrg });
    });

    it('refuses consumer_org without a delegation (403 forbidden MP-251)', async () => {
      const answer = await postToken(
        emulator,
        makeGrant(emulator, supplier, { claims: { scope: 'deleg:api', consumer_org: consumerOrg } }),
      );
      assertMpError(answer, 403, 'forbidden', 'MP-251');
      assert.match(
        String(answer.body.error_description),
        new RegExp(
          `^Consumer ${consumerOrg} has not delegated access to the scope deleg:api to supplier ${supplierOrg}`,
        ),
      );
    });

    it('issues a delegated token: consumer is the consumer org, with supplier and delegation_source (protocol §3 (rev) [S7, S34, S36])', async () => {
      emulator.addDelegation({ consumerOrg, supplierOrg, scope: 'deleg:api' });
      const answer = await postToken(
        emulator,
        makeGrant(emulator, supplier, { claims: { scope: 'deleg:api', consumer_org: consumerOrg } }),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.deepEqual(claims.consumer, { authority: ORG_AUTHORITY, ID: `0192:${consumerOrg}` });
      assert.deepEqual(claims.supplier, { authority: ORG_AUTHORITY, ID: `0192:${supplierOrg}` });
      // The Altinn portal's issuer (TT02's, paired with TEST), and no client_orgno in a 2026 TT02 token.
      assert.equal(claims.delegation_source, 'https://tt02.altinn.no/');
      assert.equal(claims.client_orgno, undefined);
      assert.equal(claims.aud, undefined, 'no aud without resource');
      assert.equal(claims.client_id, supplier.clientId);
      assert.equal(claims.scope, 'deleg:api');
    });

    it('refuses when one of the requested scopes is not delegated (MP-251)', async () => {
      emulator.addDelegation({ consumerOrg, supplierOrg, scope: 'deleg:api' });
      const answer = await postToken(
        emulator,
        makeGrant(emulator, supplier, { claims: { scope: 'deleg:api deleg:other', consumer_org: consumerOrg } }),
      );
      assertMpError(answer, 403, 'forbidden', 'MP-251');
    });

    it("refuses consumer_org equal to the client's own org (MP-011)", async () => {
      emulator.addDelegation({ consumerOrg: supplierOrg, supplierOrg, scope: 'deleg:api' });
      const answer = await postToken(
        emulator,
        makeGrant(emulator, supplier, { claims: { scope: 'deleg:api', consumer_org: supplierOrg } }),
      );
      assertMpError(answer, 400, 'invalid_request', 'MP-011');
      assert.match(String(answer.body.error_description), /combination consumer_org .* is invalid/);
    });

    it('refuses a consumer_org that is not a nine-digit org number (MP-011)', async () => {
      for (const consumer_org of ['12345678', '0192:310000002', 310000002]) {
        const answer = await postToken(
          emulator,
          makeGrant(emulator, supplier, { claims: { scope: 'deleg:api', consumer_org } }),
        );
        assertMpError(answer, 400, 'invalid_request', 'MP-011');
      }
    });
  });

  describe('pid', () => {
    it('refuses a pid that is not 11 digits (MP-011)', async () => {
      for (const pid of ['1234567890', '123456789012', 'abcdefghijk', 12345678901]) {
        const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { pid } }));
        assertMpError(answer, 400, 'invalid_request', 'MP-011');
      }
    });

    it('binds the token to a valid pid', async () => {
      const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { pid: '12345678901' } }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.equal(claims.pid, '12345678901');
    });
  });

  describe('authorization_details', () => {
    const partyOrg = '310000003';
    const systemUserOrg = { authority: ORG_AUTHORITY, ID: `0192:${partyOrg}` };
    const fnr = 'urn:altinn:person:identifier-no:12345678901';
    let vendor: CreatedClient;

    before(async () => {
      vendor = await emulator.createClient({ scopes: ['vendor:api'], orgNo: '310000004' });
    });

    const grantWith = (authorization_details: unknown) =>
      makeGrant(emulator, vendor, { claims: { scope: 'vendor:api', authorization_details } });

    it('refuses an unknown type (MP-301)', async () => {
      const answer = await postToken(
        emulator,
        grantWith([{ type: 'urn:altinn:unknown', systemuser_org: systemUserOrg }]),
      );
      assertMpError(answer, 400, 'invalid_authorization_details', 'MP-301');
    });

    it('refuses unknown fields (MP-302)', async () => {
      emulator.addSystemUser({ org: partyOrg, clientIds: [vendor.clientId] });
      for (const entry of [
        { type: SYSTEM_USER, systemuser_org: systemUserOrg, foo: 'bar' },
        { type: SYSTEM_USER, systemuser_org: { ...systemUserOrg, extra: 1 } },
        { type: CONSENT, id: randomUUID(), from: fnr, scope: 'x' },
      ]) {
        const answer = await postToken(emulator, grantWith([entry]));
        assertMpError(answer, 400, 'invalid_authorization_details', 'MP-302');
      }
    });

    it('refuses invalid values (MP-303)', async () => {
      emulator.addSystemUser({ org: partyOrg, clientIds: [vendor.clientId] });
      for (const details of [
        { type: SYSTEM_USER, systemuser_org: systemUserOrg },
        [],
        ['not an object'],
        [{ type: SYSTEM_USER }],
        [{ type: SYSTEM_USER, systemuser_org: { authority: 'other', ID: `0192:${partyOrg}` } }],
        [{ type: SYSTEM_USER, systemuser_org: { authority: ORG_AUTHORITY, ID: partyOrg } }],
        [{ type: SYSTEM_USER, systemuser_org: { authority: ORG_AUTHORITY, ID: '0192:1234' } }],
        [{ type: SYSTEM_USER, systemuser_org: systemUserOrg, externalRef: 'has spaces' }],
        [
          { type: SYSTEM_USER, systemuser_org: systemUserOrg },
          { type: SYSTEM_USER, systemuser_org: systemUserOrg },
        ],
        [{ type: CONSENT, id: 'not-a-uuid', from: fnr }],
        [{ type: CONSENT, id: randomUUID(), from: 'urn:altinn:person:identifier-no:123' }],
      ]) {
        const answer = await postToken(emulator, grantWith(details));
        assertMpError(answer, 400, 'invalid_altinn_customer_configuration', 'MP-303');
      }
    });

    it('refuses a system user nobody registered for this client (MP-303)', async () => {
      const otherParty = '310000005';
      const none = await postToken(
        emulator,
        grantWith([{ type: SYSTEM_USER, systemuser_org: { authority: ORG_AUTHORITY, ID: `0192:${otherParty}` } }]),
      );
      assertMpError(none, 400, 'invalid_altinn_customer_configuration', 'MP-303');
      const stranger = await emulator.createClient({ scopes: ['vendor:api'] });
      emulator.addSystemUser({ org: otherParty, clientIds: [stranger.clientId] });
      const notOurs = await postToken(
        emulator,
        grantWith([{ type: SYSTEM_USER, systemuser_org: { authority: ORG_AUTHORITY, ID: `0192:${otherParty}` } }]),
      );
      assertMpError(notOurs, 400, 'invalid_altinn_customer_configuration', 'MP-303');
    });

    it('issues a system-user token carrying systemuser_id, systemuser_org and system_id', async () => {
      const party = '310000006';
      const user = emulator.addSystemUser({ org: party, clientIds: [vendor.clientId], systemId: 'vendor_system' });
      const answer = await postToken(
        emulator,
        grantWith([{ type: SYSTEM_USER, systemuser_org: { authority: ORG_AUTHORITY, ID: `0192:${party}` } }]),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.deepEqual(claims.authorization_details, [
        {
          type: SYSTEM_USER,
          systemuser_id: [user.id],
          systemuser_org: { authority: ORG_AUTHORITY, ID: `0192:${party}` },
          system_id: 'vendor_system',
        },
      ]);
      assert.equal(claims.scope, 'vendor:api');
      assert.equal(claims.client_id, vendor.clientId);
    });

    it('issues a consent token carrying the registered consent, `to` an ISO 6523 object (protocol §3 (rev) [S20, S34])', async () => {
      const consentRights = [{ action: ['read'], resource: [{ type: 'urn:altinn:resource', value: 'ttd_skatt' }] }];
      const consent = emulator.addConsent({ from: fnr, toOrg: vendor.orgNo, consentRights });
      const answer = await postToken(emulator, grantWith([{ type: CONSENT, id: consent.id, from: fnr }]));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.deepEqual(claims.authorization_details, [
        {
          type: CONSENT,
          id: consent.id,
          from: fnr,
          to: { authority: ORG_AUTHORITY, ID: `0192:${vendor.orgNo}` },
          consented: new Date(consent.consentedAt).toISOString(),
          validTo: new Date(consent.validTo).toISOString(),
          consentRights,
        },
      ]);
    });

    it('refuses a consent that is unknown, from someone else, to another org or expired (MP-303)', async () => {
      const other = 'urn:altinn:person:identifier-no:10987654321';
      const mine = emulator.addConsent({ from: fnr, toOrg: vendor.orgNo });
      const toOther = emulator.addConsent({ from: fnr, toOrg: '310000099' });
      const expired = emulator.addConsent({ from: fnr, toOrg: vendor.orgNo, validTo: emulator.clock.now() - 1000 });
      for (const entry of [
        { type: CONSENT, id: randomUUID(), from: fnr },
        { type: CONSENT, id: mine.id, from: other },
        { type: CONSENT, id: toOther.id, from: fnr },
        { type: CONSENT, id: expired.id, from: fnr },
      ]) {
        const answer = await postToken(emulator, grantWith([entry]));
        assertMpError(answer, 400, 'invalid_altinn_customer_configuration', 'MP-303');
      }
    });
  });

  describe('token lifetime', () => {
    async function lifetimeOf(c: CreatedClient, scope: string): Promise<number> {
      const answer = await postToken(emulator, makeGrant(emulator, c, { claims: { scope } }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      const lifetime = (claims.exp as number) - (claims.iat as number);
      assert.equal(claims.iat, nowSeconds());
      assert.equal(answer.body.expires_in, lifetime, 'expires_in must match exp − iat');
      return lifetime;
    }

    it("uses the client's accessTokenLifetime", async () => {
      const c = await emulator.createClient({ scopes: ['life:plain'], accessTokenLifetime: 300 });
      assert.equal(await lifetimeOf(c, 'life:plain'), 300);
    });

    it("caps it at a scope's atMaxAge when that is lower", async () => {
      emulator.defineScope({ name: 'life:short', atMaxAge: 60 });
      const c = await emulator.createClient({ scopes: ['life:short', 'life:plain'], accessTokenLifetime: 300 });
      assert.equal(await lifetimeOf(c, 'life:short'), 60);
      assert.equal(await lifetimeOf(c, 'life:plain life:short'), 60);
    });

    it("keeps the client's lifetime when the scope's atMaxAge is higher", async () => {
      emulator.defineScope({ name: 'life:long', atMaxAge: 1000 });
      const c = await emulator.createClient({ scopes: ['life:long'], accessTokenLifetime: 90 });
      assert.equal(await lifetimeOf(c, 'life:long'), 90);
      const d = await emulator.createClient({ scopes: ['life:long'] });
      assert.equal(await lifetimeOf(d, 'life:long'), 120, 'the default client lifetime is 120 s');
    });

    it('takes the lowest atMaxAge of the requested scopes', async () => {
      emulator.defineScope({ name: 'life:a', atMaxAge: 200 });
      emulator.defineScope({ name: 'life:b', atMaxAge: 45 });
      emulator.defineScope({ name: 'life:c', atMaxAge: 0 });
      const c = await emulator.createClient({ scopes: ['life:a', 'life:b', 'life:c'], accessTokenLifetime: 600 });
      assert.equal(await lifetimeOf(c, 'life:a life:b life:c'), 45);
      assert.equal(await lifetimeOf(c, 'life:a life:c'), 200);
      assert.equal(await lifetimeOf(c, 'life:c'), 600, 'atMaxAge 0 means the client lifetime applies');
    });
  });
});

describe('emulator token endpoint: key expiry', () => {
  let emulator: Emulator;
  let client: CreatedClient;

  before(async () => {
    emulator = await frozenEmulator();
    client = await emulator.createClient({ scopes: ['test:read'] });
  });
  after(() => emulator.close());

  it('accepts a key until one year after registration, then answers MP-121 "Expired key"', async () => {
    emulator.clock.advance(365 * DAY_MS - 60_000);
    const young = await postToken(emulator, makeGrant(emulator, client));
    assert.equal(young.status, 200, JSON.stringify(young.body));

    emulator.clock.advance(120_000);
    const answer = await postToken(emulator, makeGrant(emulator, client));
    assertMpError(answer, 400, 'invalid_grant', 'MP-121');
    assert.match(
      String(answer.body.error_description),
      /^Invalid assertion\. Client authentication failed\. Expired key\./,
    );
  });
});
