/**
 * Writing files the way a tool trusted with private keys must: atomically (a temporary file renamed into place, so
 * nothing is ever half-written), private keys with mode 0600, and never over an existing file without `--force`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './args.ts';

/** A file to write. */
export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
}

/** Writes every file or none: existing targets are refused unless `force`, all are checked before any is written. */
export function writeFilesAtomically(files: PlannedFile[], force: boolean): void {
  if (!force) {
    const existing = files.filter((f) => existsSync(f.path)).map((f) => f.path);
    if (existing.length) throw new UsageError(`refusing to overwrite ${existing.join(', ')}: use --force to replace`);
  }
  const staged: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = `${f.path}.${randomBytes(6).toString('hex')}.tmp`;
      writeFileSync(tmp, f.content, { mode: f.mode, flag: 'wx' });
      chmodSync(tmp, f.mode); // the umask may have narrowed a wider mode; never widened a private one
      staged.push({ tmp, path: f.path });
    }
    for (const s of staged) renameSync(s.tmp, s.path);
  } catch (err) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    throw err;
  }
}
