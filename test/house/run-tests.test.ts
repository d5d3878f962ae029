import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_GLOBS,
  DURATIONS_FILE,
  expandGlobs,
  GROUP_SECONDS,
  groupEntry,
  mergeDurations,
  orderByDuration,
  PRELOADS,
  parseDurations,
  planWork,
  SHARED_GLOBS,
} from '../../scripts/run-tests.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'run-tests-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

describe('the test runner: order', () => {
  it('starts the longest files first, ties in name order', () => {
    const durations = { 'test/a.test.ts': 1, 'test/b.test.ts': 20, 'test/c.test.ts': 5, 'test/d.test.ts': 5 };
    assert.deepEqual(
      orderByDuration(['test/a.test.ts', 'test/b.test.ts', 'test/c.test.ts', 'test/d.test.ts'], durations),
      ['test/b.test.ts', 'test/c.test.ts', 'test/d.test.ts', 'test/a.test.ts'],
    );
  });

  it('starts the files it has no figure for first, as if they were the longest', () => {
    const durations = { 'test/long.test.ts': 30, 'test/short.test.ts': 0.5 };
    assert.deepEqual(
      orderByDuration(
        ['test/short.test.ts', 'test/z-new.test.ts', 'test/long.test.ts', 'test/a-new.test.ts'],
        durations,
      ),
      ['test/a-new.test.ts', 'test/z-new.test.ts', 'test/long.test.ts', 'test/short.test.ts'],
    );
  });

  it('runs each file once, and only the files asked for', () => {
    const order = orderByDuration(['test/a.test.ts'], { 'test/a.test.ts': 1, 'test/gone.test.ts': 9 });
    assert.deepEqual(order, ['test/a.test.ts']);
  });

  it('takes no figure from the prototype', () => {
    assert.deepEqual(orderByDuration(['constructor', 'test/a.test.ts'], { 'test/a.test.ts': 1 }), [
      'constructor',
      'test/a.test.ts',
    ]);
  });
});

describe('the test runner: shared processes', () => {
  const weights = (n: number, seconds: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`test/s/${String(i).padStart(2, '0')}.test.ts`, seconds]));

  it('puts each shared file in exactly one group of about GROUP_SECONDS, the rest in a process each', () => {
    const durations = { ...weights(12, GROUP_SECONDS / 4), 'test/own/long.test.ts': 40, 'test/own/short.test.ts': 1 };
    const files = Object.keys(durations).sort();
    const shared = new Set(files.filter((f) => f.startsWith('test/s/')));
    const work = planWork(files, durations, shared);
    const groups = work.filter((w) => w.shared);
    assert.equal(groups.length, 3, '12 files of GROUP_SECONDS/4: three groups');
    assert.deepEqual(
      groups.map((g) => g.weight),
      [GROUP_SECONDS, GROUP_SECONDS, GROUP_SECONDS],
    );
    assert.deepEqual(groups.flatMap((g) => g.files).sort(), [...shared].sort(), 'each shared file once');
    for (const g of groups) assert.deepEqual(g.files, [...g.files].sort(), 'imported in name order');
    assert.deepEqual(
      work.filter((w) => !w.shared).map((w) => w.files),
      [['test/own/long.test.ts'], ['test/own/short.test.ts']],
    );
    assert.equal(work[0]!.files[0], 'test/own/long.test.ts', 'the longest starts first');
    assert.equal(work.at(-1)!.files[0], 'test/own/short.test.ts');
  });

  it('balances unequal files: each to the lightest group so far, longest first', () => {
    const durations = {
      'test/s/a.test.ts': 24,
      'test/s/b.test.ts': 8,
      'test/s/c.test.ts': 8,
      'test/s/d.test.ts': 8,
    };
    const files = Object.keys(durations);
    const groups = planWork(files, durations, new Set(files));
    assert.deepEqual(
      groups.map((g) => [g.weight, g.files]),
      [
        [24, ['test/s/a.test.ts']],
        [24, ['test/s/b.test.ts', 'test/s/c.test.ts', 'test/s/d.test.ts']],
      ],
    );
  });

  it('one group for a few short files; a file it does not know weighs a few seconds there, but goes first alone', () => {
    const work = planWork(
      ['test/s/new.test.ts', 'test/s/old.test.ts', 'test/own/new.test.ts'],
      { 'test/s/old.test.ts': 1 },
      new Set(['test/s/new.test.ts', 'test/s/old.test.ts']),
    );
    assert.deepEqual(
      work.map((w) => [w.shared, w.files]),
      [
        [false, ['test/own/new.test.ts']],
        [true, ['test/s/new.test.ts', 'test/s/old.test.ts']],
      ],
    );
    assert.deepEqual(planWork([], {}, new Set()), []);
  });

  it('a group imports its files by absolute file URL, in order', () => {
    assert.equal(
      groupEntry(['test/a b/x.test.ts', 'test/y.test.ts'], '/root/p'),
      'import "file:///root/p/test/a%20b/x.test.ts";\nimport "file:///root/p/test/y.test.ts";\n',
    );
  });

  it("shares no process for the project's end-to-end, Redis, browser, type or reliability files", () => {
    const shared = new Set(expandGlobs(SHARED_GLOBS, ROOT));
    assert.ok(shared.size > 40);
    for (const f of expandGlobs(DEFAULT_GLOBS, ROOT)) {
      if (/^test\/(e2e|redis|reliability|types)\/|browser\.test|run-tests\.test/.test(f))
        assert.ok(!shared.has(f), `${f} keeps a process of its own`);
    }
  });
});

