/**
 * Shared by the CLI end-to-end tests: runs the BUILT `maskinporten` command — in this process by default
 * ({@link runCli}: dist/cli/run.js with captured streams, a clean environment and a working directory of its own),
 * or as a real subprocess on the project's Node 24 ({@link runCliProcess}: dist/cli/main.js with piped stdio) where
 * the bin itself, its exit status, its stdio or signals are what is tested — and checks every run's output for
 * secrets: private key members, the key files' contents, the admin credentials, grants, and tokens where printing
 * one is not the command's purpose. Either way stdin is never a TTY.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CliIo } from '../../src/cli/io.ts';
import type { Emulator } from '../../src/emulator/index.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The project's Node 24 (the `node` devDependency), never the one on PATH. */
export const NODE = join(ROOT, 'node_modules/.bin/node');
/** The built bin, run by {@link runCliProcess}. */
export const CLI = join(ROOT, 'dist/cli/main.js');
/** The built CLI as a function (`runCli(argv, io)`), run by {@link runCli}. */
export const CLI_RUN = join(ROOT, 'dist/cli/run.js');
/** Per-test time limit; each CLI run fails after {@link RUN_TIMEOUT_MS}. */
export const TIMEOUT = { timeout: 60_000 };
const RUN_TIMEOUT_MS = 45_000;

/** Fails early and clearly when the CLI has not been built or the project's Node is missing. */
export function assertBuilt(): void {
  assert.ok(existsSync(CLI), `${CLI} is missing: build first (npx tsc -p tsconfig.build.json)`);
  assert.ok(existsSync(CLI_RUN), `${CLI_RUN} is missing: build first (npx tsc -p tsconfig.build.json)`);
  assert.ok(existsSync(NODE), 'the project’s Node binary is missing: run npm ci');
}

/** What a finished run printed and how it ended. */
export interface CliResult {
  args: string[];
  code: number | null;
  /** The signal that ended a subprocess; always null for a run in this process. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli} and {@link runCliProcess}. */
export interface RunOptions {
  cwd?: string;
  /** Added to the clean base environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (stdin is always a pipe, never a TTY). */
  input?: string;
  /** {@link runCli} only: the captured stdout and stderr say they are terminals (`isTTY` true); stdin still does not. */
  tty?: boolean;
}

/**
 * The base environment: only what a process needs to run, so settings in the test runner's environment
 * (`MaskinportenSettings__*`, `NODE_ENV`, Azure variables) never leak into a run. `NO_COLOR` is set.
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: '1' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * A run's environment: the base one, an empty token cache of its own (`token` keeps tokens in the user's cache
 * directory; never the real one) unless the test passes XDG_CACHE_HOME to share one between runs, then the test's.
 */
function runEnv(options: RunOptions): { env: Record<string, string>; ownCache: string | undefined } {
  const ownCache =
    options.env && 'XDG_CACHE_HOME' in options.env ? undefined : mkdtempSync(join(tmpdir(), 'mp-cache-'));
  const env: Record<string, string | undefined> = {
    ...baseEnv(),
    ...(ownCache ? { XDG_CACHE_HOME: ownCache } : {}),
    ...options.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return { env: env as Record<string, string>, ownCache };
}

/** A stream that keeps what is written to it, and says it is a TTY only when `isTTY`. */
function captured(isTTY: boolean): { stream: Writable & { isTTY: boolean }; text: () => string } {
  let text = '';
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      done();
    },
  });
  return { stream: Object.assign(stream, { isTTY }), text: () => text };
}

type RunModule = { runCli(argv: string[], io: CliIo): Promise<number> };
let runModule: Promise<RunModule> | undefined;

/**
 * Runs `maskinporten ...args` to completion in this process: the built CLI's `runCli` with a clean environment
 * ({@link baseEnv} and `options.env`), `options.cwd` (default the project root) as its working directory, captured
 * stdout and stderr (TTYs only with `options.tty`) and `options.input` as its stdin (not a TTY, then ended). Its output never reaches
 * this process's own stdout or stderr. Fails, naming the command, when a run does not finish in time.
 */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  runModule ??= import(pathToFileURL(CLI_RUN).href) as Promise<RunModule>;
  const { runCli: run } = await runModule;
  const { env, ownCache } = runEnv(options);
  const stdout = captured(options.tty === true);
  const stderr = captured(options.tty === true);
  const stdin = Object.assign(Readable.from(options.input ? [Buffer.from(options.input)] : []), { isTTY: false });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `maskinporten ${args.join(' ')} (in this process) did not finish in ${RUN_TIMEOUT_MS} ms\n${stdout.text()}\n${stderr.text()}`,
          ),
        ),
      RUN_TIMEOUT_MS,
    );
  });
  try {
    const io: CliIo = { stdout: stdout.stream, stderr: stderr.stream, stdin, env, cwd: options.cwd ?? ROOT };
    const code = await Promise.race([run([...args], io), timedOut]);
    return { args, code, signal: null, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    clearTimeout(timer);
    stdin.destroy();
    if (ownCache) rmSync(ownCache, { recursive: true, force: true });
  }
}

