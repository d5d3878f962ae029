/**
 * `maskinporten decode`: a token's header and claims, its expiry in human terms, and with `--verify` a check of its
 * signature against the issuer's published keys.
 */
import { readFileSync } from 'node:fs';
import { importPublicJwk } from '../../keys/jwk.ts';
import { decodeCompact, isRsaAlgorithm, verifyDecoded } from '../../keys/jws.ts';
import { parse, UsageError } from '../args.ts';
import { bold, green } from '../output.ts';

export const help = `Usage: maskinporten decode [TOKEN|-] [--verify] [--json]

Shows a token's header and claims and when it expires. Reads the token from the argument, or from stdin with -
or when no argument is given. Decoding shows claims only, never the signature.

Options:
  --verify   check the signature against the issuer's published keys (Maskinporten's /jwk via discovery, or
             Altinn's OpenID keys)
  --json     print { header, claims, expiresIn, verified } as JSON

Examples:
  maskinporten decode eyJhbGciOi…
  maskinporten token --scope x:y | maskinporten decode --verify
`;

/** "in 1 min 52 s" / "2 h 3 min ago". */
export function humanDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  const parts =
    s >= 86400
      ? [`${Math.floor(s / 86400)} d`, `${Math.floor((s % 86400) / 3600)} h`]
      : s >= 3600
        ? [`${Math.floor(s / 3600)} h`, `${Math.floor((s % 3600) / 60)} min`]
        : s >= 60
          ? [`${Math.floor(s / 60)} min`, `${s % 60} s`]
          : [`${s} s`];
  const text = parts.filter((p) => !p.startsWith('0 ')).join(' ') || '0 s';
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Finds the issuer's JWKS: RFC 8414 metadata for Maskinporten, OpenID configuration for Altinn. */
async function jwksFor(issuer: string): Promise<{ keys: Record<string, unknown>[] }> {
  const base = issuer.endsWith('/') ? issuer : `${issuer}/`;
  for (const path of ['.well-known/oauth-authorization-server', '.well-known/openid-configuration']) {
    try {
      const meta = await fetchJson(new URL(path, base).href);
      if (typeof meta.jwks_uri === 'string')
        return (await fetchJson(meta.jwks_uri)) as { keys: Record<string, unknown>[] };
    } catch {
      // try the next kind of metadata
    }
  }
  throw new Error(`no published keys found for issuer ${issuer}`);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { verify: { type: 'boolean' }, json: { type: 'boolean' } }, true);
  if (positionals.length > 1) throw new UsageError('give one token (or - for stdin)');
  const source = positionals[0];
  // Reading a terminal would wait for input nobody knows to type.
  if (source === undefined && process.stdin.isTTY)
    throw new UsageError('no token given: pass it as an argument, or pipe it in (… | maskinporten decode)');
  const token = (source === undefined || source === '-' ? readFileSync(0, 'utf8') : source)
    .trim()
    .replace(/^Bearer\s+/i, '');
  if (!token) throw new UsageError('no token given: pass it as an argument or on stdin');
  let decoded: ReturnType<typeof decodeCompact>;
  try {
    decoded = decodeCompact(token);
  } catch (err) {
    throw new Error(`not a JWT: ${(err as Error).message}`);
  }
  const { header, payload: claims } = decoded;
  const now = Date.now() / 1000;
  const expiresIn = typeof claims.exp === 'number' ? claims.exp - now : undefined;
  let verified: boolean | undefined;
  let verifyError: string | undefined;
  if (values.verify) {
    try {
      if (typeof claims.iss !== 'string') throw new Error('the token has no iss claim');
      if (!isRsaAlgorithm(header.alg)) throw new Error(`unsupported alg ${header.alg}`);
      const { keys } = await jwksFor(claims.iss);
      const jwk = keys.find((k) => k.kid === header.kid) ?? (keys.length === 1 ? keys[0] : undefined);
      if (!jwk) throw new Error(`the issuer publishes no key with kid ${String(header.kid)}`);
      verified = verifyDecoded(decoded, importPublicJwk(jwk), header.alg);
      if (!verified) verifyError = "the signature does not match the issuer's key";
    } catch (err) {
      verified = false;
      verifyError = (err as Error).message;
    }
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ header, claims, ...(expiresIn === undefined ? {} : { expiresIn: Math.round(expiresIn) }), ...(verified === undefined ? {} : { verified, ...(verifyError ? { error: verifyError } : {}) }) }, null, 2)}\n`,
    );
  } else {
    const lines = [bold('Header'), JSON.stringify(header, null, 2), bold('Claims'), JSON.stringify(claims, null, 2)];
    if (expiresIn !== undefined) {
      lines.push(
        `${bold(expiresIn > 0 ? 'Expires' : 'Expired')} ${humanDuration(expiresIn)} (${new Date(Number(claims.exp) * 1000).toISOString()})`,
      );
    }
    if (verified !== undefined)
      lines.push(
        verified
          ? green("Signature verified against the issuer's published keys")
          : `Signature NOT verified: ${verifyError}`,
      );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return verified === false ? 1 : 0;
}
