/**
 * The token response (protocol notes §3): expiry comes from the access token's `exp`; `expires_in` counts only for
 * an opaque token; malformed answers become ERR_INVALID_RESPONSE, a token expired on arrival ERR_TOKEN_EXPIRED.
 * A proxy in front of the emulator changes the answers.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import {
  count,
  FakeClock,
  type ProxyOptions,
  rejectsWith,
  startLocalServer,
  startProxy,
} from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

describe('client token response', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['a', 'b'] });

  /** A client whose token answers pass through `tokenBody`. */
  const through = async (tokenBody: ProxyOptions['tokenBody']) => {
    const proxy = await startProxy(emulator, { tokenBody });
    const client = new MaskinportenClient({ ...created.settings, authority: proxy.url }, { clock, retry: false });
    return { client, close: () => proxy.close() };
  };

  beforeEach(() => emulator.requests.clear());

  it("takes the expiry from the JWT's exp, not from expires_in", async () => {
    const { client, close } = await through((body) => ({ ...body, expires_in: 3 }));
    try {
      const token = await client.getAccessToken(['a']);
      assert.equal(token.expiresAt.getTime(), (token.claims.exp as number) * 1000);
      assert.equal(token.expiresAt.getTime() - token.issuedAt.getTime(), 120_000);
      assert.equal(await client.getAccessToken(['a']), token, 'cached for its real life, not for 3 s');
      assert.equal(count(emulator, 'token'), 1);
    } finally {
      await close();
    }
  });

  it('uses expires_in and scope for an opaque token', async () => {
    const { client, close } = await through((body) => ({ ...body, access_token: 'opaque-token-1234567890' }));
    try {
      const token = await client.getAccessToken(['b', 'a']);
      assert.equal(token.value, 'opaque-token-1234567890');
      assert.equal(token.expiresAt.getTime(), clock.now() + 120_000);
      assert.deepEqual(token.scopes, ['a', 'b']);
      assert.deepEqual(token.claims, {});
      assert.equal(await client.getAccessToken(['a', 'b']), token, 'cached');
    } finally {
      await close();
    }
  });

  it('refuses an opaque token without expires_in', async () => {
    const { client, close } = await through((body) => ({
      ...body,
      access_token: 'opaque-token-1234567890',
      expires_in: undefined,
    }));
    try {
      const err = await rejectsWith(client.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
      assert.match(err.message, /not a JWT/);
    } finally {
      await close();
    }
  });

  it('refuses an answer without access_token, or with another token_type', async () => {
    for (const change of [
      (b: Record<string, unknown>) => ({ ...b, access_token: undefined }),
      (b: Record<string, unknown>) => ({ ...b, access_token: '' }),
      (b: Record<string, unknown>) => ({ ...b, token_type: 'DPoP' }),
    ]) {
      const { client, close } = await through(change);
      try {
        await rejectsWith(client.getAccessToken(['a']), 'ERR_INVALID_RESPONSE');
      } finally {
        await close();
      }
    }
  });

  it('refuses a token that has already expired when it arrives (ERR_TOKEN_EXPIRED)', async () => {
    const { client, close } = await through((body) => {
      const [h, p, s] = String(body.access_token).split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, number>;
      claims.exp = (claims.iat ?? 0) - 1;
      return { ...body, access_token: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}` };
    });
    try {
      const err = await rejectsWith(client.getAccessToken(['a']), 'ERR_TOKEN_EXPIRED');
      assert.match(err.message, /clock/);
    } finally {
      await close();
    }
  });

  it('escapes control characters of server-supplied text in error messages (no terminal or log injection)', async () => {
    const hostile = 'x\u001b]0;PWNED\u0007\r\nFAKE\u001b[2J\u0085\u2028';
    let answer: [number, Record<string, unknown>] = [200, {}];
    const server = await startLocalServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url!.startsWith('/.well-known')) {
        res.end(JSON.stringify({ issuer: `${server.url}/`, token_endpoint: `${server.url}/token` }));
        return;
      }
      res.statusCode = answer[0];
      res.end(JSON.stringify(answer[1]));
    });
    try {
      const client = new MaskinportenClient(
        { ...created.settings, authority: `${server.url}/` },
        { clock, retry: false },
      );
      for (const [status, body, code] of [
        [
          200,
          { access_token: 'opaque-token-1234567890', token_type: `Bearer${hostile}`, expires_in: 60 },
          'ERR_INVALID_RESPONSE',
        ],
        [400, { error: hostile }, 'ERR_INVALID_GRANT'],
        [400, { error: 'forbidden', error_description: hostile }, 'ERR_ACCESS_DENIED'],
        [503, { error: 'server_error', error_description: hostile }, 'ERR_SERVER'],
      ] as const) {
        answer = [status, body];
        const err = await rejectsWith(client.getAccessToken(['a']), code);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters a hostile server might send
        assert.doesNotMatch(err.message, /[\u0000-\u001f\u007f-\u009f\u2028]/, `no raw control character (${status})`);
        assert.match(err.message, /\\u001b/, 'shown escaped');
      }
    } finally {
      await server.close();
    }
  });
});
