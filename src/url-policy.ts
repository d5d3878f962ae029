/**
 * URL policy, one leaf module everyone may import: which hosts are loopback, and which URLs a setting may name
 * (absolute http(s); https unless the host is loopback or insecure requests were allowed by name; no userinfo, query
 * or fragment, which have no meaning in a base URL and would put credentials where they get printed).
 */
import { isIP } from 'node:net';
import { ConfigError, InsecureUrlError } from './errors.ts';

/**
 * True for a loopback host: `localhost`, an IPv4 address in 127.0.0.0/8, or the IPv6 address `::1` (bracketed or
 * not). The host is parsed as an IP address, so `127.0.0.1.evil.example` — a DNS name — is not loopback.
 *
 * @param hostname - A URL's `hostname` (IPv6 in brackets) or a bare host name or address.
 * @returns Whether requests to the host stay on this machine.
 * @see https://www.rfc-editor.org/rfc/rfc6761#section-6.3 (localhost), RFC 1122 section 3.2.1.3 (127.0.0.0/8)
 */
export function isLoopbackHost(hostname: string): boolean {
  if (typeof hostname !== 'string') return false;
  let host = hostname.toLowerCase();
  if (host === 'localhost') return true;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const version = isIP(host);
  if (version === 4) return host.split('.')[0] === '127';
  // Any spelling of ::1 (0:0:0:0:0:0:0:1, ::0001) normalises to [::1] through the URL parser.
  if (version === 6) return URL.canParse(`http://[${host}]/`) && new URL(`http://[${host}]/`).hostname === '[::1]';
  return false;
}

/**
 * True when a token or grant may be sent to `url` without further permission: https, or plain http to a loopback
 * host.
 *
 * @param url - The target URL.
 * @returns Whether the URL is https or loopback http.
 */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/**
 * Checks a base-URL setting (authority, Altinn platform, …): an absolute http(s) URL without userinfo, query or
 * fragment, and https unless the host is loopback or `allowInsecureRequests` is set.
 *
 * @param name - The setting's name, used in error messages.
 * @param value - The configured value.
 * @param allowInsecureRequests - Permit plain http on hosts other than loopback.
 * @returns The parsed URL.
 * @throws ConfigError `ERR_CONFIG` (missing, not a URL, not http(s), userinfo, query or fragment);
 *   InsecureUrlError `ERR_INSECURE_URL` (plain http on a non-loopback host). Each names the setting in `setting`
 *   and says what is wrong without naming it in `reason`.
 */
export function checkUrlSetting(name: string, value: unknown, allowInsecureRequests: boolean): URL {
  const refuse = (reason: string) => new ConfigError(`${name} ${reason}`, { setting: name, reason });
  if (typeof value !== 'string' || !value.trim()) throw refuse('is required: an absolute https URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse(`must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refuse(`must be an http(s) URL, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '') {
    // The value itself is not quoted: it holds a credential.
    throw refuse(
      `must not hold a user name or password (user:pass@host): give the bare base URL, e.g. ${url.protocol}//${url.host}/`,
    );
  }
  if (url.search !== '' || value.includes('?'))
    throw refuse('must not have a query string (?…): give the bare base URL');
  if (url.hash !== '' || value.includes('#')) throw refuse('must not have a fragment (#…): give the bare base URL');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecureRequests) {
    const reason = `${url.origin} uses plain http: use https, or set allowInsecureRequests: true for a non-loopback test server`;
    throw new InsecureUrlError(`${name} ${reason}`, { setting: name, reason });
  }
  return url;
}
