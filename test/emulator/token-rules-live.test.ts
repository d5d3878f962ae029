/**
 * The token endpoint as the live Maskinporten checks grants (the emulator's default, `rules: 'live'`): every rule
 * the protocol notes revised after reading real clients and Altinn's issue threads. Each test names the section of
 * protocol.md and the source it follows; the documented (stricter) reading of the same rules is pinned by
 * token-rules.test.ts, which runs with `rules: 'documented'`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CreatedClient, startEmulator } from '../../src/emulator/index.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { CertFactory, type Issued } from '../helpers/certs.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { assertMpError, makeGrant, postToken, type TokenAnswer, verifiedClaims } from '../helpers/grants.ts';
import { call, obj } from '../helpers/http.ts';

const SYSTEM_USER = 'urn:altinn:systemuser';
const CONSENT = 'urn:altinn:consent';
const ORG_AUTHORITY = 'iso6523-actorid-upis';
const party = (orgNo: string) => ({ authority: ORG_AUTHORITY, ID: `0192:${orgNo}` });

/** A live error answer: 400 `invalid_grant`, exactly `text` plus the trace id, and no `error_uri`. */
function assertLiveError(answer: TokenAnswer, text: string): void {
  const context = JSON.stringify(answer.body);
  assert.equal(answer.status, 400, context);
  assert.equal(answer.body.error, 'invalid_grant', context);
  assert.equal(answer.body.error_uri, undefined, `no error_uri: ${context}`);
  assert.equal(answer.body.error_description, `${text} (trace_id: ${answer.headers.get('x-trace-id')})`, context);
  assert.equal(answer.body.access_token, undefined);
}

