/**
 * Which `appsettings*.json` files a command looked for and which are there: a newcomer who types
 * `--app-environment Staging` next to an `appsettings.Production.json` otherwise sees only "ClientId is required".
 * Names are matched as the loader matches them (case-insensitively).
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** What {@link lookUpAppSettings} found. */
export interface AppSettingsLookup {
  /** The configuration directory, absolute. */
  dir: string;
  /** The app environment that picked the second file. */
  environment: string;
  /** The files looked for, in the order they are read: `appsettings.json`, `appsettings.{environment}.json`. */
  lookedFor: string[];
  /** Of those, the ones missing. */
  missing: string[];
  /** Every `appsettings*.json` in the directory, as named there. */
  present: string[];
}

/** Looks up the appsettings files of `environment` in `dir`. */
export function lookUpAppSettings(dir: string, environment: string): AppSettingsLookup {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    names = []; // a missing or unreadable directory: the loader reports what matters
  }
  const present = names
    .filter((n) => /^appsettings(\..+)?\.json$/i.test(n))
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  const lookedFor = ['appsettings.json', `appsettings.${environment}.json`];
  const missing = lookedFor.filter((f) => !present.some((p) => p.toLowerCase() === f.toLowerCase()));
  return { dir: resolve(dir), environment, lookedFor, missing, present };
}

/** Whether the app environment's own file is missing (the one that most often explains a missing setting). */
export function environmentFileMissing(lookup: AppSettingsLookup): boolean {
  return lookup.missing.includes(lookup.lookedFor[1]!);
}

/** One line saying what was looked for, what is missing, and what the directory has instead. */
export function describeLookup(lookup: AppSettingsLookup): string {
  const others = lookup.present.filter((p) => !lookup.lookedFor.some((f) => f.toLowerCase() === p.toLowerCase()));
  const environments = others.map((p) => /^appsettings\.(.+)\.json$/i.exec(p)?.[1]).filter((e) => e !== undefined);
  return [
    `looked for ${lookup.lookedFor.join(' and ')} in ${lookup.dir} (app environment ${lookup.environment})`,
    `: ${lookup.missing.length ? `${lookup.missing.join(' and ')} ${lookup.missing.length > 1 ? 'are' : 'is'} missing` : 'both are there'}`,
    lookup.present.length
      ? `; the directory has ${lookup.present.join(', ')}`
      : '; the directory has no appsettings files',
    environments.length
      ? ` (pick one with --app-environment ${environments.join(' or ')}, or --config-dir for another directory)`
      : '',
  ].join('');
}
