/**
 * A self-signed X.509 certificate for each of the emulator's signing keys, so its key sets look like the real ones:
 * Maskinporten publishes its signing certificate in `/jwk`, and Altinn's JWKS carries each key's `x5c` chain
 * with the certificate thumbprint as `kid` (OpenIdController.cs in altinn-authentication). The certificate is built deterministically
 * from the key (fixed serial, validity and names), so a state file restored after a restart yields the same `kid`.
 * Only what a JWKS needs: DER by hand (v3, sha256WithRSAEncryption, a CN, no extensions).
 */
import { createHash, type KeyObject, sign } from 'node:crypto';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, ...items);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const part of rest) {
    const chunk = [part & 0x7f];
    for (let v = part >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A positive DER INTEGER from big-endian bytes. */
function integer(bytes: Buffer): Buffer {
  let body = bytes;
  while (body.length > 1 && body[0] === 0 && (body[1]! & 0x80) === 0) body = body.subarray(1);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}

const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), tlv(0x05));

function name(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

/** A certificate and the thumbprints key sets name it by. */
export interface SigningCertificate {
  /** DER, base64: one `x5c` entry. */
  x5c: string;
  /** SHA-1 of the DER, upper-case hex: .NET's `X509Certificate2.Thumbprint`, Altinn's `kid`. */
  sha1Hex: string;
  /** SHA-1 of the DER, base64url: the JWK `x5t`. */
  x5t: string;
  /** SHA-256 of the DER, base64url: the JWK `x5t#S256`. */
  x5tS256: string;
}

/** A self-signed certificate for `privateKey` naming `commonName`. */
export function selfSignedCertificate(
  privateKey: KeyObject,
  publicKey: KeyObject,
  commonName: string,
): SigningCertificate {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = createHash('sha256').update(spki).digest().subarray(0, 16);
  serial[0]! &= 0x7f;
  const validity = sequence(
    tlv(0x17, Buffer.from('000101000000Z')), // UTCTime 2000-01-01
    tlv(0x18, Buffer.from('20991231235959Z')), // GeneralizedTime 2099-12-31
  );
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    SHA256_WITH_RSA,
    name(commonName),
    validity,
    name(commonName),
    spki,
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), signature));
  const sha1 = createHash('sha1').update(der).digest();
  return {
    x5c: der.toString('base64'),
    sha1Hex: sha1.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
  };
}
