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
 * Starting a test process costs about 0.4 s of CPU (Node, its test runner, the preloads, the package's modules): a
 * third of the suite's CPU when every one of 90 files had its own. Files of the folders in {@link SHARED_GLOBS}
 * test in-process code only and restore every global they touch, so they run several to a process: split into
 * groups of about {@link GROUP_SECONDS} seconds (longest file to the lightest group), each group one process that
 * imports its files in name order. End-to-end, Redis, browser, type and reliability files keep a process each: they
 * start servers and processes, time things, or check the process itself (the secret canary's exit code).
 *
 * @see https://nodejs.org/api/test.html#runoptions
 */
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The globs `npm test` runs when given none. */
export const DEFAULT_GLOBS = ['test/**/*.test.ts'];
/** How many test files run at once (one process each): `--test-concurrency=2`. */
export const CONCURRENCY = 2;
/** Preloaded into every test file's process, in this order. */
export const PRELOADS = ['./test/helpers/compile-cache.ts', './test/setup/canary.ts'];
/** The weights file, relative to the project root. */
export const DURATIONS_FILE = 'test/durations.json';

/**
 * Test files that may share a process with others: they start no process or server that outlives a test, assert
 * nothing about the process itself, and put back every global they change (environment variables, undici's global
 * dispatcher). A new folder joins only when that holds for all its files.
 */
export const SHARED_GLOBS = [
  'test/{client,config,http,verify,emulator,examples,self-service,nestjs,file-store}/**/*.test.ts',
  'test/house/{imports,one-source,token-names}.test.ts',
  'test/console/{console-http,explain,cli-open}.test.ts',
];
/** About how many seconds of tests one shared process runs (a file's weight from {@link DURATIONS_FILE}). */
export const GROUP_SECONDS = 20;
/** The weight of a file {@link DURATIONS_FILE} does not know yet, when grouping. */
const UNKNOWN_SECONDS = 5;

/** One process's work: a file of its own, or a group of shared files. */
export interface WorkItem {
  /** The files, in the order the process imports them. */
  files: string[];
  /** Seconds, from {@link DURATIONS_FILE}; `Infinity` for a file of its own that it does not know. */
  weight: number;
  shared: boolean;
}

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
  return [...files].sort(heaviestFirst(weight, (f) => f));
}

/** A comparator: the heaviest first, ties in name order. */
function heaviestFirst<T>(weight: (item: T) => number, name: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => weight(b) - weight(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
}

/**
 * The processes to start, in the order to start them: each file outside `shared` in a process of its own, the files
 * in `shared` in groups of about {@link GROUP_SECONDS} seconds (each file to the group that is lightest so far,
 * longest file first), then ordered as {@link orderByDuration} orders files.
 */
export function planWork(files: readonly string[], durations: Durations, shared: ReadonlySet<string>): WorkItem[] {
  const known = (f: string) => (Object.hasOwn(durations, f) ? durations[f]! : undefined);
  const items: WorkItem[] = files
    .filter((f) => !shared.has(f))
    .map((f) => ({ files: [f], weight: known(f) ?? Number.POSITIVE_INFINITY, shared: false }));
  const pooled = files.filter((f) => shared.has(f));
  const weight = (f: string) => known(f) ?? UNKNOWN_SECONDS;
  const total = pooled.reduce((sum, f) => sum + weight(f), 0);
  const groups = Array.from(
    { length: Math.min(pooled.length, Math.max(1, Math.round(total / GROUP_SECONDS))) },
    () => ({
      files: [] as string[],
      weight: 0,
      shared: true,
    }),
  );
  for (const f of [...pooled].sort(heaviestFirst(weight, (p) => p))) {
    const lightest = groups.reduce((a, b) => (b.weight < a.weight ? b : a));
    lightest.files.push(f);
    lightest.weight += weight(f);
  }
  for (const g of groups) g.files.sort();
  items.push(...groups);
  return items.sort(
    heaviestFirst(
      (item) => item.weight,
      (item) => item.files[0]!,
    ),
  );
}

/** The text of a group's entry file: one import per test file, by absolute file URL. */
export function groupEntry(files: readonly string[], root: string): string {
  return `${files.map((f) => `import ${JSON.stringify(pathToFileURL(join(root, f)).href)};`).join('\n')}\n`;
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
  const shared = new Set(expandGlobs(SHARED_GLOBS, root));
  const previous = readDurations(weightsPath);
  const work = planWork(files, previous, shared);
  // A group is a file of its own that imports its members; it lives only as long as the run.
  const groupsDir = mkdtempSync(join(tmpdir(), 'maskinporten-test-groups-'));
  const entries = work.map((item, i) => {
    if (!item.shared) return item.files[0]!;
    const entry = join(groupsDir, `group-${i + 1}.test.mjs`);
    writeFileSync(entry, groupEntry(item.files, root));
    return entry;
  });
  const groupCount = work.filter((w) => w.shared).length;
  process.stdout.write(
    `${files.length} test file(s): ${work.length - groupCount} in a process each, ${files.length - (work.length - groupCount)} in ${groupCount} shared process(es)\n`,
  );
  const measured: Durations = {};
  const stream = run({
    files: entries,
    concurrency: CONCURRENCY,
    isolation: 'process',
    execArgv: PRELOADS.flatMap((p) => ['--import', p]),
  });
  // A file of its own: its entry's name is the path it was given, its duration its process's, start to exit. A
  // shared file: the sum of its top-level tests (nesting 0, named for the file they are in).
  const single = new Set(work.filter((w) => !w.shared).map((w) => w.files[0]!));
  const pooled = new Map(work.filter((w) => w.shared).flatMap((w) => w.files.map((f) => [join(root, f), f] as const)));
  stream.on('test:complete', (data) => {
    if (data.nesting !== 0 || data.details.duration_ms === undefined) return;
    const seconds = data.details.duration_ms / 1000;
    if (single.has(data.name)) measured[data.name] = seconds;
    else if (data.file !== undefined && pooled.has(data.file)) {
      const file = pooled.get(data.file)!;
      measured[file] = (measured[file] ?? 0) + seconds;
    }
  });
  // The run's own summary (the one without a file) says whether anything failed, the exit codes of files included.
  stream.on('test:summary', (data) => {
    if (data.file === undefined && !data.success) process.exitCode = 1;
  });
  stream.compose(spec).pipe(process.stdout);
  await new Promise<void>((resolve) => stream.once('close', resolve));
  rmSync(groupsDir, { recursive: true, force: true });
  if (record) {
    const merged = mergeDurations(previous, measured, (f) => existsSync(join(root, f)));
    writeFileSync(weightsPath, `${JSON.stringify(merged, null, 2)}\n`);
    process.stdout.write(`Recorded the durations of ${Object.keys(measured).length} file(s) in ${DURATIONS_FILE}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
