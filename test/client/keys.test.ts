/**
 * Every way to give the client its key — JWK object, JWK JSON, JwkBase64, PEM with kid, PEM with a certificate
 * chain, PKCS#12 — each fetching a real token from the emulator; and the early, clear errors for bad key material.
 * Keys and certificates are generated at test time (certificates with the openssl CLI).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import { MaskinportenClient } from '../../src/client.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { type GeneratedKeyPair, generateRsaKeyPair } from '../../src/keys/jwk.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { CertFactory, type Issued } from '../helpers/certs.ts';
import { count, FakeClock, lastGrant, MemoryStore, rejectsWith, throwsWith } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

const ORG = '312345678';
const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');

describe('client keys: every format gets a token', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['k'] });
  const certClient = useClient(emulator, { scopes: ['k'], jwks: [], orgNo: ORG });
  let certs: CertFactory;
  let ca: Issued;
  let leaf: Issued;
  let other: Issued;
  let foreign: Issued;

  const base = () => ({ authority: emulator.issuer, clientId: created.clientId });
  const certBase = () => ({ authority: emulator.issuer, clientId: certClient.clientId });
  const get = (settings: MaskinportenSettings) => new MaskinportenClient(settings, { clock }).getAccessToken(['k']);

  before(async () => {
    certs = new CertFactory();
    ca = certs.ca('ca');
    leaf = certs.leaf('leaf', ORG, ca);
    other = certs.leaf('other-leaf', ORG, ca);
    foreign = certs.leaf('foreign', '398765432', ca);
    // The certificates are valid from the moment openssl made them: move the shared clock past that.
    clock.advance(Date.now() + 2000 - clock.now());
  });
  beforeEach(() => emulator.requests.clear());
  after(async () => {
    certs.dispose();
  });

  it('a JWK object', async () => {
    const token = await get({ ...base(), jwk: created.privateJwk });
    assert.equal(token.claims.client_id, created.clientId);
    assert.deepEqual(lastGrant(emulator).header, { alg: 'RS256', kid: created.kid });
  });

  it('a JWK as JSON text', async () => {
    await get({ ...base(), jwk: JSON.stringify(created.privateJwk, null, 2) });
    assert.deepEqual(lastGrant(emulator).header, { alg: 'RS256', kid: created.kid });
  });

  it("JwkBase64 (the seed's setting)", async () => {
    await get({ ...base(), jwkBase64: created.jwkBase64! });
    assert.deepEqual(lastGrant(emulator).header, { alg: 'RS256', kid: created.kid });
    await get({ ...base(), jwkBase64: `  ${Buffer.from(JSON.stringify(created.privateJwk)).toString('base64url')}\n` });
    assert.equal(count(emulator, 'token'), 2, 'base64url and surrounding whitespace are accepted');
  });

  it('jwk and jwkBase64 holding the same key', async () => {
    await get({ ...base(), jwk: created.privateJwk, jwkBase64: created.jwkBase64! });
    assert.deepEqual(lastGrant(emulator).header, { alg: 'RS256', kid: created.kid });
  });

  it('a PEM private key (PKCS#8 or PKCS#1) with kid', async () => {
    const pair = await generateRsaKeyPair();
    const c = await emulator.createClient({ scopes: ['k'], jwks: [pair.publicJwk] });
    for (const type of ['pkcs8', 'pkcs1'] as const) {
      const pem = pair.privateKey.export({ type, format: 'pem' }) as string;
      await get({ authority: emulator.issuer, clientId: c.clientId, pem, kid: pair.kid });
      assert.deepEqual(lastGrant(emulator).header, { alg: 'RS256', kid: pair.kid });
    }
  });

  it('a PEM key with its certificate chain: x5c carries the full chain, leaf first, and no kid', async () => {
    const expected = { alg: 'RS256', x5c: [leaf.der, ca.der] };
    // The chain in the wrong order, as PEM strings: the client orders it leaf first.
    const token = await get({ ...certBase(), pem: leaf.keyPem, certificateChain: [ca.certPem, leaf.certPem] });
    assert.equal(token.claims.client_amr, 'virksomhetssertifikat');
    assert.deepEqual(lastGrant(emulator).header, expected);
    // One PEM text holding both certificates.
    await get({ ...certBase(), pem: leaf.keyPem, certificateChain: leaf.certPem + ca.certPem });
    assert.deepEqual(lastGrant(emulator).header, expected);
    // Base64 DER strings.
    await get({ ...certBase(), pem: leaf.keyPem, certificateChain: [leaf.der, ca.der] });
    assert.deepEqual(lastGrant(emulator).header, expected);
    // Key and certificates in one PEM text.
    await get({ ...certBase(), pem: leaf.keyPem + leaf.certPem + ca.certPem });
    assert.deepEqual(lastGrant(emulator).header, expected);
  });

  it('a PKCS#12 file with a password (bytes or base64, modern or legacy encryption)', async () => {
    const expected = { alg: 'RS256', x5c: [leaf.der, ca.der] };
    const modern = certs.pkcs12('modern', leaf, [ca], 'pa55word');
    const token = await get({ ...certBase(), pkcs12: new Uint8Array(modern), pkcs12Password: 'pa55word' });
    assert.equal(token.claims.client_amr, 'virksomhetssertifikat');
    assert.deepEqual(lastGrant(emulator).header, expected);
    await get({ ...certBase(), pkcs12: modern.toString('base64'), pkcs12Password: 'pa55word' });
    assert.deepEqual(lastGrant(emulator).header, expected);
    const legacy = certs.pkcs12('legacy', leaf, [ca], 'pa55word', true);
    await get({ ...certBase(), pkcs12: legacy, pkcs12Password: 'pa55word' });
    assert.deepEqual(lastGrant(emulator).header, expected);
  });

  it('a wrong PKCS#12 password or data fails the first call with ERR_INVALID_KEY (and every call after)', async () => {
    const p12 = certs.pkcs12('pw', leaf, [ca], 'right');
    const c = new MaskinportenClient({ ...certBase(), pkcs12: p12, pkcs12Password: 'wrong' }, { clock });
    const err = await rejectsWith(c.getAccessToken(['k']), 'ERR_INVALID_KEY');
    assert.match(err.message, /pkcs12Password/);
    await rejectsWith(c.getAccessToken(['k']), 'ERR_INVALID_KEY');
    const junk = new MaskinportenClient({ ...certBase(), pkcs12: Buffer.from('not a p12') }, { clock });
    assert.match((await rejectsWith(junk.getAccessToken(['k']), 'ERR_INVALID_KEY')).message, /PKCS#12/);
    assert.equal(count(emulator, 'token'), 0);
  });

  it('keys the cache by certificate: two PKCS#12 files of one client never share a token', async () => {
    const store = new MemoryStore();
    const one = new MaskinportenClient(
      { ...certBase(), pkcs12: certs.pkcs12('one', leaf, [ca], 'x'), pkcs12Password: 'x' },
      { clock, cache: { store } },
    );
    const two = new MaskinportenClient(
      { ...certBase(), pkcs12: certs.pkcs12('two', other, [ca], 'x'), pkcs12Password: 'x' },
      { clock, cache: { store } },
    );
    await one.getAccessToken(['k']);
    await two.getAccessToken(['k']);
    assert.equal(count(emulator, 'token'), 2);
    assert.deepEqual(lastGrant(emulator).header.x5c, [other.der, ca.der]);
    const three = new MaskinportenClient(
      { ...certBase(), pkcs12: certs.pkcs12('three', leaf, [ca], 'y'), pkcs12Password: 'y' },
      { clock, cache: { store } },
    );
    await three.getAccessToken(['k']);
    assert.equal(count(emulator, 'token'), 2, 'the same certificate shares through the store');
  });

  it('a certificate on a client with registered keys → ERR_UNKNOWN_KID (kid required)', async () => {
    const err = await rejectsWith(
      get({ ...base(), pem: leaf.keyPem, certificateChain: [leaf.certPem, ca.certPem] }),
      'ERR_UNKNOWN_KID',
    );
    assert.match(err.message, /set kid/);
  });

  it('a certificate of another organisation → ERR_INVALID_CERTIFICATE', async () => {
    const err = await rejectsWith(
      get({ ...certBase(), pem: foreign.keyPem, certificateChain: [foreign.certPem, ca.certPem] }),
      'ERR_INVALID_CERTIFICATE',
    );
    assert.equal(err.mpCode, 'MP-122');
  });
});

describe('client keys: validation at construction', () => {
  let pair: GeneratedKeyPair;
  const authority = 'https://test.maskinporten.no/';
  const make = (key: Partial<MaskinportenSettings>) => () =>
    new MaskinportenClient({ authority, clientId: 'client-id', ...key } as MaskinportenSettings);

  before(async () => {
    pair = await generateRsaKeyPair();
  });

  it('no key at all', () => {
    assert.match(throwsWith(make({}), 'ERR_INVALID_KEY').message, /no signing key/);
  });

  it('JwkBase64 that is not base64, or base64 that is not a JWK', () => {
    assert.match(throwsWith(make({ jwkBase64: 'not base64!!' }), 'ERR_INVALID_KEY').message, /is not base64/);
    const notJwk = throwsWith(make({ jwkBase64: b64('hello, world') }), 'ERR_INVALID_KEY');
    assert.match(notJwk.message, /JwkBase64 does not decode to a JWK/);
    assert.match(throwsWith(make({ jwkBase64: b64('{"kty": ') }), 'ERR_INVALID_KEY').message, /not valid JSON/);
    assert.match(throwsWith(make({ jwk: 'not json' }), 'ERR_INVALID_KEY').message, /jwk is not valid JSON/);
  });

  it('a public-only JWK: "this is the public half; JwkBase64 must hold the key pair"', () => {
    const viaBase64 = throwsWith(make({ jwkBase64: b64(pair.publicJwk) }), 'ERR_INVALID_KEY');
    assert.match(viaBase64.message, /public half/);
    assert.match(viaBase64.message, /JwkBase64 must hold the key pair/);
    const viaJwk = throwsWith(make({ jwk: pair.publicJwk }), 'ERR_INVALID_KEY');
    assert.match(viaJwk.message, /public half/);
    assert.match(viaJwk.message, /jwk must hold the key pair/);
  });

  it('an unsupported kty or alg', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk = { ...ec.privateKey.export({ format: 'jwk' }), kid: 'ec-key' };
    const kty = throwsWith(make({ jwk: ecJwk }), 'ERR_INVALID_KEY');
    assert.match(kty.message, /kty "EC"/);
    assert.match(kty.message, /RSA/);
    for (const alg of ['ES256', 'PS256', 'HS256', 'none']) {
      const err = throwsWith(make({ jwk: { ...pair.privateJwk, alg } }), 'ERR_INVALID_KEY');
      assert.ok(err.message.includes(alg));
      assert.match(err.message, /RS256, RS384 or RS512/);
    }
    const setting = throwsWith(make({ jwk: pair.privateJwk, alg: 'HS256' as 'RS256' }), 'ERR_INVALID_KEY');
    assert.match(setting.message, /RS256, RS384 or RS512/);
    const ecPem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assert.match(throwsWith(make({ pem: ecPem, kid: 'k' }), 'ERR_INVALID_KEY').message, /RSA/);
  });

  it('a missing kid, offering the RFC 7638 thumbprint', async () => {
    const { kid: _kid, ...noKid } = pair.privateJwk;
    const thumbprint = await calculateJwkThumbprint(pair.publicJwk as Parameters<typeof calculateJwkThumbprint>[0]);
    for (const key of [{ jwk: noKid }, { jwkBase64: b64(noKid) }]) {
      const err = throwsWith(make(key), 'ERR_INVALID_KEY');
      assert.match(err.message, /no "kid"/);
      assert.ok(err.message.includes(`"${thumbprint}"`), `${err.message} should offer ${thumbprint}`);
    }
    // The kid setting supplies it.
    assert.ok(make({ jwk: noKid, kid: thumbprint })());
  });

  it('jwk and jwkBase64 holding different keys', async () => {
    const other = await generateRsaKeyPair();
    const err = throwsWith(make({ jwk: pair.privateJwk, jwkBase64: b64(other.privateJwk) }), 'ERR_INVALID_KEY');
    assert.match(err.message, /different keys/);
  });

  it('a JWK array or set (the public list pasted by mistake)', () => {
    for (const key of [
      { jwk: [pair.privateJwk] as unknown as Record<string, unknown> },
      { jwk: { keys: [pair.privateJwk] } },
      { jwkBase64: b64([pair.privateJwk]) },
      { jwkBase64: b64({ keys: [pair.publicJwk] }) },
      { jwk: JSON.stringify([pair.privateJwk]) },
    ]) {
      assert.match(throwsWith(make(key), 'ERR_INVALID_KEY').message, /list of keys/);
    }
  });

  it('PEM problems: not a key, no kid and no chain, both kid and chain, a bad kid', () => {
    assert.match(throwsWith(make({ pem: 'garbage' }), 'ERR_INVALID_KEY').message, /private key/);
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assert.match(throwsWith(make({ pem }), 'ERR_INVALID_KEY').message, /kid .* or certificateChain/);
    assert.match(
      throwsWith(make({ pem, kid: 'k', certificateChain: ['bm90IGEgY2VydA=='] }), 'ERR_INVALID_KEY').message,
      /not both/,
    );
    assert.match(throwsWith(make({ pem, kid: 'has space' }), 'ERR_INVALID_KEY').message, /kid must be/);
    assert.match(
      throwsWith(make({ pem, certificateChain: ['bm90IGEgY2VydA=='] }), 'ERR_INVALID_KEY').message,
      /not an X\.509 certificate/,
    );
  });
});

describe('client keys: consistency of the key pair', () => {
  it('refuses a JWK whose modulus belongs to another key', async () => {
    const a = await generateRsaKeyPair();
    const b = await generateRsaKeyPair();
    assert.throws(
      () =>
        new MaskinportenClient({
          authority: 'https://test.maskinporten.no/',
          clientId: 'c',
          jwk: { ...a.privateJwk, n: b.privateJwk.n },
        }),
      (err: unknown) =>
        err instanceof MaskinportenError && err.code === 'ERR_INVALID_KEY' && /mixes two keys/.test(err.message),
    );
  });
});
