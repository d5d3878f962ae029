/**
 * The keys a fresh emulator makes: the Maskinporten signing key at start; the Altinn signing key (RSA-2048) and the
 * self-service administrator's key pair when first read — with the same values wherever they are read from. With a
 * state file every key is made at start and written to it.
 *
 * Generated keys are counted through the secret registry (see src/keys/secret-hook.ts), which learns every key
 * pair the library generates: one `d` member per key.
 */
import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import type { SecretRegistry } from '../../src/keys/secret-hook.ts';
import { accessToken } from '../helpers/grants.ts';
import { adminAsClient, adminToken, call, exchange, obj } from '../helpers/http.ts';

const REGISTRY = Symbol.for('maskinporten.secretRegistry');
const ALTINN_JWKS = '/authentication/api/v1/openid/.well-known/openid-configuration/jwks';
const globals = globalThis as unknown as Record<symbol, SecretRegistry | undefined>;

/** Key pairs generated in this process since the last reset, counted through the secret registry. */
let generated = 0;
let previous: SecretRegistry | undefined;

describe('emulator start: the keys it makes', () => {
  before(() => {
    previous = globals[REGISTRY];
    globals[REGISTRY] = {
      register(value, kind) {
        if (kind.startsWith('private key member d ')) generated++;
        previous?.register(value, kind);
      },
    };
  });
  after(() => {
    globals[REGISTRY] = previous;
  });

  let emulator: Emulator | undefined;
  beforeEach(() => {
    generated = 0;
  });
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('makes only the Maskinporten signing key at start, and the others when first read', async () => {
    emulator = await startEmulator();
    assert.equal(generated, 1, 'the Maskinporten signing key');
    const jwks = obj(await call(`${emulator.url}/jwk`)).keys as Record<string, unknown>[];
    assert.equal(jwks.length, 1);
    assert.equal(generated, 1);

    // The administrator: its kid is known at once, its key pair is made on the first synchronous read.
    const kid = emulator.adminClient.kid;
    assert.equal(generated, 1, 'reading the kid makes no key');
    const jwkBase64 = emulator.adminClient.jwkBase64;
    assert.equal(generated, 2, 'the administrator key pair');
    const privateJwk = JSON.parse(Buffer.from(jwkBase64, 'base64').toString('utf8')) as Record<string, string>;
    assert.equal(privateJwk.kid, kid);
    assert.deepEqual(emulator.adminClient.privateJwk, privateJwk);
    assert.equal(emulator.adminClient.settings.jwkBase64, jwkBase64);
    const registered = emulator.getClient(emulator.adminClient.clientId)?.keys ?? [];
    assert.equal(registered.length, 1);
    assert.equal(registered[0]!.jwk.kid, kid);
    assert.equal(registered[0]!.jwk.n, privateJwk.n, 'the registered key is the public half of the same pair');
    assert.equal(registered[0]!.jwk.d, undefined);
    assert.ok(await adminToken(emulator), 'the administrator gets a token with that key');
    assert.equal(generated, 2);

    // Altinn: its signing key is made when the exchange or its key set first needs it.
    const altinnKeys = obj(await call(`${emulator.url}${ALTINN_JWKS}`)).keys as Record<string, string[]>[];
    assert.equal(generated, 3, 'the Altinn signing key');
    const certificate = new X509Certificate(Buffer.from(altinnKeys[0]!.x5c![0]!, 'base64'));
    assert.equal(String(altinnKeys[0]!.kid), certificate.fingerprint.replaceAll(':', ''), 'kid: SHA-1 thumbprint');
    const client = await emulator.createClient({ scopes: ['altinn:serviceowner/notifications.create'] });
    generated = 0;
    assert.equal((await exchange(emulator, await accessToken(emulator, client))).status, 200);
    const again = obj(await call(`${emulator.url}${ALTINN_JWKS}`)).keys as Record<string, unknown>[];
    assert.deepEqual(again, altinnKeys, 'the same key on every read');
    assert.equal(generated, 0);
  });

  it('reads the administrator key pair the same way through the self-service API first', async () => {
    emulator = await startEmulator();
    assert.equal(generated, 1);
    const admin = adminAsClient(emulator);
    assert.equal(generated, 2, 'reading the private JWK makes the pair');
    const listed = await call(`${emulator.selfServiceUrl}/clients/${admin.clientId}/jwks`, {
      headers: { authorization: `Bearer ${await adminToken(emulator)}` },
    });
    assert.equal(listed.status, 200, listed.text);
    const keys = obj(listed).keys as Record<string, unknown>[];
    assert.deepEqual(
      keys.map((k) => k.kid),
      [emulator.adminClient.kid],
    );
    const published = createPublicKey({ key: keys[0] as never, format: 'jwk' });
    const own = createPublicKey({ key: emulator.adminClient.privateJwk as never, format: 'jwk' });
    assert.ok(published.equals(own));
    assert.equal(generated, 2);
  });

  it('makes a larger Altinn signing key at start, so its first reader is not held up generating it', async () => {
    emulator = await startEmulator({ signingKeySize: 3072 });
    assert.equal(generated, 2, 'both signing keys; the administrator key pair waits');
    const altinnKeys = obj(await call(`${emulator.url}${ALTINN_JWKS}`)).keys as Record<string, string>[];
    assert.equal(Buffer.from(altinnKeys[0]!.n!, 'base64').length, 384, 'RSA-3072');
    assert.equal(generated, 2);
  });

  it('makes every key at start when there is a state file, and writes them all to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maskinporten-start-keys-'));
    try {
      const stateFile = join(dir, 'state.json');
      emulator = await startEmulator({ stateFile });
      assert.equal(generated, 3);
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as {
        signingKeys: Record<string, { kid: string; privateJwk: { n: string } }>;
        admin: { privateJwk: { kid: string } };
        clients: { clientId: string; keys: { jwk: { kid: string } }[] }[];
      };
      assert.deepEqual(Object.keys(saved.signingKeys), ['maskinporten', 'altinn']);
      assert.equal(saved.admin.privateJwk.kid, emulator.adminClient.kid);
      const adminClient = saved.clients.find((c) => c.clientId === emulator!.adminClient.clientId);
      assert.equal(adminClient?.keys[0]?.jwk.kid, emulator.adminClient.kid);
      const altinnKeys = obj(await call(`${emulator.url}${ALTINN_JWKS}`)).keys as Record<string, unknown>[];
      assert.equal(
        altinnKeys[0]!.kid,
        saved.signingKeys.altinn!.kid,
        'the file names the Altinn key by its thumbprint',
      );
      assert.equal(generated, 3);
    } finally {
      await emulator?.close();
      emulator = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
