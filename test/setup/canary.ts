/**
 * The secret canary, preloaded into every test file's process: scripts/run-tests.ts (behind `npm test`,
 * `test:unit` and scripts/test-node22.sh) gives each file's process `--import ./test/setup/canary.ts`, as
 * `node --import ./test/setup/canary.ts --test …` does when a single file is run by hand.
 *
 * - It makes a CANARY key pair (generated per process, registered nowhere) and a CANARY token signed with it,
 *   puts both in this process's environment (`MASKINPORTEN_CANARY_JWK_BASE64`, `MASKINPORTEN_CANARY_TOKEN`)
 *   so that the whole suite runs with them, and registers them as secrets.
 * - It installs a secret registry at `globalThis[Symbol.for('maskinporten.secretRegistry')]`, which the package's
 *   test instrumentation (src/keys/secret-hook.ts) tells about every key pair `generateRsaKeyPair` makes, every
 *   token the emulator issues (Maskinporten and Altinn) and every grant the client signs.
 * - It captures everything the process writes to stdout and stderr (console.* included, and Node's test runner's
 *   own report of test names, diagnostics and failures) and scans each chunk for every registered secret: any run
 *   of {@link TEXT_WINDOW} characters of one counts, so partial leaks count; the base64 of something holding a
 *   secret (a `JwkBase64`, a PEM or DER key) counts too.
 * - On exit, if anything leaked, it prints a report to stderr — which kind of secret, on which stream, written from
 *   where, with a masked excerpt and never the secret — and sets `process.exitCode = 1`, so the test file fails.
 *
 * Only output is scanned: tests may hold secrets in memory, and may capture a subprocess's output (the CLI's
 * `token` prints a token on purpose) as long as they never print it.
 */
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where src/keys/secret-hook.ts looks for the registry. */
export const REGISTRY_SYMBOL = Symbol.for('maskinporten.secretRegistry');

/** Characters of a secret that, found together in the output, count as a leak. */
export const TEXT_WINDOW = 24;
/** Distance between the indexed windows: a leaked run of TEXT_WINDOW + TEXT_STRIDE − 1 characters is always caught. */
const TEXT_STRIDE = 8;
/** The same for the secret's raw bytes, found by decoding base64 in the output (18 bytes = 24 base64 characters). */
const BYTE_WINDOW = 18;
const BYTE_STRIDE = 6;
/** Runs of base64 or base64url characters: where a secret can sit, and what may be base64 to decode. */
const RUN = /[A-Za-z0-9+/_-]{24,}/g;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** One registered secret, as a report names it. */
interface SecretInfo {
  id: number;
  kind: string;
}

/** A secret found in a text. */
export interface SecretHit {
  /** Which kind of secret, e.g. `CANARY private key member d` or `Altinn token (emulator, client …)`. */
  kind: string;
  /** Where in the text (for a secret inside base64: the whole base64 run). */
  index: number;
  length: number;
  /** True when the secret was found by decoding base64 (a `JwkBase64`, a PEM key). */
  encoded: boolean;
  id: number;
}

function windowStarts(length: number, window: number, stride: number): number[] {
  const starts: number[] = [];
  for (let i = 0; i + window <= length; i += stride) starts.push(i);
  if (length >= window && starts[starts.length - 1] !== length - window) starts.push(length - window);
  return starts;
}

/**
 * The registry and scanner: secrets are indexed by overlapping windows of their text and of their raw bytes, so a
 * scan is one map lookup per character of the base64-looking runs in the output, however many secrets there are.
 */
export class SecretScanner {
  readonly #text = new Map<string, SecretInfo>();
  readonly #bytes = new Map<string, SecretInfo>();
  #count = 0;
  /** Set once a secret that is not base64 is registered: then every position of a text is looked at. */
  #anyText = false;

  /** How many secrets are registered. */
  get size(): number {
    return this.#count;
  }

