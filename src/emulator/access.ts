/**
 * Who may talk to the emulator. Two defences for a server that hands out tokens to anyone who reaches it:
 *
 * - **Host check** (DNS rebinding): a web page on `evil.example` can make its name resolve to 127.0.0.1 and then
 *   read the emulator's answers as same-origin. Such requests carry `Host: evil.example`, so every request whose
 *   `Host` is not an address the emulator listens on (or a name configured with `hostnames`) is refused.
 * - **Admin secret**: bound beyond loopback, the control routes (`/_emulator/*`) can change the clock, add faults and
 *   register clients, so they require `Authorization: Bearer <adminSecret>`, a secret made for each run.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ArgumentError } from '../errors.ts';

/** How the emulator decides whether to serve a request. */
export interface AccessPolicy {
  /** True when a `Host` header names this emulator. */
  allowsHost(host: string | undefined): boolean;
  /** The secret the control routes require, when they require one. */
  readonly adminSecret: string | undefined;
  /** True when `authorization` carries the admin secret (always true when none is required). */
  allowsAdmin(authorization: string | undefined): boolean;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** True for an address on the loopback interface: 127.0.0.0/8, ::1, or `localhost`. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || bare.startsWith('::ffff:127.');
  return false;
}

function hostForm(address: string): string {
  const lower = address.toLowerCase();
  return isIP(lower) === 6 ? `[${lower}]` : lower;
}

/** The names a request may use for an emulator bound to `bindAddress`. */
function ownNames(bindAddress: string): string[] {
  const names = [hostForm(bindAddress)];
  if (isLoopbackAddress(bindAddress)) names.push('localhost', '127.0.0.1', '[::1]');
  if (bindAddress === '0.0.0.0' || bindAddress === '::') {
    names.push('localhost');
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) names.push(hostForm(i.address));
  }
  return names;
}

/** Validates the `hostnames` option: plain DNS names or IP addresses, no ports, schemes or paths. */
export function checkHostnames(hostnames: unknown): string[] {
  if (hostnames === undefined) return [];
  if (!Array.isArray(hostnames)) throw new ArgumentError('hostnames must be an array of host names, e.g. ["emulator"]');
  return hostnames.map((h, i) => {
    const name = typeof h === 'string' ? h.toLowerCase() : '';
    if (!(HOST_NAME.test(name) || isIP(name) !== 0)) {
      throw new ArgumentError(
        `hostnames[${i}] must be a host name or IP address without scheme, port or path, got ${JSON.stringify(h)}`,
      );
    }
    return hostForm(name);
  });
}

/**
 * Builds the access policy for an emulator listening on `bindAddress:port`.
 *
 * @param options.hostnames - extra names the emulator answers to (e.g. a Docker service name).
 * @param options.adminSecret - the control routes' secret; made for each run when bound beyond loopback.
 */
export function accessPolicy(options: {
  bindAddress: string;
  port: number;
  hostnames: string[];
  adminSecret: string | undefined;
}): AccessPolicy {
  const names = new Set([...ownNames(options.bindAddress), ...options.hostnames]);
  const adminSecret =
    options.adminSecret ?? (isLoopbackAddress(options.bindAddress) ? undefined : randomBytes(24).toString('base64url'));
  const expected = adminSecret === undefined ? undefined : Buffer.from(`Bearer ${adminSecret}`);
  return {
    adminSecret,
    allowsHost(host) {
      if (!host) return false;
      const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(host.trim());
      if (!m) return false;
      const port = m[2] === undefined ? 80 : Number(m[2]);
      return port === options.port && names.has(m[1]!.toLowerCase());
    },
    allowsAdmin(authorization) {
      if (expected === undefined) return true;
      const given = Buffer.from(authorization ?? '');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** Checks the `adminSecret` option: at least 16 characters of token68. */
export function checkAdminSecret(secret: unknown): string | undefined {
  if (secret === undefined) return undefined;
  if (typeof secret !== 'string' || !/^[A-Za-z0-9._~+/-]{16,}=*$/.test(secret)) {
    throw new ArgumentError(
      'adminSecret must be at least 16 characters of letters, digits and -._~+/ (it is sent as a bearer token)',
    );
  }
  return secret;
}
