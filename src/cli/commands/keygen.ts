/**
 * `maskinporten keygen`: the key pair the onboarding guide makes on mkjwk.org and encodes on base64encode.org,
 * made here, so the private key never leaves the machine.
 */
import { isValidKid } from '../../keys/jwk.ts';
import { parse, UsageError } from '../args.ts';
import { type CliIo, pathIn } from '../io.ts';
import { generateKeyFiles, keyBits, privateKeyFormat, privateKeyPath } from '../key-files.ts';
import { painter } from '../output.ts';

export const help = `Usage: maskinporten keygen [--out-dir DIR] [--bits 2048|3072|4096] [--kid KID] [--alg RS256|RS384|RS512] [--private-format jwk|jwk-base64] [--force] [--json]

Generates an RSA key pair for Maskinporten, locally, and writes the private key once:
  private.jwk.json  the key pair as a JWK (mode 0600); every command takes it as --key-file, and
                    keyvault push stores it as the JwkBase64 secret
  public.jwk.json   a JSON array with the public JWK: paste it into the portal's "own public keys" field

Options:
  --out-dir DIR          where to write (default ./maskinporten-keys)
  --bits N               modulus length: 2048 (default), 3072 or 4096
  --kid KID              key id (default: a random UUID)
  --alg ALG              RS256 (default), RS384 or RS512
  --private-format FORM  jwk (default: private.jwk.json), or jwk-base64: jwk.base64 instead, the key pair JWK
                         base64-encoded as the JwkBase64 setting holds it (mode 0600)
  --force                replace existing files
  --json                 print the result as JSON (never the private key)

Examples:
  maskinporten keygen
  maskinporten keygen --out-dir secrets/prod --bits 4096 --kid my-app-2026
  maskinporten keygen --private-format jwk-base64
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, {
    'out-dir': { type: 'string' },
    bits: { type: 'string' },
    kid: { type: 'string' },
    alg: { type: 'string' },
    'private-format': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const privateFormat = privateKeyFormat(values['private-format']);
  const bits = keyBits(values.bits);
  const alg = values.alg ?? 'RS256';
  if (!['RS256', 'RS384', 'RS512'].includes(alg))
    throw new UsageError(`--alg must be RS256, RS384 or RS512, got ${alg}`);
  if (values.kid !== undefined && !isValidKid(values.kid)) {
    throw new UsageError('--kid must be 1–100 letters, digits, ".", "_" or "-"');
  }
  const outDir = pathIn(io, values['out-dir'] ?? 'maskinporten-keys');
  const { pair, files } = await generateKeyFiles({
    outDir,
    bits,
    alg,
    force: values.force === true,
    privateFormat,
    ...(values.kid === undefined ? {} : { kid: values.kid }),
  });
  const privateFile = privateKeyPath(files);
  const { bold, dim } = painter(io);
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ kid: pair.kid, alg, bits, files, publicJwks: [pair.publicJwk] })}\n`);
    return 0;
  }
  io.stdout.write(
    [
      `${bold('Generated')} an RSA-${bits} key pair, kid ${pair.kid}, in ${outDir}`,
      files.privateJwk
        ? `  ${files.privateJwk}  ${dim('(private, mode 0600: the key pair JWK)')}`
        : `  ${files.jwkBase64}  ${dim('(private, mode 0600: the JwkBase64 setting)')}`,
      `  ${files.publicJwks}  ${dim('(public)')}`,
      '',
      bold('Public key (paste this array into the portal\'s "own public keys" field):'),
      JSON.stringify([pair.publicJwk], null, 2),
      '',
      bold('Next steps:'),
      '  1. Register the public key: in the portal, or `maskinporten keys add CLIENT_ID --public-key ' +
        files.publicJwks +
        '`.',
      `  2. Use the private key: --key-file ${privateFile} with any command, or store it as the secret`,
      `     MaskinportenSettings--JwkBase64 with \`maskinporten keyvault push --key-file ${privateFile} …\`.`,
      '  3. Never commit the private file; add it to .gitignore.',
      '',
    ].join('\n'),
  );
  return 0;
}
