/**
 * Packaging gate: packs the package, installs the tarball into a fresh temporary project, imports every subpath
 * export there and runs `maskinporten --help` from it — what a user gets from the registry, not what the work tree
 * has. Then publint and arethetypeswrong. Exits non-zero on any failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const node = process.execPath;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const work = mkdtempSync(join(tmpdir(), 'maskinporten-pack-'));
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  const stray = files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(f));
  if (stray.length) throw new Error(`the tarball holds files outside dist/: ${stray.join(', ')}`);
  console.log(`packed ${packed[0]!.filename}: ${files.length} files`);

  const project = join(work, 'project');
  run('mkdir', ['-p', project], work);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball], project);

  const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
  const imports = subpaths.map((s) => (s === '.' ? 'maskinporten' : `maskinporten/${s.slice(2)}`));
  const script = imports
    .map(
      (name) =>
        `{ const m = await import('${name}'); if (Object.keys(m).length === 0) throw new Error('${name} exports nothing'); console.log('import ${name}: ' + Object.keys(m).length + ' exports'); }`,
    )
    .join('\n');
  // The self-service client has its own subpath; the root's older export must stay the very same class.
  const sameClass = `{ const a = await import('maskinporten'); const b = await import('maskinporten/self-service'); if (a.SelfServiceClient !== b.SelfServiceClient || a.SelfServiceError !== b.SelfServiceError) throw new Error('maskinporten/self-service and the root export different SelfServiceClient classes'); console.log('SelfServiceClient: one class at maskinporten and maskinporten/self-service'); }`;
  writeFileSync(join(project, 'check.mjs'), `${script}\n${sameClass}`);
  process.stdout.write(run(node, ['check.mjs'], project));
  // A CommonJS consumer: require() of the ES module (Node >= 22.12).
  const cjs = imports
    .map(
      (name) =>
        `{ const m = require('${name}'); if (Object.keys(m).length === 0) throw new Error('${name} exports nothing'); console.log('require ${name}: ' + Object.keys(m).length + ' exports'); }`,
    )
    .join('\n');
  writeFileSync(join(project, 'check.cjs'), cjs);
  process.stdout.write(run(node, ['check.cjs'], project));

  const help = run(node, [join(project, 'node_modules', 'maskinporten', 'dist', 'cli', 'main.js'), '--help'], project);
  if (!help.includes('Usage: maskinporten')) throw new Error('maskinporten --help printed no usage');
  console.log('maskinporten --help from the installed tarball: ok');

  process.stdout.write(run('npx', ['publint', '--strict'], root));
  // Every profile (node10 through typesVersions). One rule is ignored, argued in the README ("Module systems"): a
  // CommonJS require() of this ES-module package works on every Node the package supports (>= 22.12).
  process.stdout.write(
    run('npx', ['attw', '--pack', '.', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped'], root),
  );
  console.log('package check passed');
} finally {
  rmSync(work, { recursive: true, force: true });
}
