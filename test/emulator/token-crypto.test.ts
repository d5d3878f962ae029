/**
 * The RSA work of the token endpoint and the Altinn exchange: which requests reach the verifier and the signer at all
 * (a request refused by a cheap check costs no RSA operation), and that requests in flight together, whose
 * signatures are computed side by side on the thread pool, each get their own valid token.
 *
 * RSA operations are counted by wrapping `node:crypto`'s `sign` and `verify` (and syncing the wrappers into the
 * ES-module bindings the emulator imports): every call, synchronous or on the thread pool, passes a wrapper.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { JWT_BEARER_GRANT_TYPE } from '../../src/protocol/constants.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { accessToken, assertMpError, craftGrant, makeGrant, postToken, verifiedClaims } from '../helpers/grants.ts';
import { exchange, payloadOf } from '../helpers/http.ts';

const ALTINN_OPENID = '/authentication/api/v1/openid/';

/** Counts of RSA signs and verifies made in this process since the last {@link resetCounts}. */
const counts = { sign: 0, verify: 0 };
const resetCounts = () => {
  counts.sign = 0;
  counts.verify = 0;
};

function countRsaOperations(): () => void {
  const { sign, verify } = crypto;
  crypto.sign = ((...args: Parameters<typeof sign>) => {
    counts.sign++;
    return (sign as (...a: unknown[]) => unknown)(...args);
  }) as typeof sign;
  crypto.verify = ((...args: Parameters<typeof verify>) => {
    counts.verify++;
    return (verify as (...a: unknown[]) => unknown)(...args);
  }) as typeof verify;
  syncBuiltinESMExports();
  return () => {
    crypto.sign = sign;
    crypto.verify = verify;
    syncBuiltinESMExports();
  };
}

describe('emulator token endpoint: RSA work', () => {
  let restore: (() => void) | undefined;
  before(() => {
    restore = countRsaOperations();
  });
  after(() => restore?.());
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['test:read', 'test:write'] });

  it('counts the RSA operations of a token it issues: one verify (the grant), one sign (the token)', async () => {
    const grant = makeGrant(emulator, client);
    resetCounts();
    const answer = await postToken(emulator, grant);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(counts, { sign: 1, verify: 1 });
  });

  it('refuses a request that fails a check before the signature without verifying or signing anything', async () => {
    const cases: { what: string; body: string | URLSearchParams; status: number; error: string }[] = [
      {
        what: 'alg none',
        body: craftGrant(emulator, client, { header: { alg: 'none' }, signature: '' }),
        status: 400,
        error: 'invalid_grant',
      },
      {
        what: 'unknown client',
        body: makeGrant(emulator, client, { claims: { iss: 'no-such-client' } }),
        status: 400,
        error: 'invalid_grant',
      },
      {
        what: 'unknown kid',
        body: makeGrant(emulator, client, { header: { kid: 'no-such-kid' } }),
        status: 400,
        error: 'invalid_grant',
      },
      { what: 'not a JWT', body: 'not-a-jwt', status: 400, error: 'invalid_request' },
      {
        what: 'another grant type',
        body: new URLSearchParams({ grant_type: 'client_credentials', assertion: makeGrant(emulator, client) }),
        status: 400,
        error: 'unsupported_grant_type',
      },
    ];
    for (const c of cases) {
      resetCounts();
      const answer = await postToken(emulator, c.body);
      assert.equal(answer.status, c.status, `${c.what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, c.error, `${c.what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.access_token, undefined, c.what);
      assert.deepEqual(counts, { sign: 0, verify: 0 }, c.what);
    }
  });

  it('refuses a grant with a bad signature after one verify, without signing a token', async () => {
    const grant = craftGrant(emulator, client);
    resetCounts();
    const answer = await postToken(emulator, grant);
    assertMpError(answer, 400, 'invalid_grant', 'MP-124');
    assert.deepEqual(counts, { sign: 0, verify: 1 });
  });

  it('refuses a signed grant that breaks a claim rule without signing a token', async () => {
    const now = Math.floor(emulator.clock.now() / 1000);
    const replayed = makeGrant(emulator, client);
    assert.equal((await postToken(emulator, replayed)).status, 200);
    const cases: { what: string; grant: string; code?: string }[] = [
      {
        what: 'another audience',
        grant: makeGrant(emulator, client, { claims: { aud: 'https://elsewhere.example/' } }),
      },
      { what: 'expired', grant: makeGrant(emulator, client, { claims: { iat: now - 600, exp: now - 500 } }) },
      { what: 'a scope the client lacks', grant: makeGrant(emulator, client, { claims: { scope: 'test:admin' } }) },
      { what: 'an unknown claim', grant: makeGrant(emulator, client, { claims: { colour: 'blue' } }) },
      { what: 'a replayed grant', grant: replayed, code: 'MP-012' },
    ];
    for (const c of cases) {
      resetCounts();
      const answer = await postToken(emulator, c.grant);
      assert.equal(answer.status, 400, `${c.what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.access_token, undefined, c.what);
      if (c.code) assertMpError(answer, 400, 'invalid_grant', c.code);
      assert.deepEqual(counts, { sign: 0, verify: 1 }, c.what);
    }
  });

  it('gives each of many concurrent requests its own valid token, for the scopes that request asked for', async () => {
    const asked = Array.from(
      { length: 48 },
      (_, i) => (['test:read', 'test:write', 'test:read test:write'] as const)[i % 3],
    );
    const grants = asked.map((scope) => makeGrant(emulator, client, { claims: { scope } }));
    resetCounts();
    const answers = await Promise.all(grants.map((g) => postToken(emulator, g)));
    assert.deepEqual(counts, { sign: grants.length, verify: grants.length });
    const tokens = answers.map((a, i) => {
      assert.equal(a.status, 200, `request ${i}: ${JSON.stringify(a.body)}`);
      assert.equal(a.body.scope, asked[i], `request ${i}`);
      return a.body.access_token as string;
    });
    assert.equal(new Set(tokens).size, tokens.length, 'every token is distinct');
    const claims = await Promise.all(tokens.map((t) => verifiedClaims(emulator, t)));
    claims.forEach((c, i) => {
      assert.equal(c.scope, asked[i], `token ${i} carries its own request's scopes`);
      assert.equal(c.client_id, client.clientId);
    });
    assert.equal(new Set(claims.map((c) => c.jti)).size, claims.length, 'every token has its own jti');
  });

  it('still answers the form it was given when the body carries the parameters twice or percent-encoded', async () => {
    const grant = makeGrant(emulator, client);
    const encoded = `grant_type=${encodeURIComponent(JWT_BEARER_GRANT_TYPE)}&assertion=${grant.replaceAll('.', '%2E')}`;
    const answer = await postToken(emulator, '', { rawBody: `${encoded}&grant_type=client_credentials` });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });
});