describe('the test runner: weights', () => {
  it('reads file → seconds and ignores anything else', () => {
    assert.deepEqual(parseDurations('{"test/a.test.ts": 2.5, "test/b.test.ts": "9", "test/c.test.ts": -1}'), {
      'test/a.test.ts': 2.5,
    });
    assert.deepEqual(parseDurations('[1, 2]'), {});
    assert.deepEqual(Object.entries(parseDurations('{"__proto__": 5}')), [['__proto__', 5]]);
    assert.equal(Object.getPrototypeOf(parseDurations('{"__proto__": {"polluted": 1}}')), Object.prototype);
  });

  it('a record keeps the figures of files outside the run, drops files that are gone, sorts and rounds', () => {
    const merged = mergeDurations(
      { 'test/b.test.ts': 3, 'test/gone.test.ts': 4, 'test/kept.test.ts': 7 },
      { 'test/b.test.ts': 1.234, 'test/a.test.ts': 12.06 },
      (f) => f !== 'test/gone.test.ts',
    );
    assert.deepEqual(Object.entries(merged), [
      ['test/a.test.ts', 12.1],
      ['test/b.test.ts', 1.2],
      ['test/kept.test.ts', 7],
    ]);
  });

  it('the committed weights are file → seconds for test files', () => {
    const text = readFileSync(join(ROOT, DURATIONS_FILE), 'utf8');
    const raw = JSON.parse(text) as Record<string, unknown>;
    assert.ok(Object.keys(raw).length > 0);
    assert.deepEqual(parseDurations(text), raw, 'every value is a number of seconds');
    for (const file of Object.keys(raw)) assert.match(file, /^test\/.+\.test\.ts$/);
  });
});

describe('the test runner: files', () => {
  it('expands the globs as node --test does: sorted, braces, node_modules left out', () => {
    const root = tree({
      'test/b/one.test.ts': '',
      'test/a/deep/two.test.ts': '',
      'test/c/three.test.ts': '',
      'test/a/helper.ts': '',
      'test/node_modules/pkg/x.test.ts': '',
      'node_modules/pkg/test/y.test.ts': '',
    });
    assert.deepEqual(expandGlobs(DEFAULT_GLOBS, root), [
      'test/a/deep/two.test.ts',
      'test/b/one.test.ts',
      'test/c/three.test.ts',
    ]);
    assert.deepEqual(expandGlobs(['test/{a,b}/**/*.test.ts'], root), ['test/a/deep/two.test.ts', 'test/b/one.test.ts']);
    assert.deepEqual(expandGlobs(['test/c/three.test.ts', 'test/**/three.test.ts'], root), ['test/c/three.test.ts']);
    assert.deepEqual(expandGlobs(['test/none/**/*.test.ts'], root), []);
  });

  it('finds every test file of the project by default', () => {
    const files = expandGlobs(DEFAULT_GLOBS, ROOT);
    assert.ok(files.includes('test/house/run-tests.test.ts'));
    assert.ok(files.every((f) => f.startsWith('test/') && f.endsWith('.test.ts')));
  });
});

