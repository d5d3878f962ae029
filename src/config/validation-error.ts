/** The error of a configuration that does not validate: every problem at once, each with its setting and source. */
import { ConfigError } from '../errors.ts';

/** One problem in the configuration. Never holds a secret value. */
export interface ConfigProblem {
  /** The setting's path, e.g. `MaskinportenSettings:Authority`. */
  path: string;
  /** Where the offending value came from, when one did. */
  source?: string;
  message: string;
}

/** A configuration with one or more problems; `problems` lists them all. */
export class ConfigValidationError extends ConfigError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}${p.source ? ` (from ${p.source})` : ''}`);
    super(`the Maskinporten settings are not valid:\n${lines.join('\n')}`);
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}
