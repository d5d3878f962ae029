/**
 * The JWT grant (Digdir's JWT grant page), as pure functions: normalise a token request, build the grant's claims, and
 * sign them. The same request always yields the same claims apart from `iat`, `exp` and `jti`.
 */
import { ArgumentError } from '../errors.ts';
import { encodeSegment, signatureOf, signSegments } from '../keys/jws.ts';
import { randomBase64url } from '../keys/random-pool.ts';
import { secretRegistry } from '../keys/secret-hook.ts';
import type { LoadedSigner } from '../keys/signer.ts';
import {
  CONSENT_TYPE,
  DEFAULT_GRANT_LIFETIME_SECONDS,
  isOrgNumber,
  MAX_GRANT_LIFETIME_SECONDS,
  NORWEGIAN_ORG_PREFIX,
  ORG_AUTHORITY,
  SYSTEM_USER_TYPE,
} from './constants.ts';
import { controlCharacterAt, controlCharacterName } from './control-characters.ts';

/**
 * A token request: the scopes plus every optional grant claim Maskinporten supports.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 */
export interface TokenRequest {
  scopes: readonly string[] | string;
  /** Altinn API delegation: the organisation on whose behalf the token is fetched. */
  consumerOrg?: string;
  /** Audience restriction (RFC 8707): the API(s) the token is for. */
  resource?: string | readonly string[];
  /** Binds the token to one end user (11-digit national identity number). */
  pid?: string;
  /** Altinn system user: the party organisation, and optionally which of its system users. */
  systemUser?: { org: string; externalRef?: string };
  /** Altinn consent: its id and who gave it (an Altinn party URN). */
  consent?: { id: string; from: string };
}

/** A token request with every field validated and in canonical form. */
export interface NormalizedTokenRequest {
  scopes: string[];
  consumerOrg?: string;
  resource?: string[];
  pid?: string;
  systemUser?: { org: string; externalRef?: string };
  consent?: { id: string; from: string };
}

/**
 * Splits every entry on spaces, drops duplicates and sorts, so scope order never matters.
 *
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` (`setting: 'scopes'`): not strings, none given, or a control character.
 */
export function normalizeScopes(scopes: readonly string[] | string): string[] {
  const list = typeof scopes === 'string' ? [scopes] : scopes;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
    throw new ArgumentError('scopes must be a string or an array of strings', { setting: 'scopes' });
  }
  // Scopes are separated by spaces (RFC 6749 sec. 3.3). A control character (CR, LF, tab, NUL, DEL…) is never part of a
  // scope and is how a header or log line gets injected, so it is refused, not split on or sent.
  for (const s of list as readonly string[]) {
    const at = controlCharacterAt(s);
    if (at !== -1) {
      throw new ArgumentError(
        `scopes must not contain control characters: found ${controlCharacterName(s, at)} in a scope; separate scopes with spaces`,
        { setting: 'scopes' },
      );
    }
  }
  const out = [...new Set(list.flatMap((s) => s.split(/\s+/)).filter(Boolean))].sort();
  if (out.length === 0)
    throw new ArgumentError('at least one scope is required, e.g. ["altinn:serviceowner/notifications.create"]');
  return out;
}

