/**
 * `maskinporten decode`: a token's header and claims, its expiry in human terms, and with `--verify` a check of its
 * signature against the issuer's published keys.
 */
import { decodeCompact } from '../../keys/jws.ts';
import { parse, UsageError } from '../args.ts';
import { authorityFlag } from '../authority-hint.ts';
import type { CliInput, CliIo } from '../io.ts';
import { type KnownIssuer, presetIssuers, type Verdict, verifyWithKnownIssuers } from '../known-issuers.ts';
import { painter } from '../output.ts';

export const help = `Usage: maskinporten decode [TOKEN|-] [--verify [--authority URL|test|prod] [--issuer URL]] [--json]

Shows a token's header and claims and when it expires. Reads the token from the argument, or from stdin with -
or when no argument is given. Decoding shows claims only, never the signature.

Options:
  --verify            check the signature against the key its kid names, published by its issuer (Maskinporten's
                      /jwk via discovery, or Altinn's OpenID keys) — only when that issuer is known: a Maskinporten
                      or Altinn preset, or one named below. A URL the token names is never fetched.
  --authority URL     also trust this Maskinporten authority's issuer (test, prod and dev are presets; repeatable)
  --issuer URL        also trust this exact issuer, e.g. an emulator's Altinn issuer (repeatable)
  --json              print { header, claims, expiresIn, verified, verifiedBy } as JSON

Examples:
  maskinporten decode eyJhbGciOi…
  maskinporten token --scope x:y | maskinporten decode --verify
  maskinporten decode --verify --authority http://localhost:5050 eyJhbGciOi…
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

function checkedUrl(value: string, flag: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return value;
  } catch {
    // reported below
  }
  throw new UsageError(`${flag} must be an http(s) URL, got ${JSON.stringify(value)}`);
}

/** A Maskinporten authority's issuer: its base URL with the trailing slash. */
function issuerOfAuthority(value: string): string {
  const url = checkedUrl(authorityFlag(value), '--authority');
  return url.endsWith('/') ? url : `${url}/`;
}

/** Everything on `input` until it ends, as UTF-8 text. */
async function readAll(input: CliInput): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      verify: { type: 'boolean' },
      authority: { type: 'string', multiple: true },
      issuer: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    true,
  );
  if (!values.verify && (values.authority?.length || values.issuer?.length))
    throw new UsageError('--authority and --issuer name issuers to trust for --verify: add --verify');
  const trusted: KnownIssuer[] = [
    ...(values.authority ?? []).map((a) => ({ issuer: issuerOfAuthority(a), source: '--authority' })),
    ...(values.issuer ?? []).map((i) => ({ issuer: checkedUrl(i, '--issuer'), source: '--issuer' })),
    ...presetIssuers(),
  ];
  if (positionals.length > 1) throw new UsageError('give one token (or - for stdin)');
  const source = positionals[0];
  // Reading a terminal would wait for input nobody knows to type.
  if (source === undefined && io.stdin.isTTY)
    throw new UsageError('no token given: pass it as an argument, or pipe it in (… | maskinporten decode)');
  const token = (source === undefined || source === '-' ? await readAll(io.stdin) : source)
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
  const verdict: Verdict | undefined = values.verify ? await verifyWithKnownIssuers(decoded, trusted) : undefined;
  const verified = verdict?.verified;
  const verifyError = verdict && !verdict.verified ? verdict.error : undefined;
  const verifiedBy = verdict?.verified ? verdict.issuer.issuer : undefined;
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ header, claims, ...(expiresIn === undefined ? {} : { expiresIn: Math.round(expiresIn) }), ...(verified === undefined ? {} : { verified, ...(verifiedBy ? { verifiedBy } : {}), ...(verifyError ? { error: verifyError } : {}) }) }, null, 2)}\n`,
    );
  } else {
    const { bold, green } = painter(io);
    const lines = [bold('Header'), JSON.stringify(header, null, 2), bold('Claims'), JSON.stringify(claims, null, 2)];
    if (expiresIn !== undefined) {
      lines.push(
        `${bold(expiresIn > 0 ? 'Expires' : 'Expired')} ${humanDuration(expiresIn)} (${new Date(Number(claims.exp) * 1000).toISOString()})`,
      );
    }
    if (verified !== undefined)
      lines.push(
        verdict?.verified
          ? green(
              `Signature verified against the issuer's published keys: issuer ${verdict.issuer.issuer} (${verdict.issuer.source}), key ${verdict.kid}`,
            )
          : `Signature NOT verified: ${verifyError}`,
      );
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  return verified === false ? 1 : 0;
}
