/**
 * The emulator's protected APIs answer through `maskinporten/verify`: the verifier's reasons and RFC 6750
 * challenges reach the caller, and the keys come from the emulator's state (no JWKS fetches in its request log).
 * Also the verifier's `jwks` option on its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NOTIFICATIONS_SCOPE } from '../../src/emulator/index.ts';
import { createTokenVerifier, TokenVerificationError } from '../../src/verify/index.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { accessToken } from '../helpers/grants.ts';
import { altinnToken, call } from '../helpers/http.ts';
import { startIssuerServer } from './issuer-server.ts';

describe('the emulator’s protected APIs use the verifier', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: [NOTIFICATIONS_SCOPE, 'test:read'] });

  it('answers with the verifier’s reason in the challenge, and fetches no keys over HTTP', async () => {
    const mp = await accessToken(emulator, client, [NOTIFICATIONS_SCOPE]);
    const altinn = await altinnToken(emulator, mp);
    const echo = await call(`${emulator.url}/api/echo`, { headers: { authorization: `Bearer ${altinn}` } });
    assert.equal(echo.status, 401);
    assert.match(
      echo.headers.get('www-authenticate') ?? '',
      /^Bearer error="invalid_token", error_description="this is an Altinn token/,
    );
    const order = await call(`${emulator.url}/notifications/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mp}`, 'content-type': 'application/json' },
      body: '{"recipients":[{}]}',
    });
    assert.equal(order.status, 401);
    assert.match(order.headers.get('www-authenticate') ?? '', /this is a Maskinporten token/);
    const ok = await call(`${emulator.url}/api/echo?scope=test:read`, {
      headers: { authorization: `Bearer ${await accessToken(emulator, client, ['test:read'])}` },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(emulator.requests.entries({ endpoint: 'jwks' }).length, 0);
    assert.equal(emulator.requests.entries({ endpoint: 'altinn-jwks' }).length, 0);
  });

  it('a ?scope= with whitespace is a 403, not a failure', async () => {
    const token = await accessToken(emulator, client, ['test:read']);
    for (const scope of ['test:read other', 'a\tb']) {
      const answer = await call(`${emulator.url}/api/echo?scope=${encodeURIComponent(scope)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(answer.status, 403, answer.text);
    }
  });
});

it('createTokenVerifier({ jwks }) checks against keys given in code and fetches nothing', async () => {
  const issuer = await startIssuerServer();
  try {
    const jwks = (await (await fetch(`${issuer.url}/jwk`)).json()) as { keys: unknown[] };
    const fetches = issuer.jwksFetches;
    const now = Math.floor(Date.now() / 1000);
    const verifier = createTokenVerifier({ authority: issuer.issuer, jwks });
    assert.equal((await verifier.verify(issuer.sign(issuer.claims(now)))).clientId, 'stand-in-client');
    await assert.rejects(
      verifier.verify(issuer.sign(issuer.claims(now), { kid: 'other' })),
      (e: unknown) => e instanceof TokenVerificationError && e.code === 'ERR_TOKEN_UNKNOWN_KID',
    );
    assert.equal(issuer.jwksFetches, fetches);
    assert.throws(
      () => createTokenVerifier({ authority: issuer.issuer, jwks: { keys: 'x' } as never }),
      /jwks must be/,
    );
  } finally {
    await issuer.close();
  }
});
