/**
 * `maskinporten doctor`, built and run in this process by default (runCliProcess where the real exit status is the
 * point) against an emulator started in this process: every check passing with settings from flags and from files +
 * environment variables (each value's source named, secrets redacted), and each kind of breakage failing with exit 1, a
 * plain-words explanation and a fix line.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import {
  assertBuilt,
  type CliResult,
  ok,
  type RunOptions,
  runCli,
  runCliProcess,
  Secrets,
  show,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

const SCOPE = 'doctor:read';

interface Report {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

describe('maskinporten doctor (built CLI)', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: [SCOPE], clientName: 'cli-doctor' });
  let dir: string;
  let keyFile: string;
  const secrets = new Secrets();
  /** Runs doctor in this process, or with `subprocess` as the built bin (where its real exit status is the point). */
  const run = async (args: string[], options: RunOptions & { subprocess?: boolean } = {}): Promise<CliResult> =>
    secrets.check(await (options.subprocess ? runCliProcess : runCli)(['doctor', ...args], { cwd: dir, ...options }));
  const flagsFor = (overrides: { clientId?: string; keyFile?: string; authority?: string } = {}) => [
    '--authority',
    overrides.authority ?? emulator.issuer,
    '--client-id',
    overrides.clientId ?? client.clientId,
    '--key-file',
    overrides.keyFile ?? keyFile,
  ];
  const report = (r: CliResult): Report => JSON.parse(r.stdout) as Report;
  const check = (r: Report, name: string) => {
    const c = r.checks.find((x) => x.name === name);
    assert.ok(c, `a ${name} check in ${JSON.stringify(r)}`);
    return c;
  };
  /** Asserts a failed run: exit 1, the named check failed with a fix, and the text output shows the fix line. */
  const failedCheck = async (
    args: string[],
    name: string,
    detail: RegExp,
    fix: RegExp,
    options: RunOptions & { subprocess?: boolean } = {},
  ) => {
    const text = await run(args, options);
    assert.equal(text.code, 1, show(text));
    assert.match(text.stdout, new RegExp(`✖ ${name}: `), show(text));
    assert.match(text.stdout, /\n {4}fix: \S/, show(text));
    const json = await run([...args, '--json'], options);
    assert.equal(json.code, 1, show(json));
    const r = report(json);
    assert.equal(r.ok, false);
    const c = check(r, name);
    assert.equal(c.ok, false);
    assert.match(c.detail, detail);
    assert.match(c.fix ?? '', fix);
    return r;
  };

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-doctor-'));
    secrets.addJwkBase64(client.jwkBase64!).addJwkBase64(emulator.adminClient.jwkBase64);
    keyFile = join(dir, 'jwk.base64');
    writeFileSync(keyFile, `${client.jwkBase64}\n`, { mode: 0o600 });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every check with settings from flags, and says where each came from', TIMEOUT, async () => {
    const r = ok(await run(flagsFor()));
    assert.equal(r.stderr, '');
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => /^✔ (\w+):/.exec(l)?.[1]),
      ['settings', 'key', 'discovery', 'clock', 'token'],
      r.stdout,
    );
    assert.match(lines[0]!, /authority \S+ from --authority/);
    assert.match(lines[0]!, /clientId \S+ from --client-id/);
    assert.match(lines[0]!, /key \(jwkBase64\) from --key-file \[redacted\]/);
    assert.match(lines[1]!, new RegExp(`RSA-2048 RS256, kid ${client.kid}, public and private halves match`));
    assert.match(lines[2]!, new RegExp(`names issuer ${emulator.issuer}`));
    assert.match(lines[4]!, /accepted the client and key/);

    const json = report(ok(await run([...flagsFor(), '--json', '--scope', SCOPE])));
    assert.equal(json.ok, true);
    assert.deepEqual(
      json.checks.map((c) => [c.name, c.ok]),
      [
        ['settings', true],
        ['key', true],
        ['discovery', true],
        ['clock', true],
        ['token', true],
      ],
    );
    assert.match(check(json, 'token').detail, new RegExp(`got a token for ${SCOPE}`));
  });

  it(
    'loads settings as the app would: appsettings files and environment variables, named as sources',
    TIMEOUT,
    async () => {
      const config = join(dir, 'app');
      mkdirSync(config, { recursive: true });
      writeFileSync(
        join(config, 'appsettings.json'),
        JSON.stringify({ MaskinportenSettings: { Authority: emulator.issuer } }),
      );
      writeFileSync(
        join(config, 'appsettings.Production.json'),
        JSON.stringify({ MaskinportenSettings: { ClientId: client.clientId } }),
      );
      const r = ok(
        await run(['--config-dir', config, '--scope', SCOPE], {
          env: { MaskinportenSettings__JwkBase64: client.jwkBase64! },
        }),
      );
      const settings = r.stdout.split('\n')[0]!;
      assert.match(settings, /environment Production/);
      assert.ok(
        settings.includes(`authority ${emulator.issuer} from file ${join(config, 'appsettings.json')}`),
        settings,
      );
      assert.ok(settings.includes(`from file ${join(config, 'appsettings.Production.json')}`), settings);
      assert.match(
        settings,
        /key \(jwkBase64\) from environment variable MaskinportenSettings__JwkBase64 \[redacted\]/,
      );
    },
  );

  it('a wrong client id fails the token check with exit 1 and a fix', TIMEOUT, async () => {
    const r = await failedCheck(
      flagsFor({ clientId: 'no-such-client' }),
      'token',
      /ERR_UNKNOWN_CLIENT/,
      /check ClientId/,
      { subprocess: true },
    );
    assert.deepEqual(
      r.checks.map((c) => c.ok),
      [true, true, true, true, false],
      'everything else is fine',
    );
  });

  it('an unknown kid fails the token check with exit 1 and a fix', TIMEOUT, async () => {
    // A key pair that is whole but was never registered on the client.
    const other = await generateRsaKeyPair({ kid: 'never-registered' });
    const otherBase64 = Buffer.from(JSON.stringify(other.privateJwk)).toString('base64');
    secrets.addJwkBase64(otherBase64);
    const otherFile = join(dir, 'other.base64');
    writeFileSync(otherFile, otherBase64, { mode: 0o600 });
    await failedCheck(flagsFor({ keyFile: otherFile }), 'token', /ERR_UNKNOWN_KID.*never-registered/, /keys add|kid/);
    // The registered key under another kid fails the same way.
    await failedCheck([...flagsFor(), '--kid', 'wrong-kid'], 'token', /ERR_UNKNOWN_KID/, /register the public key/);
  });

  it('a missing key fails the settings check with exit 1 and a fix', TIMEOUT, async () => {
    const r = await failedCheck(
      ['--authority', emulator.issuer, '--client-id', client.clientId],
      'settings',
      /no signing key/,
      /set the values/,
    );
    assert.equal(r.checks.length, 1, 'nothing else can be checked');
  });

  it('a key whose halves do not belong together fails the key check', TIMEOUT, async () => {
    const other = await generateRsaKeyPair();
    const mixed = { ...client.privateJwk, n: other.publicJwk.n };
    const mixedBase64 = Buffer.from(JSON.stringify(mixed)).toString('base64');
    secrets.addJwkBase64(mixedBase64).addJwk(other.privateJwk as unknown as Record<string, unknown>);
    const mixedFile = join(dir, 'mixed.base64');
    writeFileSync(mixedFile, mixedBase64, { mode: 0o600 });
    const r = await run(flagsFor({ keyFile: mixedFile }));
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /✖ (key|settings): /);
    assert.match(r.stdout, /\n {4}fix: /);
  });

  it(
    'a scope the client lacks, an unreachable authority and a skewed clock each fail with a fix',
    TIMEOUT,
    async () => {
      await failedCheck([...flagsFor(), '--scope', 'not:granted'], 'token', /ERR_INVALID_SCOPE/, /add the scope/);
      await failedCheck(
        flagsFor({ authority: 'http://127.0.0.1:9/' }),
        'discovery',
        /127\.0\.0\.1:9/,
        /network|Authority/,
      );
      // 150 s ahead: past what the live rules tolerate (a 120 s grant then expired more than 10 s ago).
      emulator.clock.advance(150_000);
      try {
        const r = await failedCheck(
          flagsFor(),
          'clock',
          /the server clock is \d+(\.\d)? s ahead/,
          /sync the clock|NTP/,
        );
        assert.match(check(r, 'token').detail, /ERR_CLOCK_SKEW|clock/i);
      } finally {
        emulator.clock.setOffset(0);
      }
    },
  );

  it('never shows a secret, whatever fails, and bad flags are usage errors', TIMEOUT, async () => {
    const env = {
      MaskinportenSettings__Authority: emulator.issuer,
      MaskinportenSettings__ClientId: client.clientId,
      MaskinportenSettings__JwkBase64: 'c2VjcmV0LWJ1dC1icm9rZW4tdmFsdWUtdGhhdC1pcy1ub3QtYS1qd2s=',
    };
    secrets.add(env.MaskinportenSettings__JwkBase64, 'secret-but-broken-value-that-is-not-a-jwk');
    const r = await run([], { env });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /✖ settings: .*\n.*JwkBase64/);
    usageError(await run(['--nope']));
    usageError(await run(['--scope']));
  });

  it(
    'when discovery fails: no grant error, no "Date header" for a server never reached, and the host named',
    TIMEOUT,
    async () => {
      // A port nothing listens on any more.
      const closed = createServer();
      await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((done) => closed.close(done));
      const refused = report(await run([...flagsFor({ authority: `http://127.0.0.1:${port}/` }), '--json']));
      assert.match(
        check(refused, 'discovery').detail,
        new RegExp(`nothing answers at 127\\.0\\.0\\.1:${port} \\(connection`),
      );
      assert.equal(check(refused, 'clock').detail, 'not measured: the server was never reached');
      assert.equal(check(refused, 'token').detail, 'not tried: fix discovery first (see above)');

      const unknownHost = report(await run([...flagsFor({ authority: 'https://no-such-host.invalid/' }), '--json']));
      assert.match(check(unknownHost, 'discovery').detail, /the host no-such-host\.invalid was not found \(DNS\)/);
      assert.match(check(unknownHost, 'token').detail, /not tried/);

      // A server that answers, but is no authority (a wrong path): 404, said so, and no grant is sent.
      emulator.requests.clear();
      const wrongPath = report(await run([...flagsFor({ authority: `${emulator.url}/some/app/` }), '--json']));
      assert.match(
        check(wrongPath, 'discovery').detail,
        /answered 404 without an issuer: .* is not a Maskinporten authority/,
      );
      assert.match(check(wrongPath, 'discovery').fix ?? '', /base URL/);
      assert.match(check(wrongPath, 'clock').detail, /within|ahead|behind/, 'the clock is measured from the answer');
      assert.match(check(wrongPath, 'token').detail, /not tried/);
      assert.deepEqual(emulator.requests.entries({ endpoint: 'token' }), [], 'no grant sent');
    },
  );

  it('a token-endpoint URL pasted as the authority is refused with the authority it belongs to', TIMEOUT, async () => {
    // doctor reports it as its settings check; token (and every other command) refuses it as a usage error.
    const doctor = await run(flagsFor({ authority: `${emulator.url}/token` }));
    assert.match(doctor.stdout, /✖ settings: --authority .*\/token is the token endpoint, not the authority/);
    const r = await runCli(
      ['token', ...flagsFor({ authority: `${emulator.url}/token` }), '--scope', SCOPE, '--dry-run'],
      {
        cwd: dir,
      },
    );
    usageError(
      secrets.check(r),
      new RegExp(
        `--authority ${emulator.url}/token is the token endpoint, not the authority: the authority is the base URL, ${emulator.url}/`,
      ),
    );
    // From a settings file too, naming the file.
    const cwd = join(dir, 'pasted');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(
      join(cwd, 'appsettings.json'),
      JSON.stringify({ MaskinportenSettings: { Authority: 'https://test.maskinporten.no/token' } }),
    );
    const fromFile = await runCli(['token', '--client-id', 'x', '--key-file', keyFile, '--scope', SCOPE, '--dry-run'], {
      cwd,
    }).then((x) => secrets.check(x));
    usageError(
      fromFile,
      /Authority https:\/\/test\.maskinporten\.no\/token is the token endpoint.*https:\/\/test\.maskinporten\.no\/ \(set in .*appsettings\.json/,
    );
  });

  it(
    'misspelled presets get "did you mean"; --app-environment is the app environment, --environment its old name',
    TIMEOUT,
    async () => {
      const dry = (extra: string[], options: RunOptions = {}) =>
        runCli(['token', '--client-id', 'x', '--key-file', keyFile, '--scope', SCOPE, '--dry-run', ...extra], {
          cwd: dir,
          ...options,
        }).then((x) => secrets.check(x));
      usageError(
        await dry(['--authority', 'tset']),
        /--authority "tset" is neither a URL nor a preset .*: did you mean test\?/,
      );
      usageError(await dry(['--authority', 'skyporten-tst']), /did you mean skyporten-test\?/);
      usageError(
        await dry(['--authority', 'test', '--altinn-platform-url', 'tt2']),
        /--altinn-platform-url "tt2" .*did you mean tt02\?/,
      );
      usageError(
        await dry(['--authority', 'zzzzzz']),
        /neither a URL nor a preset \(prod, test, dev, skyporten-prod, skyporten-test\)$/m,
      );
      const sky = JSON.parse(ok(await dry(['--authority', 'skyporten-test'])).stdout) as { claims: { aud: string } };
      assert.equal(sky.claims.aud, 'https://test.sky.maskinporten.no');
      const init = await runCli(['init', '--environment', 'tset', '--scope', SCOPE, '--client-id', 'x'], {
        cwd: join(dir, 'pasted'),
      });
      usageError(init, /--environment must be test or prod .*: did you mean test\?/);

      const cwd = join(dir, 'app-env');
      mkdirSync(cwd, { recursive: true });
      writeFileSync(
        join(cwd, 'appsettings.Staging.json'),
        JSON.stringify({ MaskinportenSettings: { Authority: emulator.issuer } }),
      );
      const viaNew = JSON.parse(ok(await dry(['--app-environment', 'Staging'], { cwd })).stdout) as {
        claims: { aud: string };
      };
      const viaOld = JSON.parse(ok(await dry(['--environment', 'Staging'], { cwd })).stdout) as {
        claims: { aud: string };
      };
      assert.equal(viaNew.claims.aud, emulator.issuer);
      assert.equal(viaOld.claims.aud, emulator.issuer);
      usageError(await dry(['--app-environment', 'Staging', '--environment', 'Production'], { cwd }), /contradict/);
    },
  );
});
