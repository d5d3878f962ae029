/**
 * Clients we did not write, against the emulator: openid-client v6 and oauth4webapi send a JWT-bearer grant
 * (RFC 7523) built with jose; a grant built exactly as Digdir's documentation and jwt-grant-generator build it
 * (string `resource`, `aud` the issuer, RS256 with `kid`) goes over plain fetch; each token is then exchanged for an
 * Altinn token. The Skyporten mode is discovered by openid-client through `/.well-known/openid-configuration`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRemoteJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import type { CreatedClient, Emulator } from '../../src/emulator/index.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { call, exchangeUrl, obj, payloadOf } from '../helpers/http.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPE = 'altinn:serviceowner/notifications.create';

/** A grant as Digdir documents it (maskinporten_protocol_jwtgrant; jwt-grant-generator), signed by jose. */
async function digdirGrant(client: CreatedClient, aud: string, claims: Record<string, unknown> = {}): Promise<string> {
  const key = await importJWK(client.privateJwk as never, 'RS256');
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: SCOPE, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: client.kid! })
    .setAudience(aud)
    .setIssuer(client.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 120)
    .setJti(randomUUID())
    .sign(key);
}

/** The Altinn token for a Maskinporten token, checked against Altinn's published keys. */
async function altinnTokenFor(emulator: Emulator, accessToken: string): Promise<Record<string, unknown>> {
  const answer = await call(exchangeUrl(emulator, true), { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(answer.status, 200, answer.text);
  const base = `${emulator.altinnPlatformUrl}/authentication/api/v1/openid/`;
  const { payload } = await jwtVerify(
    answer.text,
    createRemoteJWKSet(new URL(`${base}.well-known/openid-configuration/jwks`)),
    { issuer: base, algorithms: ['RS256'] },
  );
  return payload;
}

describe('interop: third-party clients against the emulator', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: [SCOPE] });

  it('openid-client v6: discovery, a jose-built jwt-bearer grant, then the Altinn exchange', async () => {
    const config = await oidc.discovery(new URL(emulator.issuer), client.clientId, undefined, oidc.None(), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
    const assertion = await digdirGrant(client, config.serverMetadata().issuer);
    const tokens = await oidc.genericGrantRequest(config, JWT_BEARER, { assertion });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, SCOPE);
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${emulator.url}/jwk`)), {
      issuer: emulator.issuer,
    });
    assert.equal(payload.client_id, client.clientId);
    const altinn = await altinnTokenFor(emulator, tokens.access_token);
    assert.equal(altinn['urn:altinn:org'], 'ttd', 'test=true: digdir acts as ttd');
  });

  it('oauth4webapi: discovery, a jose-built jwt-bearer grant, then the Altinn exchange', async () => {
    const issuer = new URL(emulator.issuer);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
    );
    const oauthClient: oauth.Client = { client_id: client.clientId };
    const assertion = await digdirGrant(client, as.issuer);
    const response = await oauth.genericTokenEndpointRequest(
      as,
      oauthClient,
      oauth.None(),
      JWT_BEARER,
      { assertion },
      { [oauth.allowInsecureRequests]: true },
    );
    const tokens = await oauth.processGenericTokenEndpointResponse(as, oauthClient, response);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.expires_in, 120);
    const altinn = await altinnTokenFor(emulator, tokens.access_token);
    assert.equal(altinn.client_id, client.clientId);
  });

  it("oauth4webapi surfaces a refusal as the emulator's OAuth error", async () => {
    const issuer = new URL(emulator.issuer);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
    );
    const oauthClient: oauth.Client = { client_id: client.clientId };
    const assertion = await digdirGrant(client, as.issuer, { scope: 'not:registered' });
    const response = await oauth.genericTokenEndpointRequest(
      as,
      oauthClient,
      oauth.None(),
      JWT_BEARER,
      { assertion },
      {
        [oauth.allowInsecureRequests]: true,
      },
    );
    await assert.rejects(oauth.processGenericTokenEndpointResponse(as, oauthClient, response), (err: unknown) => {
      assert.ok(err instanceof oauth.ResponseBodyError, String(err));
      assert.equal(err.error, 'invalid_scope');
      assert.match(String(err.cause.error_uri), /\/errors\/MP-200$/);
      return true;
    });
  });

  it("Digdir's documented grant (string resource, aud the issuer, RS256 with kid) over plain fetch", async () => {
    const resource = 'https://api.example.no/';
    const assertion = await digdirGrant(client, emulator.issuer, { resource });
    const res = await fetch(emulator.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(body));
    const claims = payloadOf(body.access_token as string);
    assert.equal(claims.aud, resource, 'the token is restricted to the resource');
    const altinn = await altinnTokenFor(emulator, body.access_token as string);
    assert.equal(altinn.aud, undefined, 'Altinn does not copy aud');
  });

  it("Altinn's own TT02 tests' grant: aud the token endpoint URL (protocol §2 (rev) [S32])", async () => {
    const assertion = await digdirGrant(client, emulator.tokenEndpoint);
    const res = await fetch(emulator.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { access_token } = (await res.json()) as { access_token: string };
    assert.equal((await altinnTokenFor(emulator, access_token))['urn:altinn:orgNumber'], '991825827');
  });
});

describe('interop: the Skyporten mode (protocol §1 (rev) [S22, S31])', () => {
  const emulator = useEmulator({ skyporten: true });
  const client = useClient(emulator, { scopes: ['entur:skyss.1'] });

  it('has an issuer without a trailing slash, served at /.well-known/openid-configuration only', async () => {
    assert.equal(emulator.skyporten, true);
    assert.equal(emulator.issuer, emulator.url);
    const config = await call(`${emulator.url}/.well-known/openid-configuration`);
    assert.equal(config.status, 200, config.text);
    assert.equal(obj(config).issuer, emulator.url);
    assert.equal(obj(config).token_endpoint, emulator.tokenEndpoint);
    assert.equal(obj(config).jwks_uri, `${emulator.url}/jwk`);
    assert.equal((await call(`${emulator.url}/.well-known/oauth-authorization-server`)).status, 404);
  });

  it('openid-client discovers it as OpenID and gets a token with aud = the issuer, no slash', async () => {
    const config = await oidc.discovery(new URL(emulator.issuer), client.clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    assert.equal(config.serverMetadata().issuer, emulator.url);
    const assertion = await new SignJWT({ scope: 'entur:skyss.1', resource: 'https://entur.org' })
      .setProtectedHeader({ alg: 'RS256', kid: client.kid! })
      .setAudience(emulator.issuer)
      .setIssuer(client.clientId)
      .setIssuedAt()
      .setExpirationTime('2m')
      .setJti(randomUUID())
      .sign(await importJWK(client.privateJwk as never, 'RS256'));
    const tokens = await oidc.genericGrantRequest(config, JWT_BEARER, { assertion });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${emulator.url}/jwk`)), {
      issuer: emulator.url,
      audience: 'https://entur.org',
    });
    assert.equal(payload.iss, emulator.url);
  });

  it('refuses the Maskinporten-style aud with a trailing slash (MP-110)', async () => {
    const assertion = await new SignJWT({ scope: 'entur:skyss.1' })
      .setProtectedHeader({ alg: 'RS256', kid: client.kid! })
      .setAudience(`${emulator.url}/`)
      .setIssuer(client.clientId)
      .setIssuedAt()
      .setExpirationTime('2m')
      .setJti(randomUUID())
      .sign(await importJWK(client.privateJwk as never, 'RS256'));
    const res = await fetch(emulator.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 400);
    assert.match(String(body.error_uri), /\/errors\/MP-110$/);
  });
});
