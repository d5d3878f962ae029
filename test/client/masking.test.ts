/**
 * Secrets never print: tokens, the client, signers and errors shown through console.log, util.inspect,
 * util.format, JSON.stringify and String() never contain a token, a private key member or a grant. The raw token
 * is reachable only deliberately, through `value`.
 */
import assert from 'node:assert/strict';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { format, inspect } from 'node:util';
import { MaskinportenClient } from '../../src/client.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { PRIVATE_MEMBERS, type RsaPrivateJwk } from '../../src/keys/jwk.ts';
import { loadSigner, loadSignerSync } from '../../src/keys/signer.ts';
import type { AccessToken } from '../../src/token.ts';
import { CertFactory } from '../helpers/certs.ts';
import { FakeClock, grants, rejectsWith, startLocalServer } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

/** Everything a value can turn into when printed or logged. */
function renderings(value: unknown): string[] {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const con = new Console({ stdout: sink, stderr: sink });
  con.log(value);
  con.error({ nested: { deeper: [value] } });
  con.dir(value, { depth: null });
  con.log('%s %o %O %j', value, value, value, value);
  const out = [
    chunks.join(''),
    inspect(value),
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }),
    // Even without custom inspection (but not when asking inspect to call every getter: `value` is one).
    inspect(value, { customInspect: false, showHidden: true, depth: Number.POSITIVE_INFINITY }),
    format('%s', value),
    JSON.stringify(value) ?? '',
    JSON.stringify({ wrapped: value }),
    String(value),
    `${value}`,
  ];
  if (value instanceof Error) out.push(value.stack ?? '', String(value.cause), inspect(value.cause));
  return out;
}

/** Asserts that none of the renderings of `value` contains any of `secrets`. */
function assertNoSecret(value: unknown, secrets: Record<string, string>): void {
  for (const text of renderings(value)) {
    for (const [name, secret] of Object.entries(secrets)) {
      assert.ok(secret.length >= 8, `${name} is long enough to search for`);
      assert.ok(!text.includes(secret), `a rendering contains ${name}:\n${text.slice(0, 500)}`);
    }
  }
}

/** The private members of a JWK, by name. */
function keySecrets(jwk: RsaPrivateJwk, jwkBase64?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of PRIVATE_MEMBERS) {
    const v = (jwk as unknown as Record<string, unknown>)[m];
    // A 20-character slice is enough to recognise a member and avoids false hits on short strings.
    if (typeof v === 'string') out[`jwk.${m}`] = v.slice(5, 25);
  }
  if (jwkBase64) out.jwkBase64 = jwkBase64.slice(40, 80);
  return out;
}

/** The parts of a compact token that must never print. */
function tokenSecrets(token: AccessToken, name: string): Record<string, string> {
  const [, payload, signature] = token.value.split('.');
  return {
    [`${name} value`]: token.value,
    [`${name} payload`]: payload!.slice(0, 40),
    [`${name} signature`]: signature!.slice(0, 40),
  };
}