describe('Altinn token exchange: RSA work', () => {
  let restore: (() => void) | undefined;
  before(() => {
    restore = countRsaOperations();
  });
  after(() => restore?.());
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['altinn:serviceowner/notifications.create'] });

  it('verifies the Maskinporten token and signs an Altinn token that verifies against the Altinn JWKS', async () => {
    // A fresh emulator makes its Altinn signing key (and signs its certificate) when first asked for it.
    assert.equal((await exchange(emulator, await accessToken(emulator, client))).status, 200);
    const tokens = await Promise.all(Array.from({ length: 24 }, () => accessToken(emulator, client)));
    resetCounts();
    const answers = await Promise.all(tokens.map((t) => exchange(emulator, t)));
    assert.deepEqual(counts, { sign: tokens.length, verify: tokens.length });
    const jwks = createRemoteJWKSet(
      new URL(`${emulator.altinnPlatformUrl}${ALTINN_OPENID}.well-known/openid-configuration/jwks`),
    );
    const altinnTokens = answers.map((a, i) => {
      assert.equal(a.status, 200, `exchange ${i}: ${a.text}`);
      return a.text;
    });
    assert.equal(new Set(altinnTokens).size, altinnTokens.length, 'every Altinn token is distinct');
    for (const [i, token] of altinnTokens.entries()) {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: `${emulator.altinnPlatformUrl}${ALTINN_OPENID}`,
        algorithms: ['RS256'],
        currentDate: new Date(emulator.clock.now()),
      });
      assert.equal(payload.client_id, client.clientId, `exchange ${i}`);
      assert.equal(payload.jti, payloadOf(tokens[i]!).jti, `exchange ${i} copies its own token's jti`);
    }
  });

  it('refuses a tampered Maskinporten token after one verify, and an unreadable one before any, signing nothing', async () => {
    const token = await accessToken(emulator, client);
    const [h, p, s] = token.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    resetCounts();
    assert.equal((await exchange(emulator, tampered)).status, 401);
    assert.deepEqual(counts, { sign: 0, verify: 1 });
    resetCounts();
    assert.equal((await exchange(emulator, 'not a token')).status, 401);
    assert.deepEqual(counts, { sign: 0, verify: 0 });
  });
});
