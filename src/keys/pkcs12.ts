/**
 * PKCS#12 (.p12/.pfx) files, as business certificates (virksomhetssertifikat) are delivered: the private key and
 * the certificate chain. Node has no PKCS#12 parser, so this loads `node-forge` on first use only.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { KeyError } from '../errors.ts';

/** The key and chain held in a PKCS#12 file. */
export interface Pkcs12Contents {
  key: KeyObject;
  /** Base64 DER certificates, leaf first, each issued by the next. */
  chain: string[];
}

/** Orders certificates leaf first: the one matching the key, then each certificate's issuer. */
export function orderChain(certs: X509Certificate[], key: KeyObject): X509Certificate[] {
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf) throw new KeyError('none of the certificates matches the private key');
  const ordered = [leaf];
  const rest = certs.filter((c) => c !== leaf);
  for (let current = leaf; ; ) {
    const next = rest.find((c) => current.checkIssued(c) && c !== current);
    if (!next || current.checkIssued(current)) break;
    ordered.push(next);
    rest.splice(rest.indexOf(next), 1);
    current = next;
  }
  return ordered;
}

/** Reads a PKCS#12 file (bytes or base64) with its password. */
export async function readPkcs12(data: Uint8Array | string, password = ''): Promise<Pkcs12Contents> {
  let forge: typeof import('node-forge');
  try {
    forge = (await import('node-forge')).default;
  } catch (cause) {
    throw new KeyError('reading a PKCS#12 file needs the package node-forge: npm install node-forge', { cause });
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
  let p12: import('node-forge').pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (cause) {
    const wrongPassword = /password|mac/i.test(String((cause as Error)?.message));
    throw new KeyError(
      wrongPassword
        ? 'the PKCS#12 file could not be opened: check pkcs12Password'
        : 'the PKCS#12 data does not decode: expected a .p12/.pfx file (or its base64)',
      { cause, setting: wrongPassword ? 'pkcs12Password' : 'pkcs12' },
    );
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  const forgeKey = keyBags.find((b) => b.key)?.key;
  if (!forgeKey) throw new KeyError('the PKCS#12 file holds no private key');
  const key = createPrivateKey(forge.pki.privateKeyToPem(forgeKey));
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  const certs = certBags
    .filter((b) => b.cert)
    .map(
      (b) =>
        new X509Certificate(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(b.cert!)).getBytes(), 'binary')),
    );
  if (certs.length === 0) throw new KeyError('the PKCS#12 file holds no certificate');
  return { key, chain: orderChain(certs, key).map((c) => c.raw.toString('base64')) };
}