describe('client masking', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['altinn:serviceowner/notifications.create', 'a'] });
  let client: MaskinportenClient;
  let secrets: Record<string, string>;

  before(async () => {
    client = new MaskinportenClient(created.settings, { clock, retryHooks: { sleep: async () => undefined } });
    secrets = keySecrets(created.privateJwk!, created.jwkBase64);
  });

  it('an access token prints masked; its value is reachable deliberately', async () => {
    const token = await client.getAccessToken(['a']);
    const altinn = await client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']);
    for (const t of [token, altinn]) {
      assertNoSecret(t, tokenSecrets(t, t.kind));
      assert.match(String(t), /masked/);
      const json = JSON.parse(JSON.stringify(t)) as Record<string, unknown>;
      assert.match(String(json.value), /masked/);
      assert.equal(json.expiresAt, t.expiresAt.toISOString());
      assert.ok(!Object.keys(t).includes('value'), 'not an own enumerable property');
      assert.equal(({ ...t } as Record<string, unknown>).value, undefined, 'spreading does not copy it');
      assert.equal(t.value.split('.').length, 3, 'value is the compact JWT');
      assert.equal(t.authorizationHeader, `Bearer ${t.value}`);
    }
  });

  it('the client prints neither its key nor its cached tokens', async () => {
    const token = await client.getAccessToken(['a']);
    assertNoSecret(client, { ...secrets, ...tokenSecrets(token, 'token') });
    assert.equal(String(client), `MaskinportenClient(${created.clientId} @ ${emulator.url})`);
    assert.deepEqual(JSON.parse(JSON.stringify(client)), { clientId: created.clientId, authority: emulator.url });
  });

  it('signers print neither the key nor a PKCS#12 password', async () => {
    const jwkSigner = loadSignerSync({ jwk: created.privateJwk });
    assert.ok(jwkSigner);
    assertNoSecret(jwkSigner, secrets);
    assert.match(inspect(jwkSigner), /GrantSigner\(kid:/);
    const base64Signer = loadSignerSync({ jwkBase64: created.jwkBase64! });
    assertNoSecret(base64Signer, secrets);

    const certs = new CertFactory();
    try {
      const ca = certs.ca('ca');
      const leaf = certs.leaf('leaf', '312345678', ca);
      const keyBody = leaf.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      const p12 = certs.pkcs12('p', leaf, [ca], 'very-secret-password');
      const signer = await loadSigner({ pkcs12: p12, pkcs12Password: 'very-secret-password' });
      assertNoSecret(signer, { 'pem key': keyBody.slice(60, 100), password: 'very-secret-password' });
      const pemSigner = loadSignerSync({ pem: leaf.keyPem, certificateChain: [leaf.certPem, ca.certPem] });
      assertNoSecret(pemSigner, { 'pem key': keyBody.slice(60, 100) });
      const pkcsClient = new MaskinportenClient({
        authority: emulator.issuer,
        clientId: 'x',
        pkcs12: p12,
        pkcs12Password: 'very-secret-password',
      });
      assertNoSecret(pkcsClient, { password: 'very-secret-password' });
    } finally {
      certs.dispose();
    }
  });

  it('errors from the emulator never contain the grant, a token or the key', async () => {
    const mp = await client.getAccessToken(['a']);
    const failures: MaskinportenError[] = [
      await rejectsWith(client.getAccessToken(['nope:scope']), 'ERR_INVALID_SCOPE'),
      await rejectsWith(
        new MaskinportenClient({ ...created.settings, kid: 'unknown-kid-1' }, { clock }).getAccessToken(['a']),
        'ERR_UNKNOWN_KID',
      ),
      await rejectsWith(client.getAccessToken({ scopes: ['a'], consumerOrg: '310000009' }), 'ERR_ACCESS_DENIED'),
    ];
    // 150 s ahead: past what the live rules tolerate (a 120 s grant then expired more than 10 s ago).
    emulator.clock.setOffset(150_000);
    failures.push(
      await rejectsWith(new MaskinportenClient(created.settings, { clock }).getAccessToken(['a']), 'ERR_CLOCK_SKEW'),
    );
    emulator.clock.setOffset(0);
    emulator.faults.add({ endpoint: 'token', status: 503 });
    failures.push(
      await rejectsWith(
        new MaskinportenClient(created.settings, {
          clock,
          retryHooks: { sleep: async () => undefined },
        }).getAccessToken(['a']),
        'ERR_SERVER',
      ),
    );
    emulator.faults.clear();
    emulator.faults.add({ endpoint: 'token', reset: true, times: 1 });
    failures.push(
      await rejectsWith(
        new MaskinportenClient(created.settings, { clock, retry: false }).getAccessToken(['a']),
        'ERR_NETWORK',
      ),
    );
    emulator.faults.add({ endpoint: 'exchange', status: 401 });
    failures.push(
      await rejectsWith(
        client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create'], { forceRefresh: true }),
        'ERR_ALTINN_EXCHANGE',
      ),
    );
    emulator.faults.clear();

    // The grant's signed parts: every header is the same, every jti is unique.
    const grantSecrets: Record<string, string> = {};
    for (const [i, g] of grants(emulator).entries()) grantSecrets[`grant ${i} jti`] = g.claims.jti as string;
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: created.kid })).toString('base64url');
    grantSecrets['grant header segment'] = header;
    for (const err of failures) {
      assertNoSecret(err, { ...secrets, ...grantSecrets, ...tokenSecrets(mp, 'token') });
      assert.doesNotMatch(inspect(err), /assertion=/);
    }
  });

  it('key errors never quote the key material', () => {
    const jwk = created.privateJwk!;
    const broken = [
      // Not JSON, with the private member where the parser stops.
      `{"kty":"RSA","n":"${jwk.n}","e":"AQAB","d":${jwk.d}}`,
      `{"kty":"RSA","d":"${jwk.d}",}`,
      `${jwk.d}`,
    ];
    for (const text of broken) {
      const attempts = [
        () => new MaskinportenClient({ authority: emulator.issuer, clientId: 'x', jwk: text }),
        () =>
          new MaskinportenClient({
            authority: emulator.issuer,
            clientId: 'x',
            jwkBase64: Buffer.from(text).toString('base64'),
          }),
      ];
      for (const attempt of attempts) {
        let caught: unknown;
        try {
          attempt();
        } catch (err) {
          caught = err;
        }
        assert.ok(caught instanceof MaskinportenError, String(caught));
        assert.equal(caught.code, 'ERR_INVALID_KEY');
        assertNoSecret(caught, { 'jwk.d': jwk.d.slice(0, 10), 'jwk.d (later)': jwk.d.slice(10, 20) });
      }
    }
    const { d: _d, ...publicOnly } = jwk;
    let caught: unknown;
    try {
      new MaskinportenClient({ authority: emulator.issuer, clientId: 'x', jwk: { ...publicOnly, p: jwk.p } });
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof MaskinportenError);
    assertNoSecret(caught, { 'jwk.p': jwk.p.slice(0, 20) });
  });

  it('a broken token or exchange answer is never quoted in the error', async () => {
    const token = await client.getAccessToken(['a']);
    const [h, p, s] = token.value.split('.');
    // A token-endpoint body that breaks mid-token, and an exchange body that is a broken JSON string.
    // (V8 quotes about ten characters of the input where an unexpected token starts.)
    const bodies = [`{"access_token":${p}.${s}.${h}}`, `"${h}.${p}.${s}" trailing`];
    const server = await startLocalServer((req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/.well-known/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer: `${emulator.issuer}`, token_endpoint: `http://${req.headers.host}/token` }));
      } else if (path === '/token') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(bodies[0]);
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(bodies[1]);
      }
    });
    try {
      const viaServer = new MaskinportenClient({ ...created.settings, authority: server.url }, { clock, retry: false });
      const tokenErr = await rejectsWith(viaServer.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
      assertNoSecret(tokenErr, { 'token payload': p!.slice(0, 9), 'token signature': s!.slice(0, 12) });
      const viaPlatform = new MaskinportenClient(
        { ...created.settings, altinnPlatformUrl: server.url },
        { clock, retry: false },
      );
      const exchangeErr = await rejectsWith(
        viaPlatform.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']),
        'ERR_INVALID_RESPONSE',
      );
      assertNoSecret(exchangeErr, { 'token payload': p!.slice(0, 12), 'token signature': s!.slice(0, 12) });
    } finally {
      await server.close();
    }
  });
});
