/**
 * Origin rules for authorized requests: a bearer token is only ever sent to the origin it was meant for.
 */

/** The origin (`scheme://host[:port]`) of a URL string or object; throws a TypeError for a relative URL. */
export function originOf(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).origin;
}

/** True when both URLs have the same scheme, host and port, so a token for one may be sent to the other. */
export function isSameOrigin(a: string | URL, b: string | URL): boolean {
  return originOf(a) === originOf(b);
}
