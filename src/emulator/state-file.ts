/**
 * The emulator's state file: read and checked in full (a file this version cannot use gets a coded error, not a
 * crash later), and written atomically — a temporary file renamed into place — with mode 0600, since it holds the
 * emulator's private signing keys.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MaskinportenError } from '../errors.ts';
import { isDateMs } from './clock.ts';
import type { EmulatorStateData } from './model.ts';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Throws unless `data` has the layout of a version-1 state file (every part present, with the right types). */
function checkLayout(data: EmulatorStateData): void {
  const fail = (what: string) => {
    throw new Error(`unknown layout: ${what}`);
  };
  if (!isObject(data) || data.version !== 1) fail('version');
  const keyRecord = (r: unknown) => isObject(r) && typeof r.kid === 'string' && isObject(r.privateJwk);
  if (!isObject(data.signingKeys) || !keyRecord(data.signingKeys.maskinporten) || !keyRecord(data.signingKeys.altinn))
    fail('signingKeys');
  if (!isObject(data.admin) || typeof data.admin.clientId !== 'string' || !isObject(data.admin.privateJwk))
    fail('admin');
  if (
    !Array.isArray(data.clients) ||
    !data.clients.every((c) => isObject(c) && typeof c.clientId === 'string' && Array.isArray(c.keys))
  )
    fail('clients');
  for (const part of ['scopes', 'delegations', 'systemUsers', 'consents'] as const)
    if (!Array.isArray(data[part])) fail(part);
  // Consent times end up in tokens as ISO dates: a time no Date can hold would fail every such token request.
  const time = (v: unknown) => typeof v === 'number' && isDateMs(v);
  if (!data.consents.every((c) => isObject(c) && time(c.validTo) && time(c.consentedAt))) fail('consents');
}

/** Reads a state file; undefined when there is none. Throws `ERR_EMULATOR_STATE` for one it cannot use. */
export function readStateFile(file: string): EmulatorStateData | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MaskinportenError('ERR_EMULATOR_STATE', `cannot read the emulator state file ${file}`, { cause: err });
  }
  let data: EmulatorStateData;
  try {
    data = JSON.parse(text) as EmulatorStateData;
  } catch {
    // No cause: V8's JSON error text quotes the file around the fault, and this file holds private keys.
    throw new MaskinportenError(
      'ERR_EMULATOR_STATE',
      `the emulator state file ${file} is not valid JSON: move it away or delete it`,
    );
  }
  try {
    checkLayout(data);
    return data;
  } catch (cause) {
    // The cause is our own layout message (it names the part, never a value).
    throw new MaskinportenError(
      'ERR_EMULATOR_STATE',
      `the emulator state file ${file} is not a state file this version can read: move it away or delete it`,
      { cause },
    );
  }
}

/** Writes the state file atomically with mode 0600. */
export function writeStateFile(file: string, data: EmulatorStateData): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