describe('the test runner: a run', () => {
  // The runner and its preloads, copied into a project of three files: one passes, one fails, one leaks a secret.
  const root = tree({
    'test/pass.test.ts': "import { test } from 'node:test';\ntest('passes', () => {});\n",
    'test/fail.test.ts':
      "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\ntest('fails', () => assert.equal(1, 2));\n",
    'test/leak.test.ts':
      "import { test } from 'node:test';\ntest('leaks', () => { console.log(process.env.MASKINPORTEN_CANARY_TOKEN); });\n",
    // Files of a shared folder: each writes the pid of the process it ran in.
    ...Object.fromEntries(
      ['one', 'two'].map((n) => [
        `test/client/${n}.test.ts`,
        `import { writeFileSync } from 'node:fs';\nimport { test } from 'node:test';\ntest('${n} runs', () => writeFileSync('${n}.pid', String(process.pid)));\n`,
      ]),
    ),
    'test/client/fails.test.ts':
      "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\ntest('shared fails', () => assert.equal(1, 2));\n",
    'test/client/leaks.test.ts':
      "import { test } from 'node:test';\ntest('shared leaks', () => { console.log(process.env.MASKINPORTEN_CANARY_TOKEN); });\n",
  });
  for (const file of ['scripts/run-tests.ts', ...PRELOADS]) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(root, file));
  }
  // Without NODE_TEST_CONTEXT, set in this file's process by the runner running it: run() would take the script
  // for a test file calling it recursively, and skip every file.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const runner = (...args: string[]) =>
    spawnSync(process.execPath, ['scripts/run-tests.ts', ...args], { cwd: root, encoding: 'utf8', env });

  it('passes when every file passes, and records each file’s duration', () => {
    const result = runner('--record', 'test/pass.test.ts');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /✔ passes/);
    const recorded = parseDurations(readFileSync(join(root, DURATIONS_FILE), 'utf8'));
    assert.deepEqual(Object.keys(recorded), ['test/pass.test.ts']);
    assert.ok(recorded['test/pass.test.ts']! > 0);
  });

  it('fails (exit code 1) when a test fails', () => {
    const result = runner('test/pass.test.ts', 'test/fail.test.ts');
    assert.equal(result.status, 1);
    assert.match(result.stdout, /✖ fails/);
  });

  it('fails when the secret canary finds a leak in a file that passes its tests', () => {
    const result = runner('test/leak.test.ts');
    assert.equal(result.status, 1);
    assert.match(result.stdout, /secret canary: 1 secret\(s\) leaked/);
    assert.match(result.stdout, /✖ test\/leak\.test\.ts/);
  });

  it('runs the files of a shared folder in one process, and records each file’s duration', () => {
    const result = runner('--record', 'test/client/one.test.ts', 'test/client/two.test.ts', 'test/pass.test.ts');
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /3 test file\(s\): 1 in a process each, 2 in 1 shared process\(es\)/);
    assert.match(result.stdout, /✔ one runs/);
    assert.match(result.stdout, /✔ two runs/);
    const pid = (n: string) => readFileSync(join(root, `${n}.pid`), 'utf8');
    assert.equal(pid('one'), pid('two'), 'one process for both');
    const recorded = parseDurations(readFileSync(join(root, DURATIONS_FILE), 'utf8'));
    // A shared file's figure is its tests' own time (a millisecond here, 0 to a tenth of a second); a file of its
    // own also counts its process's start.
    assert.deepEqual(Object.keys(recorded), [
      'test/client/one.test.ts',
      'test/client/two.test.ts',
      'test/pass.test.ts',
    ]);
    assert.ok(recorded['test/pass.test.ts']! > 0);
  });

  it('fails when a test in a shared process fails, or the canary finds a leak there', () => {
    const failed = runner('test/client/one.test.ts', 'test/client/fails.test.ts');
    assert.equal(failed.status, 1);
    assert.match(failed.stdout, /✖ shared fails/);
    const leaked = runner('test/client/one.test.ts', 'test/client/leaks.test.ts');
    assert.equal(leaked.status, 1);
    assert.match(leaked.stdout, /secret canary: 1 secret\(s\) leaked/);
  });

  it('fails when no file matches', () => {
    const result = runner('test/none/*.test.ts');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /No test file matches test\/none\/\*\.test\.ts/);
  });
});
