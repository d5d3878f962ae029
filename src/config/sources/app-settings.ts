/**
 * `appsettings.json`, then `appsettings.{Environment}.json`, from the configuration directory. The environment's
 * file is matched case-insensitively, so `production` finds `appsettings.Production.json`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.ts';
import type { FlatConfig } from '../flat-config.ts';
import { readJsonFile } from '../json-file.ts';

function findFile(dir: string, name: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read the configuration directory ${dir}`, { cause: err });
  }
  const exact = names.find((n) => n === name);
  return exact ?? names.find((n) => n.toLowerCase() === name.toLowerCase());
}

/** Adds the appsettings files to `config`; returns the files read. */
export function addAppSettings(config: FlatConfig, dir: string, environment: string): string[] {
  const read: string[] = [];
  for (const name of ['appsettings.json', `appsettings.${environment}.json`]) {
    const found = findFile(dir, name);
    if (!found) continue;
    const file = join(dir, found);
    const value = readJsonFile(file);
    if (value === undefined) continue;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError(`${file} must hold a JSON object at the top level`);
    }
    config.addObject(value, { kind: 'file', file });
    read.push(file);
  }
  return read;
}
