/**
 * Verifying a token's signature for `decode --verify` without trusting the token: only issuers the project knows
 * (the Maskinporten and Altinn presets) or the user named (`--authority`, `--issuer`) are asked for keys, the key is
 * the one the token's `kid` names (never "the only key there is"), and no URL the token carries is ever fetched.
 */
import { importPublicJwk } from '../keys/jwk.ts';
import { type DecodedJws, isRsaAlgorithm, verifyDecoded } from '../keys/jws.ts';
import { ALTINN_PLATFORM_URLS, AUTHORITY_PRESETS } from '../protocol/environments.ts';

/** An issuer trusted for verification, and where the trust comes from (for the printed verdict). */
export interface KnownIssuer {
  issuer: string;
  source: string;
}

/** The issuer of an Altinn platform's exchanged tokens. */
export function altinnIssuer(platformUrl: string): string {
  return `${platformUrl.replace(/\/+$/, '')}/authentication/api/v1/openid/`;
}

/** The issuers of the presets: each Maskinporten environment and each Altinn platform. */
export function presetIssuers(): KnownIssuer[] {
  return [
    ...Object.entries(AUTHORITY_PRESETS).map(([preset, issuer]) => ({
      issuer,
      source: preset.startsWith('skyporten')
        ? `Skyporten ${preset.slice('skyporten-'.length)}`
        : `Maskinporten ${preset}`,
    })),
    ...Object.entries(ALTINN_PLATFORM_URLS).map(([env, url]) => ({
      issuer: altinnIssuer(url),
      source: `Altinn ${env}`,
    })),
  ];
}

/** Issuers compare as URLs written by hand do: one trailing slash more or less is the same issuer. */
function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/$/, '') === b.replace(/\/$/, '');
}

/** The verdict of {@link verifyWithKnownIssuers}. */
export type Verdict = { verified: true; issuer: KnownIssuer; kid: string } | { verified: false; error: string };

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The trusted issuer's published keys: RFC 8414 metadata (Maskinporten), else OpenID configuration (Altinn). */
async function publishedKeys(issuer: string): Promise<Record<string, unknown>[]> {
  const base = issuer.endsWith('/') ? issuer : `${issuer}/`;
  for (const path of ['.well-known/oauth-authorization-server', '.well-known/openid-configuration']) {
    let meta: Record<string, unknown>;
    try {
      meta = await fetchJson(new URL(path, base).href);
    } catch {
      continue; // try the other kind of metadata
    }
    if (typeof meta.jwks_uri !== 'string') continue;
    const jwks = await fetchJson(meta.jwks_uri);
    return Array.isArray(jwks.keys) ? (jwks.keys as Record<string, unknown>[]) : [];
  }
  throw new Error(`no published keys found for issuer ${issuer}`);
}

/**
 * Verifies `decoded` against the key its `kid` names, published by its issuer — when that issuer is one of
 * `trusted`. Fetches only from a trusted issuer's own metadata.
 */
export async function verifyWithKnownIssuers(decoded: DecodedJws, trusted: KnownIssuer[]): Promise<Verdict> {
  const { header, payload } = decoded;
  try {
    if (typeof payload.iss !== 'string') throw new Error('the token has no iss claim');
    const iss = payload.iss;
    const known = trusted.find((t) => sameIssuer(t.issuer, iss));
    if (!known) {
      throw new Error(
        `the issuer ${JSON.stringify(iss)} is not a known issuer (a Maskinporten or Altinn preset): if you trust it, pass --issuer ${iss} (or --authority)`,
      );
    }
    if (!isRsaAlgorithm(header.alg)) throw new Error(`unsupported alg ${String(header.alg)}`);
    if (typeof header.kid !== 'string' || !header.kid)
      throw new Error('the token has no kid, so no published key can be matched to it');
    const kid = header.kid;
    const jwk = (await publishedKeys(known.issuer)).find((k) => k.kid === kid);
    if (!jwk) throw new Error(`the issuer ${known.issuer} publishes no key with kid ${kid}`);
    if (!verifyDecoded(decoded, importPublicJwk(jwk), header.alg))
      throw new Error(`the signature does not match the key ${kid} of ${known.issuer}`);
    return { verified: true, issuer: known, kid };
  } catch (err) {
    return { verified: false, error: (err as Error).message };
  }
}
