/**
 * Mounted secrets: a directory of key-per-file entries (`MaskinportenSettings__ClientId`, as Kubernetes mounts a
 * secret), and JSON files holding whole sections (Altinn's `maskinporten-settings.json`). Kubernetes' `..data`
 * symlink and timestamped directories are skipped; the files are read through the symlinks, so a swap is seen.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.ts';
import type { FlatConfig } from '../flat-config.ts';
import { parseJsonText } from '../json-file.ts';

function recordProblem(config: FlatConfig, file: string, message: string): void {
  config.sourceProblems.push({ source: `secret file ${file}`, message });
}

/**
 * Adds a JSON file holding one or more sections. Missing files are skipped; returns whether it was read. A file
 * that cannot be read or parsed is recorded in `config.sourceProblems`.
 */
export function addSecretsJsonFile(config: FlatConfig, file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    recordProblem(config, file, `cannot read the secrets file ${file}: ${code ?? String(err)}`);
    return false;
  }
  let value: unknown;
  try {
    value = parseJsonText(text, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    recordProblem(config, file, err.message);
    return false;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    recordProblem(config, file, `${file} must hold a JSON object such as {"MaskinportenSettings":{…}}`);
    return false;
  }
  config.addObject(value, { kind: 'secret-file', file });
  return true;
}

/**
 * Adds every key-per-file entry and every `*.json` section file of `dir`; returns the files read. Files that cannot
 * be read are recorded in `config.sourceProblems`.
 */
export function addSecretsDir(config: FlatConfig, dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    config.sourceProblems.push({
      source: `secrets directory ${dir}`,
      message: `cannot read the secrets directory ${dir}: ${code ?? String(err)}`,
    });
    return [];
  }
  const read: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const file = join(dir, name);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      continue; // a dangling symlink mid-swap: the next poll sees the new one
    }
    if (!isFile) continue;
    if (name.toLowerCase().endsWith('.json')) {
      if (addSecretsJsonFile(config, file)) read.push(file);
      continue;
    }
    // Key-per-file: `Section__Key` (or `Section--Key`) names the setting; the content is its value.
    const key = name.replaceAll('__', ':').replaceAll('--', ':');
    let value: string;
    try {
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // removed mid-swap
      recordProblem(config, file, `cannot read the secret file ${file}: ${code ?? String(err)}`);
      continue;
    }
    config.set(key, value, { kind: 'secret-file', file });
    read.push(file);
  }
  return read;
}
