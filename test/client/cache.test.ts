/**
 * The token cache seen through the client: hits, normalised keys, what the key includes, invalidation and force
 * refresh, the LRU bound, the expiry margin, errors never cached, and one upstream request however many callers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions, type TokenRequestInput } from '../../src/client.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import {
  assertConditionalDelete,
  count,
  FakeClock,
  lastGrant,
  MemoryStore,
  recordingLogger,
  recordingRetryHooks,
  rejectsWith,
} from '../helpers/client-env.ts';
import { useClient, useEmulator, useProxy } from '../helpers/emulator.ts';

describe('client cache', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock, resetEach: true });
  const created = useClient(emulator, { scopes: ['a', 'b', 'c', 'altinn:serviceowner/notifications.create'] });
  const proxy = useProxy(emulator);

  const client = (options: MaskinportenClientOptions = {}, settings: Partial<MaskinportenSettings> = {}) =>
    new MaskinportenClient({ ...created.settings, ...settings }, { clock, ...options });

  it('serves the same token object from the cache after one upstream request', async () => {
    const c = client();
    const first = await c.getAccessToken(['a']);
    const second = await c.getAccessToken(['a']);
    clock.advance(30_000);
    const third = await c.getAccessToken(['a']);
    assert.equal(second, first, 'the very same object');
    assert.equal(third, first);
    assert.equal(count(emulator, 'token'), 1);
    assert.equal(count(emulator, 'discovery'), 1);
  });

  it('normalises scope order and form, so equivalent requests share one token', async () => {
    const c = client();
    const tokens = [
      await c.getAccessToken(['b', 'a']),
      await c.getAccessToken('a b'),
      await c.getAccessToken(['a b', 'a']),
      await c.getAccessToken({ scopes: [' b', 'a  '] }),
      await c.getAccessToken({ scopes: 'b a b' }),
    ];
    for (const t of tokens) assert.equal(t, tokens[0]);
    assert.equal(count(emulator, 'token'), 1);
    assert.equal(lastGrant(emulator).claims.scope, 'a b');
  });

  it('keeps different requests apart', async () => {
    emulator.addDelegation({ consumerOrg: '310000001', supplierOrg: created.orgNo, scope: 'a' });
    const c = client();
    const plain = await c.getAccessToken(['a']);
    const both = await c.getAccessToken(['a', 'b']);
    const delegated = await c.getAccessToken({ scopes: ['a'], consumerOrg: '310000001' });
    const audience = await c.getAccessToken({ scopes: ['a'], resource: 'https://api.example/' });
    const all = [plain, both, delegated, audience];
    assert.equal(new Set(all.map((t) => t.value)).size, 4);
    assert.equal(count(emulator, 'token'), 4);
    assert.equal(await c.getAccessToken({ scopes: ['a'], consumerOrg: '310000001' }), delegated);
    assert.equal(count(emulator, 'token'), 4);
  });

  it('keeps raw and Altinn tokens apart (the variant is part of the key)', async () => {
    const c = client();
    const scope = ['altinn:serviceowner/notifications.create'];
    const raw = await c.getAccessToken(scope);
    const altinn = await c.getAltinnExchangedToken(scope);
    assert.equal(raw.kind, 'maskinporten');
    assert.equal(altinn.kind, 'altinn');
    assert.notEqual(altinn.value, raw.value);
    assert.equal(await c.getAccessToken(scope), raw);
    assert.equal(await c.getAltinnExchangedToken(scope), altinn);
    assert.equal(count(emulator, 'token'), 1, 'the exchange reused the cached Maskinporten token');
    assert.equal(count(emulator, 'exchange'), 1);
  });

  it('shares tokens through a shared store only between clients with the same authority, client id and key', async () => {
    const store = new MemoryStore();
    const same1 = client({ cache: { store } });
    const same2 = client({ cache: { store } });
    const t1 = await same1.getAccessToken(['a']);
    const t2 = await same2.getAccessToken(['a']);
    assert.equal(t2.value, t1.value, 'a second process with the same identity reuses the stored token');
    assert.equal(count(emulator, 'token'), 1);

    // Another client on the same emulator, same scopes: never the first client's token.
    const other = await emulator.createClient({ scopes: ['a'] });
    const t3 = await new MaskinportenClient(other.settings, { clock, cache: { store } }).getAccessToken(['a']);
    assert.equal(t3.claims.client_id, other.clientId);
    assert.equal(count(emulator, 'token'), 2);

    // The same client id through another authority (a proxy in front of the same emulator).
    const t4 = await client({ cache: { store } }, { authority: proxy.url }).getAccessToken(['a']);
    assert.notEqual(t4.value, t1.value);
    assert.equal(count(emulator, 'token'), 3);

    // The same client id and authority with another registered key.
    const first = await generateRsaKeyPair();
    const second = await generateRsaKeyPair();
    const twoKeys = await emulator.createClient({ scopes: ['a'], jwks: [first.publicJwk, second.publicJwk] });
    const base = { authority: emulator.issuer, clientId: twoKeys.clientId };
    const k1 = await new MaskinportenClient(
      { ...base, jwk: first.privateJwk },
      { clock, cache: { store } },
    ).getAccessToken(['a']);
    const k2 = await new MaskinportenClient(
      { ...base, jwk: second.privateJwk },
      { clock, cache: { store } },
    ).getAccessToken(['a']);
    assert.notEqual(k2.value, k1.value);
    assert.equal(lastGrant(emulator).header.kid, second.kid);
    assert.equal(count(emulator, 'token'), 5);
    assert.equal(store.map.size, 5, 'one stored entry per identity (the two same-identity clients share one)');
  });

  it('invalidate(request) forgets that request only; invalidate() forgets everything', async () => {
    const c = client();
    const a = await c.getAccessToken(['a']);
    const ab = await c.getAccessToken(['a', 'b']);
    await c.invalidate(['a']);
    const a2 = await c.getAccessToken(['a']);
    assert.notEqual(a2, a);
    assert.notEqual(a2.value, a.value);
    assert.equal(await c.getAccessToken(['b', 'a']), ab, 'the other request is still cached');
    assert.equal(count(emulator, 'token'), 3);
    await c.invalidate('b a');
    await c.getAccessToken(['a', 'b']);
    assert.equal(count(emulator, 'token'), 4, 'invalidation normalises the request too');
    await c.invalidate();
    await c.getAccessToken(['a']);
    await c.getAccessToken(['a', 'b']);
    assert.equal(count(emulator, 'token'), 6);
  });

  it('invalidate(request) forgets the Altinn token of the request too', async () => {
    const c = client();
    const scope = ['altinn:serviceowner/notifications.create'];
    const altinn = await c.getAltinnExchangedToken(scope);
    await c.invalidate(scope);
    const again = await c.getAltinnExchangedToken(scope);
    assert.notEqual(again.value, altinn.value);
    assert.equal(count(emulator, 'exchange'), 2);
    assert.equal(count(emulator, 'token'), 2);
  });

  it('forceRefresh fetches a new token, which then replaces the cached one', async () => {
    const c = client();
    const old = await c.getAccessToken(['a']);
    const fresh = await c.getAccessToken(['a'], { forceRefresh: true });
    assert.notEqual(fresh.value, old.value);
    assert.equal(await c.getAccessToken(['a']), fresh);
    assert.equal(count(emulator, 'token'), 2);
  });

  it('concurrent forceRefresh callers still share one upstream request', async () => {
    const c = client();
    await c.getAccessToken(['a']);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => c.getAccessToken(['a'], { forceRefresh: true })));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(count(emulator, 'token'), 2);
  });

  it('is bounded by cache.maxEntries, evicting the least recently used token', async () => {
    const c = client({ cache: { maxEntries: 2 } });
    const a = await c.getAccessToken(['a']);
    await c.getAccessToken(['b']);
    assert.equal(await c.getAccessToken(['a']), a, 'touch a: b is now the least recently used');
    await c.getAccessToken(['c']); // evicts b
    assert.equal(count(emulator, 'token'), 3);
    assert.equal(await c.getAccessToken(['a']), a, 'a survived');
    assert.equal(count(emulator, 'token'), 3);
    await c.getAccessToken(['b']); // evicted: fetched again (and evicts c)
    assert.equal(count(emulator, 'token'), 4);
    await c.getAccessToken(['c']);
    assert.equal(count(emulator, 'token'), 5);
  });

  it('treats a token as expired expiryMarginMs before its exp', async () => {
    const c = client({ cache: { refreshAhead: 1 } });
    const t = await c.getAccessToken(['a']);
    const exp = t.expiresAt.getTime();
    clock.advance(exp - 10_000 - clock.now() - 1);
    assert.equal(await c.getAccessToken(['a']), t, '1 ms before the 10 s margin: still cached');
    clock.advance(1);
    const next = await c.getAccessToken(['a']);
    assert.notEqual(next, t);
    assert.equal(count(emulator, 'token'), 2);

    const wide = client({ cache: { expiryMarginMs: 60_000, refreshAhead: 1 } });
    const w = await wide.getAccessToken(['b']);
    clock.advance(w.expiresAt.getTime() - 60_000 - clock.now());
    assert.notEqual(await wide.getAccessToken(['b']), w);
    assert.equal(count(emulator, 'token'), 4);
  });

  it('does not cache a token that lives shorter than the margin, but still hands it out', async () => {
    const brief = await emulator.createClient({ scopes: ['a'], accessTokenLifetime: 5 });
    const logger = recordingLogger();
    const c = new MaskinportenClient(brief.settings, { clock, logger });
    const t1 = await c.getAccessToken(['a']);
    const t2 = await c.getAccessToken(['a']);
    assert.notEqual(t2, t1);
    assert.equal(count(emulator, 'token'), 2);
    // Said once, not once per call: the setting to change and the figures.
    const warnings = logger.entries.filter(
      (e) => e.level === 'warn' && /shorter than the cache expiry margin/.test(e.msg ?? ''),
    );
    assert.equal(warnings.length, 1);
    assert.deepEqual(warnings[0]!.obj, { clientId: brief.clientId, lifetimeSeconds: 5, expiryMarginMs: 10_000 });
  });

  it('never caches an error', async () => {
    const c = client({ retry: false });
    emulator.faults.add({ endpoint: 'token', status: 500, times: 1 });
    await rejectsWith(c.getAccessToken(['a']), 'ERR_SERVER');
    const t = await c.getAccessToken(['a']);
    assert.ok(t.value);
    assert.equal(count(emulator, 'token'), 2);

    emulator.faults.add({ endpoint: 'token', status: 400, times: 1 });
    const failing = await Promise.allSettled(Array.from({ length: 20 }, () => c.getAccessToken(['b'])));
    assert.ok(failing.every((r) => r.status === 'rejected'));
    const reasons = new Set(failing.map((r) => (r as PromiseRejectedResult).reason));
    assert.equal(reasons.size, 1, 'concurrent callers share the one failed fetch');
    assert.equal(count(emulator, 'token'), 3);
    await c.getAccessToken(['b']);
    assert.equal(count(emulator, 'token'), 4, 'the next caller tries again');
  });

  it('1,000 concurrent callers cause exactly one token request (and one discovery)', async () => {
    const c = client();
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => c.getAccessToken(['a', 'b'])));
    assert.equal(new Set(tokens).size, 1, 'every caller got the same token object');
    assert.equal(count(emulator, 'token'), 1);
    assert.equal(count(emulator, 'discovery'), 1);
  });

  it('1,000 concurrent callers of the mixed forms of one request cause exactly one token request', async () => {
    const c = client();
    const forms: TokenRequestInput[] = [['a', 'b'], ['b', 'a'], 'a b', { scopes: 'b  a' }];
    const tokens = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => c.getAccessToken(forms[i % forms.length]!)),
    );
    assert.equal(new Set(tokens).size, 1);
    assert.equal(count(emulator, 'token'), 1);
  });

  it('1,000 concurrent Altinn callers cause exactly one token request and one exchange', async () => {
    const c = client();
    const tokens = await Promise.all(
      Array.from({ length: 1000 }, () => c.getAltinnExchangedToken(['altinn:serviceowner/notifications.create'])),
    );
    assert.equal(new Set(tokens).size, 1);
    assert.equal(count(emulator, 'token'), 1);
    assert.equal(count(emulator, 'exchange'), 1);
  });

  it('1,000 concurrent callers through retries still cause one request per attempt', async () => {
    const { retryHooks, sleeps } = recordingRetryHooks();
    const c = client({ retryHooks });
    emulator.faults.add({ endpoint: 'token', status: 503, times: 2 });
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => c.getAccessToken(['c'])));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(count(emulator, 'token'), 3, 'two failures and the success');
    assert.equal(sleeps.length, 2);
  });

  it('treats a stored token that expires beyond the lifetime bound as a miss, and drops it from the store', async () => {
    const far = clock.now() + 1e15;
    const store = new MemoryStore();
    const bogus = {
      value: 'opaqueStoredToken123',
      kind: 'maskinporten' as const,
      expiresAt: far,
      issuedAt: far - 60_000,
    };
    const c = client({ cache: { store } });
    const key = async () => {
      await c.getAccessToken(['a']);
      return [...store.map.keys()][0]!;
    };
    const k = await key();
    store.map.set(k, { token: { ...bogus, scopes: ['a'] }, ttlMs: 60_000 });
    const fresh = client({ cache: { store } });
    const before = count(emulator, 'token');
    const token = await fresh.getAccessToken(['a']);
    assert.notEqual(token.value, bogus.value, 'the far-future stored entry was not handed out');
    assert.ok(token.expiresAt.getTime() - clock.now() <= 24 * 3600_000);
    assert.equal(count(emulator, 'token'), before + 1, 'fetched upstream instead');
    assert.notEqual(store.map.get(k)?.token.value, bogus.value, 'the bogus entry is gone from the store');
  });
});

describe('the in-memory test store', () => {
  it('keeps the TokenStore contract: a delete naming a token removes only that token', () =>
    assertConditionalDelete(new MemoryStore()));
});
