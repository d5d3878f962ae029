/**
 * The core has no runtime dependency: `node-forge` (PKCS#12 only) is an optional peer. A child process whose module
 * resolution cannot find `node-forge` (a resolve hook hides it, as a machine without the package would) still loads
 * every entry point, and reading a PKCS#12 file then fails with a coded error that names the package to install.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** A resolve hook that answers "not found" for node-forge, registered before the script runs. */
const HIDE_FORGE = `
const hook = 'export async function resolve(s, c, next) { if (s === "node-forge" || s.startsWith("node-forge/")) { const e = new Error("Cannot find package node-forge"); e.code = "ERR_MODULE_NOT_FOUND"; throw e; } return next(s, c); }';
const { register } = await import('node:module');
register('data:text/javascript,' + encodeURIComponent(hook));
`;

async function runHidden(script: string): Promise<string> {
  const preload = `data:text/javascript,${encodeURIComponent(HIDE_FORGE)}`;
  const { stdout } = await run(process.execPath, ['--import', preload, '--input-type=module', '-e', script], {
    cwd: root,
  });
  return stdout;
}

describe('optional peers: node-forge', () => {
  it('is not a runtime dependency of the package', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.dependencies?.['node-forge'], undefined);
    assert.ok(pkg.peerDependencies['node-forge']);
    assert.equal(pkg.peerDependenciesMeta['node-forge'].optional, true);
  });

  it('every entry point loads without it, and PKCS#12 names the package to install', async () => {
    const out = await runHidden(`
      const entries = ['./dist/index.js', './dist/config/index.js', './dist/http/index.js', './dist/emulator/index.js'];
      for (const e of entries) await import(e);
      let forgeVisible = true;
      try { await import('node-forge'); } catch { forgeVisible = false; }
      const { readPkcs12 } = await import('./dist/keys/pkcs12.js');
      try {
        await readPkcs12(new Uint8Array([48, 0]), 'x');
        console.log(JSON.stringify({ forgeVisible, thrown: false }));
      } catch (err) {
        console.log(JSON.stringify({ forgeVisible, thrown: true, name: err.name, code: err.code, message: err.message }));
      }
    `);
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
    assert.equal(result.forgeVisible, false, 'the hook hides node-forge');
    assert.equal(result.thrown, true);
    assert.equal(result.code, 'ERR_INVALID_KEY');
    assert.match(result.message, /npm install node-forge/);
  });
});
