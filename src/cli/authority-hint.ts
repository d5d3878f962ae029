/**
 * Mistakes newcomers make with an authority, caught before anything is sent: a misspelled preset (`tset`), and a
 * URL of one of Maskinporten's endpoints pasted where the authority (the base URL) belongs.
 */
import { ALTINN_PLATFORM_URLS, AUTHORITY_PRESETS, authorityPreset } from '../protocol/environments.ts';
import { UsageError } from './args.ts';

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest of `names` to `value` (a typo away: at most 2 edits, or the same letters in another order). */
export function didYouMean(value: string, names: readonly string[]): string | undefined {
  const v = value.trim().toLowerCase();
  const sorted = (s: string) => [...s].sort().join('');
  const scored = names.map((n) => ({ n, d: sorted(n) === sorted(v) ? 1 : distance(v, n) })).sort((a, b) => a.d - b.d);
  return scored[0] && scored[0].d <= Math.min(2, Math.max(1, v.length - 2)) ? scored[0].n : undefined;
}

/** The endpoints under an authority, and what each is, for telling a pasted endpoint from the authority. */
const ENDPOINTS: [RegExp, string][] = [
  [/\/token\/?$/, 'the token endpoint'],
  [/\/jwk\/?$/, 'the key set (JWKS)'],
  [/\/authorize\/?$/, 'an authorization endpoint'],
];

/**
 * Says what is wrong with an authority URL that names an endpoint instead of the base, or undefined when it looks
 * like an authority.
 */
export function authorityMistake(authority: string): string | undefined {
  let url: URL;
  try {
    url = new URL(authority);
  } catch {
    return undefined;
  }
  for (const [pattern, what] of ENDPOINTS) {
    if (pattern.test(url.pathname)) {
      const base = `${url.origin}${url.pathname.replace(pattern, '')}/`;
      return `${authority} is ${what}, not the authority: the authority is the base URL, ${base}`;
    }
  }
  return undefined;
}

/**
 * Reads `--authority`: a preset (test, prod, dev, skyporten-test, skyporten-prod) or a URL. A misspelled preset gets "did you mean", and a pasted
 * endpoint URL is refused with the authority it belongs to.
 * @throws UsageError naming the flag
 */
export function authorityFlag(value: string, flag = '--authority'): string {
  const preset = authorityPreset(value);
  if (preset) return preset;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) {
    const names = Object.keys(AUTHORITY_PRESETS);
    const guess = didYouMean(value, names);
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is neither a URL nor a preset (${names.join(', ')})${guess ? `: did you mean ${guess}?` : ''}`,
    );
  }
  const mistake = authorityMistake(value);
  if (mistake) throw new UsageError(`${flag} ${mistake}`);
  return value;
}

/** Reads `--altinn-platform-url`: a preset (prod, tt02, at22…) or a URL, with "did you mean" for a typo. */
export function altinnPlatformFlag(value: string, flag = '--altinn-platform-url'): string {
  const preset = value.trim().toLowerCase();
  if (Object.hasOwn(ALTINN_PLATFORM_URLS, preset)) return ALTINN_PLATFORM_URLS[preset as 'tt02'];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return value;
  const guess = didYouMean(preset, Object.keys(ALTINN_PLATFORM_URLS));
  throw new UsageError(
    `${flag} ${JSON.stringify(value)} is neither a URL nor a preset (${Object.keys(ALTINN_PLATFORM_URLS).join(', ')})${guess ? `: did you mean ${guess}?` : ''}`,
  );
}
