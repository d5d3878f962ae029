/**
 * Shared helpers of the configuration tests: throw-away directories, appsettings files, a few real RSA keys
 * (generated once per process, never written anywhere but temporary directories) and a check that no text holds
 * a secret.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { type GeneratedKeyPair, generateRsaKeyPair, type RsaPrivateJwk } from '../../src/keys/jwk.ts';

/** A temporary directory, removed by `cleanup`. */
export interface TempDir {
  path: string;
  /** Writes `content` (JSON-encoded unless a string) to `name` under the directory; returns the full path. */
  write(name: string, content: unknown): string;
  cleanup(): void;
}

/** Makes a temporary directory. */
export function tempDir(prefix = 'maskinporten-config-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, content) {
      const file = join(path, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return file;
    },
    cleanup() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** A test key: the generated pair plus the forms it is configured in. */
export interface TestKey {
  pair: GeneratedKeyPair;
  kid: string;
  /** The private JWK as JSON text. */
  json: string;
  /** The private JWK, base64 (the seed's JwkBase64). */
  base64: string;
  /** The public JWK as JSON text. */
  publicJson: string;
  /** The public JWK, base64. */
  publicBase64: string;
  /** Strings that must never appear in a message: the private members and the encoded key. */
  secrets: string[];
}

function toTestKey(pair: GeneratedKeyPair): TestKey {
  const jwk: RsaPrivateJwk = pair.privateJwk;
  const json = JSON.stringify(jwk);
  const publicJson = JSON.stringify(pair.publicJwk);
  const base64 = Buffer.from(json).toString('base64');
  return {
    pair,
    kid: pair.kid,
    json,
    base64,
    publicJson,
    publicBase64: Buffer.from(publicJson).toString('base64'),
    secrets: [jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi, base64, Buffer.from(json).toString('base64url')],
  };
}

let pool: Promise<TestKey[]> | undefined;

/** Three real RSA keys, generated once per process (RSA generation is slow). */
export function testKeys(): Promise<TestKey[]> {
  pool ??= Promise.all([0, 1, 2].map((i) => generateRsaKeyPair({ kid: `test-key-${i}` }))).then((pairs) =>
    pairs.map(toTestKey),
  );
  return pool;
}

/** Every 10-character window of the secrets (a JSON engine quotes about that much of its input), to catch a message that echoes part of one. */
export function secretWindows(secrets: readonly string[], width = 10): Set<string> {
  const out = new Set<string>();
  for (const s of secrets) for (let i = 0; i + width <= s.length; i++) out.add(s.slice(i, i + width));
  return out;
}

/** The first window of `text` that is part of a secret, if any. */
export function findSecret(text: string, windows: Set<string>, width = 10): string | undefined {
  for (let i = 0; i + width <= text.length; i++) {
    const w = text.slice(i, i + width);
    if (windows.has(w)) return w;
  }
  return undefined;
}

/** Asserts that neither the error's message, its problems nor its inspected form contain a secret. */
export function assertNoSecret(err: unknown, secrets: readonly string[]): void {
  const texts = [
    String((err as Error)?.message),
    JSON.stringify((err as { problems?: unknown })?.problems ?? null),
    inspect(err, { depth: 6 }),
  ];
  for (const text of texts) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 6)}…) appears in: ${text.slice(0, 200)}`);
    }
  }
  const windows = secretWindows(secrets);
  for (const text of texts) {
    const found = findSecret(text, windows);
    assert.equal(found, undefined, 'part of a secret appears in an error');
  }
}
