/**
 * `maskinporten keygen`, built and run in this process by default (runCliProcess where a real process is needed: the
 * umask it inherits): the private key written once, the files and their modes, the public array, refusing to overwrite,
 * --force, --bits/--kid/--alg, --json, and that no private key material is ever printed.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  assertBuilt,
  type CliResult,
  modeOf,
  ok,
  type RunOptions,
  runCli,
  runCliProcess,
  Secrets,
  show,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

interface KeyFiles {
  privateJwk: Record<string, unknown>;
  privateText: string;
  publicText: string;
  publicJwks: Record<string, unknown>[];
}

function readKeyFiles(dir: string): KeyFiles {
  const privateText = readFileSync(join(dir, 'private.jwk.json'), 'utf8');
  const publicText = readFileSync(join(dir, 'public.jwk.json'), 'utf8');
  return {
    privateJwk: JSON.parse(privateText) as Record<string, unknown>,
    privateText,
    publicText,
    publicJwks: JSON.parse(publicText) as Record<string, unknown>[],
  };
}

function modulusBits(jwk: Record<string, unknown>): number | undefined {
  return createPublicKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
}

describe('maskinporten keygen (built CLI)', () => {
  let dir: string;
  const secrets = new Secrets();
  let n = 0;
  const fresh = () => {
    const d = join(dir, `case-${++n}`);
    mkdirSync(d);
    return d;
  };
  /** Runs keygen and registers every key it wrote as a secret, then checks the output for all of them. */
  const keygen = async (
    args: string[],
    options: RunOptions & { keysIn?: string; subprocess?: boolean } = {},
  ): Promise<CliResult> => {
    const r = await (options.subprocess ? runCliProcess : runCli)(['keygen', ...args], options);
    const privateFile = options.keysIn && join(options.keysIn, 'private.jwk.json');
    if (privateFile && existsSync(privateFile)) secrets.addKeyFile(privateFile);
    return secrets.check(r);
  };

  before(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-keygen-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'writes the private key once, private.jwk.json (0600), and public.jwk.json (0644) into ./maskinporten-keys',
    TIMEOUT,
    async () => {
      const cwd = fresh();
      const out = join(cwd, 'maskinporten-keys');
      const r = ok(await keygen([], { cwd, keysIn: out }));
      assert.equal(r.stderr, '');
      assert.deepEqual(readdirSync(out).sort(), ['private.jwk.json', 'public.jwk.json'], 'no stray files');
      assert.equal(modeOf(statSync(join(out, 'private.jwk.json'))), 0o600);
      assert.equal(modeOf(statSync(join(out, 'public.jwk.json'))), 0o644);

      const files = readKeyFiles(out);
      const jwk = files.privateJwk;
      assert.equal(jwk.kty, 'RSA');
      assert.equal(jwk.alg, 'RS256', 'RS256 by default');
      assert.match(String(jwk.kid), UUID, 'a UUID kid by default');
      assert.equal(modulusBits(jwk), 2048, '2048 bits by default');
      for (const m of PRIVATE_MEMBERS) assert.equal(typeof jwk[m], 'string', `private.jwk.json has ${m}`);

      // public.jwk.json: a JSON array holding exactly the public JWK, as the portal's field takes it.
      assert.ok(Array.isArray(files.publicJwks));
      assert.equal(files.publicJwks.length, 1);
      const pub = files.publicJwks[0]!;
      for (const m of PRIVATE_MEMBERS) assert.ok(!(m in pub), `public.jwk.json has no ${m}`);
      assert.deepEqual(
        { kty: pub.kty, n: pub.n, e: pub.e, kid: pub.kid, alg: pub.alg },
        { kty: 'RSA', n: jwk.n, e: jwk.e, kid: jwk.kid, alg: 'RS256' },
      );

      // The halves belong together: a signature by the private file verifies with the public one.
      const data = Buffer.from('maskinporten');
      const signature = sign('sha256', data, createPrivateKey({ key: jwk as never, format: 'jwk' }));
      assert.ok(verify('sha256', data, createPublicKey({ key: pub as never, format: 'jwk' }), signature));

      // The output names the files, prints the public array and the next steps — and nothing private.
      assert.ok(r.stdout.includes(join(out, 'private.jwk.json')), show(r));
      assert.ok(r.stdout.includes(String(jwk.n)), 'prints the public key');
      assert.match(r.stdout, /Next steps/);
      assert.match(r.stdout, /keys add \S+ --public-key/, 'the next step names a working command');
      assert.doesNotMatch(r.stdout, /keys add --client-id/, 'keys add takes the client id as its argument');
      const printed = r.stdout.slice(r.stdout.indexOf('['), r.stdout.lastIndexOf(']') + 1);
      assert.deepEqual(JSON.parse(printed), files.publicJwks, 'the printed array is the file’s');
    },
  );

  it(
    'refuses to overwrite without --force (exit 2, files unchanged) and replaces them with --force',
    TIMEOUT,
    async () => {
      const out = join(fresh(), 'keys');
      ok(await keygen(['--out-dir', out], { keysIn: out }));
      const before = readKeyFiles(out);
      const mtimes = readdirSync(out).map((f) => statSync(join(out, f)).mtimeMs);

      const refused = usageError(await keygen(['--out-dir', out]), /refusing to overwrite .*--force/);
      for (const f of ['private.jwk.json', 'public.jwk.json']) {
        assert.ok(refused.stderr.includes(join(out, f)), `names ${f}`);
      }
      assert.deepEqual(readKeyFiles(out), before, 'files unchanged');
      assert.deepEqual(
        readdirSync(out).map((f) => statSync(join(out, f)).mtimeMs),
        mtimes,
        'files not touched',
      );
      assert.deepEqual(readdirSync(out).sort(), ['private.jwk.json', 'public.jwk.json'], 'no temp files');

      // One file in the way is enough to refuse, and none of the others is written.
      const partial = join(fresh(), 'keys');
      mkdirSync(partial);
      const blocker = join(partial, 'public.jwk.json');
      writeFileSync(blocker, '["mine"]\n');
      usageError(await keygen(['--out-dir', partial]), /public\.jwk\.json/);
      assert.deepEqual(readdirSync(partial), ['public.jwk.json']);
      assert.equal(readFileSync(blocker, 'utf8'), '["mine"]\n');

      ok(await keygen(['--out-dir', out, '--force'], { keysIn: out }));
      const replaced = readKeyFiles(out);
      assert.notEqual(replaced.privateJwk.kid, before.privateJwk.kid, 'a new key');
      assert.notEqual(replaced.privateJwk.n, before.privateJwk.n);
      assert.equal(modeOf(statSync(join(out, 'private.jwk.json'))), 0o600, 'still 0600 after replacing');
      assert.equal(modeOf(statSync(join(out, 'public.jwk.json'))), 0o644);
      assert.deepEqual(readdirSync(out).sort(), ['private.jwk.json', 'public.jwk.json']);
    },
  );

  it('creates the key directory (and its missing parents) 0700 whatever the umask', TIMEOUT, async () => {
    const base = fresh();
    const out = join(base, 'a', 'keys');
    // The bin as a subprocess, which inherits this process's umask.
    const previous = process.umask(0o000);
    try {
      ok(await keygen(['--out-dir', out], { keysIn: out, subprocess: true }));
    } finally {
      process.umask(previous);
    }
    assert.equal(modeOf(statSync(out)), 0o700, 'the key directory');
    assert.equal(modeOf(statSync(join(base, 'a'))), 0o700, 'a parent it created');
    assert.equal(modeOf(statSync(join(out, 'private.jwk.json'))), 0o600);
    assert.equal(modeOf(statSync(join(out, 'public.jwk.json'))), 0o644);
  });

  it('a symlink at a target path, dangling or not, is not replaced without --force', TIMEOUT, async () => {
    const out = fresh();
    const elsewhere = join(dir, `elsewhere-${n}`);
    symlinkSync(elsewhere, join(out, 'private.jwk.json')); // dangling: nothing at `elsewhere`
    usageError(await keygen(['--out-dir', out]), /refusing to overwrite .*private\.jwk\.json/);
    assert.ok(lstatSync(join(out, 'private.jwk.json')).isSymbolicLink(), 'the link is untouched');
    assert.ok(!existsSync(elsewhere), 'nothing written through the link');
    assert.deepEqual(readdirSync(out), ['private.jwk.json']);
    // init checks the same before it makes or registers anything.
    const cwd = fresh();
    symlinkSync(elsewhere, join(cwd, '.maskinporten-secrets.json'));
    usageError(
      await runCli(['init', '--scope', 'x:y', '--client-id', 'abc'], { cwd }).then((r) => secrets.check(r)),
      /refusing to overwrite .*\.maskinporten-secrets\.json/,
    );
    assert.ok(!existsSync(join(cwd, 'maskinporten-keys')));
    // --force replaces the link itself, never the file it points at.
    ok(await keygen(['--out-dir', out, '--force'], { keysIn: out }));
    assert.ok(!lstatSync(join(out, 'private.jwk.json')).isSymbolicLink());
    assert.ok(!existsSync(elsewhere));
  });

  it('--bits, --kid and --alg shape the key', TIMEOUT, async () => {
    for (const [bits, alg, kid] of [
      ['3072', 'RS384', 'my-app-2026'],
      ['4096', 'RS512', 'prod.key_1'],
    ] as const) {
      const out = join(fresh(), 'k');
      ok(await keygen(['--out-dir', out, '--bits', bits, '--kid', kid, '--alg', alg], { keysIn: out }));
      const files = readKeyFiles(out);
      assert.equal(modulusBits(files.privateJwk), Number(bits));
      assert.equal(files.privateJwk.kid, kid);
      assert.equal(files.privateJwk.alg, alg);
      assert.equal(files.publicJwks[0]!.kid, kid);
      assert.equal(files.publicJwks[0]!.alg, alg);
      assert.equal(modulusBits(files.publicJwks[0]!), Number(bits));
    }
  });

  it('--json prints the kid, files and public array, never the private key', TIMEOUT, async () => {
    const out = join(fresh(), 'k');
    const r = ok(await keygen(['--out-dir', out, '--kid', 'json-key', '--json'], { keysIn: out }));
    assert.equal(r.stdout.trim().split('\n').length, 1, 'one JSON line');
    const result = JSON.parse(r.stdout) as {
      kid: string;
      alg: string;
      bits: number;
      files: Record<string, string>;
      publicJwks: Record<string, unknown>[];
    };
    const files = readKeyFiles(out);
    assert.equal(result.kid, 'json-key');
    assert.equal(result.alg, 'RS256');
    assert.equal(result.bits, 2048);
    assert.deepEqual(result.files, {
      privateJwk: join(out, 'private.jwk.json'),
      publicJwks: join(out, 'public.jwk.json'),
    });
    assert.deepEqual(result.publicJwks, files.publicJwks);
    assert.ok(!r.stdout.includes(String(files.privateJwk.d)));
  });

  describe('bad flags are usage errors and write nothing', () => {
    for (const args of [
      ['--bits', '1024'],
      ['--bits', 'many'],
      ['--alg', 'ES256'],
      ['--kid', 'has space'],
      ['--kid', ''],
      ['--out-dir'],
      ['--nope'],
      ['positional'],
    ]) {
      it(args.join(' ') || '(empty)', TIMEOUT, async () => {
        const cwd = fresh();
        usageError(await keygen(args, { cwd }));
        assert.deepEqual(readdirSync(cwd), [], 'nothing written');
      });
    }
  });
});
