/**
 * A key pair made here and written to disk the way keygen, init and `keys rotate` share: the private key in ONE
 * file (mode 0600) — the key pair JWK (`private.jwk.json`), or on request its base64 (`jwk.base64`, the form the
 * `JwkBase64` setting holds) — and the public key as the array the portal's field takes (`public.jwk.json`). Every
 * other form is derived where it is needed (`--key-file` reads either file; `keyvault push` and init encode the
 * JwkBase64 themselves), so no second copy of the private key lies about.
 */
import { join } from 'node:path';
import { type GeneratedKeyPair, generateRsaKeyPair, toJwkBase64 } from '../keys/jwk.ts';
import { UsageError } from './args.ts';
import { type PlannedFile, writeFilesAtomically } from './files.ts';

/** The forms the private key file can take. */
const PRIVATE_KEY_FORMATS = ['jwk', 'jwk-base64'] as const;
/** A form of the private key file: the key pair JWK as JSON, or that JSON base64-encoded (`JwkBase64`). */
export type PrivateKeyFormat = (typeof PRIVATE_KEY_FORMATS)[number];

/** The private key's file name for each form. */
export const PRIVATE_KEY_FILE: Record<PrivateKeyFormat, string> = {
  jwk: 'private.jwk.json',
  'jwk-base64': 'jwk.base64',
};
/** The public key file: a JSON array holding the public JWK. */
const PUBLIC_KEY_FILE = 'public.jwk.json';

/** Reads `--private-format`. */
export function privateKeyFormat(value: string | undefined): PrivateKeyFormat {
  if (value === undefined) return 'jwk';
  if ((PRIVATE_KEY_FORMATS as readonly string[]).includes(value)) return value as PrivateKeyFormat;
  throw new UsageError(`--private-format must be ${PRIVATE_KEY_FORMATS.join(' or ')}, got ${JSON.stringify(value)}`);
}

/** The modulus lengths `--bits` accepts. */
const KEY_BITS = [2048, 3072, 4096];

/** Reads `--bits`: the modulus length, 2048 unless given. */
export function keyBits(value: string | undefined): number {
  const bits = Number(value ?? 2048);
  if (!KEY_BITS.includes(bits)) throw new UsageError(`--bits must be 2048, 3072 or 4096, got ${value}`);
  return bits;
}

/** The paths written: the private key file under the name of its form, and the public key array. */
export interface KeyFilePaths {
  /** `private.jwk.json`, when the private key was written as a JWK. */
  privateJwk?: string;
  /** `jwk.base64`, when the private key was written base64-encoded. */
  jwkBase64?: string;
  /** `public.jwk.json`. */
  publicJwks: string;
}

/**
 * The private key file written, whatever its form: for a caller that asked for one (a `privateFormat` other than
 * `none`), so its absence is a fault here, never the user's.
 */
export function privateKeyPath(files: KeyFilePaths): string {
  const path = files.privateJwk ?? files.jwkBase64;
  if (path === undefined) throw new Error('no private key file was written');
  return path;
}

/** Options of {@link generateKeyFiles}. */
export interface KeyFileOptions {
  outDir: string;
  bits: number;
  kid?: string;
  alg: string;
  force: boolean;
  /** The private key file's form, or `none` when the caller stores the private key elsewhere (init's secrets file). */
  privateFormat: PrivateKeyFormat | 'none';
  /** More files to write in the same all-or-nothing step (init's secrets file, made from the same key). */
  alongside?: (pair: GeneratedKeyPair) => PlannedFile[];
}

/** The paths {@link generateKeyFiles} would write, for checking them before anything is made. */
export function plannedKeyFiles(outDir: string, privateFormat: PrivateKeyFormat | 'none'): KeyFilePaths {
  return {
    ...(privateFormat === 'jwk' ? { privateJwk: join(outDir, PRIVATE_KEY_FILE.jwk) } : {}),
    ...(privateFormat === 'jwk-base64' ? { jwkBase64: join(outDir, PRIVATE_KEY_FILE['jwk-base64']) } : {}),
    publicJwks: join(outDir, PUBLIC_KEY_FILE),
  };
}

/** Generates a key pair and writes its files (all or none); returns the pair and what was written. */
export async function generateKeyFiles(
  options: KeyFileOptions,
): Promise<{ pair: GeneratedKeyPair; files: KeyFilePaths }> {
  const pair = await generateRsaKeyPair({
    modulusLength: options.bits as 2048,
    alg: options.alg as 'RS256',
    ...(options.kid === undefined ? {} : { kid: options.kid }),
  });
  const files = plannedKeyFiles(options.outDir, options.privateFormat);
  const planned: PlannedFile[] = [];
  if (files.privateJwk)
    planned.push({ path: files.privateJwk, content: `${JSON.stringify(pair.privateJwk, null, 2)}\n`, mode: 0o600 });
  if (files.jwkBase64)
    planned.push({ path: files.jwkBase64, content: `${toJwkBase64(pair.privateJwk)}\n`, mode: 0o600 });
  planned.push({ path: files.publicJwks, content: `${JSON.stringify([pair.publicJwk], null, 2)}\n`, mode: 0o644 });
  writeFilesAtomically([...planned, ...(options.alongside?.(pair) ?? [])], options.force);
  return { pair, files };
}
