/**
 * RFC 8414 discovery for Maskinporten and Skyporten (Digdir's well-known page): where the metadata lives below an
 * authority, and what the client takes from it (the issuer, which is the grant's `aud`, and the token endpoint).
 * Maskinporten publishes `/.well-known/oauth-authorization-server`; Skyporten documents only
 * `/.well-known/openid-configuration`, so both are tried, in that order.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
import { InvalidResponseError } from '../errors.ts';
import { isSecureOrLoopback } from '../url-policy.ts';
import { WELL_KNOWN_PATH } from './constants.ts';
import type { AuthorityKind } from './environments.ts';

/** Path of the OpenID Connect discovery document, tried when the RFC 8414 one is not found. */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';

/**
 * What the client uses of the metadata document.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  tokenEndpoint: string;
}

/** A metadata URL pasted as the authority (with or without its trailing slash), to strip back to the base. */
const WELL_KNOWN_SUFFIX = /\/\.well-known\/(?:oauth-authorization-server|openid-configuration)\/*$/;

/**
 * The authority without its trailing slash, e.g. `https://test.maskinporten.no`. A metadata URL given as the
 * authority (`…/.well-known/oauth-authorization-server/`, as some clients write it) is taken back to its base.
 *
 * @param authority - The authority URL as configured.
 * @returns The base URL without trailing slash.
 */
export function authorityBase(authority: string): string {
  return authority.replace(/\/+$/, '').replace(WELL_KNOWN_SUFFIX, '').replace(/\/+$/, '');
}

/**
 * The metadata URL of an authority (trailing slash optional): the RFC 8414 document.
 *
 * @param authority - The authority URL.
 * @returns `{base}/.well-known/oauth-authorization-server`.
 */
export function discoveryUrl(authority: string): string {
  return `${authorityBase(authority)}${WELL_KNOWN_PATH}`;
}

/**
 * The metadata URLs to try, in order: the RFC 8414 document, then OpenID Connect's (the only one Skyporten
 * documents). The next is tried only when one is not found.
 *
 * @param authority - The authority URL.
 * @returns The two discovery URLs.
 */
export function discoveryUrls(authority: string): [string, string] {
  const base = authorityBase(authority);
  return [`${base}${WELL_KNOWN_PATH}`, `${base}${OPENID_CONFIGURATION_PATH}`];
}

/**
 * What the client assumes when discovery fails: token endpoint = authority + `/token`; issuer = authority + `/` for
 * Maskinporten, the authority itself (no trailing slash) for Skyporten.
 *
 * @param authority - The authority URL.
 * @param kind - The kind of authorization server; `maskinporten` by default.
 * @returns The assumed metadata.
 */
export function fallbackMetadata(authority: string, kind: AuthorityKind = 'maskinporten'): AuthorizationServerMetadata {
  const base = authorityBase(authority);
  return { issuer: kind === 'skyporten' ? base : `${base}/`, tokenEndpoint: `${base}/token` };
}

/**
 * Reads the metadata document; a missing or empty `issuer` is an invalid answer.
 *
 * @param body - The parsed document.
 * @param authority - The authority it was fetched for.
 * @param url - Where it was fetched from, for the error message.
 * @returns The issuer and token endpoint to use.
 * @throws InvalidResponseError `ERR_INVALID_RESPONSE` when there is no issuer.
 */
export function processDiscoveryResponse(
  body: unknown,
  authority: string,
  url: string = discoveryUrl(authority),
): AuthorizationServerMetadata {
  const doc = body as { issuer?: unknown; token_endpoint?: unknown } | null;
  if (!doc || typeof doc !== 'object' || typeof doc.issuer !== 'string' || !doc.issuer) {
    throw new InvalidResponseError(`the metadata at ${url} has no issuer`, { setting: 'issuer' });
  }
  const tokenEndpoint =
    typeof doc.token_endpoint === 'string' && acceptableTokenEndpoint(doc.token_endpoint, authority)
      ? doc.token_endpoint
      : fallbackMetadata(authority).tokenEndpoint;
  return { issuer: doc.issuer, tokenEndpoint };
}

/**
 * Grants go only where the authority itself would send them: https, plain http on a loopback host, or the
 * authority's own origin (which the settings already checked); never to a URL carrying credentials. Anything else
 * falls back to `{authority}/token`.
 */
function acceptableTokenEndpoint(value: string, authority: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username !== '' || url.password !== '') return false;
  if (isSecureOrLoopback(url)) return true;
  return url.protocol === 'http:' && URL.canParse(authority) && new URL(authority).origin === url.origin;
}
