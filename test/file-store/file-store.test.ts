/**
 * The file token store: tokens shared between clients (as between invocations of a script), files 0600 in a 0700
 * directory holding nothing in clear, atomic entries, a stale lock taken over, torn and expired entries read as
 * misses, and bad input refused. Processes racing are in test/e2e/cli-token-cache.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { StoreContext } from '../../src/cache/store.ts';
import { MaskinportenClient } from '../../src/client.ts';
import { createFileTokenStore, defaultTokenCacheDir } from '../../src/file-store/index.ts';
import { assertConditionalDelete, count, FakeClock, storedToken, throwsWith } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

describe('file token store', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['a', 'b'] });
  let root: string;
  let dir: string;

  const client = (store = createFileTokenStore(dir)) =>
    new MaskinportenClient(created.settings, { clock, cache: { store } });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'maskinporten-file-store-'));
  });
  beforeEach(() => {
    emulator.requests.clear();
    dir = join(root, randomBytes(4).toString('hex'), 'maskinporten');
  });
  after(async () => {
    rmSync(root, { recursive: true, force: true });
  });

  it('a second client (another invocation) takes the stored token; files 0600 in a 0700 directory, sealed', async () => {
    const first = await client().getAccessToken(['a']);
    const second = await client().getAccessToken(['a']);
    assert.equal(second.value, first.value);
    assert.equal(count(emulator, 'token'), 1);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = readdirSync(dir);
    assert.equal(files.length, 1, `only the entry, no lock or temporary file left: ${files.join(', ')}`);
    assert.match(files[0]!, /^[A-Za-z0-9_-]{43}\.token$/);
    const path = join(dir, files[0]!);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const text = readFileSync(path, 'utf8');
    for (const clear of [created.clientId, first.value, first.value.split('.')[1]!, '"scopes"']) {
      assert.ok(!text.includes(clear));
    }
    // Another request, another entry; --no-cache-like use (no store) writes nothing.
    await client().getAccessToken(['b']);
    assert.equal(readdirSync(dir).length, 2);
    await new MaskinportenClient(created.settings, { clock }).getAccessToken(['b']);
    assert.equal(readdirSync(dir).length, 2);
  });

  it('tightens an existing directory open to others to 0700', async () => {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    await client().getAccessToken(['a']);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it('torn, tampered and expired entries are misses; invalidate removes the entry', async () => {
    const first = await client().getAccessToken(['a']);
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.slice(0, good.length / 2));
    const afterTorn = await client().getAccessToken(['a']);
    assert.notEqual(afterTorn.value, first.value);
    writeFileSync(path, `${Date.now() - 1}\n${readFileSync(path, 'utf8').split('\n')[1]}\n`);
    const afterExpired = await client().getAccessToken(['a']);
    assert.notEqual(afterExpired.value, afterTorn.value);
    assert.equal(count(emulator, 'token'), 3);
    await client().invalidate(['a']);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a delete naming a token removes the entry only while it holds that token', async () => {
    const store = createFileTokenStore(dir);
    const context: StoreContext = { secret: randomBytes(32) };
    await assertConditionalDelete(store, context);
  });

  it('a delete racing a write never removes the newer token', async () => {
    // delete(old) and set(new) run at once, 200 times: whatever order their file operations take, the newer
    // token must survive (a check-then-unlink delete loses it whenever the write lands in between).
    const store = createFileTokenStore(dir);
    const context: StoreContext = { secret: randomBytes(32) };
    const lost: number[] = [];
    for (let i = 0; i < 200; i++) {
      await store.set('k', storedToken(`old${i}`), 60_000, context);
      await Promise.all([
        store.delete('k', context, storedToken(`old${i}`)),
        store.set('k', storedToken(`new${i}`), 60_000, context),
      ]);
      const held = (await store.get('k', context))?.value;
      // Either the write came first and the delete left it, or the delete came first and the write followed.
      if (held !== `new${i}`) lost.push(i);
    }
    assert.deepEqual(lost, [], 'rounds in which the newer token was deleted');
    assert.deepEqual(
      readdirSync(dir).filter((f) => !f.endsWith('.token')),
      [],
      'nothing left aside',
    );
  });

  it('a lock left by a dead process is taken over at once; a live owner’s is not', async () => {
    const store = createFileTokenStore(dir, { encryptionKey: 'a secret of at least sixteen bytes' });
    const context: StoreContext = { secret: randomBytes(32) };
    const held = await store.lock!('k', context);
    assert.ok(held);
    assert.equal(await store.lock!('k', context), null, 'held by a live process (this one)');
    await held.release();
    const [lockFile] = readdirSync(dir).filter((f) => f.endsWith('.lock'));
    assert.equal(lockFile, undefined, 'released');
    const again = await store.lock!('k', context);
    assert.ok(again);
    const path = join(dir, readdirSync(dir).find((f) => f.endsWith('.lock'))!);
    // The owner died: a pid no process has.
    writeFileSync(path, `2147483646 someone ${Date.now()}\n`);
    const taken = await store.lock!('k', context);
    assert.ok(taken, 'taken over from the dead owner');
    await again.release(); // the old owner's release leaves the new owner's lock alone
    assert.equal(await store.lock!('k', context), null);
    await taken.release();
  });

  it('defaults to $XDG_CACHE_HOME/maskinporten, else ~/.cache/maskinporten; refuses bad input', () => {
    assert.equal(defaultTokenCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/maskinporten');
    assert.match(defaultTokenCacheDir({ XDG_CACHE_HOME: 'relative' }), /\/\.cache\/maskinporten$/);
    assert.match(defaultTokenCacheDir({}), /\/\.cache\/maskinporten$/);
    assert.match(throwsWith(() => createFileTokenStore(''), 'ERR_CONFIG').message, /dir/);
    assert.match(throwsWith(() => createFileTokenStore(dir, { maxWaitMs: 0 }), 'ERR_CONFIG').message, /maxWaitMs/);
    assert.match(
      throwsWith(() => createFileTokenStore(dir, { encryptionKey: 'short' }), 'ERR_CONFIG').message,
      /encryptionKey/,
    );
  });
});
