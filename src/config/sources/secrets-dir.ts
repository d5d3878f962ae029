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

/** Adds a JSON file holding one or more sections. Missing files are skipped; returns whether it was read. */
export function addSecretsJsonFile(config: FlatConfig, file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new ConfigError(`cannot read the secrets file ${file}: ${code ?? String(err)}`, { cause: err });
  }
  const value = parseJsonText(text, file);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file} must hold a JSON object such as {"MaskinportenSettings":{…}}`);
  }
  config.addObject(value, { kind: 'secret-file', file });
  return true;
}

/** Adds every key-per-file entry and every `*.json` section file of `dir`; returns the files read. */
export function addSecretsDir(config: FlatConfig, dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new ConfigError(`cannot read the secrets directory ${dir}: ${code ?? String(err)}`, { cause: err });
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
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    config.set(key, value, { kind: 'secret-file', file });
    read.push(file);
  }
  return read;
}
