/**
 * `SelfServiceClient` against real servers on loopback: the emulator (its admin client gives the tokens) and, where
 * what was posted must be seen byte for byte, a recording HTTP server standing in for the API.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { SelfServiceClient } from '../../src/self-service/index.ts';

/** A server that records each request's method, path and JSON body, and answers with `answer`. */
async function recordingServer(
  answer: (req: { method: string; path: string; body: unknown }) => { status: number; body?: unknown },
): Promise<{ url: string; seen: { method: string; path: string; body: unknown }[]; server: Server }> {
  const seen: { method: string; path: string; body: unknown }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      const entry = { method: req.method ?? '', path: req.url ?? '', body: text ? JSON.parse(text) : undefined };
      seen.push(entry);
      const { status, body } = answer(entry);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('SelfServiceClient', () => {
  let emulator: Emulator;
  let admin: MaskinportenClient;

  before(async () => {
    emulator = await startEmulator();
    admin = new MaskinportenClient({
      authority: emulator.issuer,
      clientId: emulator.adminClient.clientId,
      jwkBase64: emulator.adminClient.jwkBase64,
    });
  });
  after(() => emulator.close());

  it('refuses a plain-http baseUrl on a host other than loopback unless insecure requests are allowed', () => {
    assert.throws(
      () => new SelfServiceClient(admin, { baseUrl: 'http://api.example.org' }),
      (err: Error & { code?: string }) => err.code === 'ERR_INSECURE_URL' && /baseUrl/.test(err.message),
    );
    const insecure = new SelfServiceClient(admin, { baseUrl: 'http://api.example.org', allowInsecureRequests: true });
    assert.equal(insecure.baseUrl, 'http://api.example.org');
    assert.equal(new SelfServiceClient(admin, { baseUrl: 'http://127.0.0.1:8080/' }).baseUrl, 'http://127.0.0.1:8080');
  });

  it('strips every private member before posting keys, whatever the caller passes', async () => {
    const { privateJwk } = await generateRsaKeyPair({ kid: 'strip-me' });
    const api = await recordingServer(() => ({ status: 201, body: { keys: [] } }));
    try {
      const client = new SelfServiceClient(admin, { baseUrl: api.url });
      const hostile = { ...privateJwk, oth: [{ r: 'x', d: 'y', t: 'z' }], k: 'c3ltbWV0cmlj' };
      await client.replaceKeys('some-client', [hostile]);
      const posted = (api.seen.at(-1)!.body as { keys: Record<string, unknown>[] }).keys[0]!;
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) assert.ok(!(member in posted), member);
      assert.equal(posted.n, privateJwk.n);
      assert.equal(posted.kid, 'strip-me');
    } finally {
      api.server.close();
    }
  });
});
