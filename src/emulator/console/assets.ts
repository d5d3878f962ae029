/**
 * The console's static assets (the page's compiled script modules and its style sheet), built by
 * `scripts/build-console.ts` into `dist/emulator/console/assets/` and held in memory once read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The console's size budget: its script modules and style sheet, gzipped (held by the build, measured by the bench). */
export const CONSOLE_BUDGET_GZIP_BYTES = 100 * 1024;

/** One asset, ready to send. */
export interface Asset {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

// Next to this module in the package; from the sources (tests run them directly), in the build output.
const CANDIDATES = [
  new URL('./assets/', import.meta.url),
  new URL('../../../dist/emulator/console/assets/', import.meta.url),
];

let loaded: Map<string, Asset> | undefined;

/**
 * Every asset by file name; empty when the assets were not built (the page then works without its script).
 *
 * @see https://html.spec.whatwg.org/multipage/webappapis.html#module-script
 */
export function consoleAssets(): Map<string, Asset> {
  if (loaded) return loaded;
  loaded = new Map();
  const dir = CANDIDATES.map((u) => fileURLToPath(u)).find((d) => existsSync(d));
  if (!dir) return loaded;
  for (const name of readdirSync(dir)) {
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
    if (type && /^[a-z0-9-]+\.[a-z]+$/.test(name))
      loaded.set(name, { body: readFileSync(`${dir}${name}`), contentType: type });
  }
  return loaded;
}
