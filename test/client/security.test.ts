/**
 * Attacks on the client, each a regression test: look-alike loopback hosts, credentials or a query in a base URL,
 * control characters in scopes, a hostile token endpoint (CR/LF in the token, an absurd or invalid expiry), forced
 * refreshes piling up during a slow fetch, a cache bookkeeping map that grows with every key, and a reconfiguration
 * in the middle of an Altinn exchange. Real emulator, real local servers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { TokenCache } from '../../src/cache/token-cache.ts';
import { MaskinportenClient } from '../../src/client.ts';
import { InvalidResponseError } from '../../src/errors.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import * as settingsModule from '../../src/settings.ts';
import { AccessToken } from '../../src/token.ts';
import * as urlPolicy from '../../src/url-policy.ts';
import {
  count,
  FakeClock,
  type LocalServer,
  type ProxyOptions,
  rejectsWith,
  startLocalServer,
  startProxy,
  throwsWith,
  waitFor,
} from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

/** A JWT's payload, decoded (no verification: the emulator issued it). */
function payloadOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

/** The token with its claims changed (the signature no longer matches; the client does not verify it). */
function withClaims(jwt: string, change: (claims: Record<string, unknown>) => void): string {
  const [h, p, s] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
  change(claims);
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

/** The token body with the access token's `exp` set to `exp`. */
function withExp(body: Record<string, unknown>, exp: unknown): string {
  return withClaims(String(body.access_token), (claims) => {
    claims.exp = exp;
  });
}

describe('URL policy: loopback is parsed, not guessed from a prefix', () => {
  it('counts only localhost, 127.0.0.0/8 and ::1 as loopback', () => {
    const loopback = ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.3.4', '::1', '[::1]', '[0:0:0:0:0:0:0:1]'];
    const not = [
      '127.0.0.1.evil.example',
      '127.evil.example',
      '127.1',
      'localhost.evil.example',
      'evil-localhost',
      '128.0.0.1',
      '10.0.0.1',
      '[::ffff:127.0.0.1]',
      '[::2]',
      '',
    ];
    for (const host of loopback) assert.equal(urlPolicy.isLoopbackHost(host), true, host);
    for (const host of not) assert.equal(urlPolicy.isLoopbackHost(host), false, host);
  });

  it('judges URL hosts as the URL parser normalises them', () => {
    for (const url of ['http://127.1/', 'http://0x7f.0.0.1/', 'http://2130706433/']) {
      assert.equal(urlPolicy.isLoopbackHost(new URL(url).hostname), true, url);
    }
    assert.equal(urlPolicy.isSecureOrLoopback(new URL('http://127.0.0.1.evil.example/')), false);
    assert.equal(urlPolicy.isSecureOrLoopback(new URL('https://evil.example/')), true);
  });

  it('lives in url-policy.ts only: settings.ts no longer passes it on', () => {
    assert.equal('isLoopbackHost' in settingsModule, false);
    assert.equal('checkUrlSetting' in settingsModule, false);
  });
});

describe('client security', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['a', 'b', 'altinn:serviceowner/notifications.create'] });

  const make = (settings: Partial<MaskinportenSettings>) => () =>
    new MaskinportenClient({ ...created.settings, ...settings } as MaskinportenSettings, { clock });

  /** A client whose token answers pass through `tokenBody`. */
  const through = async (tokenBody: ProxyOptions['tokenBody']) => {
    const proxy = await startProxy(emulator, { tokenBody });
    const client = new MaskinportenClient({ ...created.settings, authority: proxy.url }, { clock, retry: false });
    return { client, close: () => proxy.close() };
  };

  beforeEach(() => emulator.requests.clear());

  it('refuses plain http to a host that only looks like loopback', () => {
    for (const authority of ['http://127.0.0.1.evil.example/', 'http://localhost.evil.example/']) {
      const err = throwsWith(make({ authority }), 'ERR_INSECURE_URL');
      assert.equal(err.setting, 'authority');
    }
    throwsWith(make({ altinnPlatformUrl: 'http://127.0.0.1.evil.example' }), 'ERR_INSECURE_URL');
  });

  it('refuses base URLs with userinfo, a query or a fragment, naming the setting and never the password', () => {
    const cases: [Partial<MaskinportenSettings>, string, RegExp][] = [
      [{ authority: 'https://user:hunter2@test.maskinporten.no/' }, 'authority', /user name or password/],
      [{ authority: 'https://user@test.maskinporten.no/' }, 'authority', /user name or password/],
      [{ authority: 'https://test.maskinporten.no/?x=1' }, 'authority', /query/],
      [{ authority: 'https://test.maskinporten.no/?' }, 'authority', /query/],
      [{ authority: 'https://test.maskinporten.no/#frag' }, 'authority', /fragment/],
      [{ authority: 'https://test.maskinporten.no/#' }, 'authority', /fragment/],
      [{ altinnPlatformUrl: 'https://u:hunter2@platform.tt02.altinn.no' }, 'altinnPlatformUrl', /user name/],
      [{ altinnPlatformUrl: 'https://platform.tt02.altinn.no?env=x' }, 'altinnPlatformUrl', /query/],
    ];
    for (const [settings, setting, message] of cases) {
      const err = throwsWith(make(settings), 'ERR_CONFIG');
      assert.equal(err.setting, setting);
      assert.match(err.message, new RegExp(`^${setting} `));
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /hunter2/);
    }
  });

  it('refuses control characters in scopes (no request is sent)', async () => {
    const client = make({})();
    for (const scope of ['a\r\nb', 'a\nX-Injected: 1', 'a\u0000', 'a\u0007b', 'a\u007f', 'a\u0085', 'a\tb']) {
      const err = await rejectsWith(client.getAccessToken([scope]), 'ERR_INVALID_ARGUMENT');
      assert.equal(err.setting, 'scopes');
      await rejectsWith(client.getAccessToken(scope), 'ERR_INVALID_ARGUMENT');
      await rejectsWith(client.getAltinnExchangedToken({ scopes: ['b', scope] }), 'ERR_INVALID_ARGUMENT');
    }
    assert.equal(count(emulator, 'token'), 0);
  });

  it('refuses an access token with CR/LF or other characters outside the bearer alphabet, and never caches it', async () => {
    const bad = [
      (jwt: string) => `${jwt}\r\nX-Injected: 1`,
      (jwt: string) => `${jwt}\n`,
      (jwt: string) => `${jwt} extra`,
      () => 'opaque\r\nvalue',
      () => 'opaque"quoted"',
      () => 'ÅÆØ-token',
    ];
    for (const change of bad) {
      const { client, close } = await through((body) => ({
        ...body,
        access_token: change(String(body.access_token)),
        expires_in: 60,
      }));
      try {
        emulator.requests.clear();
        const err = await rejectsWith(client.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
        assert.equal(err.setting, 'access_token');
        assert.doesNotMatch(err.message, /Injected|opaque|quoted/);
        await rejectsWith(client.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
        assert.equal(count(emulator, 'token'), 2, 'refused, so not cached');
      } finally {
        await close();
      }
    }
  });

  it('accepts a token68 opaque token (letters, digits, -._~+/ and trailing =)', async () => {
    const { client, close } = await through((body) => ({ ...body, access_token: 'abc-._~+/XYZ09==', expires_in: 60 }));
    try {
      const token = await client.getAccessToken(['a']);
      assert.equal(token.value, 'abc-._~+/XYZ09==');
    } finally {
      await close();
    }
  });

  it('refuses an exp or expires_in that is not a valid date within a day, and never caches it', async () => {
    const nowS = Math.floor(clock.now() / 1000);
    const hostile: [string, ProxyOptions['tokenBody'], string][] = [
      ['exp beyond the Date range', (b) => ({ ...b, access_token: withExp(b, 1e16) }), 'exp'],
      ['exp of 1e300', (b) => ({ ...b, access_token: withExp(b, 1e300) }), 'exp'],
      ['exp as a string', (b) => ({ ...b, access_token: withExp(b, 'soon') }), 'exp'],
      ['exp ten years on', (b) => ({ ...b, access_token: withExp(b, nowS + 315_360_000) }), 'exp'],
      [
        'exp and iat both ten years on',
        (b) => ({
          ...b,
          access_token: withClaims(String(b.access_token), (c) => {
            c.iat = nowS + 315_360_000;
            c.exp = nowS + 315_360_120;
          }),
        }),
        'exp',
      ],
      [
        'expires_in 1e300 on an opaque token',
        (b) => ({ ...b, access_token: 'opaque-token', expires_in: 1e300 }),
        'expires_in',
      ],
      ['expires_in 1e16 on a JWT', (b) => ({ ...b, expires_in: 1e16 }), 'expires_in'],
      ['negative expires_in', (b) => ({ ...b, access_token: 'opaque-token', expires_in: -5 }), 'expires_in'],
      ['expires_in as a string', (b) => ({ ...b, access_token: 'opaque-token', expires_in: '60' }), 'expires_in'],
    ];
    for (const [what, tokenBody, setting] of hostile) {
      const { client, close } = await through(tokenBody);
      try {
        emulator.requests.clear();
        const err = await rejectsWith(client.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
        assert.ok(err instanceof InvalidResponseError, what);
        assert.equal(err.setting, setting, what);
        // Printing the error never throws (an Invalid Date's toISOString would).
        assert.doesNotThrow(() => `${String(err)} ${JSON.stringify(err)}`);
        await rejectsWith(client.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
        assert.equal(count(emulator, 'token'), 2, `${what}: refused, so not cached`);
      } finally {
        await close();
      }
    }
  });

  it('AccessToken.fromValue refuses an invalid exp with a coded error, and a token never throws on printing', () => {
    const jwt = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: 1e16, iat: 0 })).toString('base64url')}.`;
    const err = throwsWith(() => AccessToken.fromValue(jwt, 'maskinporten'), 'ERR_INVALID_RESPONSE');
    assert.equal(err.setting, 'exp');
    throwsWith(() => AccessToken.fromValue('not a token', 'maskinporten'), 'ERR_INVALID_RESPONSE');
    const odd = new AccessToken({
      value: 'abcdefghijklmnop',
      expiresAt: new Date(Number.NaN),
      issuedAt: new Date(Number.NaN),
      scopes: [],
      claims: {},
      kind: 'maskinporten',
    });
    assert.match(String(odd), /Invalid Date/);
    assert.doesNotThrow(() => JSON.stringify(odd));
  });

  it('concurrent forceRefresh calls of one key during an in-flight fetch share that one fetch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let tokenRequests = 0;
    let self = '';
    const slow: LocalServer = await startLocalServer(async (req, res, body) => {
      const path = req.url ?? '/';
      if (path === '/token') {
        tokenRequests++;
        await gate;
      }
      const upstream = await fetch(`${emulator.url}${path}`, {
        method: req.method ?? 'GET',
        headers: { 'content-type': String(req.headers['content-type'] ?? 'text/plain') },
        ...(req.method === 'GET' ? {} : { body }),
      });
      let text = await upstream.text();
      if (path.startsWith('/.well-known/')) {
        const doc = JSON.parse(text) as Record<string, unknown>;
        doc.token_endpoint = `${self}/token`;
        text = JSON.stringify(doc);
      }
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
      res.end(text);
    });
    self = slow.url;
    try {
      const client = new MaskinportenClient({ ...created.settings, authority: slow.url }, { clock });
      const first = client.getAccessToken(['a'], { forceRefresh: true });
      await waitFor(() => tokenRequests === 1, 'the first token request');
      const more = Array.from({ length: 5 }, () => client.getAccessToken(['a'], { forceRefresh: true }));
      const plain = client.getAccessToken(['a']);
      // Give the later calls every chance to start fetches of their own before the first answers.
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
      release();
      const tokens = await Promise.all([first, ...more, plain]);
      assert.equal(new Set(tokens.map((t) => t.value)).size, 1);
      assert.equal(tokenRequests, 1);
      // A forced refresh after that fetch settled does fetch anew.
      const after = await client.getAccessToken(['a'], { forceRefresh: true });
      assert.notEqual(after.value, tokens[0]!.value);
      assert.equal(tokenRequests, 2);
    } finally {
      release();
      await slow.close();
    }
  });

  it('keeps no per-key bookkeeping for invalidated keys (the cache does not grow with every key invalidated)', async () => {
    const cache = new TokenCache({ clock });
    const token = await (async () => {
      const client = make({})();
      return client.getAccessToken(['a']);
    })();
    for (let i = 0; i < 5000; i++) await cache.invalidate(`key-${i}`);
    assert.equal(cache.trackedKeys, 0);
    // A key invalidated while its fetch is in flight is forgotten once the fetch settles, and the stale result is
    // not stored.
    let resolveFetch!: (t: AccessToken) => void;
    const pending = cache.get('k', () => new Promise<AccessToken>((resolve) => (resolveFetch = resolve)));
    await cache.invalidate('k');
    resolveFetch(token);
    assert.equal((await pending).token, token);
    assert.equal(cache.trackedKeys, 0);
    assert.equal(
      cache.peek('k', async () => token),
      undefined,
    );
  });

  it('uses one set of settings for a whole Altinn exchange, even when reconfigured before the retry after a 401', async () => {
    const other = await emulator.createClient({ scopes: ['a', 'b', 'altinn:serviceowner/notifications.create'] });
    let client!: MaskinportenClient;
    const atOld: string[] = [];
    const atNew: string[] = [];
    const forward = async (path: string, authorization: string) => {
      const upstream = await fetch(`${emulator.url}${path}`, { headers: { authorization } });
      return { status: upstream.status, text: await upstream.text() };
    };
    const newPlatform = await startLocalServer(async (req, res) => {
      atNew.push(String(req.headers.authorization));
      const r = await forward(req.url ?? '/', String(req.headers.authorization));
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.text);
    });
    const oldPlatform = await startLocalServer(async (req, res) => {
      atOld.push(String(req.headers.authorization));
      if (atOld.length === 1) {
        // The settings change while this exchange is under way; then Altinn refuses the token.
        await client.reconfigure({ ...other.settings, altinnPlatformUrl: newPlatform.url });
        res.writeHead(401, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            type: 'https://tools.ietf.org/html/rfc9110#section-15.5.2',
            title: 'Unauthorized',
            status: 401,
          }),
        );
        return;
      }
      const r = await forward(req.url ?? '/', String(req.headers.authorization));
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.text);
    });
    try {
      client = new MaskinportenClient({ ...created.settings, altinnPlatformUrl: oldPlatform.url }, { clock });
      const token = await client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']);
      assert.equal(atOld.length, 2, 'the retry after the 401 goes to the platform the exchange started with');
      assert.equal(atNew.length, 0);
      const retried = payloadOf(atOld[1]!.replace(/^Bearer /, ''));
      assert.equal(retried.client_id, created.clientId, 'with a Maskinporten token of the same credentials');
      assert.notEqual(atOld[1], atOld[0], 'a fresh Maskinporten token');
      assert.equal(token.claims.client_id, created.clientId);
      // The next exchange uses the new settings throughout.
      const next = await client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']);
      assert.equal(next.claims.client_id, other.clientId);
      assert.equal(atNew.length, 1);
      assert.equal(payloadOf(atNew[0]!.replace(/^Bearer /, '')).client_id, other.clientId);
    } finally {
      await oldPlatform.close();
      await newPlatform.close();
    }
  });
});
