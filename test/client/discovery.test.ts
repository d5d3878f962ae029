/**
 * Discovery of the authorization server metadata (RFC 8414): cached, single-flight, refreshed in the background,
 * and falling back to the authority (with a trailing slash) when it fails — for a while, not for ever.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { count, FakeClock, flush, lastGrant, recordingLogger, startProxy, waitFor } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

describe('client discovery', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock, resetEach: true });
  const created = useClient(emulator, { scopes: ['a', 'b', 'c', 'd'] });

  const client = (options: MaskinportenClientOptions = {}, settings: Partial<MaskinportenSettings> = {}) =>
    new MaskinportenClient({ ...created.settings, ...settings }, { clock, ...options });

  it('fetches the metadata once and keeps it', async () => {
    const c = client();
    assert.deepEqual(await c.metadata(), { issuer: emulator.issuer, tokenEndpoint: `${emulator.url}/token` });
    await c.getAccessToken(['a']);
    await c.getAccessToken(['b']);
    await c.getAccessToken(['a'], { forceRefresh: true });
    await c.getAltinnExchangedToken(['c']);
    assert.equal(count(emulator, 'discovery'), 1);
    assert.equal(count(emulator, 'token'), 4);
  });

  it('is single-flight: concurrent first requests share one discovery', async () => {
    const c = client();
    await Promise.all(['a', 'b', 'c', 'd'].flatMap((s) => [c.getAccessToken([s]), c.metadata()]));
    assert.equal(count(emulator, 'discovery'), 1);
    assert.equal(count(emulator, 'token'), 4);
  });

  it('uses the token endpoint the metadata names', async () => {
    const proxy = await startProxy(emulator);
    try {
      await client({}, { authority: proxy.url }).getAccessToken(['a']);
      assert.ok(proxy.requests.some((r) => r.path === '/token' && r.method === 'POST'));
    } finally {
      await proxy.close();
    }
  });

  it('refreshes the metadata in the background once it is older than discoveryRefreshMs', async () => {
    const c = client({ discoveryRefreshMs: 60_000 });
    await c.getAccessToken(['a']);
    clock.advance(60_000);
    await c.getAccessToken(['b']); // uses the cached issuer and starts a refresh
    await waitFor(() => count(emulator, 'discovery') === 2, 'the background discovery');
    assert.equal(lastGrant(emulator).claims.aud, emulator.issuer);
    await c.getAccessToken(['c']);
    await flush();
    assert.equal(count(emulator, 'discovery'), 2, 'fresh again');
  });

  it('keeps the last good metadata when a refresh fails', async () => {
    const logger = recordingLogger();
    const c = client({ discoveryRefreshMs: 60_000, logger });
    await c.getAccessToken(['a']);
    emulator.faults.add({ endpoint: 'discovery', status: 503 });
    clock.advance(60_000);
    const warned = logger.next('warn', /discovery/);
    await c.getAccessToken(['b']);
    const warning = await warned;
    assert.equal((warning.obj.err as { status?: number }).status, 503);
    assert.match(warning.msg ?? '', /keeping the last discovered/);
    assert.deepEqual(await c.metadata(), { issuer: emulator.issuer, tokenEndpoint: `${emulator.url}/token` });
  });

  it('falls back to the authority with a trailing slash when discovery fails, and logs it', async () => {
    const logger = recordingLogger();
    emulator.faults.add({ endpoint: 'discovery', status: 500 });
    const c = client({ logger }, { authority: emulator.url }); // no trailing slash
    const warned = logger.next('warn', /discovery failed/);
    const token = await c.getAccessToken(['a']);
    await warned;
    assert.ok(token.value);
    assert.equal(lastGrant(emulator).claims.aud, `${emulator.url}/`);
    assert.deepEqual(await c.metadata(), { issuer: `${emulator.url}/`, tokenEndpoint: `${emulator.url}/token` });
  });

  it('serves the fallback for 30 s after a failure before trying discovery again', async () => {
    emulator.faults.add({ endpoint: 'discovery', status: 500 });
    const c = client();
    await c.getAccessToken(['a']);
    assert.equal(count(emulator, 'discovery'), 1);
    clock.advance(29_999);
    await c.getAccessToken(['b']);
    assert.equal(count(emulator, 'discovery'), 1, 'no discovery within the window');
    emulator.faults.clear();
    clock.advance(1);
    await c.getAccessToken(['c']);
    assert.equal(count(emulator, 'discovery'), 2, 'tried again after it');
    await c.getAccessToken(['d']);
    assert.equal(count(emulator, 'discovery'), 2, 'and now it is cached');
  });

  it('falls back on every kind of bad answer: non-JSON, HTML, reset, no issuer, slow', async () => {
    const faults = [
      { endpoint: 'discovery', body: 'non-json' },
      { endpoint: 'discovery', body: 'html' },
      { endpoint: 'discovery', reset: true },
      { endpoint: 'discovery', status: 404 },
    ] as const;
    for (const fault of faults) {
      emulator.faults.clear();
      emulator.faults.add({ ...fault, times: 1 });
      const c = client();
      assert.ok((await c.getAccessToken(['a'])).value, JSON.stringify(fault));
      assert.deepEqual(await c.metadata(), { issuer: emulator.issuer, tokenEndpoint: `${emulator.url}/token` });
    }
    for (const issuer of ['', null, 42]) {
      const proxy = await startProxy(emulator, { discovery: (doc) => ({ ...doc, issuer }) });
      try {
        const c = client({}, { authority: proxy.url });
        const meta = await c.metadata();
        assert.deepEqual(meta, { issuer: `${proxy.url}/`, tokenEndpoint: `${proxy.url}/token` }, String(issuer));
      } finally {
        await proxy.close();
      }
    }
    emulator.faults.clear();
    emulator.requests.clear();
    emulator.faults.add({ endpoint: 'discovery', latencyMs: 500, times: 1 });
    const slow = client({ timeoutMs: 100 });
    assert.deepEqual(await slow.metadata(), { issuer: emulator.issuer, tokenEndpoint: `${emulator.url}/token` });
    await waitFor(() => count(emulator, 'discovery') === 1, 'the abandoned discovery');
  });

  it('does not send grants to a plain-http token endpoint on another host', async () => {
    const proxy = await startProxy(emulator, {
      discovery: (doc) => ({ ...doc, token_endpoint: 'http://maskinporten.example/token' }),
    });
    try {
      const c = client({ retry: false }, { authority: proxy.url });
      const meta = await c.metadata();
      assert.equal(meta.tokenEndpoint, `${proxy.url}/token`, 'the authority’s own token endpoint instead');
      assert.ok((await c.getAccessToken(['a'])).value);
    } finally {
      await proxy.close();
    }
  });
});
