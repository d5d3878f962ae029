/**
 * The package's own version, for naming the telemetry tracer and meter.
 */
import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The package's version, read once and only when asked (telemetry names its tracer and meter with it). */
export function packageVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      version = pkg.version;
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}
