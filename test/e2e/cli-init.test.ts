/**
 * `maskinporten init`, built and run in this process by default (runCliProcess where a real process is needed), without
 * a TTY and with flags, in a temporary working directory: registration through an emulator's self-service API,
 * appsettings.{env}.json without secrets, the secrets file (0600, git-ignored), the Key Vault names, the doctor command
 * it suggests actually passing, and the portal instructions when it does not register.
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
import { useEmulator } from '../helpers/emulator.ts';
import {
  adminEnv,
  assertBuilt,
  type CliResult,
  failure,
  jwtsIn,
  modeOf,
  ok,
  payloadOf,
  type RunOptions,
  runCli,
  runCliProcess,
  Secrets,
  show,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

const SCOPE = 'altinn:serviceowner/notifications.create';
const KEY_VAULT_NAMES = [
  'MaskinportenSettings--Authority',
  'MaskinportenSettings--ClientId',
  'MaskinportenSettings--JwkBase64',
];

function hasGit(): boolean {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('maskinporten init without a TTY (built CLI)', () => {
  const emulator = useEmulator();
  let dir: string;
  let n = 0;
  const secrets = new Secrets();
  /** A fresh empty working directory. */
  const workdir = () => {
    const d = join(dir, `cwd-${++n}`);
    mkdirSync(d);
    return d;
  };
  /** Runs a command in `cwd`, learns the key init wrote there (if any), and checks the output for secrets. */
  const run = async (
    args: string[],
    cwd: string,
    options: RunOptions & { subprocess?: boolean } = {},
  ): Promise<CliResult> => {
    const r = await (options.subprocess ? runCliProcess : runCli)(args, { cwd, ...options });
    // The private key's one copy: JwkBase64 in the secrets file.
    const secretsFile = join(cwd, '.maskinporten-secrets.json');
    if (existsSync(secretsFile)) secrets.addKeyFile(secretsFile);
    return secrets.check(
      r,
      args[0] === 'token' ? { tokensFrom: [emulator.issuer, `${emulator.url}/authentication/api/v1/openid/`] } : {},
    );
  };
  /** How many clients the admin's organisation has, through the CLI itself. */
  const clientCount = async () => {
    const r = secrets.check(await runCli(['clients', 'list', '--json'], { cwd: dir, env: adminEnv(emulator) }));
    return (JSON.parse(ok(r).stdout) as unknown[]).length;
  };

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-init-'));
    secrets.addJwkBase64(emulator.adminClient.jwkBase64);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    '--register: registers through the self-service API and writes settings, secrets and .gitignore',
    TIMEOUT,
    async () => {
      const cwd = workdir();
      const gitRepo = hasGit();
      if (gitRepo) execFileSync('git', ['init', '-q'], { cwd });
      emulator.requests.clear();
      const r = ok(
        await run(
          [
            'init',
            '--environment',
            'test',
            '--scope',
            SCOPE,
            '--name',
            'my-app',
            '--description',
            'Notifications',
            '--register',
            '--authority',
            emulator.issuer,
          ],
          cwd,
          { env: adminEnv(emulator), subprocess: true },
        ),
      );
      assert.equal(r.stderr, '');
      for (const step of [
        '1. Key pair',
        '2. Registration',
        '3. Settings without secrets',
        '4. Secrets',
        '5. Key Vault secret names',
      ]) {
        assert.ok(r.stdout.includes(step), `${step}\n${show(r)}`);
      }
      const clientId = /registered my-app: client id ([0-9a-f-]{36})/.exec(r.stdout)?.[1];
      assert.ok(clientId, show(r));
      // Registered on the self-service API's /api/v1, as Digdir's live API is.
      assert.deepEqual(
        emulator.requests.entries({ endpoint: 'self-service' }).map((e) => `${e.method} ${e.path} ${e.status}`),
        ['POST /api/v1/clients 201', `POST /api/v1/clients/${clientId}/jwks 201`],
      );

      // The key: made here, written once (the secrets file), registered on the new client with the scope.
      const keys = join(cwd, 'maskinporten-keys');
      assert.deepEqual(readdirSync(keys), ['public.jwk.json'], 'no private key file beside the secrets file');
      const secretsFile = join(cwd, '.maskinporten-secrets.json');
      const stored = JSON.parse(readFileSync(secretsFile, 'utf8')) as { MaskinportenSettings: { JwkBase64: string } };
      const privateJwk = JSON.parse(Buffer.from(stored.MaskinportenSettings.JwkBase64, 'base64').toString('utf8')) as {
        kid: string;
        n: string;
      };
      const registered = emulator.getClient(clientId)!;
      assert.equal(registered.clientName, 'my-app');
      assert.equal(registered.description, 'Notifications');
      assert.deepEqual(registered.scopes, [SCOPE]);
      assert.deepEqual(
        registered.keys.map((k) => [k.jwk.kid, k.jwk.n]),
        [[privateJwk.kid, privateJwk.n]],
      );

      // appsettings.Staging.json: the authority and client id, no secret.
      const settingsText = readFileSync(join(cwd, 'appsettings.Staging.json'), 'utf8');
      assert.deepEqual(JSON.parse(settingsText), {
        MaskinportenSettings: { Authority: emulator.issuer, ClientId: clientId, AltinnPlatformUrl: emulator.url },
      });
      for (const secret of secrets.values) assert.ok(!settingsText.includes(secret), 'no secret in appsettings');

      // The secret: in a 0600 file, git-ignored.
      assert.equal(modeOf(statSync(secretsFile)), 0o600);
      assert.deepEqual(readFileSync(join(cwd, '.gitignore'), 'utf8').split('\n'), ['.maskinporten-secrets.json', '']);
      if (gitRepo) {
        const ignored = execFileSync('git', ['check-ignore', '.maskinporten-secrets.json'], {
          cwd,
          encoding: 'utf8',
        });
        assert.deepEqual(ignored.trim().split('\n'), ['.maskinporten-secrets.json']);
        const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
          cwd,
          encoding: 'utf8',
        });
        assert.doesNotMatch(status, /secrets|private|jwk\.base64/, 'git sees no secret file');
      }

      // The Key Vault names.
      const names = r.stdout.slice(r.stdout.indexOf('5. Key Vault secret names'));
      for (const name of KEY_VAULT_NAMES) assert.ok(names.includes(name), name);

      // The check it suggests passes, and an app configured the same way gets a token.
      const suggested = /Check the setup with: maskinporten (doctor .*)$/m.exec(r.stdout)?.[1];
      assert.ok(suggested, show(r));
      const doctor = ok(await run(suggested.split(' '), cwd));
      assert.match(doctor.stdout, new RegExp(`✔ token: got a token for ${SCOPE.replaceAll('/', '\\/')}`), show(doctor));
      assert.match(doctor.stdout, /clientId \S+ from file .*appsettings\.Staging\.json/);
      assert.match(doctor.stdout, /key \(jwkBase64\) from secret file .*\.maskinporten-secrets\.json \[redacted\]/);
      const token = ok(
        await run(
          ['token', '--environment', 'Staging', '--secrets-file', '.maskinporten-secrets.json', '--scope', SCOPE],
          cwd,
        ),
      );
      assert.equal(payloadOf(jwtsIn(token.stdout)[0]!).client_id, clientId);
      assert.match(suggested, /--app-environment Staging/);
      // The emulator's Altinn exchange is written too, so the Altinn token works from the settings alone.
      const altinn = ok(
        await run(
          [
            'token',
            '--app-environment',
            'Staging',
            '--secrets-file',
            '.maskinporten-secrets.json',
            '--scope',
            SCOPE,
            '--altinn',
          ],
          cwd,
        ),
      );
      assert.equal(payloadOf(jwtsIn(altinn.stdout)[0]!).iss, `${emulator.url}/authentication/api/v1/openid/`);
    },
  );

  it(
    'without --register and without --client-id: the portal instructions and the public key array',
    TIMEOUT,
    async () => {
      const cwd = workdir();
      const before = await clientCount();
      const r = ok(await run(['init', '--scope', SCOPE, '--name', 'portal-app'], cwd));
      assert.match(r.stdout, /Samarbeidsportalen/);
      assert.match(r.stdout, /Ny integrasjon/);
      assert.ok(r.stdout.includes(`scopes: ${SCOPE}`));
      const arrayLine = r.stdout.split('\n').find((l) => l.startsWith('[{'));
      assert.ok(arrayLine, show(r));
      const printed = JSON.parse(arrayLine) as Record<string, unknown>[];
      const file = JSON.parse(readFileSync(join(cwd, 'maskinporten-keys', 'public.jwk.json'), 'utf8')) as unknown;
      assert.deepEqual(printed, file, 'exactly what public.jwk.json holds');
      assert.equal(printed.length, 1);
      assert.ok(!('d' in printed[0]!));
      assert.match(r.stdout, /set MaskinportenSettings:ClientId to it in .*appsettings\.Staging\.json/);
      assert.doesNotMatch(r.stdout, /init … --client-id/, 'running init again would make another key');
      assert.equal(await clientCount(), before, 'nothing registered');
      assert.deepEqual(JSON.parse(readFileSync(join(cwd, 'appsettings.Staging.json'), 'utf8')), {
        MaskinportenSettings: { Authority: 'https://test.maskinporten.no/' },
      });
      assert.equal(modeOf(statSync(join(cwd, '.maskinporten-secrets.json'))), 0o600);
    },
  );

  it(
    'with --client-id: no registration, the id in the settings; --environment prod defaults to Production',
    TIMEOUT,
    async () => {
      const cwd = workdir();
      const r = ok(
        await run(
          [
            'init',
            '--environment',
            'prod',
            '--scope',
            SCOPE,
            '--client-id',
            'portal-made-id',
            '--config-dir',
            'config',
          ],
          cwd,
        ),
      );
      assert.doesNotMatch(r.stdout, /Samarbeidsportalen/);
      assert.deepEqual(JSON.parse(readFileSync(join(cwd, 'config', 'appsettings.Production.json'), 'utf8')), {
        MaskinportenSettings: { Authority: 'https://maskinporten.no/', ClientId: 'portal-made-id' },
      });
      assert.match(r.stdout, /doctor --config-dir config --app-environment Production/);
    },
  );

  it(
    'keeps what an existing appsettings file holds; --section, --app-environment, --secrets-file',
    TIMEOUT,
    async () => {
      const cwd = workdir();
      writeFileSync(join(cwd, 'appsettings.Development.json'), JSON.stringify({ Logging: { Level: 'Debug' } }));
      writeFileSync(join(cwd, '.gitignore'), 'node_modules');
      const r = ok(
        await run(
          [
            'init',
            '--scope',
            SCOPE,
            '--client-id',
            'abc',
            '--section',
            'MaskinportenSettingsInternal',
            '--app-environment',
            'Development',
            '--secrets-file',
            'secrets/maskinporten.json',
            '--out-dir',
            'keys/2026',
          ],
          cwd,
        ),
      );
      assert.deepEqual(JSON.parse(readFileSync(join(cwd, 'appsettings.Development.json'), 'utf8')), {
        Logging: { Level: 'Debug' },
        MaskinportenSettingsInternal: { Authority: 'https://test.maskinporten.no/', ClientId: 'abc' },
      });
      const secretsFile = join(cwd, 'secrets', 'maskinporten.json');
      assert.equal(modeOf(statSync(secretsFile)), 0o600);
      assert.ok('MaskinportenSettingsInternal' in (JSON.parse(readFileSync(secretsFile, 'utf8')) as object));
      assert.equal(readFileSync(join(cwd, '.gitignore'), 'utf8'), 'node_modules\nsecrets/maskinporten.json\n');
      assert.match(r.stdout, /MaskinportenSettingsInternal--JwkBase64/);
      assert.match(r.stdout, /--section MaskinportenSettingsInternal --secrets-file secrets\/maskinporten\.json/);
    },
  );

  it(
    'refuses to replace keys without --force, changing nothing; --force replaces without duplicating .gitignore',
    TIMEOUT,
    async () => {
      const cwd = workdir();
      ok(await run(['init', '--scope', SCOPE, '--client-id', 'one'], cwd));
      const snapshot = () =>
        Object.fromEntries(
          [
            '.gitignore',
            '.maskinporten-secrets.json',
            'appsettings.Staging.json',
            'maskinporten-keys/public.jwk.json',
          ].map((f) => [f, readFileSync(join(cwd, f), 'utf8')]),
        );
      const first = snapshot();
      usageError(await run(['init', '--scope', SCOPE, '--client-id', 'two'], cwd), /--force/);
      assert.deepEqual(snapshot(), first, 'nothing changed');
      // A secrets file in the way is found before anything is registered.
      const other = workdir();
      writeFileSync(join(other, '.maskinporten-secrets.json'), '{}');
      const before = await clientCount();
      usageError(
        await run(['init', '--scope', SCOPE, '--register', '--authority', emulator.issuer], other, {
          env: adminEnv(emulator),
        }),
        /maskinporten-secrets\.json: use --force/,
      );
      assert.equal(await clientCount(), before, 'no client registered');
      assert.deepEqual(readdirSync(other), ['.maskinporten-secrets.json']);

      ok(await run(['init', '--scope', SCOPE, '--client-id', 'two', '--force'], cwd));
      const second = snapshot();
      assert.notEqual(second['maskinporten-keys/public.jwk.json'], first['maskinporten-keys/public.jwk.json']);
      assert.notEqual(second['.maskinporten-secrets.json'], first['.maskinporten-secrets.json'], 'a new key');
      assert.equal(second['.gitignore'], first['.gitignore'], 'no duplicate entries');
      assert.match(second['appsettings.Staging.json']!, /"two"/);
    },
  );

  it('--json prints one summary object and nothing secret', TIMEOUT, async () => {
    const cwd = workdir();
    const r = ok(
      await run(
        ['init', '--scope', SCOPE, '--name', 'json-app', '--register', '--authority', emulator.issuer, '--json'],
        cwd,
        {
          env: adminEnv(emulator),
        },
      ),
    );
    const summary = JSON.parse(r.stdout) as {
      clientId: string;
      registered: boolean;
      kid: string;
      files: Record<string, string>;
      keyVaultSecretNames: Record<string, string>;
      next: string;
    };
    assert.equal(summary.registered, true);
    assert.ok(emulator.getClient(summary.clientId));
    assert.equal(summary.files.secrets, join(cwd, '.maskinporten-secrets.json'));
    assert.deepEqual(Object.values(summary.keyVaultSecretNames), KEY_VAULT_NAMES);
    assert.match(summary.next, /^maskinporten doctor /);
  });

  it(
    'mistakes: no scope is a usage error; missing admin credentials fail before any key is made',
    TIMEOUT,
    async () => {
      const cwd = workdir();
      usageError(await run(['init'], cwd), /--scope is required/);
      usageError(await run(['init', '--scope', SCOPE, '--environment', 'staging'], cwd), /test or prod/);
      usageError(await run(['init', '--scope', SCOPE, '--nope'], cwd));
      failure(await run(['init', '--scope', SCOPE, '--register'], cwd), /MaskinportenAdmin/);
      assert.deepEqual(readdirSync(cwd), [], 'no key, settings or secrets file left behind');
      writeFileSync(join(cwd, 'appsettings.Staging.json'), '{ "comment": // not JSON');
      usageError(await run(['init', '--scope', SCOPE, '--client-id', 'x'], cwd), /not plain JSON/);
      assert.deepEqual(
        readdirSync(cwd),
        ['appsettings.Staging.json'],
        'nothing made when the settings cannot be updated',
      );
    },
  );

  describe('.gitignore entries, checked with git check-ignore', () => {
    const ignoredByGit = (repo: string, path: string): boolean => {
      try {
        execFileSync('git', ['check-ignore', '-q', '--no-index', '--', path], { cwd: repo, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    const gitRepo = () => {
      const repo = workdir();
      execFileSync('git', ['init', '-q'], { cwd: repo });
      return repo;
    };
    /** Learns the key init wrote into the secrets file `file` (its one copy). */
    const keysIn = (file: string) => {
      if (existsSync(file)) secrets.addKeyFile(file);
    };

    it('--out-dir .: the public key stays committable, the secrets file is ignored', {
      ...TIMEOUT,
      skip: !hasGit(),
    }, async () => {
      const repo = gitRepo();
      const r = ok(await runCli(['init', '--scope', SCOPE, '--client-id', 'abc', '--out-dir', '.'], { cwd: repo }));
      keysIn(join(repo, '.maskinporten-secrets.json'));
      secrets.check(r);
      assert.equal(r.stderr, '');
      assert.deepEqual(readFileSync(join(repo, '.gitignore'), 'utf8').split('\n'), ['.maskinporten-secrets.json', '']);
      assert.ok(ignoredByGit(repo, '.maskinporten-secrets.json'));
      assert.ok(!existsSync(join(repo, 'private.jwk.json')), 'no second copy of the private key');
      assert.ok(!ignoredByGit(repo, 'public.jwk.json'), 'the public key may be committed');
    });

    it('../secrets.json from a subdirectory goes into the work tree’s top .gitignore', {
      ...TIMEOUT,
      skip: !hasGit(),
    }, async () => {
      const repo = gitRepo();
      const app = join(repo, 'app');
      mkdirSync(app);
      const r = ok(
        await runCli(['init', '--scope', SCOPE, '--client-id', 'abc', '--secrets-file', '../secrets.json'], {
          cwd: app,
        }),
      );
      keysIn(join(repo, 'secrets.json'));
      secrets.check(r);
      assert.equal(r.stderr, '');
      assert.deepEqual(readFileSync(join(repo, '.gitignore'), 'utf8').split('\n'), ['secrets.json', '']);
      assert.ok(!existsSync(join(app, '.gitignore')));
      assert.ok(ignoredByGit(repo, 'secrets.json'));
    });

    it('names with #, !, glob characters and trailing spaces are escaped', {
      ...TIMEOUT,
      skip: !hasGit(),
    }, async () => {
      const repo = gitRepo();
      // Files that the unescaped patterns would wrongly match, or fail to match.
      const name = '#keys [1]/!s*cret?.json  ';
      const r = ok(
        await runCli(['init', '--scope', SCOPE, '--client-id', 'abc', '--secrets-file', name], { cwd: repo }),
      );
      keysIn(join(repo, name));
      secrets.check(r);
      assert.equal(r.stderr, '');
      assert.deepEqual(readFileSync(join(repo, '.gitignore'), 'utf8').split('\n'), [
        '\\#keys \\[1\\]/\\!s\\*cret\\?.json\\ \\ ',
        '',
      ]);
      assert.ok(ignoredByGit(repo, name), JSON.stringify(name));
      for (const f of ['keys1/secret1.json', '#keys [1]/!s*cret?.json', '#keys 1/!secret1.json'])
        assert.ok(!ignoredByGit(repo, f), `${JSON.stringify(f)} is not matched by the escaped entry`);
    });

    it('warns when another rule re-includes the private file', { ...TIMEOUT, skip: !hasGit() }, async () => {
      const repo = gitRepo();
      // A negation after the entry re-includes the file: git check-ignore says so, and so does init.
      writeFileSync(join(repo, '.gitignore'), '.maskinporten-secrets.json\n!.maskinporten-secrets.json\n');
      const r = ok(await runCli(['init', '--scope', SCOPE, '--client-id', 'abc'], { cwd: repo }));
      keysIn(join(repo, '.maskinporten-secrets.json'));
      secrets.check(r);
      assert.match(r.stderr, /git does not ignore .*\.maskinporten-secrets\.json \(git check-ignore\)/);
    });
  });
});
