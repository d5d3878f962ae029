/**
 * `maskinporten token` keeps tokens in the user's cache directory: two runs in a row ask Maskinporten once, two runs
 * racing ask once (one fetches, the other waits for its entry), `--no-cache` neither reads nor writes the cache.
 * Upstream requests are counted in the emulator's request log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { assertBuilt, ok, runCli, runCliProcess, TIMEOUT } from './cli-harness.ts';

describe('maskinporten token: the token cache', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: ['a:b'] });
  let dir: string;
  let cacheHome: string;
  let flags: string[];

  const token = async (...extra: string[]) =>
    ok(await runCli(['token', ...flags, '--scope', 'a:b', ...extra], { env: { XDG_CACHE_HOME: cacheHome } })).stdout;
  /** The same as a subprocess of the built bin: two processes sharing one cache. */
  const tokenProcess = async () =>
    ok(await runCliProcess(['token', ...flags, '--scope', 'a:b'], { env: { XDG_CACHE_HOME: cacheHome } })).stdout;

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-cache-'));
    const keyFile = join(dir, 'jwk.base64');
    writeFileSync(keyFile, `${client.jwkBase64}\n`, { mode: 0o600 });
    flags = ['--authority', emulator.issuer, '--client-id', client.clientId, '--key-file', keyFile];
  });
  beforeEach(() => {
    emulator.requests.clear();
    cacheHome = mkdtempSync(join(dir, 'cache-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('two runs in a row make one upstream request; the entry is 0600 in a 0700 directory', TIMEOUT, async () => {
    const first = await token();
    const second = await token();
    assert.equal(second, first);
    assert.equal(emulator.requests.entries({ endpoint: 'token' }).length, 1);
    const cacheDir = join(cacheHome, 'maskinporten');
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
    const files = readdirSync(cacheDir);
    assert.equal(files.length, 1);
    assert.equal(statSync(join(cacheDir, files[0]!)).mode & 0o777, 0o600);
  });

  it('two runs racing make one upstream request and print the same token', TIMEOUT, async () => {
    const [a, b] = await Promise.all([tokenProcess(), tokenProcess()]);
    assert.equal(a, b);
    assert.equal(emulator.requests.entries({ endpoint: 'token' }).length, 1);
  });

  it('--no-cache asks every time and leaves the cache alone', TIMEOUT, async () => {
    const cached = await token();
    const fresh = await token('--no-cache');
    assert.notEqual(fresh, cached);
    assert.equal(emulator.requests.entries({ endpoint: 'token' }).length, 2);
    assert.equal(await token(), cached, 'the cached token is still served');
    assert.equal(readdirSync(join(cacheHome, 'maskinporten')).length, 1);
  });
});