/** Validates a request (or a bare scope list) and returns its canonical form. */
export function normalizeTokenRequest(request: TokenRequest | readonly string[] | string): NormalizedTokenRequest {
  if (request === null || (typeof request !== 'string' && typeof request !== 'object')) {
    throw new ArgumentError('a token request is scopes (a string or an array of strings) or an object { scopes, … }', {
      setting: 'request',
    });
  }
  const r: TokenRequest =
    typeof request === 'string' || Array.isArray(request) ? { scopes: request as string[] } : (request as TokenRequest);
  const out: NormalizedTokenRequest = { scopes: normalizeScopes(r.scopes) };
  if (r.consumerOrg !== undefined) {
    if (!isOrgNumber(r.consumerOrg))
      throw new ArgumentError(
        `consumerOrg must be a nine-digit organisation number, got ${JSON.stringify(r.consumerOrg)}`,
      );
    out.consumerOrg = r.consumerOrg;
  }
  if (r.resource !== undefined) {
    if (typeof r.resource !== 'string' && !Array.isArray(r.resource)) {
      throw new ArgumentError('resource must be an absolute URI or an array of them', { setting: 'resource' });
    }
    const list = typeof r.resource === 'string' ? [r.resource] : [...r.resource];
    for (const res of list) {
      // The URL parser drops CR, LF and tab silently, so a control character is looked for first, as in scopes.
      const at = typeof res === 'string' ? controlCharacterAt(res) : -1;
      if (at !== -1) {
        throw new ArgumentError(
          `resource must not contain control characters: found ${controlCharacterName(res, at)} in a resource URI`,
          { setting: 'resource' },
        );
      }
      if (typeof res !== 'string' || !URL.canParse(res) || res.includes('#')) {
        throw new ArgumentError(`resource must be absolute URIs without a fragment, got ${JSON.stringify(res)}`);
      }
    }
    out.resource = [...new Set(list)].sort();
  }
  if (r.pid !== undefined) {
    if (typeof r.pid !== 'string' || !/^\d{11}$/.test(r.pid))
      throw new ArgumentError('pid must be an 11-digit national identity number');
    out.pid = r.pid;
  }
  if (r.systemUser !== undefined) {
    if (!isOrgNumber(r.systemUser?.org))
      throw new ArgumentError('systemUser.org must be a nine-digit organisation number');
    const ref = r.systemUser.externalRef;
    if (ref !== undefined && !/^[a-zA-Z0-9æøåÆØÅ_-]{1,255}$/.test(ref)) {
      throw new ArgumentError('systemUser.externalRef must be 1–255 letters, digits, "_" or "-"');
    }
    out.systemUser = ref === undefined ? { org: r.systemUser.org } : { org: r.systemUser.org, externalRef: ref };
  }
  if (r.consent !== undefined) {
    if (
      typeof r.consent?.id !== 'string' ||
      typeof r.consent.from !== 'string' ||
      !r.consent.from.startsWith('urn:altinn:')
    ) {
      throw new ArgumentError('consent must be { id: <uuid>, from: "urn:altinn:person:identifier-no:<fnr>" }');
    }
    out.consent = { id: r.consent.id, from: r.consent.from };
  }
  return out;
}

/** Inputs of {@link buildGrantClaims}. */
export interface GrantClaimsInput {
  clientId: string;
  /** The Maskinporten issuer, trailing slash included. */
  audience: string;
  nowSeconds: number;
  request: NormalizedTokenRequest;
  /** `exp − iat`: {@link DEFAULT_GRANT_LIFETIME_SECONDS} by default, at most {@link MAX_GRANT_LIFETIME_SECONDS}. */
  lifetimeSeconds?: number;
  /** Grant id; 32 random bytes, base64url, by default. */
  jti?: string;
}

/** The claims of a grant: `aud`, `iss`, `scope`, `iat`, `exp`, `jti`, and the optional claims only when asked for. */
export function buildGrantClaims(input: GrantClaimsInput): Record<string, unknown> {
  const lifetime = input.lifetimeSeconds ?? DEFAULT_GRANT_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_GRANT_LIFETIME_SECONDS) {
    throw new ArgumentError(`the grant lifetime must be 1–${MAX_GRANT_LIFETIME_SECONDS} s, got ${lifetime}`);
  }
  const { request } = input;
  const claims: Record<string, unknown> = {
    aud: input.audience,
    iss: input.clientId,
    scope: request.scopes.join(' '),
    iat: input.nowSeconds,
    exp: input.nowSeconds + lifetime,
    jti: input.jti ?? randomBase64url(32),
  };
  if (request.consumerOrg !== undefined) claims.consumer_org = request.consumerOrg;
  if (request.resource !== undefined) claims.resource = request.resource;
  if (request.pid !== undefined) claims.pid = request.pid;
  const details: Record<string, unknown>[] = [];
  if (request.systemUser) {
    details.push({
      type: SYSTEM_USER_TYPE,
      systemuser_org: { authority: ORG_AUTHORITY, ID: `${NORWEGIAN_ORG_PREFIX}${request.systemUser.org}` },
      ...(request.systemUser.externalRef === undefined ? {} : { externalRef: request.systemUser.externalRef }),
    });
  }
  if (request.consent) details.push({ type: CONSENT_TYPE, id: request.consent.id, from: request.consent.from });
  if (details.length) claims.authorization_details = details;
  return claims;
}

export type { GrantSigner } from '../keys/jws.ts';

/** Signs grant claims into a compact JWT with `kid` or `x5c` in its header (the signer's, encoded once). */
export function signGrant(claims: Record<string, unknown>, signer: LoadedSigner): string {
  const grant = signSegments(signer.headerSegment, signer.alg, encodeSegment(claims), signer.key);
  // Test instrumentation (see secret-hook.ts): a grant is a bearer credential until it expires.
  secretRegistry()?.register(signatureOf(grant), `grant (client assertion of ${String(claims.iss)})`);
  return grant;
}