/**
 * Runs `maskinporten ...args` to completion as a subprocess: the built bin on the project's Node, with the same
 * clean environment as {@link runCli} and piped stdio; killed after {@link RUN_TIMEOUT_MS}.
 */
export function runCliProcess(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const { env, ownCache } = runEnv(options);
  const child = spawn(NODE, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.on('data', (c: string) => {
    stderr += c;
  });
  child.stdin.on('error', () => {}); // the command may exit before reading its input
  child.stdin.end(options.input ?? '');
  const done = new Promise<CliResult>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`maskinporten ${args.join(' ')} did not finish in ${RUN_TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ args, code, signal, stdout, stderr });
    });
  });
  return done.finally(() => {
    if (ownCache) rmSync(ownCache, { recursive: true, force: true });
  });
}

/** Whether `script` (util-linux) can give a command a real terminal here. */
export function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link runOnTerminal}. */
export interface TerminalOptions {
  cwd: string;
  /** The whole environment (default: the clean base one with `TERM=dumb`). */
  env?: Record<string, string>;
  /** Each prompt to wait for, and what to type once it appears (in order; text after the last answer counts). */
  answers?: Array<[RegExp, string]>;
}

/**
 * Runs the built CLI on a pseudo-terminal through `script` (stdin, stdout and stderr all a TTY), answering prompts;
 * resolves the exit code, everything the terminal showed (without carriage returns) and how many answers went unused.
 */
export function runOnTerminal(
  args: string[],
  options: TerminalOptions,
): Promise<{ code: number | null; screen: string; unanswered: number }> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const command = [NODE, CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd,
    env: { ...(options.env ?? { ...baseEnv(), TERM: 'dumb' }), SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let seen = 0;
  const pending = [...(options.answers ?? [])];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    screen += chunk;
    const next = pending[0];
    // Only text after the last answer counts, so one prompt is never answered twice.
    if (next?.[0].test(screen.slice(seen))) {
      pending.shift();
      seen = screen.length;
      child.stdin.write(next[1]);
    }
  });
  child.stderr.resume();
  child.stdin.on('error', () => {});
  if (pending.length === 0) child.stdin.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`maskinporten ${args.join(' ')} on a terminal did not finish\n${screen}`));
    }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen: screen.replaceAll('\r', ''), unanswered: pending.length });
    });
  });
}

/** A run's output, for assertion messages. */
export function show(r: CliResult): string {
  return `maskinporten ${r.args.join(' ')} → ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Asserts exit 0 and returns the result. */
export function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, show(r));
  return r;
}

/** Asserts a usage error: exit 2, a one-line-headed message on stderr, nothing on stdout, no stack trace. */
export function usageError(r: CliResult, message?: RegExp): CliResult {
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /^maskinporten: \S/, show(r));
  if (message) assert.match(r.stderr, message, show(r));
  assert.equal(r.stdout, '', show(r));
  assert.ok(!r.stderr.includes('    at '), `no stack trace\n${show(r)}`);
  return r;
}

/** Asserts a failure: exit 1, a message on stderr, no stack trace. */
export function failure(r: CliResult, message?: RegExp): CliResult {
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /^maskinporten: \S/, show(r));
  if (message) assert.match(r.stderr, message, show(r));
  assert.ok(!r.stderr.includes('    at '), `no stack trace\n${show(r)}`);
  return r;
}

const JWT = /eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+/g;
/** A private member of a JWK, in JSON as any command would print it. */
const PRIVATE_MEMBER = /"(?:d|p|q|dp|dq|qi)"\s*:/;
/** The escape character that starts every ANSI colour sequence. */
export const ESC = String.fromCharCode(27);
/** Whether `text` holds an ANSI escape sequence (`ESC [`). */
export function hasAnsi(text: string): boolean {
  return text.includes(`${ESC}[`);
}
/** A long run of base64, which might be an encoded key. */
const BASE64_RUN = /[A-Za-z0-9+/]{100,}={0,2}/g;

