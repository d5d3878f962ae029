/**
 * Runs the test files with Node's test runner, longest first: `node scripts/run-tests.ts [--record] [glob …]`.
 *
 * `node --test` starts the files in alphabetical order, so a long file that sorts late keeps one core busy after the
 * other has run out of files. This script starts them in the order of `test/durations.json` (file → seconds, the
 * longest first; a file it does not list yet goes first, as if long), each file in a process of its own, two at a
 * time, with the same preloads as before (the compile cache, then the secret canary) and the spec reporter. The
 * globs are those `node --test` takes (default `test/**\/*.test.ts`). `--record` rewrites `test/durations.json` from
 * the durations the run reports (files outside the run keep their figures; files that are gone are dropped).
 * The exit code is 1 when any file fails, the secret canary included (it sets the exit code of the file's process).
 *
 * @see https://nodejs.org/api/test.html#runoptions
 */
import { existsSync, globSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

/** The globs `npm test` runs when given none. */
export const DEFAULT_GLOBS = ['test/**/*.test.ts'];
/** How many test files run at once (one process each): `--test-concurrency=2`. */
export const CONCURRENCY = 2;
/** Preloaded into every test file's process, in this order. */
export const PRELOADS = ['./test/helpers/compile-cache.ts', './test/setup/canary.ts'];
/** The weights file, relative to the project root. */
export const DURATIONS_FILE = 'test/durations.json';

/** File (relative to the project root, `/` separators) → seconds one run of it took. */
export type Durations = Record<string, number>;

/** The files the globs match under `root`, as `node --test` finds them: sorted, `node_modules` left out. */
export function expandGlobs(globs: readonly string[], root: string): string[] {
  const found = globSync([...globs], { cwd: root, exclude: (name: string) => name === 'node_modules' });
  return [...new Set(found.map((f) => f.split('\\').join('/')))].sort();
}

/**
 * The order to start `files` in: those `durations` does not know first (as if they were the longest), then the
 * longest first; ties in name order.
 */
export function orderByDuration(files: readonly string[], durations: Durations): string[] {
  const weight = (f: string) => (Object.hasOwn(durations, f) ? durations[f]! : Number.POSITIVE_INFINITY);
  return [...files].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The weights in `text` (the JSON of {@link DURATIONS_FILE}); entries that are not a number of seconds are ignored. */
export function parseDurations(text: string): Durations {
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  // Own data properties only (Object.fromEntries): a key named `__proto__` is a file name like any other.
  return Object.fromEntries(
    Object.entries(parsed).filter(
      (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]) && entry[1] >= 0,
    ),
  );
}

/**
 * The weights after a run: `measured` for the files that ran, `previous` for the other files that still exist;
 * sorted by name, to a tenth of a second, so that the committed file changes little from run to run.
 */
export function mergeDurations(previous: Durations, measured: Durations, exists: (file: string) => boolean): Durations {
  const merged = new Map(Object.entries(previous).filter(([file]) => exists(file)));
  for (const [file, seconds] of Object.entries(measured)) merged.set(file, seconds);
  return Object.fromEntries(
    [...merged.keys()].sort().map((file) => [file, Math.round(merged.get(file)! * 10) / 10] as const),
  );
}

function readDurations(path: string): Durations {
  if (!existsSync(path)) return {};
  try {
    return parseDurations(readFileSync(path, 'utf8'));
  } catch {
    // A damaged weights file only costs the ordering: every file then counts as unknown.
    return {};
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  process.chdir(root); // the runner resolves the files and the preloads against the working directory
  const record = argv.includes('--record');
  const globs = argv.filter((a) => a !== '--record');
  const files = expandGlobs(globs.length > 0 ? globs : DEFAULT_GLOBS, root);
  if (files.length === 0) {
    process.stderr.write(`No test file matches ${(globs.length > 0 ? globs : DEFAULT_GLOBS).join(', ')}\n`);
    process.exitCode = 1;
    return;
  }
  const weightsPath = join(root, DURATIONS_FILE);
  const ordered = orderByDuration(files, readDurations(weightsPath));
  const measured: Durations = {};
  const stream = run({
    files: ordered,
    concurrency: CONCURRENCY,
    isolation: 'process',
    execArgv: PRELOADS.flatMap((p) => ['--import', p]),
  });
  // A file's own entry: its name is the path it was given; its duration is its process's, start to exit.
  const given = new Set(ordered);
  stream.on('test:complete', (data) => {
    if (data.nesting === 0 && given.has(data.name) && data.details.duration_ms !== undefined) {
      measured[data.name] = data.details.duration_ms / 1000;
    }
  });
  // The run's own summary (the one without a file) says whether anything failed, the exit codes of files included.
  stream.on('test:summary', (data) => {
    if (data.file === undefined && !data.success) process.exitCode = 1;
  });
  stream.compose(spec).pipe(process.stdout);
  await new Promise<void>((resolve) => stream.once('close', resolve));
  if (record) {
    const merged = mergeDurations(readDurations(weightsPath), measured, (f) => existsSync(join(root, f)));
    writeFileSync(weightsPath, `${JSON.stringify(merged, null, 2)}\n`);
    process.stdout.write(`Recorded the durations of ${Object.keys(measured).length} file(s) in ${DURATIONS_FILE}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
