/**
 * The command line as a newcomer meets it, the built CLI run in this process (runCli; the interactive init runs the bin
 * on a real terminal): values from flags named by their flags, the appsettings files looked for when the app
 * environment's is missing, `token --altinn` without an Altinn platform naming the flag and the setting, a usable
 * `--output curl` line, the private key written once by keygen and init, interactive init on a real terminal (a pty
 * from `script`) asking again instead of exiting and refusing existing files before any question, the demo explaining
 * `private_key_jwt`, and the CLI's modules not reaching into each other.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import {
  adminEnv,
  assertBuilt,
  type CliResult,
  failure,
  hasScript,
  jwtsIn,
  modeOf,
  ok,
  payloadOf,
  ROOT,
  type RunOptions,
  runCli,
  runOnTerminal,
  Secrets,
  show,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

const SCOPE = 'test:read';

/** The words a POSIX shell makes of `line` (run by `sh`, printed one per line). */
function shellWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `set -- ${line.replace(/^curl /, '')}; printf '%s\\n' "$@"`], {
    encoding: 'utf8',
  });
  return out.replace(/\n$/, '').split('\n');
}

describe('the command line as a newcomer meets it (built CLI)', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: [SCOPE], clientName: 'cli-newcomer' });
  let dir: string;
  let keyFile: string;
  let n = 0;
  const secrets = new Secrets();
  const workdir = () => {
    const d = join(dir, `cwd-${++n}`);
    mkdirSync(d);
    return d;
  };
  /** Runs the CLI and checks its output for secrets (the emulator's tokens may be printed by `token`). */
  const run = async (args: string[], options: RunOptions = {}): Promise<CliResult> =>
    secrets.check(await runCli(args, options), { tokensFrom: [emulator.issuer] });
  const flags = () => ['--authority', emulator.issuer, '--client-id', client.clientId, '--key-file', keyFile];

  before(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-newcomer-'));
    secrets.addJwkBase64(client.jwkBase64!).addJwkBase64(emulator.adminClient.jwkBase64);
    keyFile = join(dir, 'client.jwk.base64');
    writeFileSync(keyFile, `${client.jwkBase64}\n`, { mode: 0o600 });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('values from flags are named by their flags', () => {
    it('a bad value from a flag says "(from --client-id)", not "(from code)"', TIMEOUT, async () => {
      const r = failure(
        await run([
          'token',
          '--authority',
          emulator.issuer,
          '--client-id',
          ' ',
          '--key-file',
          keyFile,
          '--scope',
          SCOPE,
        ]),
      );
      assert.match(r.stderr, /MaskinportenSettings:ClientId: is required.*\(from --client-id\)/, show(r));
      assert.doesNotMatch(r.stderr, /from code/, show(r));
    });

    it('a key file that holds no key says "(from --key-file)"', TIMEOUT, async () => {
      const bad = join(dir, 'not-a-key.json');
      writeFileSync(bad, '{"kty":"RSA","n":"AQAB"}');
      const r = failure(await run(['token', ...flags().slice(0, 4), '--key-file', bad, '--scope', SCOPE]));
      assert.match(r.stderr, /\(from --key-file\)/, show(r));
      assert.doesNotMatch(r.stderr, /from code/, show(r));
    });

    it('doctor names the flag each value came from', TIMEOUT, async () => {
      const r = ok(await run(['doctor', ...flags()]));
      const settings = r.stdout.split('\n')[0]!;
      assert.match(settings, /authority \S+ from --authority/, show(r));
      assert.match(settings, /clientId \S+ from --client-id/, show(r));
      assert.match(settings, /key \(jwkBase64\) from --key-file \[redacted\]/, show(r));
      assert.doesNotMatch(r.stdout, /from code|a command-line flag/, show(r));
    });
  });

  describe('a missing appsettings.{environment}.json', () => {
    let config: string;
    before(() => {
      config = join(dir, 'app');
      mkdirSync(config);
      writeFileSync(join(config, 'appsettings.json'), JSON.stringify({ Logging: {} }));
      writeFileSync(
        join(config, 'appsettings.Production.json'),
        JSON.stringify({ MaskinportenSettings: { Authority: emulator.issuer, ClientId: client.clientId } }),
      );
    });
    const lookedFor =
      /looked for appsettings\.json and appsettings\.Staging\.json in \S+app \(app environment Staging\): appsettings\.Staging\.json is missing; the directory has appsettings\.json, appsettings\.Production\.json \(pick one with --app-environment Production/;

    it('token says which files it looked for and which exist', TIMEOUT, async () => {
      const r = failure(
        await run([
          'token',
          '--config-dir',
          config,
          '--app-environment',
          'Staging',
          '--key-file',
          keyFile,
          '--scope',
          SCOPE,
        ]),
      );
      assert.match(r.stderr, /MaskinportenSettings:ClientId: is required/, show(r));
      assert.match(r.stderr, lookedFor, show(r));
    });

    it('doctor says it in its settings check', TIMEOUT, async () => {
      const r = await run(['doctor', '--config-dir', config, '--app-environment', 'Staging', '--key-file', keyFile]);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stdout, /✖ settings: /, show(r));
      assert.match(r.stdout, lookedFor, show(r));
    });

    it('the old --environment name says it too, and a run that loads anyway notes it on stderr', TIMEOUT, async () => {
      const r = failure(
        await run([
          'token',
          '--config-dir',
          config,
          '--environment',
          'Staging',
          '--key-file',
          keyFile,
          '--scope',
          SCOPE,
        ]),
      );
      assert.match(r.stderr, lookedFor, show(r));
      // Everything given by flags: the token comes, and the missing file is a note, not an error.
      const loaded = ok(
        await run(['token', '--config-dir', config, '--app-environment', 'Staging', ...flags(), '--scope', SCOPE]),
      );
      assert.equal(jwtsIn(loaded.stdout).length, 1, show(loaded));
      assert.match(loaded.stderr, /^note: looked for appsettings\.json and appsettings\.Staging\.json/, show(loaded));
      // The file that is there is read without a note.
      const production = ok(
        await run([
          'token',
          '--config-dir',
          config,
          '--app-environment',
          'Production',
          '--key-file',
          keyFile,
          '--scope',
          SCOPE,
        ]),
      );
      assert.equal(production.stderr, '', show(production));
      const doctor = ok(
        await run(['doctor', '--config-dir', config, '--app-environment', 'production', '--key-file', keyFile]),
      );
      assert.match(doctor.stdout, /read appsettings\.json and appsettings\.production\.json from \S+app/, show(doctor));
    });
  });

  it(
    'token --altinn without an Altinn platform names the flag and the setting, and sends nothing',
    TIMEOUT,
    async () => {
      emulator.requests.clear();
      const r = usageError(await run(['token', ...flags(), '--scope', SCOPE, '--altinn']));
      assert.match(r.stderr, /--altinn needs an Altinn platform URL/, show(r));
      assert.match(r.stderr, /--altinn-platform-url URL/, show(r));
      assert.match(r.stderr, /MaskinportenSettings:AltinnPlatformUrl/, show(r));
      assert.match(r.stderr, /the emulator's own URL/, show(r));
      assert.equal(emulator.requests.entries().length, 0, 'no request was sent');
      // Given the flag, the same run gets an Altinn token.
      const altinn = secrets.check(
        await runCli(['token', ...flags(), '--scope', SCOPE, '--altinn', '--altinn-platform-url', emulator.url]),
        { tokensFrom: [`${emulator.url}/authentication/api/v1/openid/`] },
      );
      ok(altinn);
      // A section named with --section is named in the message.
      const other = usageError(
        await run(['token', ...flags(), '--section', 'Integrations:Mp', '--scope', SCOPE, '--altinn']),
      );
      assert.match(other.stderr, /Integrations:Mp:AltinnPlatformUrl/, show(other));
    },
  );

  it('--output curl prints a usable command with an <API-URL> placeholder, or the --url given', TIMEOUT, async () => {
    const r = ok(await run(['token', ...flags(), '--scope', SCOPE, '--output', 'curl']));
    assert.match(r.stdout, /^curl -H 'Authorization: Bearer [\w.-]+' '<API-URL>'\n$/, show(r));
    const token = jwtsIn(r.stdout)[0]!;
    assert.deepEqual(shellWords(r.stdout.trim()), ['-H', `Authorization: Bearer ${token}`, '<API-URL>']);
    const url = `${emulator.url}/api/it's?a=1&b=$HOME`;
    const withUrl = ok(await run(['token', ...flags(), '--scope', SCOPE, '--output', 'curl', '--url', url]));
    assert.deepEqual(shellWords(withUrl.stdout.trim()).slice(2), [url], 'the URL reaches curl exactly');
    usageError(await run(['token', ...flags(), '--scope', SCOPE, '--url', url]), /--url applies to --output curl/);
    usageError(
      await run(['token', ...flags(), '--scope', SCOPE, '--output', 'curl', '--url', 'not a url']),
      /--url must be the http\(s\) URL/,
    );
  });

  it(
    'token --dry-run shows the grant the client composes (preset resolved, its default lifetime)',
    TIMEOUT,
    async () => {
      const r = ok(
        await run([
          'token',
          '--authority',
          'test',
          '--client-id',
          'abc',
          '--key-file',
          keyFile,
          '--scope',
          SCOPE,
          '--dry-run',
        ]),
      );
      const shown = JSON.parse(r.stdout) as {
        header: Record<string, unknown>;
        claims: Record<string, number | string>;
        tokenEndpoint: string;
      };
      assert.deepEqual(shown.header, { alg: 'RS256', kid: client.kid });
      assert.equal(shown.claims.aud, 'https://test.maskinporten.no/');
      assert.equal(shown.claims.iss, 'abc');
      assert.equal(shown.claims.scope, SCOPE);
      assert.equal(Number(shown.claims.exp) - Number(shown.claims.iat), 60);
      assert.equal(shown.tokenEndpoint, 'https://test.maskinporten.no/token');
    },
  );

  describe('the private key is written once', () => {
    it('keygen: private.jwk.json and the public array; --key-file takes it as JwkBase64 would', TIMEOUT, async () => {
      const cwd = workdir();
      const r = await runCli(['keygen', '--json'], { cwd });
      const out = join(cwd, 'maskinporten-keys');
      secrets.addKeyFile(join(out, 'private.jwk.json'));
      secrets.check(ok(r));
      assert.deepEqual(readdirSync(out).sort(), ['private.jwk.json', 'public.jwk.json']);
      assert.equal(modeOf(statSync(join(out, 'private.jwk.json'))), 0o600);
      const summary = JSON.parse(r.stdout) as { kid: string; files: Record<string, string> };
      assert.deepEqual(Object.keys(summary.files).sort(), ['privateJwk', 'publicJwks']);
      // The derived form: the dry run signs with the key from the JSON file.
      const dry = ok(
        await run([
          'token',
          '--authority',
          'test',
          '--client-id',
          'x',
          '--key-file',
          summary.files.privateJwk!,
          '--scope',
          SCOPE,
          '--dry-run',
        ]),
      );
      assert.equal((JSON.parse(dry.stdout) as { header: { kid: string } }).header.kid, summary.kid);
    });

    it('keygen --private-format jwk-base64 writes jwk.base64 instead, the JwkBase64 setting', TIMEOUT, async () => {
      const cwd = workdir();
      const r = await runCli(['keygen', '--private-format', 'jwk-base64'], { cwd });
      const out = join(cwd, 'maskinporten-keys');
      secrets.addKeyFile(join(out, 'jwk.base64'));
      secrets.check(ok(r));
      assert.deepEqual(readdirSync(out).sort(), ['jwk.base64', 'public.jwk.json']);
      assert.equal(modeOf(statSync(join(out, 'jwk.base64'))), 0o600);
      const jwk = JSON.parse(Buffer.from(readFileSync(join(out, 'jwk.base64'), 'utf8'), 'base64').toString('utf8')) as {
        d?: string;
      };
      assert.equal(typeof jwk.d, 'string', 'the key pair JWK, base64-encoded');
      usageError(
        await runCli(['keygen', '--private-format', 'pem'], { cwd: workdir() }),
        /--private-format must be jwk or jwk-base64/,
      );
    });

    it('init: the secrets file holds the only copy, and the app gets a token with it', TIMEOUT, async () => {
      const cwd = workdir();
      const r = await runCli(
        ['init', '--scope', SCOPE, '--name', 'once', '--register', '--authority', emulator.issuer],
        {
          cwd,
          env: adminEnv(emulator),
        },
      );
      const secretsFile = join(cwd, '.maskinporten-secrets.json');
      const stored = JSON.parse(readFileSync(secretsFile, 'utf8')) as { MaskinportenSettings: { JwkBase64: string } };
      secrets.addJwkBase64(stored.MaskinportenSettings.JwkBase64);
      secrets.check(ok(r));
      assert.equal(modeOf(statSync(secretsFile)), 0o600);
      assert.deepEqual(readdirSync(join(cwd, 'maskinporten-keys')), ['public.jwk.json'], 'no private key file');
      // Exactly one file in the working tree holds the private exponent.
      const d = (
        JSON.parse(Buffer.from(stored.MaskinportenSettings.JwkBase64, 'base64').toString('utf8')) as { d: string }
      ).d;
      const holders = [
        '.maskinporten-secrets.json',
        'appsettings.Staging.json',
        'maskinporten-keys/public.jwk.json',
      ].filter((f) => {
        const text = readFileSync(join(cwd, f), 'utf8');
        return text.includes(d) || text.includes(stored.MaskinportenSettings.JwkBase64);
      });
      assert.deepEqual(holders, ['.maskinporten-secrets.json']);
      assert.match(r.stdout, /the private key's only copy/, show(r));
      const token = ok(
        await run(
          ['token', '--app-environment', 'Staging', '--secrets-file', '.maskinporten-secrets.json', '--scope', SCOPE],
          {
            cwd,
          },
        ),
      );
      assert.equal(payloadOf(jwtsIn(token.stdout)[0]!).scope, SCOPE);
    });
  });

  describe('interactive init on a terminal', { skip: !hasScript() }, () => {
    it(
      'asks again after an empty answer to a required question, and after a mistyped environment',
      TIMEOUT,
      async () => {
        const cwd = workdir();
        const t = await runOnTerminal(['init', '--client-id', 'abc', '--authority', emulator.issuer], {
          cwd,
          answers: [
            [/Maskinporten environment \(test or prod\) \[test\]: $/, 'tset\n'],
            [/did you mean test\?\s+Maskinporten environment \(test or prod\) \[test\]: $/, 'test\n'],
            [/Scopes \(space-separated\).*: $/, '\n'],
            [/an answer is needed here.*\s+Scopes \(space-separated\).*: $/s, `${SCOPE}\n`],
            [/Integration name \[my-integration\]: $/, '\n'],
            [/Description \[my-integration\]: $/, '\n'],
          ],
        });
        if (existsSync(join(cwd, '.maskinporten-secrets.json'))) {
          const stored = JSON.parse(readFileSync(join(cwd, '.maskinporten-secrets.json'), 'utf8')) as {
            MaskinportenSettings: { JwkBase64: string };
          };
          secrets.addJwkBase64(stored.MaskinportenSettings.JwkBase64);
        }
        assert.equal(t.unanswered, 0, t.screen);
        assert.equal(t.code, 0, t.screen);
        for (const secret of secrets.values) assert.ok(!t.screen.includes(secret), 'no secret on the terminal');
        assert.match(t.screen, /Done\. Check the setup with: maskinporten doctor .* --scope test:read/, t.screen);
        assert.deepEqual(JSON.parse(readFileSync(join(cwd, 'appsettings.Staging.json'), 'utf8')), {
          MaskinportenSettings: { Authority: emulator.issuer, ClientId: 'abc', AltinnPlatformUrl: emulator.url },
        });
      },
    );

    it('the input ending (Ctrl+D) stops the walk-through with a message, leaving nothing behind', TIMEOUT, async () => {
      const cwd = workdir();
      const t = await runOnTerminal(['init', '--client-id', 'abc'], {
        cwd,
        answers: [
          [/Maskinporten environment \(test or prod\) \[test\]: $/, '\n'],
          [/Scopes \(space-separated\).*: $/, '\u0004'],
        ],
      });
      assert.equal(t.code, 2, t.screen);
      assert.match(t.screen, /no answer to "Scopes[^"]*" \(the input ended or was interrupted\): nothing was written/);
      assert.deepEqual(readdirSync(cwd), [], 'nothing made');
    });

    it('refuses existing files before asking anything', TIMEOUT, async () => {
      const cwd = workdir();
      writeFileSync(join(cwd, '.maskinporten-secrets.json'), '{}');
      const t = await runOnTerminal(['init'], { cwd, answers: [] });
      assert.equal(t.code, 2, t.screen);
      assert.match(t.screen, /refusing to overwrite \S+\.maskinporten-secrets\.json: use --force to replace/, t.screen);
      assert.doesNotMatch(t.screen, /Maskinporten environment|Scopes/, 'no question was asked');
      assert.deepEqual(readdirSync(cwd), ['.maskinporten-secrets.json'], 'nothing made');
    });
  });

  it('the demo explains private_key_jwt in words', TIMEOUT, async () => {
    const r = ok(await run(['demo'], { cwd: workdir() }));
    assert.match(
      r.stdout,
      /client_amr private_key_jwt: the client proved who it is with a JWT signed by its private key/,
      show(r),
    );
  });

  it('no command module imports another, and token and doctor build no signer or grant of their own', () => {
    const commands = join(ROOT, 'src/cli/commands');
    for (const file of readdirSync(commands)) {
      const text = readFileSync(join(commands, file), 'utf8');
      assert.doesNotMatch(text, /from '\.\/[^']+'/, `${file} imports another command module`);
      if (file === 'token.ts' || file === 'doctor.ts') {
        assert.doesNotMatch(text, /keys\/signer\.ts|buildGrantClaims|signGrant|fallbackMetadata/, file);
        assert.match(text, /client\/grant-preview\.ts/, `${file} uses the client's composition`);
      }
    }
  });
});
