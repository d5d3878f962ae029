/**
 * `maskinporten emulator --open` (the built CLI): prints the console's URL always, opens it with the browser
 * named by `$BROWSER` where there is one, and opens nothing (saying so) where there is none.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLI = join(ROOT, 'dist/cli/main.js');

/** Runs the emulator until `done(out)` says its output is complete, then stops it; resolves with the output. */
function runUntil(env: NodeJS.ProcessEnv, done: (out: string) => boolean): Promise<string> {
  const child = spawn(NODE, [CLI, 'emulator', '--open'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      rej(new Error(`no complete output in time: ${out}`));
    }, 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (done(out)) {
        clearTimeout(timer);
        child.kill('SIGTERM');
      }
    });
    child.on('exit', () => res(out));
  });
}

describe('maskinporten emulator --open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-open-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const base = { PATH: dirname(NODE), NO_COLOR: '1', HOME: dir };

  test('opens the console URL with the browser the environment names', { timeout: 40_000 }, async () => {
    assert.ok(existsSync(CLI), 'build first: npm run build');
    const record = join(dir, 'opened.txt');
    const browser = join(dir, 'fake-browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`);
    chmodSync(browser, 0o755);
    const out = await runUntil({ ...base, BROWSER: browser }, (o) => o.includes('Opened the console'));
    const url = /console\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
    assert.ok(url, out);
    for (let i = 0; i < 50 && !existsSync(record); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(readFileSync(record, 'utf8'), url);
  });

  test('without a browser it prints the URL and opens nothing', { timeout: 40_000 }, async () => {
    const out = await runUntil(base, (o) => o.includes('No browser here'));
    assert.match(out, /No browser here: open http:\/\/127\.0\.0\.1:\d+\/ yourself\./);
  });
});
