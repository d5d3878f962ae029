/**
 * The package from every module system a TypeScript project may use: each fixture project under
 * test/types/fixtures/ (its own package.json `type` and tsconfig `module`/`moduleResolution`) gets the built
 * package installed as node_modules/maskinporten (a link), is compiled as `tsc -p` compiles it — with probes that fail
 * if the types were missing (`any`) — and its output is run on the project's Node 24: ESM and CommonJS (require of an ES
 * module, Node >= 22.12) alike. The projects compile in this process, one after another, through the compiler API
 * (./compiler.ts), so that the declaration files they share are parsed once rather than by a tsc process each.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createProjectCompiler } from './compiler.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/types/fixtures');
const NODE = join(ROOT, 'node_modules/.bin/node');

/** Each fixture and the consumer it compiles. */
const MODES: Record<string, string> = {
  'nodenext-esm': 'consumer.ts',
  'nodenext-cjs': 'consumer.ts',
  'node16-esm': 'consumer.ts',
  'node16-cjs': 'consumer-dynamic-import.ts',
  bundler: 'consumer.ts',
  node10: 'consumer.ts',
};

// Each fixture compiles and runs in a directory of its own. Compiling holds this process; two tests at a time let
// one project's output run while the next one compiles.
describe('module systems', { concurrency: 2 }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'mp-types-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Copies a fixture with `consumer` as src/index.ts and links the package and @types/node into it. */
  const project = (mode: string, consumer: string): string => {
    const dir = join(work, `${mode}-${consumer.replace(/\W/g, '')}`);
    cpSync(join(FIXTURES, mode), dir, { recursive: true });
    mkdirSync(join(dir, 'src'));
    cpSync(join(FIXTURES, consumer), join(dir, 'src/index.ts'));
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(ROOT, join(dir, 'node_modules/maskinporten'), 'dir');
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'), 'dir');
    return dir;
  };

  const tsc = createProjectCompiler();

  for (const [mode, consumer] of Object.entries(MODES)) {
    it(`${mode}: types resolve and the package loads`, { timeout: 120_000 }, async () => {
      const dir = project(mode, consumer);
      const compiled = tsc(dir);
      assert.ok(compiled.ok, compiled.output);
      const { stdout } = await run(NODE, [join(dir, 'out/index.js')], { cwd: dir, env: { PATH: process.env.PATH } });
      assert.equal(stdout.trim(), 'loaded: true function,function,function');
    });
  }

  it('node16-cjs: a static import is refused (TS1479), as TypeScript models Node 16 — hence import() there', () => {
    const compiled = tsc(project('node16-cjs', 'consumer.ts'));
    assert.equal(compiled.ok, false);
    assert.match(compiled.output, /TS1479/);
  });

  it('node10: typesVersions maps every subpath export to its declarations', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { types?: string } | string>;
      types: string;
      typesVersions: { '*': Record<string, string[]> };
    };
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      if (subpath === '.') assert.equal(pkg.types, target.types);
      else assert.deepEqual(pkg.typesVersions['*'][subpath.slice(2)], [target.types], subpath);
    }
  });
});
