import assert from 'node:assert/strict';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startEmulator } from '../../src/emulator/index.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { signCompact } from '../../src/keys/jws.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { accessToken, makeGrant, postToken } from '../helpers/grants.ts';
import { altinnToken, call, exchange, exchangeUrl, headerOf, obj, payloadOf } from '../helpers/http.ts';

const SERVICE_OWNER_SCOPE = 'altinn:serviceowner/notifications.create';
const ALTINN_OPENID = '/authentication/api/v1/openid/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Asserts a 401 answer from the exchange as ASP.NET's `Unauthorized()` under `[ApiController]` writes it:
 * ProblemDetails with `type`, `title`, `status` and `traceId`, no `detail`, and no `WWW-Authenticate` (the endpoint
 * is `[AllowAnonymous]`) — protocol §5 (rev) [S13].
 */
function assertUnauthorized(answer: Awaited<ReturnType<typeof exchange>>, why: string): void {
  assert.equal(answer.status, 401, `${why}: ${answer.text}`);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(answer.headers.get('www-authenticate'), null, why);
  assert.deepEqual(Object.keys(obj(answer)).sort(), ['status', 'title', 'traceId', 'type'], why);
  const body = obj(answer);
  assert.equal(body.type, 'https://tools.ietf.org/html/rfc9110#section-15.5.2');
  assert.equal(body.title, 'Unauthorized');
  assert.equal(body.status, 401);
  assert.match(String(body.traceId), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
}

describe('Altinn token exchange', () => {
  const emulator = useEmulator({ orgCodes: { '991825827': 'digdir', '974761076': 'skd' } });
  const digdir = useClient(emulator, { scopes: [SERVICE_OWNER_SCOPE, 'test:read'] }); // Digdir's org by default
  const other = useClient(emulator, { scopes: [SERVICE_OWNER_SCOPE], orgNo: '974761076' });
  const plain = useClient(emulator, { scopes: ['test:read'], orgNo: '974761076' });
  const unknownOrg = useClient(emulator, { scopes: [SERVICE_OWNER_SCOPE], orgNo: '123456789' });

  describe('200 answers', () => {
    it('answers the bare JWT as text/plain by default', async () => {
      const answer = await exchange(emulator, await accessToken(emulator, digdir));
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(answer.text, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      assert.equal(headerOf(answer.text).alg, 'RS256');
    });

    it('answers a JSON-quoted string with Accept: application/json', async () => {
      const answer = await exchange(emulator, await accessToken(emulator, digdir), {
        headers: { accept: 'application/json' },
      });
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      assert.ok(answer.text.startsWith('"') && answer.text.endsWith('"'), answer.text);
      assert.equal(typeof answer.json, 'string');
      assert.equal(payloadOf(answer.json as string).iss, `${emulator.altinnPlatformUrl}${ALTINN_OPENID}`);
    });

    it('answers text/plain when text/plain or anything is acceptable too', async () => {
      for (const accept of ['application/json, text/plain', 'text/plain', '*/*']) {
        const answer = await exchange(emulator, await accessToken(emulator, digdir), { headers: { accept } });
        assert.equal(answer.status, 200, answer.text);
        assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/, accept);
        assert.ok(!answer.text.startsWith('"'), accept);
      }
    });
  });

  describe('the Altinn token', () => {
    it('is verified by jose against the published Altinn JWKS', async () => {
      const config = await call(`${emulator.altinnPlatformUrl}${ALTINN_OPENID}.well-known/openid-configuration`);
      assert.equal(config.status, 200);
      const jwksUri = obj(config).jwks_uri;
      assert.equal(jwksUri, `${emulator.altinnPlatformUrl}${ALTINN_OPENID}.well-known/openid-configuration/jwks`);
      assert.equal(obj(config).issuer, `${emulator.altinnPlatformUrl}${ALTINN_OPENID}`);

      const token = await altinnToken(emulator, await accessToken(emulator, digdir));
      const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(jwksUri as string)), {
        issuer: `${emulator.altinnPlatformUrl}${ALTINN_OPENID}`,
        algorithms: ['RS256'],
        currentDate: new Date(emulator.clock.now()),
      });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.ok(protectedHeader.kid);
      assert.equal(payload['urn:altinn:orgNumber'], '991825827');
    });

    it('is not signed with the Maskinporten key: jose rejects it against /jwk', async () => {
      const token = await altinnToken(emulator, await accessToken(emulator, digdir));
      await assert.rejects(jwtVerify(token, createRemoteJWKSet(new URL(`${emulator.url}/jwk`))));
      const mpKeys = obj(await call(`${emulator.url}/jwk`)).keys as { kid: string }[];
      const altinnKeys = obj(
        await call(`${emulator.altinnPlatformUrl}${ALTINN_OPENID}.well-known/openid-configuration/jwks`),
      ).keys as { kid: string; d?: string }[];
      assert.equal(altinnKeys.length, 1);
      assert.notEqual(altinnKeys[0]!.kid, mpKeys[0]!.kid);
      assert.equal(altinnKeys[0]!.d, undefined, 'the published Altinn key must be public only');
    });

    it('copies the Maskinporten claims except aud, iss, client_amr and sid, and adds the Altinn claims', async () => {
      const mpToken = await accessToken(emulator, digdir);
      const mp = payloadOf(mpToken);
      const altinn = payloadOf(await altinnToken(emulator, mpToken));

      for (const [claim, value] of Object.entries(mp)) {
        if (['aud', 'iss', 'client_amr', 'sid', 'iat', 'exp', 'nbf'].includes(claim)) continue;
        assert.deepEqual(altinn[claim], value, `claim ${claim} is copied`);
      }
      assert.equal(altinn.client_id, digdir.clientId);
      assert.equal(altinn.scope, mp.scope);
      assert.deepEqual(altinn.consumer, { authority: 'iso6523-actorid-upis', ID: '0192:991825827' });
      assert.equal(altinn.jti, mp.jti);
      assert.equal(altinn.token_type, 'Bearer');
      assert.equal(altinn.aud, undefined, 'aud is not copied');
      assert.equal(altinn.client_amr, undefined, 'client_amr is not copied');

      assert.equal(altinn['urn:altinn:orgNumber'], '991825827');
      assert.equal(altinn['urn:altinn:authenticatemethod'], 'maskinporten');
      assert.equal(altinn['urn:altinn:authlevel'], 3);
      assert.equal(altinn.iss, `${emulator.altinnPlatformUrl}/authentication/api/v1/openid/`);
      assert.match(altinn.sid as string, UUID);
      assert.equal((altinn.exp as number) - (altinn.iat as number), 1800);
      assert.equal(typeof altinn.nbf, 'number');
      assert.ok((altinn.nbf as number) <= (altinn.iat as number));
    });

    it('gets a new sid on every exchange', async () => {
      const mpToken = await accessToken(emulator, digdir);
      const a = payloadOf(await altinnToken(emulator, mpToken));
      const b = payloadOf(await altinnToken(emulator, mpToken));
      assert.notEqual(a.sid, b.sid);
      assert.match(b.sid as string, UUID);
    });

    it('takes iat from the emulator clock', async () => {
      const mpToken = await accessToken(emulator, digdir);
      emulator.clock.advance(60_000);
      try {
        const before = Math.floor(emulator.clock.now() / 1000);
        const altinn = payloadOf(await altinnToken(emulator, mpToken));
        const afterNow = Math.floor(emulator.clock.now() / 1000);
        assert.ok((altinn.iat as number) >= before && (altinn.iat as number) <= afterNow);
        assert.equal(altinn.exp, (altinn.iat as number) + 1800);
      } finally {
        emulator.clock.advance(-60_000);
      }
    });
  });

  describe('urn:altinn:org', () => {
    it('is the org code for a service-owner scope', async () => {
      const altinn = payloadOf(await altinnToken(emulator, await accessToken(emulator, digdir, [SERVICE_OWNER_SCOPE])));
      assert.equal(altinn['urn:altinn:org'], 'digdir');
    });

    it('becomes ttd for digdir with ?test=true', async () => {
      const altinn = payloadOf(
        await altinnToken(emulator, await accessToken(emulator, digdir, [SERVICE_OWNER_SCOPE]), true),
      );
      assert.equal(altinn['urn:altinn:org'], 'ttd');
      assert.equal(altinn['urn:altinn:orgNumber'], '991825827', 'the org number stays Digdir’s');
    });

    it('stays the own code with ?test=true for another service owner', async () => {
      const mpToken = await accessToken(emulator, other);
      assert.equal(payloadOf(await altinnToken(emulator, mpToken))['urn:altinn:org'], 'skd');
      assert.equal(payloadOf(await altinnToken(emulator, mpToken, true))['urn:altinn:org'], 'skd');
    });

    it('is left out without a service-owner scope, with or without ?test=true', async () => {
      for (const test of [false, true]) {
        const fromDigdir = payloadOf(
          await altinnToken(emulator, await accessToken(emulator, digdir, ['test:read']), test),
        );
        assert.equal('urn:altinn:org' in fromDigdir, false);
        assert.equal(fromDigdir['urn:altinn:orgNumber'], '991825827');
        const fromPlain = payloadOf(await altinnToken(emulator, await accessToken(emulator, plain), test));
        assert.equal('urn:altinn:org' in fromPlain, false);
        assert.equal(fromPlain['urn:altinn:orgNumber'], '974761076');
      }
    });

    it('is left out for an organisation that is not a known service owner', async () => {
      const altinn = payloadOf(await altinnToken(emulator, await accessToken(emulator, unknownOrg), true));
      assert.equal('urn:altinn:org' in altinn, false);
      assert.equal(altinn['urn:altinn:orgNumber'], '123456789');
    });
  });

  it('takes the org number from the consumer of a delegated token and keeps the supplier', async () => {
    const consumerOrg = '910000009';
    const scope = 'test:delegated';
    emulator.addDelegation({ consumerOrg, supplierOrg: plain.orgNo, scope });
    emulator.defineScope({ name: scope });
    const supplier = await emulator.createClient({ scopes: [scope], orgNo: plain.orgNo });
    const answer = await postToken(
      emulator,
      makeGrant(emulator, supplier, { claims: { scope, consumer_org: consumerOrg } }),
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const altinn = payloadOf(await altinnToken(emulator, answer.body.access_token as string));
    assert.equal(altinn['urn:altinn:orgNumber'], consumerOrg);
    assert.deepEqual(altinn.consumer, { authority: 'iso6523-actorid-upis', ID: `0192:${consumerOrg}` });
    assert.deepEqual(altinn.supplier, { authority: 'iso6523-actorid-upis', ID: `0192:${plain.orgNo}` });
  });

  describe('401 answers', () => {
    it('for a missing Authorization header', async () => {
      assertUnauthorized(await exchange(emulator, undefined), 'missing');
    });

    it('for an Authorization header that is not a bearer JWT', async () => {
      const token = await accessToken(emulator, digdir);
      for (const authorization of [
        '',
        'Bearer',
        'Bearer ',
        `Basic ${Buffer.from('a:b').toString('base64')}`,
        'Bearer not-a-jwt',
        'Bearer a.b.c',
        `Bearer ${token} extra`,
        `Token ${token}`,
      ]) {
        assertUnauthorized(
          await call(exchangeUrl(emulator), { headers: { authorization } }),
          JSON.stringify(authorization),
        );
      }
    });

    it('for a forged token: the same header and claims signed by another key', async () => {
      const mpToken = await accessToken(emulator, digdir);
      const forger = await generateRsaKeyPair();
      const forged = signCompact(
        headerOf(mpToken) as { alg: string; kid: string },
        payloadOf(mpToken),
        forger.privateKey,
      );
      assert.equal(forged.split('.')[1], mpToken.split('.')[1], 'same claims');
      assertUnauthorized(await exchange(emulator, forged), 'forged');
    });

    it('for a token whose claims were altered after signing', async () => {
      const mpToken = await accessToken(emulator, digdir);
      const [h, , s] = mpToken.split('.');
      const claims = { ...payloadOf(mpToken), consumer: { authority: 'iso6523-actorid-upis', ID: '0192:974761076' } };
      const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
      assertUnauthorized(await exchange(emulator, tampered), 'tampered');
    });

    it('for an unsigned (alg none) token', async () => {
      const mpToken = await accessToken(emulator, digdir);
      const header = Buffer.from(JSON.stringify({ ...headerOf(mpToken), alg: 'none' })).toString('base64url');
      assertUnauthorized(await exchange(emulator, `${header}.${mpToken.split('.')[1]}.`), 'alg none');
    });

    it('for an expired token only once the 10 s of skew are used up', async () => {
      const mpToken = await accessToken(emulator, digdir);
      const { exp } = decodeJwt(mpToken);
      const offsetBefore = emulator.clock.offsetMs;
      try {
        // 5 s past exp: still inside Altinn's 10 s of skew.
        emulator.clock.set((exp! + 5) * 1000);
        assert.equal((await exchange(emulator, mpToken)).status, 200);
        // exp + 10 s has passed.
        emulator.clock.set((exp! + 11) * 1000);
        assertUnauthorized(await exchange(emulator, mpToken), 'expired');
      } finally {
        emulator.clock.setOffset(offsetBefore);
      }
    });

    it('for an Altinn token presented back', async () => {
      const altinn = await altinnToken(emulator, await accessToken(emulator, digdir));
      assertUnauthorized(await exchange(emulator, altinn), 'altinn token');
    });

    it('for a token from another emulator instance', async () => {
      const stranger = await startEmulator();
      try {
        const strangerClient = await stranger.createClient({ scopes: [SERVICE_OWNER_SCOPE] });
        const foreign = await accessToken(stranger, strangerClient);
        // It is good where it came from …
        assert.equal((await exchange(stranger, foreign)).status, 200);
        // … and foreign here.
        assertUnauthorized(await exchange(emulator, foreign), 'foreign');
      } finally {
        await stranger.close();
      }
    });
  });

  describe('410 answers, only after the token validated (protocol §5 (rev) [S13])', () => {
    it('for X-Altinn-EnterpriseUser-Authentication with a valid token, with the real ProblemDetails', async () => {
      const token = await accessToken(emulator, digdir);
      const answer = await exchange(emulator, token, {
        headers: { 'X-Altinn-EnterpriseUser-Authentication': 'dXNlcjpwYXNz' },
      });
      assert.equal(answer.status, 410, answer.text);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(obj(answer).status, 410);
      assert.equal(obj(answer).title, 'Virksomhetsbruker is no longer available');
      assert.equal(obj(answer).type, 'https://docs.altinn.studio');
      assert.match(String(obj(answer).detail), /Systembruker/);
    });

    it('not for an empty header value (string.IsNullOrEmpty): the exchange goes ahead', async () => {
      const answer = await exchange(emulator, await accessToken(emulator, digdir), {
        headers: { 'X-Altinn-EnterpriseUser-Authentication': '' },
      });
      assert.equal(answer.status, 200, answer.text);
    });

    it('a missing or invalid token is 401 first', async () => {
      const headers = { 'x-altinn-enterpriseuser-authentication': 'x' };
      assertUnauthorized(await exchange(emulator, undefined, { headers }), 'no token');
      const mpToken = await accessToken(emulator, digdir);
      const [h, , sig] = mpToken.split('.');
      const altered = `${h}.${Buffer.from('{"consumer":{}}').toString('base64url')}.${sig}`;
      assertUnauthorized(await exchange(emulator, altered, { headers }), 'altered token');
    });
  });

  describe('the request as ASP.NET binds it (protocol §5 (rev) [S13])', () => {
    it('matches the provider segment, and the path, case-insensitively', async () => {
      const token = await accessToken(emulator, digdir);
      for (const path of [
        '/authentication/api/v1/exchange/Maskinporten',
        '/authentication/api/v1/exchange/MASKINPORTEN',
        '/Authentication/API/v1/Exchange/maskinporten',
      ]) {
        const answer = await call(`${emulator.altinnPlatformUrl}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(answer.status, 200, `${path}: ${answer.text}`);
      }
    });

    it('answers an unknown provider 400 with its text, after the token check', async () => {
      const token = await accessToken(emulator, digdir);
      const answer = await call(`${emulator.altinnPlatformUrl}/authentication/api/v1/exchange/Skyporten`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(answer.status, 400);
      assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(
        answer.text,
        "Invalid token provider: Skyporten. Trusted token providers are 'Maskinporten', 'Id-porten' and 'AltinnStudio'.",
      );
      const noToken = await call(`${emulator.altinnPlatformUrl}/authentication/api/v1/exchange/Skyporten`);
      assertUnauthorized(noToken, 'unknown provider without a token');
    });

    it('binds test=True, TRUE and " true " as true, test=False as false', async () => {
      const token = await accessToken(emulator, digdir);
      for (const [value, org] of [
        ['True', 'ttd'],
        ['TRUE', 'ttd'],
        [' true ', 'ttd'],
        ['False', 'digdir'],
      ] as const) {
        const answer = await call(`${exchangeUrl(emulator)}?test=${encodeURIComponent(value)}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(payloadOf(answer.text)['urn:altinn:org'], org, value);
      }
    });

    it('answers a test value that is not a bool with a validation ProblemDetails 400', async () => {
      const token = await accessToken(emulator, digdir);
      for (const value of ['yes', '1', '']) {
        const answer = await call(`${exchangeUrl(emulator)}?test=${value}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(answer.status, 400, answer.text);
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(obj(answer).title, 'One or more validation errors occurred.');
        assert.ok(Array.isArray((obj(answer).errors as Record<string, unknown>).test));
      }
    });
  });

  it('passes a one-entry authorization_details through as an object (protocol §5 (rev) [S39])', async () => {
    const party = '310000031';
    const vendor = await emulator.createClient({ scopes: ['vendor:api'], orgNo: '310000030' });
    const user = emulator.addSystemUser({ org: party, clientIds: [vendor.clientId], systemId: 'vendor_system' });
    const answer = await postToken(
      emulator,
      makeGrant(emulator, vendor, {
        claims: {
          authorization_details: [
            {
              type: 'urn:altinn:systemuser',
              systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${party}` },
            },
          ],
        },
      }),
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const mp = payloadOf(answer.body.access_token as string);
    assert.ok(Array.isArray(mp.authorization_details), 'Maskinporten: an array');
    const altinn = payloadOf(await altinnToken(emulator, answer.body.access_token as string));
    assert.deepEqual(altinn.authorization_details, (mp.authorization_details as unknown[])[0]);
    assert.deepEqual((altinn.authorization_details as { systemuser_id: string[] }).systemuser_id, [user.id]);
  });

  describe('published keys and metadata', () => {
    const certOf = (jwk: { x5c?: string[] }) => new X509Certificate(Buffer.from(jwk.x5c![0]!, 'base64'));

    it("Altinn's JWKS: kid the certificate's SHA-1 thumbprint, an x5c chain, n and e in standard base64 (protocol §5 (rev) [S13])", async () => {
      const jwks = obj(
        await call(`${emulator.altinnPlatformUrl}${ALTINN_OPENID}.well-known/openid-configuration/jwks`),
      );
      const [jwk] = jwks.keys as { kid: string; kty: string; use: string; n: string; e: string; x5c: string[] }[];
      const cert = certOf(jwk!);
      assert.equal(jwk!.kid, cert.fingerprint.replaceAll(':', ''));
      assert.equal(jwk!.kty, 'RSA');
      assert.equal(jwk!.use, 'sig');
      assert.ok(cert.verify(cert.publicKey), 'self-signed');
      const key = createPublicKey({ key: { kty: 'RSA', n: jwk!.n, e: jwk!.e }, format: 'jwk' });
      assert.ok(key.equals(cert.publicKey), 'n and e are the certificate key');
      const token = await altinnToken(emulator, await accessToken(emulator, digdir));
      assert.equal(headerOf(token).kid, jwk!.kid);
      assert.equal(headerOf(token).x5t, Buffer.from(cert.fingerprint.replaceAll(':', ''), 'hex').toString('base64url'));
    });

    it("Maskinporten's /jwk: kid the certificate's SHA-256 thumbprint, with the x5c certificate (protocol §1 [S3, S23])", async () => {
      const [jwk] = obj(await call(`${emulator.url}/jwk`)).keys as { kid: string; x5c: string[]; alg: string }[];
      const cert = certOf(jwk!);
      assert.equal(jwk!.kid, createHash('sha256').update(cert.raw).digest('base64url'));
      assert.equal(jwk!.alg, 'RS256');
      const token = await accessToken(emulator, digdir);
      assert.equal(headerOf(token).kid, jwk!.kid);
      assert.ok(createPublicKey({ key: jwk as never, format: 'jwk' }).equals(cert.publicKey));
    });

    it("Altinn's openid-configuration has OpenIdController's fields", async () => {
      const config = obj(await call(`${emulator.altinnPlatformUrl}${ALTINN_OPENID}.well-known/openid-configuration`));
      const base = `${emulator.altinnPlatformUrl}/authentication/api/v1`;
      assert.deepEqual(config, {
        issuer: `${base}/openid/`,
        authorization_endpoint: `${base}/authorize/`,
        token_endpoint: `${base}/token/`,
        jwks_uri: `${base}/openid/.well-known/openid-configuration/jwks`,
        response_types_supported: ['token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        end_session_endpoint: `${base}/openid/logout/`,
      });
    });
  });

  it('accepts only GET (405 with Allow)', async () => {
    const token = await accessToken(emulator, digdir);
    const answer = await call(exchangeUrl(emulator), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.get('allow'), 'GET, HEAD');
    assert.equal(obj(answer).error, 'method_not_allowed');
  });

  it('logs the presented token’s claims and the client, never the tokens', async () => {
    emulator.requests.clear();
    const mpToken = await accessToken(emulator, digdir);
    const altinn = await altinnToken(emulator, mpToken);
    const [entry] = emulator.requests.entries({ endpoint: 'exchange' });
    assert.ok(entry);
    assert.equal(entry.status, 200);
    assert.equal(entry.outcome, 'ok');
    assert.equal(entry.clientId, digdir.clientId);
    assert.equal(entry.tokenClaims?.client_id, digdir.clientId);
    const logged = JSON.stringify(emulator.requests.entries());
    assert.ok(!logged.includes(mpToken));
    assert.ok(!logged.includes(altinn));
    assert.ok(!logged.includes(mpToken.split('.')[2]!));
    assert.ok(!logged.includes(altinn.split('.')[2]!));
  });
});
