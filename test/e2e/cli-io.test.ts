/**
 * The CLI's io seam: the built CLI run in this process (runCli, through dist/cli/run.js) behaves as the built bin
 * run as a subprocess (runCliProcess) — same stdout, stderr and exit status — and reads only what its io gives it:
 * relative paths resolve against the run's working directory, settings come from the run's environment (never from
 * the test process's), and colour depends on the run's streams and environment.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateRsaKeyPair, toJwkBase64 } from '../../src/keys/jwk.ts';
import {
  assertBuilt,
  baseEnv,
  type CliResult,
  ESC,
  hasAnsi,
  ok,
  ROOT,
  runCli,
  runCliProcess,
  Secrets,
  show,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

/** The grant `token --dry-run` prints. */
interface DryRun {
  header: Record<string, unknown>;
  claims: { iss: string; aud: string; scope: string };
}

describe('the CLI in this process and as the built bin', () => {
  let dir: string;
  let keyText: string;
  const secrets = new Secrets();

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-io-'));
    const { privateJwk } = await generateRsaKeyPair({ kid: 'io-key' });
    secrets.addJwk(privateJwk as unknown as Record<string, unknown>);
    keyText = toJwkBase64(privateJwk);
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys', 'jwk.base64'), `${keyText}\n`, { mode: 0o600 });
    mkdirSync(join(dir, 'App'));
    writeFileSync(
      join(dir, 'App', 'appsettings.json'),
      JSON.stringify({ MaskinportenSettings: { Authority: 'https://test.maskinporten.no/', ClientId: 'from-file' } }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Both runs of `args`, checked for secrets. */
  const both = async (args: string[]): Promise<[CliResult, CliResult]> => {
    const [inProcess, subprocess] = await Promise.all([runCli(args, { cwd: dir }), runCliProcess(args, { cwd: dir })]);
    return [secrets.check(inProcess), secrets.check(subprocess)];
  };
  const same = (a: CliResult, b: CliResult) => {
    assert.equal(a.code, b.code, `exit status\n${show(a)}\n${show(b)}`);
    assert.equal(a.stdout, b.stdout, `stdout\n${show(a)}\n${show(b)}`);
    assert.equal(a.stderr, b.stderr, `stderr\n${show(a)}\n${show(b)}`);
  };

  describe('give the same output and exit status', { concurrency: 2 }, () => {
    it('for a usage error: an unknown command, a bad flag, no command at all', TIMEOUT, async () => {
      for (const args of [['frobnicate'], ['token', '--bogus'], []]) {
        const [a, b] = await both(args);
        same(a, b);
        assert.equal(a.code, 2, show(a));
      }
      usageError((await both(['keygen', '--bits', '1']))[0], /--bits must be 2048, 3072 or 4096/);
    });

    it('for --help, a command’s --help, and --version', TIMEOUT, async () => {
      for (const args of [['--help'], ['token', '--help'], ['--version']]) {
        const [a, b] = await both(args);
        same(a, b);
        assert.equal(a.code, 0, show(a));
        assert.ok(a.stdout.length > 4, show(a));
      }
    });

    it('for a command that works, and one that fails with exit 1', TIMEOUT, async () => {
      const [names, namesProcess] = await both(['keyvault', 'names', '--section', 'Integrations:Maskinporten']);
      same(names, namesProcess);
      assert.match(ok(names).stdout, /^Integrations--Maskinporten--ClientId$/m);
      const [bad, badProcess] = await both(['decode', 'not-a-token']);
      same(bad, badProcess);
      assert.equal(bad.code, 1, show(bad));
      assert.match(bad.stderr, /^maskinporten: not a JWT/);
    });
  });

  it('resolves relative paths against the run’s directory, not the test process’s', TIMEOUT, async () => {
    assert.notEqual(process.cwd(), dir);
    const args = ['token', '--config-dir', 'App', '--key-file', 'keys/jwk.base64', '--scope', 'a:b', '--dry-run'];
    const r = ok(secrets.check(await runCli(args, { cwd: dir })));
    const dry = JSON.parse(r.stdout) as DryRun;
    assert.equal(dry.claims.iss, 'from-file', 'ClientId from App/appsettings.json under the run’s directory');
    assert.equal(dry.header.kid, 'io-key', 'the key from keys/jwk.base64 under the run’s directory');

    // Files written go there too, and nothing lands in the test process's directory.
    const out = `io-keys-${process.pid}`;
    const keygen = ok(await runCli(['keygen', '--out-dir', out, '--json'], { cwd: dir }));
    assert.ok(existsSync(join(dir, out, 'private.jwk.json')), show(keygen));
    assert.ok(!existsSync(join(process.cwd(), out)), 'nothing in the test process’s directory');
    assert.ok(!existsSync(join(ROOT, out)));
  });

  it('names a file from a relative --config-dir as typed when run as the bin', TIMEOUT, async () => {
    mkdirSync(join(dir, 'Broken'));
    writeFileSync(
      join(dir, 'Broken', 'appsettings.json'),
      JSON.stringify({ MaskinportenSettings: { Authority: 'test', ClientId: 'c', JwkBase64: 'bm90IGEga2V5' } }),
    );
    const args = ['token', '--config-dir', 'Broken', '--scope', 'a:b', '--dry-run'];
    const bin = secrets.check(await runCliProcess(args, { cwd: dir }));
    assert.equal(bin.code, 1, show(bin));
    assert.match(bin.stderr, /\(from file Broken\/appsettings\.json\)/, show(bin));
    // In this process the run's directory is not the process's: the same file, by its full path.
    const inProcess = secrets.check(await runCli(args, { cwd: dir }));
    assert.equal(inProcess.code, 1, show(inProcess));
    assert.ok(inProcess.stderr.includes(`(from file ${join(dir, 'Broken', 'appsettings.json')})`), show(inProcess));
  });

  it('reads settings from the run’s environment only, never from the test process’s', TIMEOUT, async () => {
    const args = ['token', '--authority', 'test', '--key-file', 'keys/jwk.base64', '--scope', 'a:b', '--dry-run'];
    const saved = process.env.MaskinportenSettings__ClientId;
    process.env.MaskinportenSettings__ClientId = 'from-the-test-process';
    try {
      const missing = secrets.check(await runCli(args, { cwd: dir }));
      assert.notEqual(missing.code, 0, show(missing));
      assert.match(missing.stderr, /ClientId/, show(missing));
      assert.doesNotMatch(missing.stdout + missing.stderr, /from-the-test-process/);
      const given = ok(
        secrets.check(await runCli(args, { cwd: dir, env: { MaskinportenSettings__ClientId: 'from-the-run' } })),
      );
      assert.equal((JSON.parse(given.stdout) as DryRun).claims.iss, 'from-the-run');
    } finally {
      if (saved === undefined) delete process.env.MaskinportenSettings__ClientId;
      else process.env.MaskinportenSettings__ClientId = saved;
    }
  });

  describe('colour', () => {
    /** Runs `keygen` in this process with stdout and stderr that say they are (or are not) terminals. */
    const keygen = async (tty: boolean, env: Record<string, string | undefined>) => {
      const r = await runCli(['keygen'], { cwd: mkdtempSync(join(dir, 'colour-')), env, tty });
      const text = r.stdout + r.stderr;
      assert.equal(r.code, 0, text);
      const plainText = (t: string) => t.replaceAll(`${ESC}[`, '');
      secrets.check({ ...r, stdout: plainText(r.stdout), stderr: plainText(r.stderr) });
      return text;
    };
    /** A terminal's environment without NO_COLOR (undefined removes the harness's own). */
    const plain = (): Record<string, string | undefined> => ({
      ...baseEnv(),
      TERM: 'xterm-256color',
      NO_COLOR: undefined,
    });

    it('is off when the output is not a terminal, whatever the environment says', TIMEOUT, async () => {
      assert.ok(!hasAnsi(await keygen(false, plain())));
      const piped = ok(
        secrets.check(await runCli(['keygen'], { cwd: mkdtempSync(join(dir, 'piped-')), env: plain() })),
      );
      assert.ok(!hasAnsi(piped.stdout), show(piped));
    });

    it('is on for a terminal, and off with the run’s NO_COLOR or TERM=dumb', TIMEOUT, async () => {
      assert.ok(hasAnsi(await keygen(true, plain())), 'a terminal without NO_COLOR gets colour');
      assert.ok(!hasAnsi(await keygen(true, { ...plain(), NO_COLOR: '1' })), 'NO_COLOR');
      assert.ok(!hasAnsi(await keygen(true, { ...plain(), TERM: 'dumb' })), 'TERM=dumb');
    });
  });
});
