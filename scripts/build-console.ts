/**
 * Builds the emulator console's assets into dist/emulator/console/assets/: compiles the page's TypeScript with its
 * own tsconfig (DOM types, ES modules the browser loads as they are: no bundler, no runtime framework), copies the
 * style sheet, and holds the whole page to its size budget, gzipped. Run by `npm run build` after the main build.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { CONSOLE_BUDGET_GZIP_BYTES as BUDGET_GZIP_BYTES } from '../src/emulator/console/assets.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = `${root}src/emulator/console/page/`;
const out = `${root}dist/emulator/console/assets/`;

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', `${page}tsconfig.json`], { stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error('build-console: the page’s TypeScript did not compile');
  process.exit(1);
}
mkdirSync(out, { recursive: true });
copyFileSync(`${page}console.css`, `${out}console.css`);

let raw = 0;
let gzipped = 0;
for (const name of readdirSync(out)) {
  const bytes = readFileSync(`${out}${name}`);
  raw += bytes.length;
  gzipped += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
console.log(
  `build-console: ${readdirSync(out).length} assets, ${kb(raw)} (${kb(gzipped)} gzipped; budget ${kb(BUDGET_GZIP_BYTES)})`,
);
if (gzipped > BUDGET_GZIP_BYTES) {
  console.error('build-console: the console’s assets are over their size budget');
  process.exit(1);
}
