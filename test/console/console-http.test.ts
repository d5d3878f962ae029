/**
 * The emulator console over plain HTTP (no browser): the server-rendered page and its filters, the live event
 * stream, the refusal explanations, the console's write routes and their same-origin rule, and that nothing on a
 * page or in the stream is a key or a token.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Emulator } from '../../src/emulator/index.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { makeGrant, postToken } from '../helpers/grants.ts';
import { call, obj } from '../helpers/http.ts';
import { secrets } from '../setup/canary.ts';

/** Reads Server-Sent Events from the console's stream until `count` request events arrived. */
async function readEvents(emulator: Emulator, count: number, trigger: () => Promise<unknown>, since?: number) {
  const ac = new AbortController();
  const res = await fetch(`${emulator.url}/_emulator/events${since === undefined ? '' : `?since=${since}`}`, {
    signal: ac.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  // The stream is open (its first bytes arrived) before the trigger, so nothing is missed.
  text += decoder.decode((await reader.read()).value);
  await trigger();
  const events: { id: number; data: { entry: Record<string, unknown>; html: string }; raw: string }[] = [];
  for (;;) {
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const frame = text.slice(0, end);
      text = text.slice(end + 2);
      const id = /^id: (\d+)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (id && data && /^event: request$/m.test(frame))
        events.push({ id: Number(id), data: JSON.parse(data), raw: frame });
      end = text.indexOf('\n\n');
    }
    if (events.length >= count) break;
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  ac.abort();
  return events;
}

describe('emulator console over HTTP', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['test:read'], clientName: 'Console test client' });

  test('GET / renders every integration with its client id, scopes and keys, and no key material', async () => {
    const page = await call(`${emulator.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.ok(page.text.includes(client.clientId));
    assert.ok(page.text.includes('Console test client'));
    assert.ok(page.text.includes('<code>test:read</code>'));
    assert.ok(page.text.includes(`<code>${client.kid}</code>`));
    assert.ok(page.text.includes('1 of 5'));
    for (const view of ['integrations', 'requests', 'altinn', 'faults', 'try'])
      assert.ok(page.text.includes(`<section id="${view}" class="view"`), view);
    assert.deepEqual(secrets.kindsIn(page.text), []);
    // Not even the public modulus is on the page.
    assert.ok(!page.text.includes(client.publicJwk!.n));
  });

  test('a refused grant is logged with the rule it broke and the change to make, live and on the page', async () => {
    const events = await readEvents(emulator, 1, () =>
      postToken(emulator, makeGrant(emulator, client, { claims: { aud: 'https://example.com/' } })),
    );
    const entry = events[0]!.data.entry;
    assert.equal(entry.mpCode, 'MP-110');
    assert.equal(entry.outcome, 'error');
    assert.equal(entry.clientId, client.clientId);
    assert.match(String(entry.rule), /aud/);
    assert.equal(
      entry.hint,
      `\`aud\` was \`https://example.com/\`: use the issuer \`${emulator.issuer}\` (the authority from discovery, with its trailing slash).`,
    );
    assert.match(events[0]!.data.html, /<strong>Fix:<\/strong>/);
    assert.deepEqual((entry.grant as { claims: Record<string, unknown> }).claims.aud, 'https://example.com/');
    const logged = emulator.requests.entries({ endpoint: 'token' }).at(-1)!;
    assert.equal(logged.hint, entry.hint);
    const page = await call(`${emulator.url}/?outcome=error#requests`);
    assert.ok(page.text.includes('use the issuer'));
  });

  test('an issued token never reaches the stream or the page; a hostile grant’s key and token are hidden', async () => {
    const { privateJwk } = await generateRsaKeyPair();
    secrets.register(privateJwk.d, 'hostile header key d');
    const tokenLike = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const events = await readEvents(emulator, 2, async () => {
      const ok = await postToken(emulator, makeGrant(emulator, client));
      assert.equal(ok.status, 200);
      secrets.register(String(ok.body.access_token), 'issued token');
      await postToken(
        emulator,
        makeGrant(emulator, client, { header: { jwk: privateJwk }, claims: { scope: tokenLike } }),
      );
    });
    const all = events.map((e) => e.raw).join('\n');
    assert.deepEqual(secrets.kindsIn(all), []);
    assert.ok(!all.includes(tokenLike));
    assert.ok(all.includes('[key hidden]'));
    assert.ok(all.includes('[token hidden]'));
    const page = await call(`${emulator.url}/`);
    assert.deepEqual(secrets.kindsIn(page.text), []);
    assert.ok(!page.text.includes(tokenLike));
  });

  test('the stream replays what a reconnecting page missed (since / Last-Event-ID)', async () => {
    const before = emulator.requests.entries().at(-1)?.id ?? 0;
    await fetch(`${emulator.url}/.well-known/oauth-authorization-server`);
    const events = await readEvents(emulator, 1, async () => undefined, before);
    assert.equal(events[0]!.id, before + 1);
    assert.equal(events[0]!.data.entry.endpoint, 'discovery');
  });

  test('filters work without the script: GET /?endpoint=…&outcome=…', async () => {
    await fetch(`${emulator.url}/jwk`);
    const page = await call(`${emulator.url}/?endpoint=jwks&outcome=ok`);
    const entries = [...page.text.matchAll(/<li class="entry (\w+)"[^>]*data-endpoint="([\w-]+)"/g)];
    assert.ok(entries.length >= 1);
    for (const m of entries) assert.deepEqual([m[1], m[2]], ['ok', 'jwks']);
    assert.match(page.text, /<option value="jwks" selected>/);
  });

  test('keys: a private JWK is refused with the reason and nothing changes; a public one is added against the limit', async () => {
    const id = client.clientId;
    const { privateJwk, publicJwk } = await generateRsaKeyPair();
    const refused = await call(`${emulator.url}/_emulator/clients/${id}/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwk: privateJwk }),
    });
    assert.equal(refused.status, 400);
    assert.match(String(obj(refused).error_description), /private key members.*only its public half/);
    assert.equal(emulator.getClient(id)!.keys.length, 1);
    const firstExpiry = emulator.getClient(id)!.keys[0]!.expiresAt;
    emulator.clock.advance(24 * 3600 * 1000);
    const added = await call(`${emulator.url}/_emulator/clients/${id}/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwk: publicJwk }),
    });
    assert.equal(added.status, 201);
    const view = obj(added) as { keys: { kid: string }[]; keyLimit: number };
    assert.deepEqual(
      view.keys.map((k) => k.kid),
      [client.kid, publicJwk.kid],
    );
    assert.equal(view.keyLimit, 5);
    // Adding a key leaves the other keys' year alone.
    assert.equal(emulator.getClient(id)!.keys[0]!.expiresAt, firstExpiry);
    const removed = await call(`${emulator.url}/_emulator/clients/${id}/keys/${publicJwk.kid}`, { method: 'DELETE' });
    assert.equal(removed.status, 200);
    assert.equal(emulator.getClient(id)!.keys.length, 1);
    emulator.clock.setOffset(0);
    // The last key can go too (the self-service API would want DELETE on the set; the console does that).
    const spare = await emulator.createClient({ scopes: ['test:read'], clientName: 'one key' });
    const last = await call(`${emulator.url}/_emulator/clients/${spare.clientId}/keys/${spare.kid}`, {
      method: 'DELETE',
    });
    assert.equal(last.status, 200);
    assert.equal(emulator.getClient(spare.clientId)!.keys.length, 0);
    const pasted = { ...publicJwk, kid: 'pasted-without-use', use: undefined };
    const withoutUse = await call(`${emulator.url}/_emulator/clients/${spare.clientId}/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwk: pasted }),
    });
    assert.equal(withoutUse.status, 400);
    assert.match(String(obj(withoutUse).error_description), /use/);
  });

  test('a key warns 30 days before it expires, on the emulator’s clock', async () => {
    emulator.clock.advance(340 * 24 * 3600 * 1000);
    try {
      const page = await call(`${emulator.url}/_emulator/console/views/integrations`);
      assert.match(page.text, /<span class="badge warn">expires in 2\d days<\/span>/);
      const overview = obj(await call(`${emulator.url}/_emulator/overview`)) as {
        integrations: { clientId: string; keys: { status: string }[] }[];
      };
      assert.equal(overview.integrations.find((c) => c.clientId === client.clientId)!.keys[0]!.status, 'expiring');
    } finally {
      emulator.clock.setOffset(0);
    }
  });

  test('writes from another origin are refused; the admin client cannot be deactivated; deactivation works', async () => {
    const other = await emulator.createClient({ scopes: ['test:read'], clientName: 'to deactivate' });
    const cross = await call(`${emulator.url}/_emulator/clients/${other.clientId}`, {
      method: 'DELETE',
      headers: { origin: 'http://evil.example' },
    });
    assert.equal(cross.status, 403);
    assert.equal(emulator.getClient(other.clientId)!.active, true);
    const admin = await call(`${emulator.url}/_emulator/clients/${emulator.adminClient.clientId}`, {
      method: 'DELETE',
    });
    assert.equal(admin.status, 400);
    const ok = await call(`${emulator.url}/_emulator/clients/${other.clientId}`, {
      method: 'DELETE',
      headers: { origin: emulator.url },
    });
    assert.equal(ok.status, 200);
    assert.equal(emulator.getClient(other.clientId)!.active, false);
    const page = await call(`${emulator.url}/_emulator/console/views/integrations`);
    assert.ok(!page.text.includes(other.clientId));
  });

  test('faults and clock show in their view; unknown views and assets are 404, never a crash', async () => {
    await call(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'token', status: 503, times: 2 }),
    });
    const view = await call(`${emulator.url}/_emulator/console/views/faults`);
    assert.match(view.text, /<td>token<\/td><td>status 503<\/td><td>2<\/td>/);
    assert.match(view.text, /offset <strong data-clock-offset>0 ms<\/strong>/);
    await call(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
    assert.equal((await call(`${emulator.url}/_emulator/console/views/nope`)).status, 404);
    assert.equal((await call(`${emulator.url}/console/nope.js`)).status, 404);
    assert.equal((await call(`${emulator.url}/console/..%2Fpackage.json`)).status, 404);
    const bad = await call(`${emulator.url}/_emulator/clients/${client.clientId}/keys/%E0%A4%A`, { method: 'DELETE' });
    assert.equal(bad.status, 400);
    assert.equal((await call(`${emulator.url}/_emulator/health`)).status, 200);
  });

  test('the page’s script and style sheet are served from the build', async () => {
    const js = await call(`${emulator.url}/console/main.js`);
    assert.equal(js.status, 200, 'build first: npm run build');
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    const css = await call(`${emulator.url}/console/console.css`);
    assert.equal(css.status, 200);
  });
});
