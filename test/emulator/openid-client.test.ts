/**
 * A real third-party OAuth client, openid-client v6, against the emulator: RFC 8414 discovery, then a JWT-bearer
 * grant request (RFC 7523). The grant authenticates the client, so client authentication is `None()`.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { JWT_BEARER_GRANT_TYPE } from '../../src/protocol/constants.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { makeGrant, verifiedClaims } from '../helpers/grants.ts';

describe('openid-client v6 against the emulator', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['test:read', 'test:write'] });
  let config: oidc.Configuration;

  before(async () => {
    config = await oidc.discovery(new URL(emulator.issuer), client.clientId, undefined, oidc.None(), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
  });

  it('discovers the metadata document', () => {
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, emulator.issuer);
    assert.equal(metadata.token_endpoint, emulator.tokenEndpoint);
    assert.equal(metadata.jwks_uri, `${emulator.url}/jwk`);
    assert.deepEqual(metadata.grant_types_supported, [JWT_BEARER_GRANT_TYPE]);
    assert.equal(metadata.authorization_endpoint, undefined);
  });

  it('obtains a token with a jwt-bearer grant request', async () => {
    const assertion = makeGrant(emulator, client, { claims: { scope: 'test:read' } });
    const tokens = await oidc.genericGrantRequest(config, JWT_BEARER_GRANT_TYPE, { assertion });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'test:read');
    assert.equal(tokens.expires_in, 120);
    const claims = await verifiedClaims(emulator, tokens.access_token);
    assert.equal(claims.client_id, client.clientId);
    assert.equal(claims.scope, 'test:read');
    assert.equal(claims.iss, emulator.issuer);
  });

  it('surfaces a refused grant as a ResponseBodyError with the MP code', async () => {
    const assertion = makeGrant(emulator, client);
    await oidc.genericGrantRequest(config, JWT_BEARER_GRANT_TYPE, { assertion });
    await assert.rejects(oidc.genericGrantRequest(config, JWT_BEARER_GRANT_TYPE, { assertion }), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError, String(err));
      assert.equal(err.status, 400);
      assert.equal(err.error, 'invalid_grant');
      assert.match(String(err.cause.error_uri), /\/MP-012$/);
      assert.match(String(err.error_description), /Grant is used before\. \(trace_id: [0-9a-f]+\)$/);
      return true;
    });
  });
});
