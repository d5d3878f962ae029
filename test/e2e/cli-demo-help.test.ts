/**
 * The built `maskinporten` command as a whole: `demo` end to end, `--help` of every command (exit 0, with
 * examples), usage errors (exit 2, message on stderr, stdout empty), `--version`, and NO_COLOR on a real terminal
 * (a pseudo-terminal from util-linux `script`, when installed).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateRsaKeyPair, importPrivateJwk } from '../../src/keys/jwk.ts';
import { signCompact } from '../../src/keys/jws.ts';
import {
  assertBuilt,
  baseEnv,
  ESC,
  hasAnsi,
  hasScript,
  ok,
  ROOT,
  runCli,
  runCliProcess,
  runOnTerminal,
  Secrets,
  show,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

const COMMANDS = [
  'init',
  'keygen',
  'token',
  'decode',
  'doctor',
  'keyvault',
  'clients',
  'keys',
  'scopes',
  'emulator',
  'demo',
];
const DEMO_STEPS = [
  'Started the embedded emulator',
  'Generated an RSA key pair locally',
  'Registered the integration through the self-service API',
  'Got a Maskinporten access token',
  'Exchanged it for an Altinn token',
  'Sent a notification order with the Altinn-authorized fetch',
];

describe('maskinporten (built CLI): demo, help, usage errors, NO_COLOR', () => {
  let dir: string;
  const secrets = new Secrets();
  /** Every run's output is checked for secrets, ANSI escapes and tokens. */
  const cli = async (...args: Parameters<typeof runCli>) => secrets.check(await runCli(...args));
  /** The same as a subprocess of the built bin, where the real process's exit status and stdio are the point. */
  const cliProcess = async (...args: Parameters<typeof runCli>) => secrets.check(await runCliProcess(...args));

  before(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-misc-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('demo', () => {
    it(
      'runs the main job end to end on an embedded emulator, prints every step, cleans up, exits 0',
      TIMEOUT,
      async () => {
        const r = ok(await cliProcess(['demo'], { cwd: dir }));
        assert.equal(r.stderr, '');
        const lines = r.stdout.trim().split('\n');
        const steps = lines.filter((l) => l.startsWith('✔ '));
        assert.deepEqual(
          steps.map((l) => /^✔ (\d)\. (.+) \(\d+\.\d ms\)$/.exec(l)?.slice(1)),
          DEMO_STEPS.map((title, i) => [String(i + 1), title]),
          r.stdout,
        );
        assert.match(r.stdout, /at http:\/\/127\.0\.0\.1:\d+\n/);
        assert.match(r.stdout, /scope altinn:serviceowner\/notifications\.create/);
        assert.match(r.stdout, /org ttd \(991825827\)/);
        assert.match(r.stdout, /order [0-9a-f-]{36} accepted \(201\)/);
        assert.match(lines.at(-1)!, /^Done in \d+ ms; the emulator is stopped and the key deleted\.$/);
        const keyDir = /the private key stays in (\S+) \(mode 0600\)/.exec(r.stdout)?.[1];
        assert.ok(keyDir, show(r));
        assert.ok(!existsSync(keyDir), 'the temporary key directory is gone');
      },
    );

    it('--json prints one JSON object per step, then a done line', TIMEOUT, async () => {
      const r = ok(await cli(['demo', '--json'], { cwd: dir }));
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { step?: number; title?: string; detail?: string; ms: number; done?: boolean });
      assert.deepEqual(
        lines.slice(0, -1).map((l) => [l.step, l.title]),
        DEMO_STEPS.map((title, i) => [i + 1, title]),
      );
      for (const l of lines) assert.equal(typeof l.ms, 'number');
      // Details are sentences, never terminal layout.
      for (const l of lines.slice(0, -1)) assert.doesNotMatch(l.detail!, /\n/, `step ${l.step}`);
      assert.match(
        lines.find((l) => l.title === 'Got a Maskinporten access token')!.detail!,
        /Z; client_amr private_key_jwt: /,
      );
      assert.equal(lines.at(-1)!.done, true);
      usageError(await cli(['demo', '--port', '1'], { cwd: dir }));
    });
  });

  // Each test below runs its own commands and shares nothing: two at a time, to fill the gaps between runs.
  describe('--help', { concurrency: 2 }, () => {
    for (const command of COMMANDS) {
      it(`${command} --help, -h and help ${command} exit 0 with the usage and examples`, TIMEOUT, async () => {
        const r = ok(await cli([command, '--help'], { cwd: dir }));
        assert.equal(r.stderr, '');
        assert.match(r.stdout, new RegExp(`^Usage: maskinporten ${command}\\b`));
        const examples = r.stdout.slice(r.stdout.indexOf('\nExamples:\n'));
        assert.ok(examples.length > 12, `an Examples section\n${r.stdout}`);
        assert.match(examples, new RegExp(`\\n {2}maskinporten ${command}\\b`), 'examples of this command');
        assert.equal(ok(await cli([command, '-h'], { cwd: dir })).stdout, r.stdout);
        assert.equal(ok(await cli(['help', command], { cwd: dir })).stdout, r.stdout);
        // --help wins over everything else on the line, even a missing action or a wrong value.
        assert.equal(ok(await cli([command, '--help', '--port', 'x'], { cwd: dir })).stdout, r.stdout);
      });
    }

    it('the top-level --help lists every command and the exit statuses', TIMEOUT, async () => {
      const r = ok(await cliProcess(['--help'], { cwd: dir }));
      for (const command of COMMANDS) assert.match(r.stdout, new RegExp(`^ {2}${command} +\\S`, 'm'), command);
      assert.match(r.stdout, /Exit status: 0 success, 1 failure, 2 usage error/);
      assert.equal(ok(await cli(['-h'], { cwd: dir })).stdout, r.stdout);
      assert.equal(ok(await cli(['help'], { cwd: dir })).stdout, r.stdout);
      // With no command at all it is a usage error: the usage goes to stderr, stdout stays empty.
      const bare = await cliProcess([], { cwd: dir });
      assert.equal(bare.code, 2, show(bare));
      assert.equal(bare.stdout, '');
      assert.equal(bare.stderr, r.stdout);
    });

    it('--version prints the package version', TIMEOUT, async () => {
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      assert.equal(ok(await cliProcess(['--version'], { cwd: dir })).stdout, `${version}\n`);
      assert.equal(ok(await cli(['-v'], { cwd: dir })).stdout, `${version}\n`);
    });
  });

  describe('usage errors exit 2 with the message on stderr', { concurrency: 2 }, () => {
    it('an unknown command (including names every object has)', TIMEOUT, async () => {
      for (const name of ['frobnicate', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
        usageError(await cli([name], { cwd: dir }), /unknown command/);
      }
      usageError(await cli(['help', 'frobnicate'], { cwd: dir }), /unknown command/);
      usageError(await cliProcess(['frobnicate'], { cwd: dir }), /unknown command/);
    });

    for (const args of [
      ['init', '--bogus'],
      ['keygen', '--bogus'],
      ['token', '--bogus'],
      ['token', '--scope'],
      ['decode', '--bogus', 'x'],
      ['doctor', '--bogus'],
      ['keyvault', 'names', '--bogus'],
      ['clients', 'list', '--bogus'],
      ['keys', 'list', 'some-id', '--bogus'],
      ['emulator', '--bogus'],
      ['demo', '--bogus'],
      ['demo', 'extra'],
    ]) {
      it(args.join(' '), TIMEOUT, async () => {
        const r = usageError(await cli(args, { cwd: dir }));
        assert.equal(r.stderr.split('\n').filter(Boolean).length >= 1, true);
        if (args.includes('--bogus')) assert.match(r.stderr, /--bogus/);
      });
    }
  });

  describe('NO_COLOR', () => {
    const script = hasScript();
    let token: string;
    before(async () => {
      const { privateJwk } = await generateRsaKeyPair({ kid: 'colour' });
      secrets.addJwk(privateJwk as unknown as Record<string, unknown>);
      const now = Math.floor(Date.now() / 1000);
      token = signCompact(
        { alg: 'RS256', kid: 'colour' },
        { iss: 'https://x.example/', exp: now + 600 },
        importPrivateJwk(privateJwk),
      );
    });

    it('piped output has no ANSI escapes (checked on every run in these tests)', TIMEOUT, async () => {
      const env = { NO_COLOR: undefined, TERM: 'xterm-256color' };
      const r = ok(await cli(['decode', token], { cwd: dir, env }));
      assert.ok(!hasAnsi(r.stdout), 'not a terminal: no colour even without NO_COLOR');
    });

    it('decode without a token on a terminal is a usage error, not a wait for input', {
      ...TIMEOUT,
      skip: !script && 'util-linux script is not installed',
    }, async () => {
      const r = await runOnTerminal(['decode'], { cwd: dir, env: { ...baseEnv() } });
      assert.equal(r.code, 2, r.screen);
      assert.match(r.screen, /no token given/);
    });

    it('on a terminal: colour without NO_COLOR, none with it', {
      ...TIMEOUT,
      skip: !script && 'util-linux script is not installed',
    }, async () => {
      const colourEnv: Record<string, string> = { ...baseEnv(), TERM: 'xterm-256color' };
      delete colourEnv.NO_COLOR;
      const plainEnv = { ...colourEnv, NO_COLOR: '1' };
      for (const args of [['decode', token], ['keygen', '--out-dir', 'k1'], ['demo']]) {
        const cwd = mkdtempSync(join(dir, 'tty-'));
        const coloured = await runOnTerminal(args, { cwd, env: colourEnv });
        assert.equal(coloured.code, 0, coloured.screen);
        assert.ok(new RegExp(`${ESC}\\[[\\d;]+m`).test(coloured.screen), `${args[0]} colours its output on a terminal`);
        rmSync(join(cwd, 'k1'), { recursive: true, force: true });
        const plain = await runOnTerminal(args, { cwd, env: plainEnv });
        assert.equal(plain.code, 0, plain.screen);
        assert.ok(!hasAnsi(plain.screen), `${args[0]} respects NO_COLOR`);
        assert.ok(plain.screen.length > 50);
      }
    });
  });
});
