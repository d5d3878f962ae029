/**
 * The built `maskinporten emulator` command, run as a subprocess on the project's Node 24: the ready line, real
 * requests against it, clean shutdown on signals, usage errors.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importPrivateJwk } from '../../src/keys/jwk.ts';
import { signCompact } from '../../src/keys/jws.ts';
import { JWT_BEARER_GRANT_TYPE } from '../../src/protocol/constants.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLI = 'dist/cli/main.js';
const TIMEOUT = { timeout: 60_000 };

interface Run {
  child: ChildProcess;
  /** The first line the command prints on stdout. */
  firstLine: Promise<string>;
  stdout(): string;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(args: string[]): Run {
  const child = spawn(NODE, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => {
    out += c;
  });
  child.stderr!.on('data', (c: string) => {
    err += c;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  const firstLine = new Promise<string>((res, rej) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      res(line);
    });
    void exit.then(({ code }) => rej(new Error(`the command exited (${code}) before printing a line: ${err}`)));
  });
  firstLine.catch(() => {});
  return { child, firstLine, stdout: () => out, stderr: () => err, exit };
}

/** Runs the command to completion. */
async function runToEnd(args: string[]) {
  const run = runCli(args);
  const { code, signal } = await run.exit;
  return { code, signal, stdout: run.stdout(), stderr: run.stderr() };
}

interface ReadyLine {
  url: string;
  issuer: string;
  tokenEndpoint: string;
  altinnPlatformUrl: string;
  selfServiceUrl: string;
  adminClient: { clientId: string; kid: string; scopes: string[]; jwkBase64: string };
}

/** A Maskinporten token for the admin client the ready line describes. */
async function adminToken(ready: ReadyLine): Promise<string> {
  const jwk = JSON.parse(Buffer.from(ready.adminClient.jwkBase64, 'base64').toString('utf8')) as { kid: string };
  const now = Math.floor(Date.now() / 1000);
  const assertion = signCompact(
    { alg: 'RS256', kid: jwk.kid },
    {
      aud: ready.issuer,
      iss: ready.adminClient.clientId,
      scope: 'idporten:dcr.read idporten:dcr.write',
      iat: now,
      exp: now + 60,
      jti: randomBytes(16).toString('base64url'),
    },
    importPrivateJwk(jwk),
  );
  const res = await fetch(ready.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion }),
  });
  const body = (await res.json()) as { access_token?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.access_token!;
}

