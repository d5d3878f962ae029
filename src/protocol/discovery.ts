/**
 * RFC 8414 discovery for Maskinporten (protocol notes §1): where the metadata lives below an authority, and what the
 * client takes from it (the issuer, which is the grant's `aud`, and the token endpoint).
 */
import { InvalidResponseError } from '../errors.ts';
import { isLoopbackHost } from '../url-policy.ts';
import { WELL_KNOWN_PATH } from './constants.ts';

/** What the client uses of the metadata document. */
export interface AuthorizationServerMetadata {
  issuer: string;
  tokenEndpoint: string;
}

/** The authority without its trailing slash, e.g. `https://test.maskinporten.no`. */
export function authorityBase(authority: string): string {
  return authority.replace(/\/+$/, '');
}

/** The metadata URL of an authority (trailing slash optional). */
export function discoveryUrl(authority: string): string {
  return `${authorityBase(authority)}${WELL_KNOWN_PATH}`;
}

/** What the client assumes when discovery fails: issuer = authority + `/`, token endpoint = authority + `/token`. */
export function fallbackMetadata(authority: string): AuthorizationServerMetadata {
  const base = authorityBase(authority);
  return { issuer: `${base}/`, tokenEndpoint: `${base}/token` };
}

/** Reads the metadata document; a missing or empty `issuer` is an invalid answer. */
export function processDiscoveryResponse(body: unknown, authority: string): AuthorizationServerMetadata {
  const doc = body as { issuer?: unknown; token_endpoint?: unknown } | null;
  if (!doc || typeof doc !== 'object' || typeof doc.issuer !== 'string' || !doc.issuer) {
    throw new InvalidResponseError(`the metadata at ${discoveryUrl(authority)} has no issuer`);
  }
  const tokenEndpoint =
    typeof doc.token_endpoint === 'string' && acceptableTokenEndpoint(doc.token_endpoint, authority)
      ? doc.token_endpoint
      : fallbackMetadata(authority).tokenEndpoint;
  return { issuer: doc.issuer, tokenEndpoint };
}

/**
 * Grants go only where the authority itself would send them: https, plain http on a loopback host, or the
 * authority's own origin (which the settings already checked). Anything else falls back to `{authority}/token`.
 */
function acceptableTokenEndpoint(value: string, authority: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  return isLoopbackHost(url.hostname) || (URL.canParse(authority) && new URL(authority).origin === url.origin);
}