  /** Registers a secret (ignored when shorter than {@link TEXT_WINDOW} or already known). */
  register(value: unknown, kind = 'secret'): void {
    if (typeof value !== 'string' || value.length < TEXT_WINDOW) return;
    if (this.#text.has(value.slice(0, TEXT_WINDOW))) return;
    const info: SecretInfo = { id: ++this.#count, kind: String(kind) };
    for (const i of windowStarts(value.length, TEXT_WINDOW, TEXT_STRIDE)) {
      const w = value.slice(i, i + TEXT_WINDOW);
      if (!this.#text.has(w)) this.#text.set(w, info);
    }
    if (BASE64.test(value)) {
      const raw = Buffer.from(value, 'base64').toString('latin1');
      for (const i of windowStarts(raw.length, BYTE_WINDOW, BYTE_STRIDE)) {
        const w = raw.slice(i, i + BYTE_WINDOW);
        if (!this.#bytes.has(w)) this.#bytes.set(w, info);
      }
    } else {
      this.#anyText = true;
    }
  }

  /** Every registered secret found in `text` (each once, at its first place). */
  find(text: string): SecretHit[] {
    const hits = new Map<number, SecretHit>();
    const direct = (s: string, offset: number) => {
      for (let i = 0; i + TEXT_WINDOW <= s.length; i++) {
        const info = this.#text.get(s.slice(i, i + TEXT_WINDOW));
        if (!info) continue;
        const at = offset + i;
        const hit = hits.get(info.id);
        if (!hit) hits.set(info.id, { kind: info.kind, index: at, length: TEXT_WINDOW, encoded: false, id: info.id });
        // Overlapping windows of the same secret: widen the hit over them.
        else if (!hit.encoded && at <= hit.index + hit.length) {
          hit.length = Math.max(hit.length, at + TEXT_WINDOW - hit.index);
        }
      }
    };
    const encoded = (info: SecretInfo, index: number, length: number) => {
      if (!hits.has(info.id)) hits.set(info.id, { kind: info.kind, index, length, encoded: true, id: info.id });
    };
    if (this.#anyText) direct(text, 0);
    for (const m of text.matchAll(RUN)) {
      const run = m[0];
      if (!this.#anyText) direct(run, m.index);
      if (run.length < 32) continue;
      // The run may be base64 of something holding a secret: of its raw bytes (PEM, DER), or of text holding it
      // (a JwkBase64 is the base64 of the key's JSON). It may start anywhere in a 4-character group.
      for (let a = 0; a < 4; a++) {
        const decoded = Buffer.from(run.slice(a), 'base64').toString('latin1');
        for (let i = 0; i + BYTE_WINDOW <= decoded.length; i++) {
          const info = this.#bytes.get(decoded.slice(i, i + BYTE_WINDOW));
          if (info) encoded(info, m.index, run.length);
        }
        for (const inner of decoded.matchAll(RUN)) {
          for (let i = 0; i + TEXT_WINDOW <= inner[0].length; i++) {
            const info = this.#text.get(inner[0].slice(i, i + TEXT_WINDOW));
            if (info) encoded(info, m.index, run.length);
          }
        }
      }
    }
    return [...hits.values()].sort((x, y) => x.index - y.index);
  }

  /** The kinds of the secrets found in `text`: what a test asserts is empty. */
  kindsIn(text: string): string[] {
    return this.find(text).map((h) => (h.encoded ? `${h.kind} (base64-encoded)` : h.kind));
  }
}

/** A short, masked piece of `text` around a hit: the secret itself replaced by a marker, long runs cut to 4 chars. */
export function maskedExcerpt(text: string, hit: Pick<SecretHit, 'index' | 'length' | 'encoded'>): string {
  const tidy = (s: string) =>
    s
      // Anything that looks like base64 (not a plain word) is cut to its first 3 characters.
      .replace(/[A-Za-z0-9+/_=-]{8,}/g, (run) => (/^[A-Za-z][a-z]*$/.test(run) ? run : `${run.slice(0, 3)}…`))
      .replace(/\n/g, '⏎')
      .replace(/[^ -~\u00a1-\uffff]+/g, '·'); // control and other unprintable characters
  // What touches the hit may be the rest of the secret: never show it.
  const before = text.slice(Math.max(0, hit.index - 48), hit.index).replace(/[A-Za-z0-9+/_=-]+$/, '…');
  const after = text.slice(hit.index + hit.length, hit.index + hit.length + 48).replace(/^[A-Za-z0-9+/_=-]+/, '…');
  return `${tidy(before)}⟦${hit.encoded ? 'base64 holding the secret' : 'secret'}⟧${tidy(after)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The CANARY key pair and token.

interface CanaryJwk {
  kty: 'RSA';
  kid: string;
  alg: 'RS256';
  use: 'sig';
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

const CANARY_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

function makeCanary() {
  // A fresh throw-away key per process, registered nowhere: no key material lives in the repository.
  const generated = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const privateJwk = {
    kty: 'RSA',
    kid: 'maskinporten-secret-canary',
    alg: 'RS256',
    use: 'sig',
    ...generated,
  } as CanaryJwk;
  const { kty, kid, alg, use, n, e } = privateJwk;
  const tokenClaims = {
    iss: 'https://canary.maskinporten.invalid/',
    client_amr: 'private_key_jwt',
    token_type: 'Bearer',
    aud: 'unspecified',
    scope: 'canary:secret',
    consumer: { authority: 'iso6523-actorid-upis', ID: '0192:000000000' },
    iat: 1767225600, // 2026-01-01
    exp: 4102444800, // 2100-01-01
    client_id: 'maskinporten-secret-canary',
    jti: 'maskinporten-secret-canary-token',
  };
  const segment = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signingInput = `${segment({ kid, alg: 'RS256', typ: 'JWT' })}.${segment(tokenClaims)}`;
  const key = createPrivateKey({ key: privateJwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  const signature = sign('sha256', Buffer.from(signingInput), key).toString('base64url');
  const jwkJson = JSON.stringify(privateJwk);
  return Object.freeze({
    kid,
    privateJwk: Object.freeze({ ...privateJwk }),
    publicJwk: Object.freeze({ kty, kid, alg, use, n, e }),
    /** The key pair's JSON text. */
    jwkJson,
    /** The key pair as the seed's `JwkBase64`. */
    jwkBase64: Buffer.from(jwkJson).toString('base64'),
    /** The private key as PKCS#8 PEM. */
    pem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    /** A JWT signed with the canary key. */
    token: `${signingInput}.${signature}`,
    tokenSignature: signature,
    tokenClaims: Object.freeze(tokenClaims),
  });
}

/** The CANARY: a key pair and a token that must never appear in any output of the suite. */
export const CANARY = makeCanary();

// ---------------------------------------------------------------------------------------------------------------
// Installation: one registry and one capture per process, however often this module is loaded.

/** One leak: the kinds of secret found at one place of one write. */
export interface Finding {
  kinds: string[];
  stream: string;
  where: string;
  excerpt: string;
}

interface Installed {
  scanner: SecretScanner;
  findings: Finding[];
}

const INSTALLED = Symbol.for('maskinporten.secretCanary');
const SELF = fileURLToPath(import.meta.url);

/** The bytes at `start`, `start + 2`, … as Latin-1: the ASCII text of UTF-16LE data at that alignment. */
function everyOtherByte(buf: Buffer, start: number): string {
  const out = Buffer.allocUnsafe(Math.max(0, Math.ceil((buf.length - start) / 2)));
  for (let i = start, j = 0; i < buf.length; i += 2, j++) out[j] = buf[i]!;
  return out.toString('latin1');
}

/** The frames of the code that wrote the leak, outside this module and Node's internals. */
function writerFrames(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/^at /, ''))
    .filter((l) => !l.includes(SELF) && !l.includes('node:') && !l.includes('(<anonymous>)'))
    .map((l) => l.replace(/file:\/\/(\/[^\s):]+)/g, (_, p: string) => relative(process.cwd(), p)))
    .slice(0, 3);
  return frames.length ? frames.join(' ← ') : "Node's test runner (a test's name, diagnostic or failure report)";
}

function install(): Installed {
  const existing = (globalThis as Record<symbol, Installed | undefined>)[INSTALLED];
  if (existing) return existing;
  const scanner = new SecretScanner();
  const findings: Finding[] = [];
  const installed: Installed = { scanner, findings };
  (globalThis as Record<symbol, unknown>)[INSTALLED] = installed;
  (globalThis as Record<symbol, unknown>)[REGISTRY_SYMBOL] = {
    register: (value: unknown, kind?: string) => scanner.register(value, kind),
  };

  for (const m of CANARY_PRIVATE_MEMBERS) scanner.register(CANARY.privateJwk[m], `CANARY private key member ${m}`);
  scanner.register(CANARY.tokenSignature, 'CANARY token');
  process.env.MASKINPORTEN_CANARY_JWK_BASE64 = CANARY.jwkBase64;
  process.env.MASKINPORTEN_CANARY_TOKEN = CANARY.token;

  const stderrWrite = process.stderr.write.bind(process.stderr);
  let reported = 0;
  const report = () => {
    if (findings.length <= reported) return;
    const file = process.argv[1] ? relative(process.cwd(), process.argv[1]) : '(no file)';
    const fresh = findings.slice(reported);
    const lines = [
      '',
      `✖ secret canary: ${fresh.length} secret(s) leaked into the output of ${file} — the canary must appear 0 times:`,
      ...fresh.map(
        (f, i) =>
          `  ${reported + i + 1}. ${f.kinds.join(', ')} — on ${f.stream}, written by ${f.where}\n     excerpt: ${f.excerpt}`,
      ),
      '',
    ];
    reported = findings.length;
    stderrWrite(`${lines.join('\n')}\n`);
    process.exitCode = 1;
  };

  const capture = (stream: NodeJS.WriteStream, name: 'stdout' | 'stderr') => {
    const write = stream.write;
    const seen = new Set<number>();
    let carry = '';
    const scan = (chunk: unknown, encoding: unknown) => {
      let texts: string[];
      if (typeof chunk === 'string') {
        const enc = typeof encoding === 'string' ? encoding.toLowerCase() : 'utf8';
        texts = ['utf8', 'utf-8', 'ascii', 'latin1', 'binary'].includes(enc)
          ? [chunk]
          : [Buffer.from(chunk, enc as BufferEncoding).toString('latin1')];
      } else if (chunk instanceof Uint8Array) {
        const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        texts = [buf.toString('latin1')];
        // Node's test runner serialises its report with V8, which writes some strings as UTF-16: their ASCII
        // characters are every other byte. (Not `toString('utf16le')`: on an unaligned, odd-length view that
        // corrupts Node 24.21's heap.)
        if (buf.includes(0)) texts.push(everyOtherByte(buf, 0), everyOtherByte(buf, 1));
      } else return;
      texts[0] = carry + texts[0];
      carry = texts[0].slice(-2 * TEXT_WINDOW);
      const fresh = new Map<string, Finding>();
      for (const [t, text] of texts.entries()) {
        for (const hit of scanner.find(text)) {
          if (seen.has(hit.id)) continue;
          seen.add(hit.id);
          // The members of one key in one JwkBase64 or PEM are one leak.
          const at = `${t}:${hit.index}:${hit.encoded}`;
          const same = fresh.get(at);
          if (same) same.kinds.push(hit.kind);
          else fresh.set(at, { kinds: [hit.kind], stream: name, where: '', excerpt: maskedExcerpt(text, hit) });
        }
      }
      if (fresh.size > 0) {
        const where = writerFrames();
        for (const f of fresh.values()) findings.push({ ...f, where });
      }
      // Written after the exit report (a late write by the test runner): report at once.
      if (reported > 0) report();
    };
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      try {
        scan(chunk, rest[0]);
      } catch {
        // The canary must never break a test's own output.
      }
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  };
  capture(process.stdout, 'stdout');
  capture(process.stderr, 'stderr');
  process.on('exit', report);
  return installed;
}

const installed = install();

/** The registry and scanner of this process: register secrets a test makes itself; scan captured output. */
export const secrets: SecretScanner = installed.scanner;

/** The leaks found so far in this process's output (kinds and masked excerpts only). */
export function leaksSoFar(): readonly Finding[] {
  return installed.findings;
}
