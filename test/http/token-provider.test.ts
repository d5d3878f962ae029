/**
 * createTokenProvider: `() => Promise<string>` for third-party SDKs, against the emulator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentError } from '../../src/errors.ts';
import { createTokenProvider } from '../../src/http/index.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { claimsOf, NOTIFY, newClient, ORDER, upstream } from './servers.ts';

const READ = 'test:read';

/** A stand-in for a third-party SDK that takes a token provider. */
class SomeSdk {
  readonly #baseUrl: string;
  readonly #accessToken: () => Promise<string>;
  constructor(options: { baseUrl: string; accessToken: () => Promise<string> }) {
    this.#baseUrl = options.baseUrl;
    this.#accessToken = options.accessToken;
  }
  async placeOrder(order: unknown): Promise<number> {
    const res = await fetch(`${this.#baseUrl}/notifications/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.#accessToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    await res.body?.cancel();
    return res.status;
  }
}

describe('createTokenProvider', () => {
  const emulator = useEmulator();
  const created = useClient(emulator, { scopes: [NOTIFY, READ] });

  it('returns the token as a string, from the client’s cache', async () => {
    const client = newClient(created);
    const getToken = createTokenProvider(client, { scopes: [READ] });
    const before = upstream(emulator, 'token');
    const tokens = await Promise.all(Array.from({ length: 50 }, () => getToken()));
    assert.equal(typeof tokens[0], 'string');
    assert.equal(new Set(tokens).size, 1);
    assert.equal(upstream(emulator, 'token') - before, 1);
    assert.equal(tokens[0], (await client.getAccessToken([READ])).value);
    assert.equal(claimsOf(tokens[0]).scope, READ);
    // After the client forgets it, the provider hands out a new one.
    await client.invalidate([READ]);
    assert.notEqual(await getToken(), tokens[0]);
  });

  it('altinn: true gives Altinn tokens, which an SDK can use on the Notifications stand-in', async () => {
    const client = newClient(created);
    const altinn = new SomeSdk({
      baseUrl: emulator.url,
      accessToken: createTokenProvider(client, { scopes: [NOTIFY], altinn: true }),
    });
    assert.equal(await altinn.placeOrder(ORDER), 201);
    const raw = new SomeSdk({ baseUrl: emulator.url, accessToken: createTokenProvider(client, { scopes: [NOTIFY] }) });
    assert.equal(await raw.placeOrder(ORDER), 401);
  });

  it('takes a full request', async () => {
    const getToken = createTokenProvider(newClient(created), {
      request: { scopes: [READ], resource: 'https://api.example.no/' },
    });
    assert.equal(claimsOf(await getToken()).aud, 'https://api.example.no/');
  });

  it('validates its options up front', () => {
    const client = newClient(created);
    assert.throws(
      () => createTokenProvider(client, {}),
      (err: unknown) =>
        err instanceof ArgumentError &&
        /createTokenProvider: expected options\.scopes to be a non-empty array/.test(err.message),
    );
    assert.throws(() => createTokenProvider(client, { scopes: [] }), ArgumentError);
  });

  it('a failed token request rejects with the client’s error', async () => {
    const getToken = createTokenProvider(newClient(created), { scopes: ['not:registered'] });
    await assert.rejects(getToken(), (err: unknown) => err instanceof Error && err.name === 'TokenRequestError');
  });
});
