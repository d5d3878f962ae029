/**
 * Masks a token inside what an HTTP library keeps of a request it sent — axios's request config and headers, Node's
 * `http.ClientRequest` (its raw header text and header map), follow-redirects' request, a fetch `Request` — so that
 * printing an error or a response (`util.inspect`, `JSON.stringify`, a logger) shows the token masked as the
 * library masks it everywhere else. Runs once the request is done; nothing sent is changed.
 */
import { maskToken } from '../token.ts';

/**
 * The classes whose own data properties are walked; anything else (agents, parsers, other streams) is left alone.
 * follow-redirects' request inherits Writable's prototype without naming its own constructor, so it shows as one.
 */
const WALKED = new Set([
  'Object',
  'Array',
  'AxiosHeaders',
  'ClientRequest',
  'RedirectableRequest',
  'Writable',
  // A socket that never connected still holds the request's header text as its pending data.
  'Socket',
]);
const MAX_DEPTH = 6;

/** Replaces, in place, every occurrence of `secret` in strings reachable from `roots` with its masked form. */
export function maskSecretIn(roots: readonly unknown[], secret: string): void {
  if (secret.length === 0) return;
  const masked = maskToken(secret);
  // A header value must stay a ByteString.
  const maskedAscii = masked.replace('…', '...');
  const seen = new WeakSet<object>();
  const visit = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Headers) {
      for (const [name, v] of value) if (v.includes(secret)) value.set(name, v.replaceAll(secret, maskedAscii));
      return;
    }
    if (typeof Request !== 'undefined' && value instanceof Request) {
      visit(value.headers, depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
    if (!WALKED.has(proto === null ? 'Object' : String(proto.constructor?.name))) return;
    const record = value as Record<PropertyKey, unknown>;
    for (const key of Reflect.ownKeys(record)) {
      const d = Object.getOwnPropertyDescriptor(record, key);
      if (d === undefined || !('value' in d)) continue;
      const v = d.value as unknown;
      if (typeof v === 'string') {
        if (!v.includes(secret)) continue;
        const replaced = v.replaceAll(secret, masked);
        if (d.writable) record[key] = replaced;
        else if (d.configurable) Object.defineProperty(record, key, { ...d, value: replaced });
      } else {
        visit(v, depth + 1);
      }
    }
  };
  for (const root of roots) visit(root, 0);
}