describe('maskinporten emulator (built CLI)', () => {
  let dir: string;

  before(() => {
    assert.ok(existsSync(join(ROOT, CLI)), `${CLI} is missing: build first (npx tsc -p tsconfig.build.json)`);
    assert.ok(existsSync(NODE), 'the project’s Node binary is missing: run npm ci');
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--json prints one JSON ready line, serves requests, and exits 0 on SIGTERM', TIMEOUT, async () => {
    const run = runCli(['emulator', '--json', '--port', '0']);
    try {
      const ready = JSON.parse(await run.firstLine) as ReadyLine;
      assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'binds 127.0.0.1 by default');
      assert.equal(ready.issuer, `${ready.url}/`);
      assert.equal(ready.tokenEndpoint, `${ready.url}/token`);
      assert.equal(ready.altinnPlatformUrl, ready.url);
      assert.equal(ready.selfServiceUrl, ready.url);
      assert.match(ready.adminClient.clientId, /^[0-9a-f-]{36}$/);
      assert.ok(ready.adminClient.scopes.includes('idporten:dcr.write'));
      const jwk = JSON.parse(Buffer.from(ready.adminClient.jwkBase64, 'base64').toString('utf8')) as Record<
        string,
        unknown
      >;
      assert.equal(jwk.kid, ready.adminClient.kid);
      assert.equal(jwk.kty, 'RSA');
      assert.equal(typeof jwk.d, 'string', 'jwkBase64 holds the key pair');

      const discovery = await fetch(`${ready.url}/.well-known/oauth-authorization-server`);
      assert.equal(discovery.status, 200);
      assert.equal(((await discovery.json()) as { issuer: string }).issuer, ready.issuer);

      // The admin client's credentials from the ready line work: token, then the self-service API.
      const token = await adminToken(ready);
      const clients = await fetch(`${ready.selfServiceUrl}/clients`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(clients.status, 200);
      const list = (await clients.json()) as { client_id: string }[];
      assert.ok(list.some((c) => c.client_id === ready.adminClient.clientId));

      assert.ok(run.child.kill('SIGTERM'));
      assert.deepEqual(await run.exit, { code: 0, signal: null });
      assert.equal(run.stderr(), '', 'no warnings on loopback');
      assert.equal(run.stdout().trim().split('\n').length, 1, '--json prints only the ready line');
      await assert.rejects(fetch(`${ready.url}/jwk`), 'the port is closed after exit');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('without --json prints a human ready line and stops cleanly on SIGINT', TIMEOUT, async () => {
    const run = runCli(['emulator']);
    try {
      const line = await run.firstLine;
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      assert.ok(url, line);
      assert.match(line, /development and tests only/);
      assert.equal((await fetch(`${url}/_emulator/health`)).status, 200);
      run.child.kill('SIGINT');
      assert.deepEqual(await run.exit, { code: 0, signal: null });
      assert.match(run.stdout(), /Emulator stopped\.\n$/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it(
    'writes the admin credentials as export lines to source (0600), never to the terminal; removed on stop',
    TIMEOUT,
    async () => {
      const file = join(dir, 'admin.env');
      const run = runCli(['emulator', '--admin-env', file]);
      try {
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(await run.firstLine)?.[1];
        assert.ok(url);
        for (let i = 0; i < 100 && !run.stdout().includes('admin credentials'); i++)
          await new Promise((r) => setTimeout(r, 50));
        assert.ok(run.stdout().includes(`admin credentials    source ${file}`), run.stdout());
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const jwkBase64 = /MaskinportenAdmin__JwkBase64='([^']+)'/.exec(readFileSync(file, 'utf8'))?.[1];
        assert.ok(jwkBase64 && !run.stdout().includes(jwkBase64), 'the key is in the file, not on the terminal');
        // Sourced in a shell, the file is all the admin commands need.
        const listed = spawnSync(
          '/bin/sh',
          ['-c', `. "$1" && "$2" "$3" clients list --json`, 'sh', file, NODE, join(ROOT, CLI)],
          {
            env: { PATH: process.env.PATH ?? '' },
            encoding: 'utf8',
          },
        );
        assert.equal(listed.status, 0, listed.stderr);
        assert.ok(
          (JSON.parse(listed.stdout) as { client_name: string }[]).some((c) => c.client_name === 'emulator-admin'),
        );
        run.child.kill('SIGINT');
        assert.deepEqual(await run.exit, { code: 0, signal: null });
        assert.ok(!existsSync(file), 'removed when the emulator stops');
      } finally {
        run.child.kill('SIGKILL');
      }
      // Without --admin-env: a private temporary file, named in the --json ready line.
      const json = runCli(['emulator', '--json']);
      try {
        const ready = JSON.parse(await json.firstLine) as { adminEnvFile: string };
        assert.match(
          readFileSync(ready.adminEnvFile, 'utf8'),
          /^export MaskinportenAdmin__Authority='http:\/\/127\.0\.0\.1:\d+\/'\n/,
        );
        assert.equal(statSync(dirname(ready.adminEnvFile)).mode & 0o777, 0o700);
        json.child.kill('SIGTERM');
        await json.exit;
        assert.ok(!existsSync(ready.adminEnvFile));
      } finally {
        json.child.kill('SIGKILL');
      }
    },
  );

  it('--port N listens on N', TIMEOUT, async () => {
    const port = await freePort();
    const run = runCli(['emulator', '--json', '--port', String(port)]);
    try {
      const ready = JSON.parse(await run.firstLine) as ReadyLine;
      assert.equal(ready.url, `http://127.0.0.1:${port}`);
      run.child.kill('SIGTERM');
      assert.equal((await run.exit).code, 0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('--state FILE keeps the admin client across runs, in a 0600 file', TIMEOUT, async () => {
    const stateFile = join(dir, 'state.json');
    const first = runCli(['emulator', '--json', '--state', stateFile]);
    let ready: ReadyLine;
    try {
      ready = JSON.parse(await first.firstLine) as ReadyLine;
      first.child.kill('SIGTERM');
      assert.equal((await first.exit).code, 0);
    } finally {
      first.child.kill('SIGKILL');
    }
    assert.equal(statSync(stateFile).mode & 0o777, 0o600);
    const second = runCli(['emulator', '--json', '--state', stateFile]);
    try {
      const again = JSON.parse(await second.firstLine) as ReadyLine;
      assert.equal(again.adminClient.clientId, ready.adminClient.clientId);
      assert.equal(again.adminClient.kid, ready.adminClient.kid);
      assert.equal(again.adminClient.jwkBase64, ready.adminClient.jwkBase64);
      second.child.kill('SIGTERM');
      assert.equal((await second.exit).code, 0);
    } finally {
      second.child.kill('SIGKILL');
    }
  });

  describe('usage errors exit 2 with a message on stderr', () => {
    for (const args of [
      ['--nope'],
      ['--port', 'abc'],
      ['--port', '70000'],
      ['--port', '-1'],
      ['--port'],
      ['--json=yes'],
      ['positional'],
    ]) {
      it(args.join(' '), TIMEOUT, async () => {
        const result = await runToEnd(['emulator', ...args]);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /^maskinporten: \S/);
        assert.ok(!result.stderr.includes('    at '), 'no stack trace');
        assert.equal(result.stdout, '');
      });
    }
  });

  it('emulator --help and -h exit 0 with the usage', TIMEOUT, async () => {
    for (const flag of ['--help', '-h']) {
      const result = await runToEnd(['emulator', flag]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Usage: maskinporten emulator/);
      for (const option of ['--port', '--host', '--state', '--json']) assert.ok(result.stdout.includes(option), option);
      assert.match(result.stdout, /development and tests only/);
      assert.equal(result.stderr, '');
    }
  });

  it('a port in use exits 1 with a message, not a stack trace', TIMEOUT, async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    try {
      const port = (blocker.address() as { port: number }).port;
      const result = await runToEnd(['emulator', '--json', '--port', String(port)]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^maskinporten: .*could not listen/);
      assert.ok(!result.stderr.includes('    at '));
    } finally {
      await new Promise((res) => blocker.close(res));
    }
  });

  it('a corrupt state file exits 1 naming the file', TIMEOUT, async () => {
    const stateFile = join(dir, 'corrupt.json');
    writeFileSync(stateFile, '{ not json');
    const result = await runToEnd(['emulator', '--json', '--state', stateFile]);
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(stateFile), result.stderr);
    assert.equal(result.stdout, '');
  });
});

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise((res) => server.close(res));
  return port;
}
