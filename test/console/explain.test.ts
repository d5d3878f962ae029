/**
 * The rule a refused grant broke and what to change, as the request log (and so the console) carries them: one real
 * refused token request per rule, each explained from what the grant said.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RequestLogEntry } from '../../src/emulator/request-log.ts';
import { generateRsaKeyPair, importPrivateJwk } from '../../src/keys/jwk.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { makeGrant, postToken } from '../helpers/grants.ts';

describe('refusals explained in the request log', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['test:read'], clientName: 'explained' });

  /** Sends the grant, expects a refusal, and returns its log entry. */
  async function refused(grant: string): Promise<RequestLogEntry> {
    const answer = await postToken(emulator, grant);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    const entry = emulator.requests.entries({ endpoint: 'token' }).at(-1)!;
    assert.equal(entry.outcome, 'error');
    assert.ok(entry.rule && entry.hint, `no explanation for ${entry.errorDescription}`);
    return entry;
  }

  test('an unknown client id: use one from the Integrations list', async () => {
    const entry = await refused(makeGrant(emulator, client, { claims: { iss: 'no-such-client' } }));
    assert.match(entry.rule!, /iss must be the id of an active integration/);
    assert.equal(entry.hint, '`iss` was `no-such-client`: use a client id from the Integrations list.');
  });

  test('a kid the client does not have: the client’s kids are named', async () => {
    const entry = await refused(makeGrant(emulator, client, { header: { kid: 'other-kid' } }));
    assert.equal(
      entry.hint,
      `\`kid\` was \`other-kid\`: register that public key on the integration, or use one of: ${client.kid}.`,
    );
  });

  test('signed with another key under the right kid: sign with the registered key', async () => {
    const { privateJwk } = await generateRsaKeyPair();
    const entry = await refused(makeGrant(emulator, client, { key: importPrivateJwk(privateJwk) }));
    assert.equal(entry.mpCode, 'MP-124');
    assert.match(entry.hint!, new RegExp(`private half of the key whose kid is \`${client.kid}\``));
  });

  test('a scope the client does not have: the client’s scopes are named', async () => {
    const entry = await refused(makeGrant(emulator, client, { claims: { scope: 'test:write' } }));
    assert.equal(entry.mpCode, 'MP-200');
    assert.equal(entry.hint, 'Ask only for test:read, or add the scope to the integration.');
  });

  test('a grant sent twice: a fresh jti for every request', async () => {
    const grant = makeGrant(emulator, client);
    assert.equal((await postToken(emulator, grant)).status, 200);
    const entry = await refused(grant);
    assert.equal(entry.mpCode, 'MP-012');
    assert.match(entry.hint!, /fresh random jti/);
  });

  test('a grant built an hour ago: the clocks are named', async () => {
    const now = Math.floor(emulator.clock.now() / 1000) - 3600;
    const entry = await refused(makeGrant(emulator, client, { now }));
    assert.match(entry.rule!, /close to the server’s time/);
    assert.match(entry.hint!, new RegExp(`the grant’s iat was ${now}, the emulator’s clock read \\d+, offset 0 ms`));
  });

  test('a key past its year: register a new one', async () => {
    emulator.clock.advance(366 * 24 * 3600 * 1000);
    try {
      const entry = await refused(makeGrant(emulator, client));
      assert.equal(entry.mpCode, 'MP-121');
      assert.match(entry.hint!, /Register a new key/);
    } finally {
      emulator.clock.setOffset(0);
    }
  });

  test('a request that succeeded carries no explanation', async () => {
    assert.equal((await postToken(emulator, makeGrant(emulator, client))).status, 200);
    const entry = emulator.requests.entries({ endpoint: 'token' }).at(-1)!;
    assert.equal(entry.outcome, 'ok');
    assert.equal(entry.rule, undefined);
    assert.equal(entry.hint, undefined);
  });
});
