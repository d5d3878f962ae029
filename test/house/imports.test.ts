import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkImports, importGraph } from '../../scripts/check-imports.ts';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A throw-away `src/` tree of the given files (path → source). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'imports-'));
  scratch.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('the arrows of src/', () => {
  it('has no import cycle', () => {
    const { cycles } = checkImports(SRC);
    assert.deepEqual(
      cycles.map((c) => [...c, c[0]].join(' -> ')),
      [],
    );
  });

  it('keeps the layer rules of the design', () => {
    // CLI commands included: what they share lives in modules of cli/, so no command imports another.
    const broken = checkImports(SRC).violations.map((v) => `${v.edge.from} -> ${v.edge.to}: ${v.rule}`);
    assert.deepEqual(broken, []);
  });

  it('sees the imports of the real tree, type-only ones included', () => {
    const edges = importGraph(SRC);
    const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    assert.ok(has('client.ts', 'cache/token-cache.ts'));
    assert.ok(has('emulator/state-input.ts', 'emulator/model.ts'), 'a type-only import');
    assert.ok(edges.length > 300, `${edges.length} imports`);
  });
});

describe('the import checker', () => {
  it('finds a cycle of type-only imports, and a longer one, each once', () => {
    const root = tree({
      'emulator/state.ts': "import { check } from './state-input.ts';\nexport interface NewClient { a: string }\n",
      'emulator/state-input.ts': "import type { NewClient } from './state.ts';\nexport const check = 1;\n",
      'a.ts': "export * from './b.ts';\n",
      'b.ts': "import './c.ts';\n",
      'c.ts': "import type { X } from './a.ts';\n",
      'd.ts': "export const lazy = () => import('./a.ts');\n",
    });
    assert.deepEqual(checkImports(root).cycles, [
      ['a.ts', 'b.ts', 'c.ts'],
      ['emulator/state-input.ts', 'emulator/state.ts'],
    ]);
  });

  it('does not count a lazy import() as a cycle', () => {
    const root = tree({
      'a.ts': "export const b = () => import('./b.ts');\n",
      'b.ts': "import { b } from './a.ts';\n",
    });
    assert.deepEqual(checkImports(root).cycles, []);
  });

  it('names each broken layer rule', () => {
    const root = tree({
      'errors.ts': 'export class E extends Error {}\n',
      'url-policy.ts': "import { s } from './settings.ts';\n",
      'telemetry.ts': 'export const t = 1;\n',
      'settings.ts': "import type { KeyMaterial } from './keys/signer.ts';\nexport const s = 1;\n",
      'keys/signer.ts': "import type { Grant } from '../protocol/grant.ts';\nimport { E } from '../errors.ts';\n",
      'protocol/grant.ts': "import { c } from '../cache/token-cache.ts';\n",
      'cache/token-cache.ts': "import { f } from '../http/fetch.ts';\nimport type { L } from '../telemetry.ts';\n",
      'protocol/token-endpoint.ts':
        "import { request } from 'node:https';\nimport { createHash } from 'node:crypto';\n",
      'cache/shared-fetch.ts': "export const lazy = () => import('undici');\n",
      'http/fetch.ts': 'export const f = 1;\n',
      'emulator/server.ts': "import { MaskinportenClient } from '../client.ts';\nimport { v } from '../verify/v.ts';\n",
      'verify/v.ts': 'export const v = 1;\n',
      'client.ts': "import { run } from './cli/main.ts';\n",
      'cli/main.ts': "import { token } from './commands/token.ts';\n",
      'cli/commands/token.ts': "import { keys } from './keys.ts';\n",
      'cli/commands/keys.ts': 'export const keys = 1;\n',
    });
    const found = checkImports(root).violations.map((v) => `${v.edge.from} -> ${v.edge.to}`);
    assert.deepEqual(found.sort(), [
      'cache/shared-fetch.ts -> undici',
      'cache/token-cache.ts -> http/fetch.ts',
      'cli/commands/token.ts -> cli/commands/keys.ts',
      'client.ts -> cli/main.ts',
      'emulator/server.ts -> client.ts',
      'keys/signer.ts -> protocol/grant.ts',
      'protocol/grant.ts -> cache/token-cache.ts',
      'protocol/token-endpoint.ts -> node:https',
      'url-policy.ts -> settings.ts',
    ]);
  });
});