/** Whether `text` holds the base64 of a JSON object with a private JWK member — a `JwkBase64` of any key. */
function hasEncodedPrivateJwk(text: string): boolean {
  for (const run of text.match(BASE64_RUN) ?? []) {
    try {
      const value = JSON.parse(Buffer.from(run, 'base64').toString('utf8')) as unknown;
      if (value && typeof value === 'object' && 'd' in value) return true;
    } catch {
      // not JSON: not a key
    }
  }
  return false;
}

/** Every compact JWS in `text`. */
export function jwtsIn(text: string): string[] {
  return text.match(JWT) ?? [];
}

/** The decoded payload of a compact JWS. */
export function payloadOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The decoded header of a compact JWS. */
export function headerOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * The secrets of a test file: strings that must never appear in any command's output (private key members,
 * `jwk.base64` contents, the admin's `jwkBase64`), and the issuers whose access tokens a command may print when
 * printing a token is its purpose. Grants (JWTs a client signs: `iss` is a client id) are never allowed.
 */
export class Secrets {
  readonly #values = new Set<string>();

  /** Adds secret strings (empty ones are ignored). */
  add(...values: (string | undefined)[]): this {
    for (const v of values) if (v && v.length >= 8) this.#values.add(v.trim());
    return this;
  }

  /** Adds every private member of a private JWK and its base64 encodings. */
  addJwk(jwk: Record<string, unknown>): this {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) if (typeof jwk[m] === 'string') this.add(jwk[m] as string);
    this.add(Buffer.from(JSON.stringify(jwk)).toString('base64'));
    return this;
  }

  /** Adds a `JwkBase64` value and the private members it holds. */
  addJwkBase64(value: string): this {
    this.add(value);
    return this.addJwk(JSON.parse(Buffer.from(value.trim(), 'base64').toString('utf8')) as Record<string, unknown>);
  }

  /**
   * Adds the private key in a file a command wrote: a JWK as JSON (`private.jwk.json`, also taken whole), a settings
   * file whose sections hold a `JwkBase64` (init's secrets file), or a `JwkBase64` (`jwk.base64`).
   */
  addKeyFile(path: string): this {
    const text = readFileSync(path, 'utf8');
    if (!text.trim().startsWith('{')) return this.addJwkBase64(text);
    const value = JSON.parse(text) as Record<string, unknown>;
    if ('kty' in value) return this.add(text).addJwk(value);
    for (const section of Object.values(value)) {
      const jwkBase64 = (section as { JwkBase64?: unknown } | null)?.JwkBase64;
      if (typeof jwkBase64 === 'string') this.addJwkBase64(jwkBase64);
    }
    return this;
  }

  get values(): string[] {
    return [...this.#values];
  }

  /**
   * Asserts `r` shows none of the secrets, no private JWK member, no ANSI escape (NO_COLOR is set and stdio is
   * piped), and no JWT at all — or, with `tokensFrom`, only access tokens of those issuers.
   */
  check(r: CliResult, options: { tokensFrom?: string[] } = {}): CliResult {
    for (const [name, text] of [
      ['stdout', r.stdout],
      ['stderr', r.stderr],
    ] as const) {
      for (const secret of this.#values) {
        assert.ok(!text.includes(secret), `${name} shows a secret (${secret.slice(0, 6)}…)\n${show(r)}`);
      }
      assert.doesNotMatch(text, PRIVATE_MEMBER, `${name} shows a private JWK member\n${show(r)}`);
      assert.ok(!hasEncodedPrivateJwk(text), `${name} shows a base64-encoded private JWK\n${show(r)}`);
      assert.ok(!hasAnsi(text), `${name} has ANSI escapes although NO_COLOR is set\n${show(r)}`);
      for (const jwt of jwtsIn(text)) {
        const claims = payloadOf(jwt);
        assert.ok(
          options.tokensFrom?.includes(String(claims.iss)),
          `${name} shows a JWT (iss ${String(claims.iss)}) the command has no business printing\n${show(r)}`,
        );
      }
    }
    return r;
  }
}

/** Environment variables giving the emulator's admin credentials through the section `MaskinportenAdmin`. */
export function adminEnv(emulator: Emulator): Record<string, string> {
  return {
    MaskinportenAdmin__Authority: emulator.issuer,
    MaskinportenAdmin__ClientId: emulator.adminClient.clientId,
    MaskinportenAdmin__JwkBase64: emulator.adminClient.jwkBase64,
  };
}

/** The Altinn issuer of an emulator (its OpenID path), as the `iss` of exchanged tokens. */
export function altinnIssuerOf(token: string): string {
  return String(payloadOf(token).iss);
}

/** File mode bits. */
export function modeOf(stat: { mode: number }): number {
  return stat.mode & 0o777;
}
