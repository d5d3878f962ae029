/**
 * The memo key of a scope list: the client remembers resolved scope arrays under it, so a caller passing the same
 * array shape again skips resolving it.
 */

/** The memo key of a scope array: its elements NUL-joined; undefined when one is not a string or holds a NUL. */
export function scopeListKey(scopes: readonly unknown[]): string | undefined {
  for (const s of scopes) if (typeof s !== 'string' || s.includes('\u0000')) return undefined;
  return scopes.join('\u0000');
}
