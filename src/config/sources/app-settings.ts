/**
 * `appsettings.json`, then `appsettings.{Environment}.json`, from the configuration directory. The environment's
 * file is matched case-insensitively, so `production` finds `appsettings.Production.json`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.ts';
import type { FlatConfig } from '../flat-config.ts';
import { readJsonFile } from '../json-file.ts';

/** The names in `dir`; undefined when it does not exist or cannot be read (recorded as a problem). */
function listDir(config: FlatConfig, dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    config.sourceProblems.push({
      source: `configuration directory ${dir}`,
      message: `cannot read the configuration directory ${dir}: ${code ?? String(err)}`,
    });
    return undefined;
  }
}

function findFile(names: string[], name: string): string | undefined {
  const exact = names.find((n) => n === name);
  return exact ?? names.find((n) => n.toLowerCase() === name.toLowerCase());
}

/**
 * Adds the appsettings files to `config`; returns the files read. A file that cannot be read or parsed is recorded
 * in `config.sourceProblems` (with its name, and line and column for a syntax error), and the next one is read.
 */
export function addAppSettings(config: FlatConfig, dir: string, environment: string): string[] {
  const read: string[] = [];
  const names = listDir(config, dir);
  if (!names) return read;
  for (const name of ['appsettings.json', `appsettings.${environment}.json`]) {
    const found = findFile(names, name);
    if (!found) continue;
    const file = join(dir, found);
    let value: unknown;
    try {
      value = readJsonFile(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      config.sourceProblems.push({ source: `file ${file}`, message: err.message });
      continue;
    }
    if (value === undefined) continue;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      config.sourceProblems.push({
        source: `file ${file}`,
        message: `${file} must hold a JSON object at the top level`,
      });
      continue;
    }
    config.addObject(value, { kind: 'file', file });
    read.push(file);
  }
  return read;
}
