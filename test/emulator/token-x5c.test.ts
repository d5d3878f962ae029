/**
 * Grants signed with a business certificate (virksomhetssertifikat): the `x5c` header carries the full chain.
 * A throw-away root CA and leaf certificates are made at test time with the openssl CLI; nothing is committed.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CreatedClient, startEmulator } from '../../src/emulator/index.ts';
import { CertFactory, type Issued } from '../helpers/certs.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { assertMpError, makeGrant, postToken, verifiedClaims } from '../helpers/grants.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const ORG = '312345678';
const OTHER_ORG = '398765432';
describe('emulator token endpoint: x5c (business certificate) grants', () => {
  let certs: CertFactory;
  let ca: Issued;
  let leaf: Issued;
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['cert:read'], jwks: [], orgNo: ORG });

  /** A grant for `client` carrying `x5c` and signed with `key` (the leaf's by default). */
  const certGrant = (x5c: unknown, key: KeyObject = leaf.key, c: CreatedClient = client) =>
    makeGrant(emulator, c, { header: { kid: undefined, x5c }, key });

  before(async () => {
    certs = new CertFactory();
    ca = certs.ca('ca', '/C=NO/O=Test Root CA AS/CN=Test Root CA');
    leaf = certs.leaf('leaf', `/C=NO/O=Test Virksomhet AS/serialNumber=${ORG}/CN=Test Virksomhet AS`, ca);
    assert.equal(client.kid, undefined, 'a certificate-only client has no generated key');
  });
  after(async () => {
    certs.dispose();
  });

  it('accepts the full chain and issues a token with client_amr "virksomhetssertifikat"', async () => {
    const answer = await postToken(emulator, certGrant([leaf.der, ca.der]));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.scope, 'cert:read');
    const claims = await verifiedClaims(emulator, answer.body.access_token as string);
    assert.equal(claims.client_amr, 'virksomhetssertifikat');
    assert.equal(claims.client_id, client.clientId);
    assert.deepEqual(claims.consumer, { authority: 'iso6523-actorid-upis', ID: `0192:${ORG}` });
  });

  it('reads the organisation number from organizationIdentifier (eSeal style) too', async () => {
    const seal = certs.leaf('seal', `/C=NO/O=Test Virksomhet AS/organizationIdentifier=NTRNO-${ORG}/CN=Seal`, ca);
    const answer = await postToken(emulator, certGrant([seal.der, ca.der], seal.key));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  it('refuses x5c as a bare string (MP-123)', async () => {
    const answer = await postToken(emulator, certGrant(leaf.der));
    assertMpError(answer, 400, 'invalid_grant', 'MP-123');
    assert.match(String(answer.body.error_description), /^Invalid assertion\. Invalid JWT header x5c\./);
  });

  it('refuses x5c entries that are not certificates (MP-123)', async () => {
    for (const x5c of [['bm90IGEgY2VydGlmaWNhdGU='], ['!!!garbage!!!', ca.der], [], [42], [{ der: leaf.der }]]) {
      const answer = await postToken(emulator, certGrant(x5c));
      assertMpError(answer, 400, 'invalid_grant', 'MP-123');
    }
  });

  it("refuses a leaf whose organisation number is not the client's (MP-122)", async () => {
    const other = await emulator.createClient({ scopes: ['cert:read'], jwks: [], orgNo: OTHER_ORG });
    const answer = await postToken(emulator, certGrant([leaf.der, ca.der], leaf.key, other));
    assertMpError(answer, 400, 'invalid_grant', 'MP-122');
    assert.match(String(answer.body.error_description), /does not match certificate orgno/);
  });

  it('refuses a leaf without an organisation number (MP-122)', async () => {
    const anonymous = certs.leaf('anon', '/C=NO/O=Nobody/CN=Nobody', ca);
    const answer = await postToken(emulator, certGrant([anonymous.der, ca.der], anonymous.key));
    assertMpError(answer, 400, 'invalid_grant', 'MP-122');
  });

  it('refuses an expired leaf once the emulator clock passes its notAfter (MP-120)', async () => {
    const grantNow = () => postToken(emulator, certGrant([leaf.der, ca.der]));
    const past = Date.parse(leaf.cert.validTo) + DAY_MS - emulator.clock.now();
    emulator.clock.advance(past);
    try {
      const answer = await grantNow();
      assertMpError(answer, 400, 'invalid_grant', 'MP-120');
      assert.match(String(answer.body.error_description), /The JWT is signed with an invalid certificate/);
    } finally {
      emulator.clock.advance(-past);
    }
    assert.equal((await grantNow()).status, 200, 'valid again once the clock is back');
  });

  it('refuses a leaf that is not valid yet (MP-120)', async () => {
    const before = Date.parse(leaf.cert.validFrom) - DAY_MS - emulator.clock.now();
    emulator.clock.advance(before);
    try {
      assertMpError(await postToken(emulator, certGrant([leaf.der, ca.der])), 400, 'invalid_grant', 'MP-120');
    } finally {
      emulator.clock.advance(-before);
    }
  });

  it('refuses a chain in the wrong order (MP-120)', async () => {
    const answer = await postToken(emulator, certGrant([ca.der, leaf.der]));
    assertMpError(answer, 400, 'invalid_grant', 'MP-120');
  });

  it('refuses a chain whose next certificate did not sign the leaf (MP-120)', async () => {
    // Same subject as the real CA, different key: the names line up, the signature does not.
    const impostor = certs.ca('impostor', '/C=NO/O=Test Root CA AS/CN=Test Root CA');
    const answer = await postToken(emulator, certGrant([leaf.der, impostor.der]));
    assertMpError(answer, 400, 'invalid_grant', 'MP-120');
    const unrelated = certs.ca('unrelated', '/C=NO/O=Other CA/CN=Other CA');
    assertMpError(await postToken(emulator, certGrant([leaf.der, unrelated.der])), 400, 'invalid_grant', 'MP-120');
  });

  it('refuses a grant signed by a key other than the leaf’s (MP-124)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const key of [privateKey, ca.key]) {
      const answer = await postToken(emulator, certGrant([leaf.der, ca.der], key));
      assertMpError(answer, 400, 'invalid_grant', 'MP-124');
    }
  });

  it('accepts both kid and x5c live (the certificate of a certificate-only client), refuses them documented (MP-011)', async () => {
    const grant = () =>
      makeGrant(emulator, client, { header: { kid: 'some-kid', x5c: [leaf.der, ca.der] }, key: leaf.key });
    assert.equal((await postToken(emulator, grant())).status, 200);
    const documented = await startEmulator({ rules: 'documented' });
    try {
      const strict = await documented.createClient({ scopes: ['cert:read'], jwks: [], orgNo: ORG });
      const answer = await postToken(
        documented,
        makeGrant(documented, strict, { header: { kid: 'some-kid', x5c: [leaf.der, ca.der] }, key: leaf.key }),
      );
      assertMpError(answer, 400, 'invalid_request', 'MP-011');
    } finally {
      await documented.close();
    }
  });

  it('refuses x5c without kid from a client that has registered keys (MP-100)', async () => {
    const keyed = await emulator.createClient({ scopes: ['cert:read'], orgNo: ORG });
    const answer = await postToken(emulator, certGrant([leaf.der, ca.der], leaf.key, keyed));
    assertMpError(answer, 400, 'invalid_grant', 'MP-100');
  });

  it('refuses a certificate-only client grant with neither kid nor x5c (MP-123)', async () => {
    const answer = await postToken(
      emulator,
      makeGrant(emulator, client, { header: { kid: undefined }, key: leaf.key }),
    );
    assertMpError(answer, 400, 'invalid_grant', 'MP-123');
  });
});