describe('emulator token endpoint, live rules (the default)', () => {
  const frozenAt = Date.now();
  const emulator = useEmulator({ clock: { now: () => frozenAt } });
  const client = useClient(emulator, { scopes: ['test:read'] });
  const now = () => Math.floor(emulator.clock.now() / 1000);
  const grant = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    makeGrant(emulator, client, { claims, header });

  it('is the default', () => {
    assert.equal(emulator.rules, 'live');
  });

  describe('aud: the issuer or the token endpoint URL, one value (protocol §2 (rev) [S30, S32])', () => {
    it('accepts the issuer and the token endpoint URL', async () => {
      for (const aud of [emulator.issuer, emulator.tokenEndpoint]) {
        const answer = await postToken(emulator, grant({ aud }));
        assert.equal(answer.status, 200, `${aud}: ${JSON.stringify(answer.body)}`);
      }
    });

    it('accepts a one-element array (one audience value)', async () => {
      const answer = await postToken(emulator, grant({ aud: [emulator.tokenEndpoint] }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    });

    it('refuses other values and several values (MP-110)', async () => {
      for (const aud of [
        emulator.url,
        `${emulator.tokenEndpoint}/`,
        'https://test.maskinporten.no/',
        [emulator.issuer, emulator.tokenEndpoint],
        [],
        undefined,
      ]) {
        assertMpError(await postToken(emulator, grant({ aud })), 400, 'invalid_grant', 'MP-110');
      }
    });
  });

  describe('iat and exp as the server checks them (protocol §2 (rev) [S30, S16])', () => {
    it('accepts an iat 30 s old with a valid exp: there is no "iat too old" check', async () => {
      const answer = await postToken(emulator, grant({ iat: now() - 30, exp: now() + 90 }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    });

    it('accepts a grant lifetime of 180 s, refuses 181 s with "JWT has too long lifetime"', async () => {
      const ok = await postToken(emulator, grant({ iat: now(), exp: now() + 180 }));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assertLiveError(await postToken(emulator, grant({ iat: now(), exp: now() + 181 })), 'JWT has too long lifetime');
    });

    it('accepts iat 10 s ahead, refuses 11 s ahead with "Issue time is in the future"', async () => {
      const ok = await postToken(emulator, grant({ iat: now() + 10, exp: now() + 100 }));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assertLiveError(
        await postToken(emulator, grant({ iat: now() + 11, exp: now() + 100 })),
        'Issue time is in the future',
      );
    });

    it('accepts exp 10 s past, refuses 11 s past with "JWT has expired"', async () => {
      const ok = await postToken(emulator, grant({ iat: now() - 100, exp: now() - 10 }));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assertLiveError(await postToken(emulator, grant({ iat: now() - 100, exp: now() - 11 })), 'JWT has expired');
    });

    it('checks the lifetime first, then iat, then exp, as the server does', async () => {
      assertLiveError(
        await postToken(emulator, grant({ iat: now() + 60, exp: now() + 300 })),
        'JWT has too long lifetime',
      );
      assertLiveError(
        await postToken(emulator, grant({ iat: now() + 60, exp: now() - 60 })),
        'Issue time is in the future',
      );
    });

    it('still refuses a replayed grant whose iat is old (MP-012)', async () => {
      const old = grant({ iat: now() - 60, exp: now() + 60 });
      assert.equal((await postToken(emulator, old)).status, 200);
      assertMpError(await postToken(emulator, old), 400, 'invalid_grant', 'MP-012');
    });
  });

  describe('resource: a string or an array (protocol §2 (rev) [S33]; the docs say array only [S5])', () => {
    it('accepts a string and makes it the token aud', async () => {
      const answer = await postToken(emulator, grant({ resource: 'https://api.example.no/' }));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.equal(claims.aud, 'https://api.example.no/');
    });

    it('refuses a string that is not an absolute URI (MP-011)', async () => {
      for (const resource of ['api.example.no', '', 'https://api.example.no/#x']) {
        assertMpError(await postToken(emulator, grant({ resource })), 400, 'invalid_request', 'MP-011');
      }
    });
  });

  it('issues no aud claim unless resource was asked for (protocol §3 (rev) [S27, S20, S34])', async () => {
    const answer = await postToken(emulator, grant({}));
    const claims = await verifiedClaims(emulator, answer.body.access_token as string);
    assert.equal('aud' in claims, false, JSON.stringify(claims));
  });

  it('answers an unknown kid with the live text and no error_uri (protocol §4 (rev) [S35, S38])', async () => {
    const answer = await postToken(emulator, grant({}, { kid: 'no-such-key' }));
    assertLiveError(
      answer,
      'Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.',
    );
  });

  describe('kid and x5c together: accepted, the kid is used (protocol §2 (rev) [S35])', () => {
    let certs: CertFactory;
    let ca: Issued;
    let leaf: Issued;
    const certOrg = '312345670';

    before(() => {
      certs = new CertFactory();
      ca = certs.ca('ca');
      leaf = certs.leaf('leaf', certOrg, ca);
      // The certificates are valid from the moment openssl made them, after the frozen clock's start.
      emulator.clock.set(Date.parse(leaf.cert.validFrom) + 60_000);
    });
    after(() => certs.dispose());

    it('a client with registered keys: the kid verifies, whatever x5c holds', async () => {
      for (const x5c of [[leaf.der, ca.der], ['AAAA']]) {
        const answer = await postToken(emulator, grant({}, { x5c }));
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const claims = await verifiedClaims(emulator, answer.body.access_token as string);
        assert.equal(claims.client_amr, 'private_key_jwt');
      }
    });

    it('a certificate-only client (KS Fiks sends both): its certificate verifies', async () => {
      const certClient = await emulator.createClient({ scopes: ['cert:read'], jwks: [], orgNo: certOrg });
      const answer = await postToken(
        emulator,
        makeGrant(emulator, certClient, { header: { kid: 'fiks-kid', x5c: [leaf.der, ca.der] }, key: leaf.key }),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.equal(claims.client_amr, 'virksomhetssertifikat');
    });
  });

  describe('Altinn system users and consents', () => {
    const vendorOrg = '310000020';
    const customerOrg = '310000021';
    const fnr = 'urn:altinn:person:identifier-no:12345678901';
    let vendor: CreatedClient;
    const withDetails = (details: unknown[], extra: Record<string, unknown> = {}) =>
      makeGrant(emulator, vendor, { claims: { scope: 'vendor:api', authorization_details: details, ...extra } });

    before(async () => {
      vendor = await emulator.createClient({ scopes: ['vendor:api'], orgNo: vendorOrg });
    });

    it('externalRef: defaults to the party org number; one set must be asked for, else MP-303 (protocol §3 (rev) [S37])', async () => {
      const plainOrg = '310000022';
      const refOrg = '310000023';
      const plain = emulator.addSystemUser({ org: plainOrg, clientIds: [vendor.clientId] });
      const withRef = emulator.addSystemUser({ org: refOrg, clientIds: [vendor.clientId], externalRef: 'ref-1' });
      const su = (orgNo: string, externalRef?: string) => ({
        type: SYSTEM_USER,
        systemuser_org: party(orgNo),
        ...(externalRef === undefined ? {} : { externalRef }),
      });
      for (const [entry, id] of [
        [su(plainOrg), plain.id],
        [su(plainOrg, plainOrg), plain.id],
        [su(refOrg, 'ref-1'), withRef.id],
      ] as const) {
        const answer = await postToken(emulator, withDetails([entry]));
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const claims = await verifiedClaims(emulator, answer.body.access_token as string);
        assert.deepEqual((claims.authorization_details as { systemuser_id: string[] }[])[0]!.systemuser_id, [id]);
      }
      for (const entry of [su(refOrg), su(refOrg, refOrg), su(refOrg, 'ref-2'), su(plainOrg, 'ref-1')]) {
        const answer = await postToken(emulator, withDetails([entry]));
        assertMpError(answer, 400, 'invalid_altinn_customer_configuration', 'MP-303');
      }
    });

    it('a consent on behalf of a customer: consumer_org and consent, `to` the customer (protocol §3 (rev) [S34])', async () => {
      emulator.addDelegation({ consumerOrg: customerOrg, supplierOrg: vendorOrg, scope: 'vendor:api' });
      const toCustomer = emulator.addConsent({ from: fnr, toOrg: customerOrg });
      const answer = await postToken(
        emulator,
        withDetails([{ type: CONSENT, id: toCustomer.id, from: fnr }], { consumer_org: customerOrg }),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await verifiedClaims(emulator, answer.body.access_token as string);
      assert.deepEqual(claims.consumer, party(customerOrg));
      assert.deepEqual(claims.supplier, party(vendorOrg));
      const detail = (claims.authorization_details as Record<string, unknown>[])[0]!;
      assert.deepEqual(detail.to, party(customerOrg));
      // The same consent without consumer_org names the vendor, to whom it was not given.
      assertMpError(
        await postToken(emulator, withDetails([{ type: CONSENT, id: toCustomer.id, from: fnr }])),
        400,
        'invalid_altinn_customer_configuration',
        'MP-303',
      );
      // A consent given to the vendor is not the customer's.
      const toVendor = emulator.addConsent({ from: fnr, toOrg: vendorOrg });
      assertMpError(
        await postToken(
          emulator,
          withDetails([{ type: CONSENT, id: toVendor.id, from: fnr }], { consumer_org: customerOrg }),
        ),
        400,
        'invalid_altinn_customer_configuration',
        'MP-303',
      );
    });

    it('MP-303 is error invalid_altinn_customer_configuration (protocol §4 (rev) [S37])', async () => {
      const answer = await postToken(emulator, withDetails([{ type: CONSENT, id: randomUUID(), from: fnr }]));
      assertMpError(answer, 400, 'invalid_altinn_customer_configuration', 'MP-303');
    });
  });

  describe('discovery (protocol §1 (rev) [S41])', () => {
    it('answers with and without a trailing slash', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/']) {
        const answer = await call(`${emulator.url}${path}`);
        assert.equal(answer.status, 200, `${path}: ${answer.text}`);
        assert.equal(obj(answer).issuer, emulator.issuer);
        assert.equal(obj(answer).token_endpoint, emulator.tokenEndpoint);
      }
    });
  });
});

describe('the rules option', () => {
  it('takes "live" or "documented" and refuses anything else naming the option', async () => {
    for (const rules of ['strict', 'LIVE', '', 1] as unknown[]) {
      await assert.rejects(
        startEmulator({ rules: rules as 'live' }),
        (err: unknown) =>
          err instanceof MaskinportenError && err.code === 'ERR_INVALID_ARGUMENT' && /rules/.test(err.message),
      );
    }
    const documented = await startEmulator({ rules: 'documented' });
    try {
      assert.equal(documented.rules, 'documented');
      const client = await documented.createClient({ scopes: ['test:read'] });
      // The documented reading: the token endpoint URL is not an audience (MP-110) and a string resource is MP-011.
      const aud = await postToken(
        documented,
        makeGrant(documented, client, { claims: { aud: documented.tokenEndpoint } }),
      );
      assertMpError(aud, 400, 'invalid_grant', 'MP-110');
      const resource = await postToken(
        documented,
        makeGrant(documented, client, { claims: { resource: 'https://api.example.no/' } }),
      );
      assertMpError(resource, 400, 'invalid_request', 'MP-011');
    } finally {
      await documented.close();
    }
  });
});
