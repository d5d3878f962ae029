/**
 * Every refusal of the token endpoint mapped to a coded error whose message says what to do, with status, error,
 * errorDescription, mpCode and traceId filled in; clock skew measured and corrected; insecure URLs refused.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { isMaskinportenError, type MaskinportenError, TokenRequestError } from '../../src/errors.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { count, FakeClock, lastGrant, rejectsWith, startProxy, throwsWith } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

const YEAR_MS = 366 * 24 * 60 * 60 * 1000;

/** The fields every mapped token-endpoint refusal carries. */
function assertTokenError(err: MaskinportenError, status: number, error: string, mpCode: string): void {
  assert.ok(err instanceof TokenRequestError, `${err.name}: ${err.message}`);
  assert.ok(isMaskinportenError(err));
  assert.equal(err.status, status);
  assert.equal(err.error, error);
  assert.equal(err.mpCode, mpCode);
  assert.match(err.traceId ?? '', /^[0-9a-f]{32}$/, 'the trace id from the description');
  assert.ok(err.errorDescription, 'the error_description');
  assert.doesNotMatch(err.errorDescription ?? '', /trace_id/, 'the trace id is taken out of the description');
  assert.ok(err.message.includes(mpCode) && err.message.includes(err.traceId!), 'the message names code and trace');
}

describe('client errors: token endpoint refusals', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['a', 'b'] });

  const client = (settings: Partial<MaskinportenSettings> = {}, options: MaskinportenClientOptions = {}) =>
    new MaskinportenClient({ ...created.settings, ...settings }, { clock, ...options });

  beforeEach(() => {
    emulator.faults.clear();
    emulator.requests.clear();
    emulator.clock.setOffset(0);
  });

  it('wrong aud → ERR_INVALID_AUDIENCE telling to check Authority and the environment', async () => {
    // Metadata naming another issuer (as when Authority points at the wrong environment): aud is wrong.
    const proxy = await startProxy(emulator, {
      discovery: (doc) => ({ ...doc, issuer: 'https://test.maskinporten.no/' }),
    });
    try {
      const err = await rejectsWith(client({ authority: proxy.url }).getAccessToken(['a']), 'ERR_INVALID_AUDIENCE');
      assertTokenError(err, 400, 'invalid_grant', 'MP-110');
      assert.match(err.message, /audience/);
      assert.match(err.message, /check Authority/);
      assert.ok(err.message.includes(proxy.url));
      assert.match(err.message, /environment/);
      assert.equal(lastGrant(emulator).claims.aud, 'https://test.maskinporten.no/');
      assert.equal(count(emulator, 'token'), 1, 'a 4xx is never retried');
    } finally {
      await proxy.close();
    }
  });

  it('wrong aud from the fallback when discovery fails and the authority is not the issuer', async () => {
    emulator.faults.add({ endpoint: 'discovery', status: 500 });
    const authority = emulator.url.replace('127.0.0.1', 'localhost');
    const err = await rejectsWith(client({ authority }).getAccessToken(['a']), 'ERR_INVALID_AUDIENCE');
    assertTokenError(err, 400, 'invalid_grant', 'MP-110');
    assert.equal(lastGrant(emulator).claims.aud, `${authority}/`, 'the fallback: authority plus a slash');
  });

  it('a client of another environment → ERR_UNKNOWN_CLIENT naming ClientId and Authority', async () => {
    const other = await startEmulator({ clock });
    try {
      const err = await rejectsWith(client({ authority: other.issuer }).getAccessToken(['a']), 'ERR_UNKNOWN_CLIENT');
      assertTokenError(err, 400, 'invalid_grant', 'MP-100');
      assert.ok(err.message.includes(created.clientId));
      assert.match(err.message, /ClientId/);
      assert.match(err.message, /Authority/);
    } finally {
      await other.close();
    }
    const err = await rejectsWith(client({ clientId: 'no-such-client' }).getAccessToken(['a']), 'ERR_UNKNOWN_CLIENT');
    assert.ok(err.message.includes('no-such-client'));
  });

  it('an unknown kid → ERR_UNKNOWN_KID: that key id is not registered on that client in that environment', async () => {
    const err = await rejectsWith(client({ kid: 'not-registered-kid' }).getAccessToken(['a']), 'ERR_UNKNOWN_KID');
    // The live answer: "Unknown key identifier (kid) for client", with no MP code.
    assert.ok(err instanceof TokenRequestError);
    assert.equal(err.status, 400);
    assert.equal(err.error, 'invalid_grant');
    assert.equal(err.mpCode, undefined);
    assert.ok(err.message.includes('not-registered-kid'));
    assert.ok(err.message.includes(created.clientId));
    assert.match(err.message, /not registered/);
    assert.match(err.message, /environment/);
  });

  it('a key that does not match the registered one → ERR_INVALID_SIGNATURE', async () => {
    const impostor = await generateRsaKeyPair({ kid: created.kid! });
    const err = await rejectsWith(
      client({ jwkBase64: undefined, jwk: impostor.privateJwk }).getAccessToken(['a']),
      'ERR_INVALID_SIGNATURE',
    );
    assertTokenError(err, 400, 'invalid_grant', 'MP-124');
  });

  it('an expired key (registered over a year ago) → ERR_EXPIRED_KEY: register a new key', async () => {
    emulator.clock.advance(YEAR_MS);
    const err = await rejectsWith(client().getAccessToken(['a']), 'ERR_EXPIRED_KEY');
    assertTokenError(err, 400, 'invalid_grant', 'MP-121');
    assert.ok(err.message.includes(created.kid!));
    assert.match(err.message, /register a new key/);
  });

  it('a scope the client may not use → ERR_INVALID_SCOPE naming that scope', async () => {
    const err = await rejectsWith(client().getAccessToken(['a', 'nope:scope']), 'ERR_INVALID_SCOPE');
    assertTokenError(err, 400, 'invalid_scope', 'MP-200');
    assert.match(err.message, /may not use the scope\(s\) nope:scope: /, 'the refused scope, and only it');
  });

  it('consumer_org without a delegation → ERR_ACCESS_DENIED (403 forbidden)', async () => {
    const err = await rejectsWith(
      client().getAccessToken({ scopes: ['a'], consumerOrg: '310000009' }),
      'ERR_ACCESS_DENIED',
    );
    assertTokenError(err, 403, 'forbidden', 'MP-251');
    assert.match(err.message, /310000009/);
    assert.equal(lastGrant(emulator).claims.consumer_org, '310000009');
  });

  it("consumer_org equal to the client's own organisation → ERR_INVALID_REQUEST", async () => {
    const err = await rejectsWith(
      client().getAccessToken({ scopes: ['a'], consumerOrg: created.orgNo }),
      'ERR_INVALID_REQUEST',
    );
    assertTokenError(err, 400, 'invalid_request', 'MP-011');
    assert.match(err.message, /consumer_org/);
  });

  it('a system user that is not registered → ERR_AUTHORIZATION_DETAILS', async () => {
    const err = await rejectsWith(
      client().getAccessToken({ scopes: ['a'], systemUser: { org: '310000077' } }),
      'ERR_AUTHORIZATION_DETAILS',
    );
    assertTokenError(err, 400, 'invalid_altinn_customer_configuration', 'MP-303');
  });

  it('a replayed grant (jti) → ERR_GRANT_REPLAYED', async () => {
    // A proxy that replays the first assertion it saw: the emulator answers MP-012 the second time.
    let first: string | undefined;
    const proxy = await startProxy(emulator, {
      tokenForm: (form) => {
        first ??= form.get('assertion') ?? undefined;
        form.set('assertion', first!);
        return form;
      },
    });
    try {
      const c = client({ authority: proxy.url });
      await c.getAccessToken(['a']);
      const err = await rejectsWith(c.getAccessToken(['a'], { forceRefresh: true }), 'ERR_GRANT_REPLAYED');
      assertTokenError(err, 400, 'invalid_grant', 'MP-012');
      assert.match(err.message, /every grant must be new/);
    } finally {
      await proxy.close();
    }
  });
});

