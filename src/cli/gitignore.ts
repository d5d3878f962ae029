/**
 * Keeping files with private keys out of git: `.gitignore` entries written so that git reads them as the exact path
 * (escaped `#`, `!`, glob characters, backslashes and trailing spaces), in the `.gitignore` that can reach the path
 * (the working directory's, or the work tree's top for a path such as `../keys`), and checked with
 * `git check-ignore` when in a git work tree.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { UsageError } from './args.ts';

/** A path to keep out of git: a file, or a directory of which `privateFiles` must be ignored. */
export interface IgnoreTarget {
  path: string;
  directory?: { privateFiles: string[] };
}

/** What {@link ignoreInGit} did. */
export interface IgnoreResult {
  /** The `.gitignore` written to (or that already held every entry). */
  gitignore: string;
  /** Entries appended. */
  added: string[];
  /** Paths outside the directory a `.gitignore` can reach: git cannot commit them from here. */
  outside: string[];
  /** Private files git still does not ignore (another rule re-includes them), when in a git work tree. */
  notIgnored: string[];
}

/** One path segment as a gitignore pattern matching exactly that name. */
function escapeSegment(segment: string): string {
  // A backslash escapes the next character in a pattern: glob characters, and a leading # or ! (escaped anywhere,
  // which is harmless). Trailing spaces are dropped by git unless escaped.
  return segment.replace(/[\\*?[\]#!]/g, '\\$&').replace(/ +$/, (spaces) => spaces.replaceAll(' ', '\\ '));
}

/** The gitignore pattern for a path relative to the `.gitignore`'s directory (a trailing `/` for a directory). */
export function gitignorePattern(relativePath: string, directory: boolean): string {
  if (/[\r\n]/.test(relativePath))
    throw new UsageError(`${JSON.stringify(relativePath)} holds a line break, which .gitignore cannot express`);
  const pattern = relativePath.split(sep).map(escapeSegment).join('/');
  return directory ? `${pattern}/` : pattern;
}

function gitTopLevel(cwd: string): string | undefined {
  try {
    const top = execFileSync('git', ['rev-parse', '--show-toplevel'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return top || undefined;
  } catch {
    return undefined; // not a work tree, or no git
  }
}

/** The path of `path` below `base`, or undefined when it is not inside (or is) `base`. */
function inside(base: string, path: string): string | undefined {
  const rel = relative(base, path);
  return rel === '' ? '' : rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) ? undefined : rel;
}

/** Whether git ignores `path` by its rules (whether or not the file is tracked). */
function isIgnored(top: string, path: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', '--no-index', '--', path], { cwd: top, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Adds `.gitignore` entries for `targets`, in `cwd`'s `.gitignore` or the work tree's top one; see the module. */
export function ignoreInGit(cwd: string, targets: IgnoreTarget[]): IgnoreResult {
  const top = gitTopLevel(cwd);
  // The working directory's .gitignore unless a target lies above it but inside the work tree.
  const base = targets.every((t) => inside(cwd, t.path) !== undefined) || !top ? cwd : top;
  const entries: string[] = [];
  const outside: string[] = [];
  const privateFiles: string[] = [];
  for (const t of targets) {
    const rel = inside(base, t.path);
    const files = t.directory ? t.directory.privateFiles.map((f) => join(t.path, f)) : [t.path];
    if (rel === undefined) {
      outside.push(t.path);
      continue;
    }
    privateFiles.push(...files);
    // A directory that is the .gitignore's own (--out-dir .): its private files one by one.
    if (t.directory && rel === '') entries.push(...files.map((f) => gitignorePattern(relative(base, f), false)));
    else entries.push(gitignorePattern(rel, t.directory !== undefined));
  }
  const gitignore = join(base, '.gitignore');
  const existing = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : '';
  const lines = new Set(existing.split(/\r?\n/));
  const added = [...new Set(entries)].filter((e) => !lines.has(e));
  if (added.length)
    appendFileSync(gitignore, `${existing && !existing.endsWith('\n') ? '\n' : ''}${added.join('\n')}\n`);
  const notIgnored = top ? privateFiles.filter((f) => inside(top, f) !== undefined && !isIgnored(top, f)) : [];
  return { gitignore, added, outside, notIgnored };
}
