/**
 * Throw-away business certificates for tests, made at test time with the openssl CLI in a temporary directory:
 * a root CA, leaves naming an organisation number in `serialNumber`, and PKCS#12 files. Nothing is committed.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key as files and text. */
export interface Issued {
  cert: X509Certificate;
  /** Base64 DER, as one `x5c` entry. */
  der: string;
  certPem: string;
  keyPem: string;
  key: KeyObject;
  certFile: string;
  keyFile: string;
}

/** A directory of throw-away certificates. */
export class CertFactory {
  readonly dir = mkdtempSync(join(tmpdir(), 'maskinporten-client-certs-'));
  #serial = 1000;

  #openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  #load(name: string): Issued {
    const certFile = join(this.dir, `${name}.pem`);
    const keyFile = join(this.dir, `${name}.key`);
    const certPem = readFileSync(certFile, 'utf8');
    const cert = new X509Certificate(certPem);
    const keyPem = readFileSync(keyFile, 'utf8');
    return {
      cert,
      der: cert.raw.toString('base64'),
      certPem,
      keyPem,
      key: createPrivateKey(keyPem),
      certFile,
      keyFile,
    };
  }

  /** A self-signed CA. */
  ca(name: string, subject = `/C=NO/O=Test Root CA AS/CN=${name}`): Issued {
    this.#openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '3650',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return this.#load(name);
  }

  /**
   * A leaf signed by `ca`: for organisation `orgNoOrSubject` (a nine-digit number, put in the subject's
   * `serialNumber`), or with that whole subject; valid for `days`.
   */
  leaf(name: string, orgNoOrSubject: string, ca: Issued, days = 30): Issued {
    const subject = /^\d{9}$/.test(orgNoOrSubject)
      ? `/C=NO/O=Test Virksomhet AS/serialNumber=${orgNoOrSubject}/CN=${name}`
      : orgNoOrSubject;
    this.#openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ]);
    this.#openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      String(++this.#serial),
      '-out',
      `${name}.pem`,
      '-days',
      String(days),
    ]);
    return this.#load(name);
  }

  /** A PKCS#12 file with `leaf`'s key and the chain `leaf, ...chain`, protected by `password`. */
  pkcs12(name: string, leaf: Issued, chain: Issued[], password: string, legacy = false): Buffer {
    const certfile = join(this.dir, `${name}-chain.pem`);
    writeFileSync(certfile, chain.map((c) => c.certPem).join(''));
    this.#openssl([
      'pkcs12',
      '-export',
      ...(legacy ? ['-legacy'] : []),
      '-inkey',
      leaf.keyFile,
      '-in',
      leaf.certFile,
      ...(chain.length ? ['-certfile', certfile] : []),
      '-passout',
      `pass:${password}`,
      '-out',
      `${name}.p12`,
    ]);
    return readFileSync(join(this.dir, `${name}.p12`));
  }

  /** Removes the directory. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
