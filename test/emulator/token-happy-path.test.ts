import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { makeGrant, postToken } from '../helpers/grants.ts';

describe('emulator token endpoint: happy path', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['test:read', 'test:write'] });

  it('issues a token that jose verifies against /jwk, with the protocol claims', async () => {
    const answer = await postToken(emulator, makeGrant(emulator, client, { claims: { scope: 'test:read' } }));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.token_type, 'Bearer');
    assert.equal(answer.body.scope, 'test:read');
    assert.equal(answer.body.expires_in, 120);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    const jwks = createRemoteJWKSet(new URL(`${emulator.url}/jwk`));
    const { payload, protectedHeader } = await jwtVerify(answer.body.access_token as string, jwks, {
      issuer: emulator.issuer,
      algorithms: ['RS256'],
    });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.ok(protectedHeader.kid);
    assert.equal(payload.client_id, client.clientId);
    assert.equal(payload.client_amr, 'private_key_jwt');
    assert.equal(payload.token_type, 'Bearer');
    assert.equal(payload.scope, 'test:read');
    assert.equal(payload.aud, undefined, 'no aud unless resource was asked for (protocol §3 (rev))');
    assert.deepEqual(payload.consumer, { authority: 'iso6523-actorid-upis', ID: `0192:${client.orgNo}` });
    assert.equal((payload.exp as number) - (payload.iat as number), 120);
    assert.match(payload.jti as string, /^[A-Za-z0-9_-]{43}$/);
  });
});