describe('client errors: clock skew', () => {
  // The documented rules (iat within ±10 s): live, a server up to 130 s ahead still accepts the grant.
  it('reports the measured offset when the server is ahead, and correctClockSkew fixes it', async () => {
    const clock = new FakeClock(); // 250 ms past a whole second
    const emulator = await startEmulator({ clock, rules: 'documented' });
    try {
      const created = await emulator.createClient({ scopes: ['a'] });
      emulator.clock.setOffset(60_000);
      const c = new MaskinportenClient(created.settings, { clock });
      const err = await rejectsWith(c.getAccessToken(['a']), 'ERR_CLOCK_SKEW');
      assertTokenError(err, 400, 'invalid_grant', 'MP-130');
      // Date says the whole second; the client takes its midpoint: 60 000 − 250 + 500.
      assert.equal(err.clockOffsetMs, 60_250);
      assert.equal(c.clockOffsetMs, 60_250);
      assert.match(err.message, /the server clock is 60\.3 s ahead of ours/);
      assert.match(err.message, /correctClockSkew/);

      const corrected = new MaskinportenClient(created.settings, { clock, correctClockSkew: true });
      const token = await corrected.getAccessToken(['a']);
      assert.ok(token.value);
      const { claims } = lastGrant(emulator);
      assert.equal(claims.iat, Math.floor((clock.now() + 60_250) / 1000), 'iat on the server clock');
    } finally {
      await emulator.close();
    }
  });

  it('reports a server that is behind', async () => {
    const clock = new FakeClock();
    const emulator = await startEmulator({ clock, rules: 'documented' });
    try {
      const created = await emulator.createClient({ scopes: ['a'] });
      emulator.clock.setOffset(-45_000);
      const err = await rejectsWith(
        new MaskinportenClient(created.settings, { clock }).getAccessToken(['a']),
        'ERR_CLOCK_SKEW',
      );
      assert.equal(err.clockOffsetMs, -44_750);
      assert.match(err.message, /the server clock is 44\.7 s behind ours/);
      const ok = await new MaskinportenClient(created.settings, { clock, correctClockSkew: true }).getAccessToken([
        'a',
      ]);
      assert.ok(ok.value);
    } finally {
      await emulator.close();
    }
  });

  it('with correctClockSkew, a server clock that moved since it was measured costs one more grant, not an error', async () => {
    const clock = new FakeClock();
    const emulator = await startEmulator({ clock, rules: 'documented' });
    try {
      const created = await emulator.createClient({ scopes: ['a', 'b'] });
      const c = new MaskinportenClient(created.settings, { clock, correctClockSkew: true });
      await c.getAccessToken(['a']); // discovery measured an offset of about 0
      emulator.clock.setOffset(-90_000);
      emulator.requests.clear();
      const token = await c.getAccessToken(['b']);
      assert.ok(token.value);
      assert.equal(count(emulator, 'token'), 2, 'the refused grant and the corrected one');
      assert.equal(c.clockOffsetMs, -89_750);
      // Without the option the moved clock is an error, reported with the offset.
      emulator.clock.setOffset(30_000);
      const plain = new MaskinportenClient(created.settings, { clock });
      await plain.metadata();
      emulator.requests.clear();
      await rejectsWith(plain.getAccessToken(['a']), 'ERR_CLOCK_SKEW');
      assert.equal(count(emulator, 'token'), 1);
    } finally {
      await emulator.close();
    }
  });

  it('with correctClockSkew, measures the offset from the refusal when discovery gave none', async () => {
    const clock = new FakeClock();
    const emulator = await startEmulator({ clock, rules: 'documented' });
    try {
      const created = await emulator.createClient({ scopes: ['a'] });
      emulator.faults.add({ endpoint: 'discovery', reset: true }); // no answer, so no Date header
      emulator.clock.setOffset(45_000);
      const c = new MaskinportenClient(created.settings, { clock, correctClockSkew: true });
      assert.ok((await c.getAccessToken(['a'])).value);
      assert.equal(count(emulator, 'token'), 2);
      assert.equal(c.clockOffsetMs, 45_250);
    } finally {
      await emulator.close();
    }
  });

  it('with correctClockSkew, judges token expiry on the server clock too', async () => {
    const clock = new FakeClock();
    const emulator = await startEmulator({ clock, rules: 'documented' });
    try {
      const created = await emulator.createClient({ scopes: ['a'] });
      emulator.clock.setOffset(60_000);
      const c = new MaskinportenClient(created.settings, { clock, correctClockSkew: true, cache: { refreshAhead: 1 } });
      const first = await c.getAccessToken(['a']);
      // 111 s on: the token (120 s on the server clock) has 9 s left there, inside the 10 s margin.
      clock.advance(first.expiresAt.getTime() - 9_000 - (clock.now() + 60_000));
      const second = await c.getAccessToken(['a']);
      assert.notEqual(second, first, 'a token about to expire on the server clock is not served');
      assert.equal(count(emulator, 'token'), 2);
    } finally {
      await emulator.close();
    }
  });
});

describe('client errors: insecure URLs', () => {
  const key = async () => ({ jwk: (await generateRsaKeyPair()).privateJwk });

  it('refuses an http: authority on a non-loopback host unless allowInsecureRequests', async () => {
    const k = await key();
    const settings = { authority: 'http://maskinporten.example/', clientId: 'c', ...k };
    const err = throwsWith(() => new MaskinportenClient(settings), 'ERR_INSECURE_URL');
    assert.match(err.message, /authority/);
    assert.match(err.message, /allowInsecureRequests/);
    assert.ok(new MaskinportenClient(settings, { allowInsecureRequests: true }));
    const platform = {
      ...settings,
      authority: 'https://test.maskinporten.no/',
      altinnPlatformUrl: 'http://altinn.example',
    };
    assert.match(throwsWith(() => new MaskinportenClient(platform), 'ERR_INSECURE_URL').message, /altinnPlatformUrl/);
  });

  it('accepts http: on loopback (the emulator)', async () => {
    const k = await key();
    for (const authority of ['http://127.0.0.1:1/', 'http://localhost:1', 'http://[::1]:1/', 'http://127.1.2.3/']) {
      assert.ok(new MaskinportenClient({ authority, clientId: 'c', ...k }));
    }
  });
});
