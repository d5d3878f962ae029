/**
 * Runs a program from `examples/` as a user would — a subprocess on the project's Node 24, importing the BUILT
 * package by its own name (`maskinporten/...`) — and returns what it printed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');

/** What an example printed and how it ended. */
export interface ExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `examples/<name>` with `args` to completion (killed after 60 s). */
export async function runExample(
  name: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<ExampleRun> {
  assert.ok(existsSync(join(ROOT, 'dist/index.js')), 'build first: npm run build');
  const child = spawn(NODE, [join(ROOT, 'examples', name), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const code = await new Promise<number | null>((resolvePromise) => child.on('close', resolvePromise));
  return { code, stdout, stderr };
}
