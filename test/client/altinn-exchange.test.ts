/**
 * The Altinn token exchange (protocol notes §5) through the client: the token's claims and its own 30-minute
 * expiry, plain and JSON-quoted bodies, the subscription-key header, one retry with a fresh Maskinporten token on
 * 401, and the default platform URL for prod and test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { NOTIFICATIONS_SCOPE, startEmulator } from '../../src/emulator/index.ts';
import { AltinnExchangeError } from '../../src/errors.ts';
import { defaultAltinnPlatformUrl } from '../../src/protocol/environments.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { count, FakeClock, rejectsWith, startLocalServer, startProxy } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

const SCOPE = [NOTIFICATIONS_SCOPE];
const EXCHANGE_PATH = '/authentication/api/v1/exchange/maskinporten';

describe('client Altinn exchange', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock, resetEach: true });
  const created = useClient(emulator, { scopes: [...SCOPE, 'test:read'] }); // org 991825827 → digdir

  const client = (options: MaskinportenClientOptions = {}, settings: Partial<MaskinportenSettings> = {}) =>
    new MaskinportenClient({ ...created.settings, ...settings }, { clock, ...options });

  it('returns an Altinn token with the Altinn claims (urn:altinn:org ttd with altinnTest)', async () => {
    const token = await client({ altinnTest: true }).getAltinnExchangedToken(SCOPE);
    assert.equal(token.kind, 'altinn');
    const c = token.claims;
    assert.equal(c.iss, `${emulator.altinnPlatformUrl}/authentication/api/v1/openid/`);
    assert.equal(c['urn:altinn:org'], 'ttd');
    assert.equal(c['urn:altinn:orgNumber'], created.orgNo);
    assert.equal(c['urn:altinn:authenticatemethod'], 'maskinporten');
    assert.equal(c['urn:altinn:authlevel'], 3);
    assert.equal(c.client_id, created.clientId);
    assert.equal(c.scope, NOTIFICATIONS_SCOPE);
    assert.equal(c.aud, undefined);
    assert.equal(c.client_amr, undefined);
    assert.deepEqual(token.scopes, SCOPE);

    const plain = await client().getAltinnExchangedToken(SCOPE);
    assert.equal(plain.claims['urn:altinn:org'], 'digdir', 'without altinnTest the org is the real one');
  });

  it("takes the expiry from the Altinn token's own exp (30 min), not from the Maskinporten expires_in", async () => {
    const c = client();
    const token = await c.getAltinnExchangedToken(SCOPE);
    assert.equal(token.expiresAt.getTime(), (token.claims.exp as number) * 1000);
    assert.equal(token.expiresAt.getTime() - token.issuedAt.getTime(), 30 * 60_000);
    const mp = await c.getAccessToken(SCOPE);
    assert.equal(mp.expiresAt.getTime() - mp.issuedAt.getTime(), 120_000);
    // Long after the Maskinporten token expired, the Altinn token is still served from the cache.
    clock.advance(10 * 60_000);
    assert.equal(await c.getAltinnExchangedToken(SCOPE), token);
    assert.equal(count(emulator, 'token'), 1);
    assert.equal(count(emulator, 'exchange'), 1);
  });

  it('works end to end: the Altinn token places a Notifications order', async () => {
    const token = await client().getAltinnExchangedToken(SCOPE);
    const res = await fetch(`${emulator.url}/notifications/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: token.authorizationHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ recipients: [{ emailAddress: 'a@example.com' }] }),
    });
    assert.equal(res.status, 201, await res.text());
  });

  it('accepts the body as text/plain and as a JSON-quoted string', async () => {
    const text = await client().getAltinnExchangedToken(SCOPE);
    assert.match(text.value, /^[\w-]+\.[\w-]+\.[\w-]+$/);

    const proxy = await startProxy(emulator, { exchangeAsJson: true });
    try {
      const quoted = await client({}, { altinnPlatformUrl: proxy.url }).getAltinnExchangedToken(SCOPE);
      assert.match(quoted.value, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the quotes are gone');
      assert.equal(quoted.claims['urn:altinn:orgNumber'], created.orgNo);
    } finally {
      await proxy.close();
    }
  });

  it("reads a Retry-After date of an Altinn answer against that answer's own Date header", async () => {
    // Altinn's clock here is years off the Maskinporten clock the client measured.
    const server = await startLocalServer((_req, res) => {
      res.writeHead(503, {
        date: 'Wed, 01 Jan 2020 00:00:00 GMT',
        'retry-after': 'Wed, 01 Jan 2020 00:00:03 GMT',
        'content-type': 'text/plain',
      });
      res.end('busy');
    });
    try {
      const c = client({ retry: false }, { altinnPlatformUrl: server.url });
      const err = await c.getAltinnExchangedToken(SCOPE).then(
        () => assert.fail('should reject'),
        (e: unknown) => e as AltinnExchangeError,
      );
      assert.equal(err.status, 503);
      assert.equal(err.retryAfterMs, 3000);
    } finally {
      await server.close();
    }
  });

  it('refuses a 200 whose body is not a JWT (ERR_INVALID_RESPONSE)', async () => {
    for (const body of ['hello', '"not.a jwt"', '"eyJhbGciOiJSUzI1NiJ9.e30.sig', '<html></html>']) {
      const server = await startLocalServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(body);
      });
      try {
        const err = await rejectsWith(
          client({}, { altinnPlatformUrl: server.url }).getAltinnExchangedToken(SCOPE),
          'ERR_INVALID_RESPONSE',
        );
        assert.equal(err.status, 200);
      } finally {
        await server.close();
      }
    }
  });

  it('sends the Maskinporten token as Bearer, the subscription key when set, and ?test=true with altinnTest', async () => {
    const proxy = await startProxy(emulator);
    try {
      const c = client({ altinnSubscriptionKey: 'sub-key-123', altinnTest: true }, { altinnPlatformUrl: proxy.url });
      await c.getAltinnExchangedToken(SCOPE);
      const mp = await c.getAccessToken(SCOPE);
      const req = proxy.requests.find((r) => r.path.startsWith(EXCHANGE_PATH));
      assert.ok(req);
      assert.equal(req.method, 'GET');
      assert.equal(req.path, `${EXCHANGE_PATH}?test=true`);
      assert.equal(req.headers['ocp-apim-subscription-key'], 'sub-key-123');
      assert.equal(req.headers.authorization, `Bearer ${mp.value}`);
      assert.equal(req.headers['x-altinn-enterpriseuser-authentication'], undefined);

      await client({}, { altinnPlatformUrl: `${proxy.url}/` }).getAltinnExchangedToken(SCOPE);
      const plain = proxy.requests.filter((r) => r.path.startsWith(EXCHANGE_PATH))[1];
      assert.ok(plain);
      assert.equal(plain.path, EXCHANGE_PATH, 'no ?test=true, and a trailing slash on the platform URL is fine');
      assert.equal(plain.headers['ocp-apim-subscription-key'], undefined, 'no empty subscription-key header');
    } finally {
      await proxy.close();
    }
  });

  it('on 401 retries once with a fresh Maskinporten token', async () => {
    const c = client();
    const stale = await c.getAccessToken(SCOPE);
    emulator.faults.add({ endpoint: 'exchange', status: 401, times: 1 });
    const token = await c.getAltinnExchangedToken(SCOPE);
    assert.equal(token.kind, 'altinn');
    assert.equal(count(emulator, 'exchange'), 2);
    assert.equal(count(emulator, 'token'), 2, 'a new Maskinporten token for the second try');
    const fresh = await c.getAccessToken(SCOPE);
    assert.notEqual(fresh.value, stale.value);
    const exchanged = emulator.requests.entries({ endpoint: 'exchange' })[1];
    assert.equal(exchanged?.tokenClaims?.jti, fresh.claims.jti, 'the retry presented the fresh token');
  });

  it('a second 401 is final: ERR_ALTINN_EXCHANGE telling to check the environment', async () => {
    emulator.faults.add({ endpoint: 'exchange', status: 401 });
    const err = await rejectsWith(client().getAltinnExchangedToken(SCOPE), 'ERR_ALTINN_EXCHANGE');
    assert.ok(err instanceof AltinnExchangeError);
    assert.equal(err.status, 401);
    assert.match(err.message, /altinnPlatformUrl/);
    assert.match(err.message, /environment/);
    assert.equal(count(emulator, 'exchange'), 2);
    assert.equal(count(emulator, 'token'), 2);
  });

  it('a token from another environment is refused with the reason Altinn gives', async () => {
    const other = await startEmulator({ clock });
    try {
      const err = await rejectsWith(
        client({}, { altinnPlatformUrl: other.altinnPlatformUrl }).getAltinnExchangedToken(SCOPE),
        'ERR_ALTINN_EXCHANGE',
      );
      assert.equal(err.status, 401);
      assert.ok(err.errorDescription, 'the problem detail');
      assert.ok(err.message.includes(err.errorDescription!));
    } finally {
      await other.close();
    }
  });

  it('maps other refusals without retrying them', async () => {
    emulator.faults.add({ endpoint: 'exchange', status: 410, times: 1 });
    const gone = await rejectsWith(client().getAltinnExchangedToken(SCOPE), 'ERR_ALTINN_EXCHANGE');
    assert.equal(gone.status, 410);
    assert.match(gone.message, /enterprise-user/);
    emulator.faults.add({ endpoint: 'exchange', status: 400, times: 1 });
    const bad = await rejectsWith(client().getAltinnExchangedToken(SCOPE), 'ERR_ALTINN_EXCHANGE');
    assert.equal(bad.status, 400);
    assert.equal(count(emulator, 'exchange'), 2);
  });

  it('needs altinnPlatformUrl for an authority without a default, and says so (ERR_CONFIG)', async () => {
    const settings = { authority: created.settings.authority, clientId: created.clientId, jwk: created.privateJwk };
    const c = new MaskinportenClient(settings, { clock });
    const err = await rejectsWith(c.getAltinnExchangedToken(SCOPE), 'ERR_CONFIG');
    assert.match(err.message, /altinnPlatformUrl is required/);
    assert.ok(err.message.includes(emulator.url));
    assert.equal(count(emulator, 'exchange'), 0);
    assert.equal(defaultAltinnPlatformUrl('https://maskinporten.dev/'), undefined);
    assert.equal(defaultAltinnPlatformUrl('https://sky.maskinporten.no/'), undefined);
  });
});

describe('client Altinn exchange: default platform URL', () => {
  const emulator = useEmulator();
  const created = useClient(emulator, { scopes: SCOPE });

  /** A fetch that records each URL and sends it to the emulator instead of the real host. */
  const routingFetch = (urls: string[]): typeof fetch => {
    return (input, init) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      urls.push(url.href);
      return fetch(`${emulator.url}${url.pathname}${url.search}`, init);
    };
  };

  for (const [env, authority, platform] of [
    ['test', 'https://test.maskinporten.no/', 'https://platform.tt02.altinn.no'],
    ['test (no trailing slash)', 'https://test.maskinporten.no', 'https://platform.tt02.altinn.no'],
    ['prod', 'https://maskinporten.no/', 'https://platform.altinn.no'],
  ] as const) {
    it(`derives ${platform} from the ${env} authority`, async () => {
      assert.equal(defaultAltinnPlatformUrl(authority), platform);
      const urls: string[] = [];
      const c = new MaskinportenClient(
        { authority, clientId: created.clientId, jwk: created.privateJwk },
        { fetch: routingFetch(urls), altinnTest: true },
      );
      const token = await c.getAltinnExchangedToken(SCOPE);
      assert.equal(token.kind, 'altinn');
      const base = authority.replace(/\/$/, '');
      assert.deepEqual(urls, [
        `${base}/.well-known/oauth-authorization-server`,
        `${emulator.url}/token`, // the token endpoint the metadata names
        `${platform}${EXCHANGE_PATH}?test=true`,
      ]);
    });
  }

  it('an explicit altinnPlatformUrl wins over the default', async () => {
    const urls: string[] = [];
    const c = new MaskinportenClient(
      {
        authority: 'https://test.maskinporten.no/',
        clientId: created.clientId,
        jwk: created.privateJwk,
        altinnPlatformUrl: 'https://platform.at22.altinn.cloud/',
      },
      { fetch: routingFetch(urls) },
    );
    await c.getAltinnExchangedToken(SCOPE);
    assert.equal(urls[urls.length - 1], `https://platform.at22.altinn.cloud${EXCHANGE_PATH}`);
  });
});
