/**
 * Writing files the way a tool trusted with private keys must: atomically (a temporary file renamed into place, so
 * nothing is ever half-written), private keys with mode 0600 in a directory created 0700 (whatever the umask), and
 * never over an existing file — or a symlink, dangling or not — without `--force`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './args.ts';

/** A file to write. */
export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
}

/** Whether something is at `path`: a file, a directory, or a symlink even when its target is missing. */
export function occupied(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates `dir` and its missing parents; for a private file, each directory created is made 0700 (`mkdir`'s mode is
 * narrowed by the umask, never widened past it: under umask 000 it would be 0777 otherwise). Existing directories
 * are left as they are.
 */
function makeDirectory(dir: string, privateFile: boolean): void {
  const first = mkdirSync(dir, { recursive: true, mode: privateFile ? 0o700 : 0o777 });
  if (first === undefined || !privateFile) return;
  for (let d = dir; ; d = dirname(d)) {
    chmodSync(d, 0o700);
    if (d === first || dirname(d) === d) break;
  }
}

/** Writes every file or none: existing targets are refused unless `force`, all are checked before any is written. */
export function writeFilesAtomically(files: PlannedFile[], force: boolean): void {
  if (!force) {
    const existing = files.filter((f) => occupied(f.path)).map((f) => f.path);
    if (existing.length) throw new UsageError(`refusing to overwrite ${existing.join(', ')}: use --force to replace`);
  }
  const staged: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      makeDirectory(dirname(f.path), (f.mode & 0o077) === 0);
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
