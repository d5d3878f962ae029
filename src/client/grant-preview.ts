/**
 * The client's composition stopped before the network: settings validated and resolved as `MaskinportenClient`
 * resolves them (presets, authority kind), the signer it would load, and the grant it would send for a request —
 * for tools that show or check a setup (`maskinporten token --dry-run`, `maskinporten doctor`) without building
 * a signer or a grant of their own.
 *
 * @internal
 */
import { systemClock } from '../clock.ts';
import { ConfigError } from '../errors.ts';
import { decodeCompact, type JwsHeader } from '../keys/jws.ts';
import type { LoadedSigner } from '../keys/signer.ts';
import { DEFAULT_GRANT_LIFETIME_SECONDS } from '../protocol/constants.ts';
import { type AuthorizationServerMetadata, fallbackMetadata } from '../protocol/discovery.ts';
import type { AuthorityKind } from '../protocol/environments.ts';
import { normalizeTokenRequest } from '../protocol/grant.ts';
import type { MaskinportenSettings } from '../settings.ts';
import { buildCredentials } from './credentials.ts';
import { composeGrant } from './grant.ts';
import type { TokenRequestInput } from './options.ts';

/** Options of {@link composeCredentials} and {@link previewGrant}, named as the client's own options. */
export interface PreviewOptions {
  /** Permit plain-http URLs on hosts other than loopback. */
  allowInsecureRequests?: boolean;
}

/** A client's credentials as the client composes them, its signer loaded. */
export interface ComposedCredentials {
  /** The validated settings, a preset authority replaced by its URL. */
  settings: Readonly<MaskinportenSettings>;
  /** The authority without its trailing slash. */
  authority: string;
  kind: AuthorityKind;
  signer: LoadedSigner;
  /** The metadata the client uses until discovery answers (issuer and token endpoint derived from the authority). */
  assumedMetadata: AuthorizationServerMetadata;
}

/**
 * A grant as the client would send it before discovery (for {@link ComposedCredentials.assumedMetadata}), with the
 * client's default lifetime and the system clock, decoded (the signature is made but never shown).
 */
export interface GrantPreview extends ComposedCredentials {
  header: JwsHeader;
  claims: Record<string, unknown>;
}

/**
 * Validates settings and loads the signer exactly as `MaskinportenClient` does, without discovery or any request.
 *
 * @param settings - The settings, as given to `new MaskinportenClient(settings)`.
 * @param options - The client options that shape the credentials (`allowInsecureRequests`).
 * @returns The validated settings, authority, kind, loaded signer and the metadata assumed without discovery.
 * @throws ConfigError `ERR_CONFIG`, InsecureUrlError `ERR_INSECURE_URL`, KeyError `ERR_INVALID_KEY`.
 * @internal
 */
export async function composeCredentials(
  settings: MaskinportenSettings,
  options: PreviewOptions = {},
): Promise<ComposedCredentials> {
  const creds = buildCredentials(settings, {
    allowInsecureRequests: options.allowInsecureRequests === true,
    // Nothing here reads the discovered metadata, so discovery is never started.
    discover: () => Promise.reject(new ConfigError('a preview makes no requests')),
    clock: systemClock,
    discoveryRefreshMs: undefined,
    logger: undefined,
  });
  return {
    settings: creds.settings,
    authority: creds.authority,
    kind: creds.kind,
    signer: await creds.signer,
    assumedMetadata: fallbackMetadata(creds.authority, creds.kind),
  };
}

/**
 * The grant `MaskinportenClient` would send for `request` with these settings and options, made by the same
 * functions, signed, and decoded for display. Calls nobody.
 *
 * @param settings - The settings, as given to `new MaskinportenClient(settings)`.
 * @param request - The scopes, or a whole token request, as given to `getAccessToken`.
 * @param options - The client options that shape the grant (`allowInsecureRequests`).
 * @returns The composed credentials with the grant's decoded header and claims (never the signature).
 * @throws ConfigError `ERR_CONFIG`, InsecureUrlError `ERR_INSECURE_URL`, KeyError `ERR_INVALID_KEY`,
 *   ArgumentError `ERR_INVALID_ARGUMENT` (a request that cannot be sent).
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 * @internal
 */
export async function previewGrant(
  settings: MaskinportenSettings,
  request: TokenRequestInput,
  options: PreviewOptions = {},
): Promise<GrantPreview> {
  const normalized = normalizeTokenRequest(request);
  const creds = await composeCredentials(settings, options);
  const grant = composeGrant({
    clientId: creds.settings.clientId,
    issuer: creds.assumedMetadata.issuer,
    nowMs: systemClock.now(),
    request: normalized,
    lifetimeSeconds: DEFAULT_GRANT_LIFETIME_SECONDS,
    signer: creds.signer,
  });
  const { header, payload } = decodeCompact(grant);
  return { ...creds, header, claims: payload };
}
