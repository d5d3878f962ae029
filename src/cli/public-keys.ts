/**
 * Reading the public keys a user registers (`clients create --public-key`, `keys add --public-key`): one JWK, an
 * array of them (`public.jwk.json` from keygen), or a JWK set — and never a private key, which must not leave the
 * machine.
 */
import { readFileSync } from 'node:fs';
import type { RsaPublicJwk } from '../keys/jwk.ts';
import { JWK_PRIVATE_MEMBERS } from '../self-service/index.ts';
import { UsageError } from './args.ts';
import { type CliIo, pathIn } from './io.ts';

/**
 * Reads public keys from a file (relative to the run's directory): one JWK, an array of JWKs, or {"keys":[…]}.
 * Refuses private keys.
 */
export function readPublicKeys(file: string, io: Pick<CliIo, 'cwd'>): RsaPublicJwk[] {
  let text: string;
  try {
    text = readFileSync(pathIn(io, file), 'utf8');
  } catch (err) {
    throw new UsageError(`--public-key ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the file around the error, and the file may hold key material: never shown.
    throw new UsageError(
      `--public-key ${file} is not valid JSON: give a public JWK, an array of them (public.jwk.json from keygen) or {"keys":[…]}`,
    );
  }
  const list = Array.isArray(value)
    ? value
    : Array.isArray((value as { keys?: unknown })?.keys)
      ? (value as { keys: unknown[] }).keys
      : [value];
  for (const k of list as unknown[]) {
    if (k === null || typeof k !== 'object' || Array.isArray(k))
      throw new UsageError(`--public-key ${file} must hold JWK objects`);
    const found = JWK_PRIVATE_MEMBERS.filter((m) => Object.hasOwn(k, m));
    if (found.length) {
      throw new UsageError(
        `--public-key ${file} holds a private key (members ${found.join(', ')}): pass public.jwk.json, never the private key`,
      );
    }
  }
  return list as RsaPublicJwk[];
}
