/**
 * Control characters in values that end up in requests, headers, logs or on a terminal: CR/LF split lines (header
 * and log injection), NUL truncates, ESC drives a terminal. None of them is ever part of a setting, scope or URI.
 */

/**
 * The index of the first C0 or C1 control character or DEL in `s`, or -1.
 *
 * @see {@link controlCharacterName}
 */
export function controlCharacterAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return i;
  }
  return -1;
}

/**
 * The code point at `at` in `s` as `U+000D`, for messages (which never show the character itself).
 *
 * @see {@link controlCharacterAt}
 */
export function controlCharacterName(s: string, at: number): string {
  return `U+${s.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')}`;
}
