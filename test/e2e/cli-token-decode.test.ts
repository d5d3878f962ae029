/**
 * `maskinporten token` and `maskinporten decode`, built and run in this process by default (runCliProcess where a real
 * process is needed) against an emulator started in this process: every output format, the Altinn exchange,
 * delegations, resources, system users, pid, --dry-run (which calls nobody), settings from appsettings files +
 * environment variables or from flags; decoding from an argument or stdin, expiry in human terms, and --verify against
 * the issuer's published keys.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CreatedClient } from '../../src/emulator/index.ts';
import { generateRsaKeyPair, importPrivateJwk } from '../../src/keys/jwk.ts';
import { type JwsHeader, signCompact } from '../../src/keys/jws.ts';
import { useEmulator } from '../helpers/emulator.ts';
import {
  assertBuilt,
  type CliResult,
  failure,
  headerOf,
  jwtsIn,
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

const SCOPE = 'test:read';
const NOTIFICATIONS = 'altinn:serviceowner/notifications.create';
const DELEGATED = 'test:delegated';
const CONSUMER_ORG = '310000001';
const SYSTEM_USER_ORG = '310000002';
const PID = '01017012345';

describe('maskinporten token and decode (built CLI)', () => {
  const emulator = useEmulator();
  let client: CreatedClient;
  let dir: string;
  let keyFile: string;
  let flags: string[];
  let altinnIssuer: string;
  const secrets = new Secrets();

  /** Runs the CLI; a token command may print access tokens of the emulator, nothing else secret. */
  const run = async (args: string[], options: RunOptions & { subprocess?: boolean } = {}): Promise<CliResult> =>
    secrets.check(await (options.subprocess ? runCliProcess : runCli)(args, options), {
      tokensFrom: [emulator.issuer, altinnIssuer],
    });
  /** Runs a command that must print no token at all. */
  const runQuiet = async (args: string[], options: RunOptions & { subprocess?: boolean } = {}): Promise<CliResult> =>
    secrets.check(await (options.subprocess ? runCliProcess : runCli)(args, options));
  /** The single token a raw run printed. */
  const tokenOf = (r: CliResult): string => {
    const tokens = jwtsIn(r.stdout);
    assert.equal(tokens.length, 1, show(r));
    return tokens[0]!;
  };

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-token-'));
    altinnIssuer = `${emulator.url}/authentication/api/v1/openid/`;
    client = await emulator.createClient({ scopes: [SCOPE, NOTIFICATIONS, DELEGATED], clientName: 'cli-token' });
    secrets.addJwkBase64(client.jwkBase64!).addJwkBase64(emulator.adminClient.jwkBase64);
    keyFile = join(dir, 'jwk.base64');
    writeFileSync(keyFile, `${client.jwkBase64}\n`, { mode: 0o600 });
    flags = [
      '--authority',
      emulator.issuer,
      '--client-id',
      client.clientId,
      '--key-file',
      keyFile,
      '--altinn-platform-url',
      emulator.altinnPlatformUrl,
    ];
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('token', () => {
    it('raw (default): the token alone on one line, from a real request', TIMEOUT, async () => {
      emulator.requests.clear();
      const r = ok(await run(['token', ...flags, '--scope', SCOPE], { subprocess: true }));
      assert.equal(r.stderr, '');
      const token = tokenOf(r);
      assert.equal(r.stdout, `${token}\n`, 'nothing but the token');
      const claims = payloadOf(token);
      assert.equal(claims.iss, emulator.issuer);
      assert.equal(claims.client_id, client.clientId);
      assert.equal(claims.scope, SCOPE);
      const log = emulator.requests.entries({ endpoint: 'token' });
      assert.equal(log.length, 1);
      assert.equal(log[0]!.outcome, 'ok');
      // The grant the CLI sent: signed with the key's kid, for this audience, living 60 s.
      assert.equal(log[0]!.grant?.header.kid, client.kid);
      assert.equal(log[0]!.grant?.claims.aud, emulator.issuer);
      const grant = log[0]!.grant!.claims as { iat: number; exp: number };
      assert.equal(grant.exp - grant.iat, 60);
    });

    it('--output json (and --json): the token with its kind, expiry, scopes and claims', TIMEOUT, async () => {
      for (const flag of [['--output', 'json'], ['--json']]) {
        const r = ok(await run(['token', ...flags, '--scope', SCOPE, ...flag]));
        const body = JSON.parse(r.stdout) as {
          access_token: string;
          token_type: string;
          kind: string;
          expires_at: string;
          scopes: string[];
          claims: Record<string, unknown>;
        };
        assert.equal(jwtsIn(body.access_token).length, 1);
        assert.equal(body.token_type, 'Bearer');
        assert.equal(body.kind, 'maskinporten');
        assert.deepEqual(body.scopes, [SCOPE]);
        assert.equal(new Date(body.expires_at).getTime(), Number(body.claims.exp) * 1000);
        assert.deepEqual(body.claims, payloadOf(body.access_token));
      }
      usageError(await run(['token', ...flags, '--scope', SCOPE, '--json', '--output', 'raw']), /contradict/);
    });

    it('--output header, curl and export', TIMEOUT, async () => {
      const header = ok(await run(['token', ...flags, '--scope', SCOPE, '--output', 'header']));
      assert.match(header.stdout, /^Authorization: Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
      const curl = ok(await run(['token', ...flags, '--scope', SCOPE, '--output', 'curl']));
      assert.match(curl.stdout, /^curl -H 'Authorization: Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+' '<API-URL>'\n$/);
      const exported = ok(await run(['token', ...flags, '--scope', SCOPE, '--output', 'export']));
      assert.match(exported.stdout, /^export MASKINPORTEN_TOKEN='eyJ[\w-]+\.[\w-]+\.[\w-]+'\n$/);
      for (const r of [header, curl, exported]) assert.equal(payloadOf(tokenOf(r)).client_id, client.clientId);
      // What eval makes of the export line is the token, exactly.
      const shell = spawnSync('/bin/sh', ['-c', `eval "$1"; printf %s "$MASKINPORTEN_TOKEN"`, 'sh', exported.stdout]);
      assert.equal(shell.stdout.toString(), tokenOf(exported));
      usageError(await run(['token', ...flags, '--scope', SCOPE, '--output', 'yaml']), /--output/);
    });

    it('a hostile token endpoint gets no shell command run: tokens outside token68 are refused', {
      timeout: 240_000,
    }, async () => {
      const marker = join(dir, 'pwned');
      let answer = '';
      const server = createServer((req, res) => {
        if (req.method === 'POST' && req.url === '/token') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: answer, token_type: 'Bearer', expires_in: 120, scope: SCOPE }));
          return;
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      try {
        const hostile = [
          '--authority',
          `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
          '--client-id',
          client.clientId,
          '--key-file',
          keyFile,
          '--scope',
          SCOPE,
        ];
        for (const bad of [`x;touch ${marker}`, `x$(touch ${marker})`, `x' ; touch ${marker} ; '`, 'x y', 'a\nb']) {
          answer = bad;
          for (const output of bad.startsWith('x;') ? ['export', 'curl', 'raw'] : ['export']) {
            const r = await run(['token', ...hostile, '--output', output]);
            assert.equal(r.code, 1, show(r));
            assert.equal(r.stdout, '', show(r));
            // Refused by the client or by the command line's own check; either way nothing reaches a shell.
            assert.match(r.stderr, /token68|access token/, show(r));
            const shell = spawnSync('/bin/sh', ['-c', `eval "$1"`, 'sh', r.stdout]);
            assert.equal(shell.status, 0);
          }
        }
        assert.ok(!existsSync(marker), 'no command ran');
        // An opaque token in the token68 alphabet is printed, quoted.
        answer = 'opaque-Token.123~+/=';
        const r = ok(await run(['token', ...hostile, '--output', 'export']));
        assert.equal(r.stdout, "export MASKINPORTEN_TOKEN='opaque-Token.123~+/='\n");
      } finally {
        server.close();
      }
    });

    it('--altinn --altinn-test exchanges for an Altinn token acting as ttd', TIMEOUT, async () => {
      emulator.requests.clear();
      const r = ok(await run(['token', ...flags, '--scope', NOTIFICATIONS, '--altinn', '--altinn-test']));
      const claims = payloadOf(tokenOf(r));
      assert.equal(claims.iss, altinnIssuer);
      assert.equal(claims['urn:altinn:org'], 'ttd', '?test=true: Digdir acts as ttd');
      assert.equal(claims['urn:altinn:orgNumber'], client.orgNo);
      const exchange = emulator.requests.entries({ endpoint: 'exchange' });
      assert.equal(exchange.length, 1, 'one exchange after one token request');
      assert.equal(emulator.requests.entries({ endpoint: 'token' }).length, 1);

      const real = ok(await run(['token', ...flags, '--scope', NOTIFICATIONS, '--altinn']));
      assert.equal(payloadOf(tokenOf(real))['urn:altinn:org'], 'digdir', 'without --altinn-test: the real org code');
      const exported = ok(await run(['token', ...flags, '--scope', NOTIFICATIONS, '--altinn', '--output', 'export']));
      assert.match(exported.stdout, /^export ALTINN_TOKEN='eyJ/);
      const json = JSON.parse(
        ok(await run(['token', ...flags, '--scope', NOTIFICATIONS, '--altinn', '--json'])).stdout,
      );
      assert.equal(json.kind, 'altinn');
      usageError(
        await run(['token', ...flags, '--scope', NOTIFICATIONS, '--altinn-test']),
        /--altinn-test needs --altinn/,
      );
    });

    it('--consumer-org uses a registered delegation; without one the request fails with exit 1', TIMEOUT, async () => {
      const refused = failure(await run(['token', ...flags, '--scope', DELEGATED, '--consumer-org', CONSUMER_ORG]));
      assert.ok(!refused.stderr.includes('eyJ'), 'no grant in the error');
      emulator.addDelegation({ consumerOrg: CONSUMER_ORG, supplierOrg: client.orgNo, scope: DELEGATED });
      const r = ok(await run(['token', ...flags, '--scope', DELEGATED, '--consumer-org', CONSUMER_ORG]));
      const claims = payloadOf(tokenOf(r)) as { consumer: { ID: string }; supplier?: { ID: string } };
      assert.equal(claims.consumer.ID, `0192:${CONSUMER_ORG}`);
      assert.equal(claims.supplier?.ID, `0192:${client.orgNo}`);
      usageError(await run(['token', ...flags, '--scope', DELEGATED, '--consumer-org']));
    });

    it('--resource restricts the audience (repeatable)', TIMEOUT, async () => {
      const one = ok(await run(['token', ...flags, '--scope', SCOPE, '--resource', 'https://api.example.no/']));
      assert.equal(payloadOf(tokenOf(one)).aud, 'https://api.example.no/');
      emulator.requests.clear();
      const two = ok(
        await run([
          'token',
          ...flags,
          '--scope',
          SCOPE,
          '--resource',
          'https://a.example.no/',
          '--resource',
          'https://b.example.no/',
        ]),
      );
      assert.ok(jwtsIn(two.stdout).length === 1);
      assert.deepEqual(emulator.requests.entries({ endpoint: 'token' })[0]!.grant?.claims.resource, [
        'https://a.example.no/',
        'https://b.example.no/',
      ]);
    });

    it('--system-user-org gets a system user token for a registered system user', TIMEOUT, async () => {
      // One made without an externalRef (asked for without one) and one made with it (asked for only with it).
      const user = emulator.addSystemUser({ org: SYSTEM_USER_ORG, clientIds: [client.clientId] });
      emulator.addSystemUser({ org: SYSTEM_USER_ORG, clientIds: [client.clientId], externalRef: 'ref-1' });
      const r = ok(await run(['token', ...flags, '--scope', SCOPE, '--system-user-org', SYSTEM_USER_ORG]));
      const details = payloadOf(tokenOf(r)).authorization_details as Record<string, unknown>[];
      assert.equal(details[0]!.type, 'urn:altinn:systemuser');
      assert.deepEqual(details[0]!.systemuser_id, [user.id]);
      assert.deepEqual(details[0]!.systemuser_org, {
        authority: 'iso6523-actorid-upis',
        ID: `0192:${SYSTEM_USER_ORG}`,
      });
      const withRef = ok(
        await run([
          'token',
          ...flags,
          '--scope',
          SCOPE,
          '--system-user-org',
          SYSTEM_USER_ORG,
          '--system-user-ref',
          'ref-1',
        ]),
      );
      assert.equal(
        (payloadOf(tokenOf(withRef)).authorization_details as { externalRef: string }[])[0]!.externalRef,
        'ref-1',
      );
      failure(await run(['token', ...flags, '--scope', SCOPE, '--system-user-org', '310000099']));
      usageError(await run(['token', ...flags, '--scope', SCOPE, '--system-user-ref', 'ref-1']), /--system-user-org/);
    });

    it('--pid binds the token to a person', TIMEOUT, async () => {
      const r = ok(await run(['token', ...flags, '--scope', SCOPE, '--pid', PID]));
      assert.equal(payloadOf(tokenOf(r)).pid, PID);
    });

    it('--dry-run prints the grant header and claims and makes no request', TIMEOUT, async () => {
      emulator.requests.clear();
      const r = ok(
        await runQuiet([
          'token',
          ...flags,
          '--scope',
          SCOPE,
          '--consumer-org',
          CONSUMER_ORG,
          '--resource',
          'https://api.example.no/',
          '--pid',
          PID,
          '--dry-run',
        ]),
      );
      assert.deepEqual(emulator.requests.entries(), [], 'the emulator saw no request at all');
      const shown = JSON.parse(r.stdout) as {
        header: Record<string, unknown>;
        claims: Record<string, unknown> & { iat: number; exp: number; jti: string };
        tokenEndpoint: string;
      };
      assert.deepEqual(shown.header, { alg: 'RS256', kid: client.kid });
      assert.equal(shown.claims.aud, emulator.issuer);
      assert.equal(shown.claims.iss, client.clientId);
      assert.equal(shown.claims.scope, SCOPE);
      assert.equal(shown.claims.consumer_org, CONSUMER_ORG);
      assert.deepEqual(shown.claims.resource, ['https://api.example.no/']);
      assert.equal(shown.claims.pid, PID);
      assert.equal(shown.claims.exp - shown.claims.iat, 60, 'the lifetime a real request uses');
      assert.equal(typeof shown.claims.jti, 'string');
      assert.equal(shown.tokenEndpoint, `${emulator.url}/token`);

      // Nothing is contacted: an authority where nothing listens works just as well.
      const offline = ok(
        await runQuiet([
          'token',
          '--authority',
          'http://127.0.0.1:9/',
          '--client-id',
          client.clientId,
          '--key-file',
          keyFile,
          '--scope',
          SCOPE,
          '--dry-run',
        ]),
      );
      assert.equal((JSON.parse(offline.stdout) as { claims: { aud: string } }).claims.aud, 'http://127.0.0.1:9/');
      assert.deepEqual(emulator.requests.entries(), []);
    });

    it('loads settings from appsettings.json + appsettings.{env}.json + environment variables', TIMEOUT, async () => {
      const config = join(dir, 'app');
      mkdirSync(config, { recursive: true });
      writeFileSync(
        join(config, 'appsettings.json'),
        JSON.stringify({ MaskinportenSettings: { Authority: emulator.issuer, ClientId: 'not-this-one' } }),
      );
      writeFileSync(
        join(config, 'appsettings.Staging.json'),
        JSON.stringify({
          MaskinportenSettings: { ClientId: client.clientId, AltinnPlatformUrl: emulator.altinnPlatformUrl },
        }),
      );
      const env = { MaskinportenSettings__JwkBase64: client.jwkBase64! };
      emulator.requests.clear();
      const r = ok(await run(['token', '--config-dir', config, '--environment', 'Staging', '--scope', SCOPE], { env }));
      assert.equal(
        payloadOf(tokenOf(r)).client_id,
        client.clientId,
        'appsettings.Staging.json wins over appsettings.json',
      );

      // The environment comes from DOTNET_ENVIRONMENT (or NODE_ENV) as in an app; the working directory is the default.
      const viaEnv = ok(
        await run(['token', '--scope', NOTIFICATIONS, '--altinn'], {
          cwd: config,
          env: { ...env, DOTNET_ENVIRONMENT: 'Staging' },
        }),
      );
      assert.equal(payloadOf(tokenOf(viaEnv)).iss, altinnIssuer);

      // Without the environment file, the base file's client id is used — and refused.
      failure(await run(['token', '--config-dir', config, '--scope', SCOPE], { env }), /not-this-one/);

      // Environment variables win over the files; flags win over everything.
      ok(
        await run(['token', '--config-dir', config, '--scope', SCOPE], {
          env: { ...env, MaskinportenSettings__ClientId: client.clientId },
        }),
      );
      const flagged = ok(
        await run(['token', '--config-dir', config, '--scope', SCOPE, '--client-id', client.clientId], { env }),
      );
      assert.equal(payloadOf(tokenOf(flagged)).client_id, client.clientId);

      // Another section, given by --section, with its own environment variables.
      const section = ok(
        await run(['token', '--section', 'Integrations:Internal', '--scope', SCOPE], {
          cwd: dir,
          env: {
            Integrations__Internal__Authority: emulator.issuer,
            Integrations__Internal__ClientId: client.clientId,
            Integrations__Internal__JwkBase64: client.jwkBase64!,
          },
        }),
      );
      assert.equal(payloadOf(tokenOf(section)).client_id, client.clientId);

      // A JSON secrets file (what init writes) holds the key.
      const secretsFile = join(dir, 'secrets.json');
      writeFileSync(secretsFile, JSON.stringify({ MaskinportenSettings: { JwkBase64: client.jwkBase64 } }), {
        mode: 0o600,
      });
      ok(
        await run([
          'token',
          '--config-dir',
          config,
          '--environment',
          'Staging',
          '--secrets-file',
          secretsFile,
          '--scope',
          SCOPE,
        ]),
      );
      usageError(
        await run(['token', '--config-dir', config, '--secrets-file', join(dir, 'missing.json'), '--scope', SCOPE]),
        /missing\.json/,
      );
    });

    it('takes the key as a JWK file too, and --authority test|prod presets', TIMEOUT, async () => {
      const jwkFile = join(dir, 'private.jwk.json');
      writeFileSync(jwkFile, JSON.stringify(client.privateJwk), { mode: 0o600 });
      ok(
        await run([
          'token',
          '--authority',
          emulator.issuer,
          '--client-id',
          client.clientId,
          '--key-file',
          jwkFile,
          '--scope',
          SCOPE,
        ]),
      );
      const preset = ok(
        await runQuiet([
          'token',
          '--authority',
          'test',
          '--client-id',
          'x',
          '--key-file',
          jwkFile,
          '--scope',
          SCOPE,
          '--dry-run',
        ]),
      );
      assert.equal(
        (JSON.parse(preset.stdout) as { claims: { aud: string } }).claims.aud,
        'https://test.maskinporten.no/',
      );
    });

    it(
      'mistakes are usage errors (2); refusals and bad settings are failures (1), never with a secret',
      TIMEOUT,
      async () => {
        usageError(await run(['token', ...flags]), /--scope is required/);
        usageError(await run(['token', ...flags, '--scope', SCOPE, '--nope']));
        usageError(await run(['token', ...flags, '--scope', SCOPE, '--key-file', join(dir, 'absent')]), /absent/);
        failure(await run(['token', ...flags, '--scope', 'not:registered']), /not:registered|scope/i);
        failure(await run(['token', '--scope', SCOPE], { cwd: dir }), /ClientId|Authority|settings/);
        failure(
          await run(['token', '--scope', SCOPE], {
            cwd: dir,
            env: {
              MaskinportenSettings__Authority: emulator.issuer,
              MaskinportenSettings__ClientId: client.clientId,
              MaskinportenSettings__JwkBase64: 'bm90IGEga2V5IGJ1dCBzZWNyZXQtbG9va2luZw==',
            },
          }),
          /JwkBase64/,
        );
      },
    );
  });

  // decode reads the token it is given (and --verify the emulator's keys): the tests share nothing and run two at a time.
  describe('decode', { concurrency: 2 }, () => {
    let token: string;
    before(async () => {
      token = tokenOf(ok(await run(['token', ...flags, '--scope', SCOPE])));
    });

    it('shows the header, claims and expiry in human terms, from an argument', TIMEOUT, async () => {
      const r = ok(await runQuiet(['decode', token]));
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^Header\n/);
      assert.ok(r.stdout.includes(JSON.stringify(headerOf(token), null, 2)));
      assert.ok(r.stdout.includes(JSON.stringify(payloadOf(token), null, 2)));
      assert.match(r.stdout, /\nExpires in (\d+ min( \d+ s)?|\d+ s) \(\d{4}-\d\d-\d\dT[\d:.]+Z\)\n/);
      assert.ok(!r.stdout.includes(token.split('.')[2]!), 'never the signature');
    });

    it('reads stdin (no argument, or -), strips "Bearer ", and --json gives the parts', TIMEOUT, async () => {
      for (const [args, subprocess] of [
        [['decode'], true],
        [['decode', '-'], false],
      ] as const) {
        const r = ok(await runQuiet([...args], { input: `${token}\n`, subprocess }));
        assert.ok(r.stdout.includes(`"client_id": "${client.clientId}"`), show(r));
      }
      const r = ok(await runQuiet(['decode', '--json'], { input: `Bearer ${token}` }));
      const body = JSON.parse(r.stdout) as {
        header: Record<string, unknown>;
        claims: Record<string, unknown>;
        expiresIn: number;
      };
      assert.deepEqual(body.header, headerOf(token));
      assert.deepEqual(body.claims, payloadOf(token));
      assert.equal(typeof body.expiresIn, 'number');
      assert.ok(body.expiresIn > 0 && body.expiresIn <= 120);
      assert.ok(!('verified' in body));
    });

    it('says how long ago an expired token expired', TIMEOUT, async () => {
      const { privateJwk } = await generateRsaKeyPair();
      secrets.addJwk(privateJwk as unknown as Record<string, unknown>);
      const now = Math.floor(Date.now() / 1000);
      const old = signCompact(
        { alg: 'RS256', kid: privateJwk.kid },
        { iss: 'https://issuer.example/', iat: now - 3 * 3600 - 400, exp: now - 3 * 3600 - 280 },
        importPrivateJwk(privateJwk),
      );
      const r = ok(await runQuiet(['decode', old]));
      assert.match(r.stdout, /\nExpired 3 h \d+ min ago \(/);
      const days = signCompact(
        { alg: 'RS256' },
        { exp: now + 2 * 86400 + 3 * 3600 + 30 },
        importPrivateJwk(privateJwk),
      );
      assert.match(ok(await runQuiet(['decode', days])).stdout, /\nExpires in 2 d 3 h \(/);
    });

    it(
      '--verify checks the signature against the published keys of a trusted issuer and says which issuer',
      TIMEOUT,
      async () => {
        const trust = ['--authority', emulator.issuer, '--issuer', altinnIssuer];
        const r = ok(await runQuiet(['decode', '--verify', ...trust, token]));
        assert.ok(
          r.stdout.includes(
            `Signature verified against the issuer's published keys: issuer ${emulator.issuer} (--authority), key ${String(headerOf(token).kid)}`,
          ),
          show(r),
        );
        const json = JSON.parse(ok(await runQuiet(['decode', '--verify', '--json', ...trust, token])).stdout);
        assert.equal(json.verified, true);
        assert.equal(json.verifiedBy, emulator.issuer);

        const altinn = tokenOf(ok(await run(['token', ...flags, '--scope', NOTIFICATIONS, '--altinn'])));
        const a = ok(await runQuiet(['decode', '--verify', ...trust], { input: altinn }));
        assert.match(a.stdout, /Signature verified .*: issuer .*\/authentication\/api\/v1\/openid\/ \(--issuer\)/);
        // The emulator's issuer is no preset: without being named it is not trusted.
        const untrusted = await runQuiet(['decode', '--verify', token]);
        assert.equal(untrusted.code, 1, show(untrusted));
        assert.match(untrusted.stdout, /Signature NOT verified: the issuer ".*" is not a known issuer.*--issuer/);
        usageError(await runQuiet(['decode', '--authority', emulator.issuer, token]), /add --verify/);
        usageError(await runQuiet(['decode', '--verify', '--issuer', 'file:///etc/passwd', token]), /--issuer/);
      },
    );

    it('--verify never fetches a URL the token names, and needs the key its kid names', TIMEOUT, async () => {
      // An issuer that publishes one key, recording every request it gets.
      const { privateJwk, publicJwk } = await generateRsaKeyPair();
      secrets.addJwk(privateJwk as unknown as Record<string, unknown>);
      const seen: string[] = [];
      const server = createServer((req, res) => {
        seen.push(req.url ?? '');
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const body =
          req.url === '/jwk'
            ? { keys: [publicJwk] }
            : req.url === '/.well-known/oauth-authorization-server'
              ? { issuer: `${base}/`, jwks_uri: `${base}/jwk` }
              : undefined;
        res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      try {
        const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const now = Math.floor(Date.now() / 1000);
        const sign = (header: JwsHeader) =>
          signCompact(header, { iss: issuer, iat: now, exp: now + 60 }, importPrivateJwk(privateJwk));
        // A self-signed token naming its own issuer: not trusted, and the issuer is never asked.
        const selfSigned = await runQuiet(['decode', '--verify', sign({ alg: 'RS256', kid: publicJwk.kid! })]);
        assert.equal(selfSigned.code, 1, show(selfSigned));
        assert.match(selfSigned.stdout, /not a known issuer/);
        assert.deepEqual(seen, [], 'the issuer the token names was never fetched');
        // Trusted by name, the right kid verifies; another kid does not fall back to the only key.
        const good = ok(
          await runQuiet(['decode', '--verify', '--issuer', issuer, sign({ alg: 'RS256', kid: publicJwk.kid! })]),
        );
        assert.match(good.stdout, new RegExp(`issuer ${issuer} \\(--issuer\\), key ${publicJwk.kid}`));
        const otherKid = await runQuiet([
          'decode',
          '--verify',
          '--issuer',
          issuer,
          sign({ alg: 'RS256', kid: 'other' }),
        ]);
        assert.equal(otherKid.code, 1, show(otherKid));
        assert.match(otherKid.stdout, /publishes no key with kid other/);
        const noKid = await runQuiet(['decode', '--verify', '--issuer', issuer, sign({ alg: 'RS256' })]);
        assert.equal(noKid.code, 1, show(noKid));
        assert.match(noKid.stdout, /has no kid/);
      } finally {
        server.close();
      }
    });

    it('no token is a usage error; something that is not a JWT fails', TIMEOUT, async () => {
      usageError(await runQuiet(['decode'], { input: '' }), /no token/);
      usageError(await runQuiet(['decode', token, token]), /one token/);
      usageError(await runQuiet(['decode', '--nope', token]));
      failure(await runQuiet(['decode', `not-a-jwt-${randomBytes(4).toString('hex')}`]), /not a JWT/);
    });
  });
});
