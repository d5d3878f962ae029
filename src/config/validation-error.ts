/**
 * The error of a configuration that does not validate, and its problems. Defined with the rest of the error family
 * in `errors.ts`; re-exported here for the configuration modules.
 */
export { type ConfigProblem, ConfigValidationError } from '../errors.ts';
