/**
 * Grants signed with a business certificate (virksomhetssertifikat) carry the full chain in the `x5c` header.
 * The emulator checks that the chain is well formed, every certificate is valid now, each is issued and signed by
 * the next, and the leaf names the client's organisation; the leaf's key then verifies the grant.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { mp } from './mp-errors.ts';

/** Reads the organisation number from a certificate subject (`serialNumber` or `organizationIdentifier`). */
export function certificateOrgNumber(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) {
    const [name, ...rest] = line.split('=');
    const value = rest.join('=').trim();
    if (name === 'serialNumber' && /^\d{9}$/.test(value)) return value;
    if (name === 'organizationIdentifier') {
      const m = /(\d{9})$/.exec(value);
      if (m) return m[1];
    }
  }
  return undefined;
}

/** Validates an `x5c` header for a client of `clientOrgNo` at `nowMs` and returns the leaf's public key. */
export function keyFromX5c(
  x5c: unknown,
  clientOrgNo: string,
  nowMs: number,
): { key: KeyObject; leaf: X509Certificate } {
  if (typeof x5c === 'string') {
    throw mp.invalidX5c('x5c must be a JSON array of base64-encoded DER certificates (the full chain), not a string.');
  }
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.some((c) => typeof c !== 'string')) {
    throw mp.invalidX5c('x5c must be a non-empty JSON array of base64-encoded DER certificates.');
  }
  let chain: X509Certificate[];
  try {
    chain = x5c.map((c: string) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    throw mp.invalidX5c('Failed to extract certificate from jwt.');
  }
  for (const [i, cert] of chain.entries()) {
    if (Date.parse(cert.validFrom) > nowMs || Date.parse(cert.validTo) < nowMs) {
      throw mp.invalidCertificate(
        `Certificate ${i} of the chain is not valid now (${cert.validFrom} – ${cert.validTo}).`,
      );
    }
    const issuer = chain[i + 1];
    if (issuer && !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
      throw mp.invalidCertificate(`Certificate ${i} of the chain is not issued by certificate ${i + 1}.`);
    }
  }
  const leaf = chain[0]!;
  const certOrg = certificateOrgNumber(leaf);
  if (certOrg !== clientOrgNo) throw mp.certificateOrgMismatch(clientOrgNo, certOrg ?? '(none)');
  if (leaf.publicKey.asymmetricKeyType !== 'rsa') {
    throw mp.invalidSignature('The certificate key is not an RSA key.');
  }
  return { key: leaf.publicKey, leaf };
}
