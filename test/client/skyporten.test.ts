/**
 * Skyporten as an authority kind: its issuer — and so the grant's `aud` — has no trailing slash, and its metadata is
 * documented only at `/.well-known/openid-configuration`, so discovery tries RFC 8414's document first and then
 * that one. Presets `skyporten-test` and `skyporten-prod` in the client and in configuration. A small
 * Skyporten-like server of our own (real HTTP on 127.0.0.1) stands in for the service: it publishes only the
 * OpenID document and refuses a grant whose `aud` is not exactly its issuer, as Maskinporten does.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import {
  AUTHORITY_PRESETS,
  ConfigValidationError,
  loadMaskinportenSettings,
  resolveAuthority,
  SKYPORTEN_BASE_URLS,
  skyportenAuthority,
} from '../../src/config/index.ts';
import { generateRsaKeyPair, type RsaPrivateJwk } from '../../src/keys/jwk.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { tempDir } from '../config/fixtures.ts';
import { FakeClock, type LocalServer, startLocalServer, throwsWith } from '../helpers/client-env.ts';

/** The claims of a compact JWT (not verified). */
function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

/** A fetch that never reaches a network: every call fails as an unreachable host does. */
const offline: typeof fetch = async () => {
  throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
};

describe('Skyporten', () => {
  const clock = new FakeClock();
  let sky: LocalServer;
  let jwk: RsaPrivateJwk;
  let discoveryFails = false;
  const grants: Record<string, unknown>[] = [];

  const client = (settings: Partial<MaskinportenSettings> = {}, options: MaskinportenClientOptions = {}) =>
    new MaskinportenClient({ authority: sky.url, clientId: 'sky-client', jwk, ...settings }, { clock, ...options });

  before(async () => {
    jwk = (await generateRsaKeyPair()).privateJwk;
    sky = await startLocalServer((req, res, body) => {
      const path = (req.url ?? '/').split('?')[0];
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const issuer = sky.url; // no trailing slash
      if (path === '/.well-known/openid-configuration' && !discoveryFails) {
        return send(200, { issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwk` });
      }
      if (path?.startsWith('/.well-known/')) return send(discoveryFails ? 503 : 404, { error: 'not_found' });
      if (path === '/token' && req.method === 'POST') {
        const assertion = new URLSearchParams(body).get('assertion') ?? '';
        const claims = claimsOf(assertion);
        grants.push(claims);
        if (claims.aud !== issuer) {
          return send(400, {
            error: 'invalid_grant',
            error_description: 'Invalid assertion. Client authentication failed. Invalid JWT claim aud',
            error_uri: 'https://test.sky.maskinporten.no/errors/MP-110',
          });
        }
        const now = Math.floor(clock.now() / 1000);
        const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        const token = `${part({ alg: 'RS256', kid: 'sky' })}.${part({ iss: issuer, client_id: claims.iss, scope: claims.scope, iat: now, exp: now + 120 })}.c2ln`;
        return send(200, { access_token: token, token_type: 'Bearer', expires_in: 120, scope: claims.scope });
      }
      return send(404, {});
    });
  });
  beforeEach(() => {
    discoveryFails = false;
    grants.length = 0;
    sky.requests.length = 0;
  });
  after(() => sky.close());

  it('discovery tries oauth-authorization-server, then openid-configuration; the grant aud has no trailing slash', async () => {
    const token = await client().getAccessToken(['sky:read']);
    assert.equal(token.claims.iss, sky.url);
    assert.deepEqual(
      sky.requests.filter((r) => r.path.startsWith('/.well-known/')).map((r) => r.path),
      ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'],
    );
    assert.equal(grants.length, 1);
    assert.equal(grants[0]!.aud, sky.url);
    assert.deepEqual(await client().metadata(), { issuer: sky.url, tokenEndpoint: `${sky.url}/token` });
  });

  it('authorityKind "skyporten" keeps the aud without a trailing slash while discovery fails', async () => {
    discoveryFails = true;
    const c = client({ authorityKind: 'skyporten' });
    assert.equal(c.authorityKind, 'skyporten');
    await c.getAccessToken(['sky:read']);
    assert.equal(grants[0]!.aud, sky.url);
    // A Maskinporten-kind authority would have added the slash, and been refused.
    const mp = client();
    assert.equal(mp.authorityKind, 'maskinporten');
    await assert.rejects(mp.getAccessToken(['sky:read']), (err: unknown) => {
      return (err as { code?: string }).code === 'ERR_INVALID_AUDIENCE';
    });
    assert.equal(grants[1]!.aud, `${sky.url}/`);
  });

  it('takes a metadata URL pasted as the authority, with or without its trailing slash', async () => {
    for (const suffix of [
      '/.well-known/oauth-authorization-server/',
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]) {
      const c = client({ authority: `${sky.url}${suffix}` });
      assert.equal(c.authority, sky.url);
      await c.getAccessToken(['sky:read']);
    }
    assert.ok(grants.every((g) => g.aud === sky.url));
  });

  it('refuses an unknown authorityKind, naming the setting', () => {
    const err = throwsWith(() => client({ authorityKind: 'azure' as 'skyporten' }), 'ERR_CONFIG');
    assert.equal(err.setting, 'authorityKind');
  });

  it('presets in the client: skyporten-test and skyporten-prod, issuer without a trailing slash', async () => {
    const cases: [string, string, 'skyporten' | 'maskinporten', string][] = [
      ['skyporten-test', 'https://test.sky.maskinporten.no', 'skyporten', 'https://test.sky.maskinporten.no'],
      ['skyporten-prod', 'https://sky.maskinporten.no', 'skyporten', 'https://sky.maskinporten.no'],
      ['Skyporten-Test', 'https://test.sky.maskinporten.no', 'skyporten', 'https://test.sky.maskinporten.no'],
      ['test', 'https://test.maskinporten.no', 'maskinporten', 'https://test.maskinporten.no/'],
      [
        'https://test.sky.maskinporten.no/',
        'https://test.sky.maskinporten.no',
        'skyporten',
        'https://test.sky.maskinporten.no',
      ],
    ];
    for (const [authority, base, kind, issuer] of cases) {
      const c = new MaskinportenClient(
        { authority, clientId: 'c', jwk },
        { clock, fetch: offline, retry: false, discoveryRefreshMs: 1000 },
      );
      assert.equal(c.authority, base, authority);
      assert.equal(c.authorityKind, kind, authority);
      // Offline, so the fallback: what discovery cannot say comes from the kind.
      assert.deepEqual(await c.metadata(), { issuer, tokenEndpoint: `${base}/token` }, authority);
    }
  });

  it('presets in configuration: Authority "skyporten-test", AuthorityKind, and the tables', async () => {
    assert.equal(resolveAuthority('skyporten-test'), SKYPORTEN_BASE_URLS.test);
    assert.equal(resolveAuthority('skyporten-prod'), 'https://sky.maskinporten.no');
    assert.equal(skyportenAuthority('test'), 'https://test.sky.maskinporten.no');
    assert.equal(AUTHORITY_PRESETS['skyporten-prod'], 'https://sky.maskinporten.no');
    throwsWith(() => skyportenAuthority('staging' as 'test'), 'ERR_CONFIG');
    const dir = tempDir();
    try {
      const jwkBase64 = Buffer.from(JSON.stringify(jwk)).toString('base64');
      dir.write('appsettings.json', {
        MaskinportenSettings: { Authority: 'skyporten-test', ClientId: 'c', JwkBase64: jwkBase64 },
      });
      const { settings } = await loadMaskinportenSettings({ env: {}, configDir: dir.path });
      assert.equal(settings.authority, 'https://test.sky.maskinporten.no');
      const loaded = await loadMaskinportenSettings({
        env: { MaskinportenSettings__AuthorityKind: 'Skyporten', MaskinportenSettings__Authority: sky.url },
        configDir: dir.path,
      });
      assert.equal(loaded.settings.authorityKind, 'skyporten');
      assert.equal(loaded.sources.authorityKind?.kind, 'env');
      discoveryFails = true;
      await new MaskinportenClient(loaded.settings, { clock }).getAccessToken(['sky:read']);
      assert.equal(grants.at(-1)!.aud, sky.url);
      await assert.rejects(
        loadMaskinportenSettings({ env: { MaskinportenSettings__AuthorityKind: 'cloud' }, configDir: dir.path }),
        (err: unknown) =>
          err instanceof ConfigValidationError &&
          err.problems.some(
            (p) => p.path === 'MaskinportenSettings:AuthorityKind' && /maskinporten or skyporten/.test(p.message),
          ),
      );
    } finally {
      dir.cleanup();
    }
  });
});
