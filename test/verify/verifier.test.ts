/**
 * `maskinporten/verify` against the real emulator (Maskinporten and Altinn tokens, system users, consents,
 * delegation) and against a stand-in issuer whose keys the test holds, for forged tokens: other algorithms, wrong
 * issuer, lifetimes, audience, scopes, consumers, token kinds, forged kids, key rotation and failing key fetches.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NOTIFICATIONS_SCOPE } from '../../src/emulator/index.ts';
import { createTokenVerifier, TokenVerificationError, type TokenVerifierOptions } from '../../src/verify/index.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { accessToken, makeGrant, postToken } from '../helpers/grants.ts';
import { altinnToken } from '../helpers/http.ts';
import { type IssuerServer, startIssuerServer } from './issuer-server.ts';

async function rejects(promise: Promise<unknown>, code: string): Promise<TokenVerificationError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TokenVerificationError, `expected a TokenVerificationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but the token was accepted`);
}

const segment = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('createTokenVerifier with tokens from the emulator', () => {
  const orgNo = '910000042';
  const emulator = useEmulator();
  const client = useClient(emulator, {
    scopes: ['kommune:api.read', 'kommune:api.write', NOTIFICATIONS_SCOPE],
    orgNo,
  });

  const verifier = (options: Partial<TokenVerifierOptions> = {}) =>
    createTokenVerifier({ authority: emulator.issuer, clock: emulator.clock, ...options });

  it('accepts a Maskinporten token and returns its typed claims', async () => {
    const token = await accessToken(emulator, client, ['kommune:api.read']);
    const result = await verifier({ scopes: ['kommune:api.read'], consumers: [orgNo] }).verify(`Bearer ${token}`);
    assert.equal(result.kind, 'maskinporten');
    assert.equal(result.clientId, client.clientId);
    assert.equal(result.consumerOrg, orgNo);
    assert.equal(result.supplierOrg, undefined);
    assert.deepEqual(result.scopes, ['kommune:api.read']);
    assert.equal(result.issuer, emulator.issuer);
    assert.ok(result.expiresAt.getTime() > emulator.clock.now());
    assert.equal(result.systemUser, undefined);
    assert.equal(result.consent, undefined);
    // The bare token works as well as the header, and the emulator's URL without the slash as the authority.
    const bare = await createTokenVerifier({ authority: emulator.url, clock: emulator.clock }).verify(token);
    assert.equal(bare.clientId, client.clientId);
  });

  it('reads pid, system users, consents and delegation', async () => {
    const user = emulator.addSystemUser({ org: '910000077', clientIds: [client.clientId] });
    const sysGrant = makeGrant(emulator, client, {
      claims: {
        scope: 'kommune:api.read',
        authorization_details: [
          {
            type: 'urn:altinn:systemuser',
            systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:910000077' },
          },
        ],
      },
    });
    const sys = await postToken(emulator, sysGrant);
    assert.equal(sys.status, 200, JSON.stringify(sys.body));
    const withUser = await verifier().verify(sys.body.access_token as string);
    assert.deepEqual(withUser.systemUser, { id: user.id, org: '910000077', systemId: user.systemId });

    const consent = emulator.addConsent({
      from: 'urn:altinn:person:identifier-no:01017012345',
      toOrg: orgNo,
      consentRights: [{ action: ['read'], resource: [{ type: 'urn:altinn:resource', value: 'skatt' }] }],
    });
    const consentGrant = makeGrant(emulator, client, {
      claims: {
        scope: 'kommune:api.read',
        authorization_details: [{ type: 'urn:altinn:consent', id: consent.id, from: consent.from }],
      },
    });
    const withConsent = await verifier().verify((await postToken(emulator, consentGrant)).body.access_token as string);
    assert.equal(withConsent.consent?.id, consent.id);
    assert.equal(withConsent.consent?.from, 'urn:altinn:person:identifier-no:01017012345');
    assert.equal(withConsent.consent?.to, orgNo);
    assert.equal(withConsent.consent?.rights.length, 1);

    const pidGrant = makeGrant(emulator, client, { claims: { scope: 'kommune:api.read', pid: '01017012345' } });
    const withPid = await verifier().verify((await postToken(emulator, pidGrant)).body.access_token as string);
    assert.equal(withPid.pid, '01017012345');

    emulator.addDelegation({ consumerOrg: '910000088', supplierOrg: orgNo, scope: 'kommune:api.read' });
    const delegated = makeGrant(emulator, client, { claims: { scope: 'kommune:api.read', consumer_org: '910000088' } });
    const answer = await postToken(emulator, delegated);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const viaSupplier = await verifier({ consumers: ['910000088'] }).verify(answer.body.access_token as string);
    assert.equal(viaSupplier.consumerOrg, '910000088');
    assert.equal(viaSupplier.supplierOrg, orgNo);
  });

  it('answers a missing scope with 403 insufficient_scope and the scope in the challenge', async () => {
    const token = await accessToken(emulator, client, ['kommune:api.read']);
    const err = await rejects(verifier({ scopes: ['kommune:api.write'] }).verify(token), 'ERR_INSUFFICIENT_SCOPE');
    assert.equal(err.status, 403);
    assert.equal(err.error, 'insufficient_scope');
    assert.equal(
      err.wwwAuthenticate,
      'Bearer error="insufficient_scope", error_description="the token lacks the scope kommune:api.write", scope="kommune:api.write"',
    );
    // anyScopes: one of them is enough; none of them is not.
    await verifier({ anyScopes: ['kommune:api.write', 'kommune:api.read'] }).verify(token);
    await rejects(verifier({ anyScopes: ['kommune:api.write', 'x:y'] }).verify(token), 'ERR_INSUFFICIENT_SCOPE');
    // Requirements per call add to the verifier's.
    await rejects(verifier().verify(token, { scopes: ['kommune:api.write'] }), 'ERR_INSUFFICIENT_SCOPE');
  });

  it('answers a consumer that is not allowed with 403', async () => {
    const token = await accessToken(emulator, client, ['kommune:api.read']);
    const err = await rejects(verifier({ consumers: ['999999999'] }).verify(token), 'ERR_CONSUMER_NOT_ALLOWED');
    assert.equal(err.status, 403);
    assert.equal(err.claim, 'consumer');
    assert.match(err.wwwAuthenticate ?? '', /^Bearer error="insufficient_scope"/);
  });

  it('rejects an expired token (by the injected clock, with the tolerance) with 401 invalid_token', async () => {
    const token = await accessToken(emulator, client, ['kommune:api.read']);
    const later = (ms: number) => ({ now: () => emulator.clock.now() + ms });
    await verifier({ clock: later(125_000) }).verify(token); // within 10 s of tolerance
    const err = await rejects(verifier({ clock: later(131_000) }).verify(token), 'ERR_TOKEN_EXPIRED');
    assert.equal(err.status, 401);
    assert.equal(err.wwwAuthenticate, 'Bearer error="invalid_token", error_description="the token has expired"');
    await rejects(verifier({ clock: later(121_000), clockTolerance: 0 }).verify(token), 'ERR_TOKEN_EXPIRED');
  });

  it('tells Altinn tokens and Maskinporten tokens apart', async () => {
    const mp = await accessToken(emulator, client, [NOTIFICATIONS_SCOPE]);
    const altinn = await altinnToken(emulator, mp);
    const err = await rejects(verifier().verify(altinn), 'ERR_TOKEN_KIND');
    assert.match(err.message, /Altinn token/);
    const altinnVerifier = createTokenVerifier({
      altinnPlatformUrl: emulator.altinnPlatformUrl,
      clock: emulator.clock,
      scopes: [NOTIFICATIONS_SCOPE],
    });
    const result = await altinnVerifier.verify(`Bearer ${altinn}`);
    assert.equal(result.kind, 'altinn');
    assert.equal(result.consumerOrg, orgNo);
    assert.equal(result.clientId, client.clientId);
    assert.match(await rejects(altinnVerifier.verify(mp), 'ERR_TOKEN_KIND').then((e) => e.message), /exchange it/);
    // With both accepted, each goes to its own issuer's keys.
    const both = createTokenVerifier({
      authority: emulator.issuer,
      altinnPlatformUrl: emulator.altinnPlatformUrl,
      accept: 'both',
      clock: emulator.clock,
    });
    assert.equal((await both.verify(mp)).kind, 'maskinporten');
    assert.equal((await both.verify(altinn)).kind, 'altinn');
  });

  it('rejects alg none, HS256 keyed with the public key, and a tampered payload', async () => {
    const token = await accessToken(emulator, client, ['kommune:api.read']);
    const [h, p] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const none = `${segment({ ...header, alg: 'none' })}.${p}.`;
    assert.equal((await rejects(verifier().verify(none), 'ERR_TOKEN_ALGORITHM')).claim, 'alg');
    const jwks = (await (await fetch(`${emulator.url}/jwk`)).json()) as { keys: Array<{ n: string }> };
    for (const secret of [JSON.stringify(jwks.keys[0]), jwks.keys[0]!.n]) {
      const input = `${segment({ ...header, alg: 'HS256' })}.${p}`;
      const hs = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      await rejects(verifier().verify(hs), 'ERR_TOKEN_ALGORITHM');
    }
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${segment({ ...claims, scope: 'kommune:api.write' })}.${token.split('.')[2]}`;
    await rejects(verifier().verify(tampered), 'ERR_TOKEN_SIGNATURE');
  });

  it('answers a request without a token with a bare challenge, and garbage as invalid_token', async () => {
    const missing = await rejects(verifier({ realm: 'kommune' }).verify(undefined), 'ERR_TOKEN_MISSING');
    assert.equal(missing.status, 401);
    assert.equal(missing.error, undefined);
    assert.equal(missing.wwwAuthenticate, 'Bearer realm="kommune"');
    await rejects(verifier().verify('Basic dXNlcjpwYXNz'), 'ERR_TOKEN_MISSING');
    for (const bad of ['Bearer', 'Bearer a.b', 'Bearer !!.??.xx', 'a.b.c', `Bearer ${'x'.repeat(5000)}`]) {
      await rejects(verifier().verify(bad), bad === 'Bearer' ? 'ERR_TOKEN_MALFORMED' : 'ERR_TOKEN_MALFORMED');
    }
  });

  it('rejects options it cannot use, naming them', () => {
    assert.throws(() => createTokenVerifier({}), /authority/);
    assert.throws(
      () => createTokenVerifier({ authority: 'http://example.com' }),
      /authority must be a preset or an https URL/,
    );
    assert.throws(() => createTokenVerifier({ authority: 'test', consumers: ['12'] }), /consumers must be nine-digit/);
    assert.throws(() => createTokenVerifier({ authority: 'test', scopes: [''] }), /scopes/);
    assert.throws(() => createTokenVerifier({ authority: 'test', accept: 'both' }), /altinnPlatformUrl/);
    assert.throws(() => createTokenVerifier({ authority: 'test', clockTolerance: -1 }), /clockTolerance/);
  });
});

describe('createTokenVerifier with forged tokens and key rotation (stand-in issuer)', () => {
  let issuer: IssuerServer;
  let now = 1_800_000_000_000;
  const clock = { now: () => now };
  const seconds = () => Math.floor(now / 1000);

  before(async () => {
    issuer = await startIssuerServer();
  });
  after(() => issuer.close());

  const make = (options: Partial<TokenVerifierOptions> = {}) =>
    createTokenVerifier({ authority: issuer.issuer, clock, clockTolerance: 0, ...options });

  it('rejects a wrong issuer, an audience mismatch, a token not yet valid and a token without consumer', async () => {
    const v = make({ audience: 'https://api.kommune.no' });
    await v.verify(issuer.sign(issuer.claims(seconds(), { aud: 'https://api.kommune.no' })));
    await rejects(
      v.verify(
        issuer.sign(issuer.claims(seconds(), { iss: 'https://maskinporten.no/', aud: 'https://api.kommune.no' })),
      ),
      'ERR_TOKEN_ISSUER',
    );
    await rejects(v.verify(issuer.sign(issuer.claims(seconds(), { aud: 'https://other.no' }))), 'ERR_TOKEN_AUDIENCE');
    await rejects(v.verify(issuer.sign(issuer.claims(seconds()))), 'ERR_TOKEN_AUDIENCE');
    const plain = make();
    await rejects(
      plain.verify(issuer.sign(issuer.claims(seconds(), { nbf: seconds() + 60 }))),
      'ERR_TOKEN_NOT_YET_VALID',
    );
    await rejects(plain.verify(issuer.sign(issuer.claims(seconds(), { exp: seconds() - 1 }))), 'ERR_TOKEN_EXPIRED');
    await rejects(plain.verify(issuer.sign(issuer.claims(seconds(), { exp: undefined }))), 'ERR_TOKEN_CLAIM');
    const noConsumer = await rejects(
      plain.verify(issuer.sign(issuer.claims(seconds(), { consumer: '910000001' }))),
      'ERR_TOKEN_CLAIM',
    );
    assert.equal(noConsumer.claim, 'consumer');
    // An Altinn-looking token from this issuer is still a kind mismatch for a Maskinporten-only verifier.
    await rejects(
      plain.verify(issuer.sign(issuer.claims(seconds(), { 'urn:altinn:authenticatemethod': 'maskinporten' }))),
      'ERR_TOKEN_KIND',
    );
  });

  it('verifies RS384 and RS512, and refuses a key published for another alg', async () => {
    const kid512 = await issuer.addKey('RS512');
    now += 31_000; // past the cooldown, so the unknown kid may refresh
    const v = make();
    assert.equal((await v.verify(issuer.sign(issuer.claims(seconds()), {}, kid512))).clientId, 'stand-in-client');
    await rejects(v.verify(issuer.sign(issuer.claims(seconds()), { alg: 'RS256' }, kid512)), 'ERR_TOKEN_UNKNOWN_KID');
  });

  it('fetches the keys at most once per cooldown however many forged kids arrive', async () => {
    const v = make({ cooldownMs: 30_000 });
    await v.verify(issuer.sign(issuer.claims(seconds())));
    // The first fetch counts against the cooldown too: a burst right after it costs nothing.
    const first = issuer.jwksFetches;
    await rejects(v.verify(issuer.sign(issuer.claims(seconds()), { kid: 'forged' })), 'ERR_TOKEN_UNKNOWN_KID');
    assert.equal(issuer.jwksFetches, first);
    now += 30_000;
    const before = issuer.jwksFetches;
    const forged = Array.from({ length: 200 }, () => issuer.sign(issuer.claims(seconds()), { kid: randomUUID() }));
    const results = await Promise.allSettled(forged.map((t) => v.verify(t)));
    assert.ok(
      results.every(
        (r) => r.status === 'rejected' && (r.reason as TokenVerificationError).code === 'ERR_TOKEN_UNKNOWN_KID',
      ),
    );
    assert.equal(issuer.jwksFetches - before, 1, 'one refresh for the whole burst');
    await Promise.allSettled(forged.slice(0, 50).map((t) => v.verify(t)));
    assert.equal(issuer.jwksFetches - before, 1, 'no refresh within the cooldown');
    now += 30_000;
    await Promise.allSettled(forged.slice(0, 50).map((t) => v.verify(t)));
    assert.equal(issuer.jwksFetches - before, 2, 'one more after the cooldown');
  });

  it('picks up a rotated key with one refresh, and keeps the known keys while a refresh fails', async () => {
    const v = make({ cooldownMs: 30_000, cacheMaxAgeMs: 3_600_000 });
    await v.verify(issuer.sign(issuer.claims(seconds())));
    now += 31_000;
    const newKid = await issuer.addKey();
    assert.equal((await v.verify(issuer.sign(issuer.claims(seconds()), {}, newKid))).clientId, 'stand-in-client');

    issuer.failWith = 503;
    now += 3_600_000; // the keys are old: a refresh is due, and fails
    const fetches = issuer.jwksFetches;
    assert.equal((await v.verify(issuer.sign(issuer.claims(seconds()), {}, newKid))).clientId, 'stand-in-client');
    assert.equal(issuer.jwksFetches, fetches + 1);
    await rejects(v.verify(issuer.sign(issuer.claims(seconds()), { kid: 'forged' })), 'ERR_TOKEN_UNKNOWN_KID');
    assert.equal(issuer.jwksFetches, fetches + 1, 'the failed refresh counts against the cooldown');
    issuer.failWith = undefined;
  });

  it('answers 503 without a challenge when the keys were never fetched, and retries after the cooldown', async () => {
    issuer.failWith = 500;
    const v = make({ cooldownMs: 30_000 });
    const token = issuer.sign(issuer.claims(seconds()));
    const err = await rejects(v.verify(token), 'ERR_KEYS_UNAVAILABLE');
    assert.equal(err.status, 503);
    assert.equal(err.wwwAuthenticate, undefined);
    const fetches = issuer.jwksFetches;
    await rejects(v.verify(token), 'ERR_KEYS_UNAVAILABLE');
    assert.equal(issuer.jwksFetches, fetches);
    issuer.failWith = undefined;
    now += 30_000;
    assert.equal((await v.verify(token)).consumerOrg, '910000001');
  });
});
