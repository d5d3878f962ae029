/**
 * Test instrumentation: a registry the test preload installs. The test suite's secret canary
 * (`test/setup/canary.ts`) puts an object at `globalThis[Symbol.for('maskinporten.secretRegistry')]` so that it
 * learns every private key, token and grant made while the tests run, and can then check that none of them ever
 * appears in anything the tests print.
 *
 * In normal use nothing installs it: call sites read `secretRegistry()?.register(…)`, so without a registry the
 * cost is one property lookup and the arguments are never even computed. A registry gets nothing that code in the
 * same process could not already reach (such code could as well wrap `node:crypto`), and nothing leaves the
 * process through it.
 */

/** The global symbol under which the test preload installs its registry. */
const REGISTRY = Symbol.for('maskinporten.secretRegistry');

/** What the test preload installs. */
export interface SecretRegistry {
  /** Records `value` (a base64url secret) as a secret of the described kind. */
  register(value: string, kind: string): void;
}

/** The test suite's secret registry, when one is installed; undefined in normal use. */
export function secretRegistry(): SecretRegistry | undefined {
  return (globalThis as Record<symbol, SecretRegistry | undefined>)[REGISTRY];
}
