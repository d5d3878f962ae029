/**
 * One set of credentials of a client — validated settings, the signer (still loading for a PKCS#12 file), and the
 * discovered metadata kept fresh — built whole, so `reconfigure` swaps it whole and a call in flight keeps the set
 * it started with.
 */

import { RefreshingValue } from '../cache/refreshing-value.ts';
import type { StoreContext } from '../cache/store.ts';
import { type LoadedSigner, loadSigner, loadSignerSync } from '../keys/signer.ts';
import { type AuthorizationServerMetadata, authorityBase, fallbackMetadata } from '../protocol/discovery.ts';
import { type AuthorityKind, authorityKindOf, authorityPreset } from '../protocol/environments.ts';
import { type MaskinportenSettings, validateSettings } from '../settings.ts';
import type { Logger } from '../telemetry.ts';
import { describeError } from './describe-error.ts';
import type { Credentials } from './fetchers.ts';

/** The credentials in force plus their signer and discovered metadata; replaced whole by `reconfigure`. */
export interface ActiveCredentials extends Credentials {
  /** Maskinporten or Skyporten: decides the issuer assumed while discovery fails. */
  kind: AuthorityKind;
  signer: LoadedSigner | Promise<LoadedSigner>;
  discovery: RefreshingValue<AuthorizationServerMetadata>;
  storeContext?: StoreContext;
}

/** What building credentials needs from the client. */
export interface CredentialsEnvironment {
  allowInsecureRequests: boolean;
  /** Fetches the metadata of an authority (the client's discovery call). */
  discover(authority: string): Promise<AuthorizationServerMetadata>;
  clock: { now(): number };
  /** How long (ms) discovered metadata is used before a background refresh; 12 h when undefined. */
  discoveryRefreshMs: number | undefined;
  logger: Logger | undefined;
}

/**
 * Validates settings and builds a credentials set from them. A preset name as the authority (`test`, `prod`,
 * `skyporten-test`, …) stands for its URL.
 *
 * @throws ConfigError `ERR_CONFIG`, InsecureUrlError `ERR_INSECURE_URL`, KeyError `ERR_INVALID_KEY`.
 */
export function buildCredentials(given: MaskinportenSettings, env: CredentialsEnvironment): ActiveCredentials {
  const preset =
    given !== null && typeof given === 'object' && typeof given.authority === 'string'
      ? authorityPreset(given.authority)
      : undefined;
  const settings = preset === undefined ? given : { ...given, authority: preset };
  validateSettings(settings, env.allowInsecureRequests);
  const signer = loadSignerSync(settings);
  const authority = authorityBase(settings.authority);
  const kind = settings.authorityKind ?? authorityKindOf(authority);
  let pending: LoadedSigner | Promise<LoadedSigner>;
  if (signer) pending = signer;
  else {
    pending = loadSigner(settings);
    pending.catch(() => undefined); // reported to the first caller
  }
  const discovery: RefreshingValue<AuthorizationServerMetadata> = new RefreshingValue({
    fetch: () => env.discover(authority),
    fallback: () => fallbackMetadata(authority, kind),
    clock: env.clock,
    staleAfterMs: env.discoveryRefreshMs ?? 12 * 60 * 60 * 1000,
    retryAfterFailureMs: 30_000,
    onError: (err) =>
      env.logger?.warn?.(
        { err: describeError(err), authority },
        discovery.current
          ? 'discovery refresh failed; keeping the last discovered issuer'
          : 'discovery failed; using the authority as issuer',
      ),
  });
  return {
    settings: Object.freeze({ ...settings }),
    authority,
    kind,
    signer: pending,
    metadata: () => discovery.get(),
    discovery,
  };
}
