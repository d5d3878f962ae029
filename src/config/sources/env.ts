/**
 * Environment variables with the .NET convention: `MaskinportenSettings__ClientId` is `MaskinportenSettings:ClientId`.
 * Only variables of the sections asked for are taken, so unrelated variables never leak into settings.
 */
import type { FlatConfig } from '../flat-config.ts';

/** Adds the variables belonging to `sections` (case-insensitive prefixes). */
export function addEnvironment(config: FlatConfig, env: Record<string, string | undefined>, sections: string[]): void {
  const prefixes = sections.map((s) => `${s.replaceAll(':', '__').toLowerCase()}__`);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (!prefixes.some((p) => lower.startsWith(p))) continue;
    config.set(name.replaceAll('__', ':'), value, { kind: 'env', name });
  }
}
