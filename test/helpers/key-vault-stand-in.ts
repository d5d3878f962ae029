/**
 * A local HTTPS stand-in of the Azure Key Vault secrets REST API, enough for the real `@azure/keyvault-secrets`
 * SDK: challenge-based bearer auth (401 with `WWW-Authenticate` to a request without a token), listing with paging
 * (`maxresults`, `nextLink`), get (latest or a version), set, 404 for missing secrets, 403 for disabled secrets and
 * for permissions taken away. The server certificate is self-signed, made at start with the openssl CLI in a
 * temporary directory (SAN IP:127.0.0.1 and DNS:localhost); clients trust it through {@link KeyVaultStandIn.ca}.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The challenge a request without a bearer token gets, as a real vault sends it. */
export const KEY_VAULT_CHALLENGE =
  'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"';

/** The default page size of the list operation (a real vault's is 25). */
export const DEFAULT_PAGE_SIZE = 25;

/** An operation that needs a permission. */
export type KeyVaultPermission = 'list' | 'get' | 'set';

interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  enabled: boolean;
  created: number;
}

interface StoredSecret {
  name: string;
  versions: SecretVersion[];
}

/** One request the stand-in received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorized: boolean;
}

/** Options of {@link startKeyVaultStandIn}. */
export interface KeyVaultStandInOptions {
  /** The bearer token accepted; `test-token` by default. */
  token?: string;
  /** Page size of the list operation when the client gives no `maxresults`. */
  pageSize?: number;
}

/** A running stand-in. */
export interface KeyVaultStandIn {
  /** The vault URL, `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server's self-signed certificate (PEM), to trust in clients. */
  readonly ca: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Permissions taken away: such requests get 403 Forbidden. */
  readonly denied: Set<KeyVaultPermission>;
  /** When true, every request gets 401 with the challenge, even with a token (a token the vault does not accept). */
  rejectTokens: boolean;
  /** Stores a secret (a new version when it exists). */
  setSecret(name: string, value: string, options?: { enabled?: boolean; contentType?: string }): string;
  /** The latest value of a secret, or undefined. */
  value(name: string): string | undefined;
  /** The latest version's properties of a secret, or undefined. */
  properties(name: string): { enabled: boolean; contentType?: string; versions: number } | undefined;
  /** Removes a secret. */
  deleteSecret(name: string): void;
  /** Names of every stored secret. */
  names(): string[];
  /** Secrets (lower-case names) listed but answering 404, as if deleted between listing and reading. */
  readonly vanishing: Set<string>;
  /** Removes every secret, recorded request and denial, and stops rejecting tokens. */
  reset(): void;
  close(): Promise<void>;
}

function makeCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'maskinporten-kv-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-ms-keyvault-service-version': '1.9.0.0',
    ...headers,
  });
  res.end(text);
}

function vaultError(code: string, message: string, inner?: string): unknown {
  return { error: inner ? { code, message, innererror: { code: inner } } : { code, message } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the stand-in on 127.0.0.1, a free port. */
export async function startKeyVaultStandIn(options: KeyVaultStandInOptions = {}): Promise<KeyVaultStandIn> {
  const token = options.token ?? 'test-token';
  const defaultPageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const { cert, key } = makeCertificate();
  const secrets = new Map<string, StoredSecret>();
  const requests: RecordedRequest[] = [];
  const denied = new Set<KeyVaultPermission>();
  const vanishing = new Set<string>();
  let base = '';

  const store = (
    name: string,
    value: string,
    opts: { enabled?: boolean; contentType?: string } = {},
  ): SecretVersion => {
    const id = name.toLowerCase();
    const secret = secrets.get(id) ?? { name, versions: [] };
    const version: SecretVersion = {
      version: randomBytes(16).toString('hex'),
      value,
      enabled: opts.enabled ?? true,
      created: Math.floor(Date.now() / 1000),
    };
    if (opts.contentType !== undefined) version.contentType = opts.contentType;
    secret.versions.push(version);
    secrets.set(id, secret);
    return version;
  };

  const attributes = (v: SecretVersion) => ({
    enabled: v.enabled,
    created: v.created,
    updated: v.created,
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  });
  const item = (s: StoredSecret) => {
    const latest = s.versions.at(-1)!;
    return {
      id: `${base}/secrets/${s.name}`,
      attributes: attributes(latest),
      ...(latest.contentType ? { contentType: latest.contentType } : {}),
    };
  };
  const bundle = (s: StoredSecret, v: SecretVersion) => ({
    value: v.value,
    id: `${base}/secrets/${s.name}/${v.version}`,
    attributes: attributes(v),
    ...(v.contentType ? { contentType: v.contentType } : {}),
  });

  const forbidden = (res: ServerResponse, permission: KeyVaultPermission) =>
    sendJson(
      res,
      403,
      vaultError(
        'Forbidden',
        `The user, group or application 'appid=test;oid=test' does not have secrets ${permission} permission on key vault 'stand-in'.`,
        'ForbiddenByPolicy',
      ),
    );

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    const authorization = req.headers.authorization;
    const authorized = authorization === `Bearer ${token}` && !standIn.rejectTokens;
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, authorized });
    if (!url.searchParams.get('api-version')) {
      sendJson(res, 400, vaultError('BadParameter', 'The api-version query parameter is missing.'));
      return;
    }
    if (!authorized) {
      // Drain the body so the connection stays usable, then challenge.
      await readBody(req);
      sendJson(res, 401, vaultError('Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'), {
        'www-authenticate': KEY_VAULT_CHALLENGE,
      });
      return;
    }
    const parts = url.pathname.split('/').filter((p, i) => i === 0 || p !== '');
    // parts: ['', 'secrets', name?, version?]
    if (parts[1] !== 'secrets') {
      sendJson(res, 404, vaultError('NotFound', `No route for ${url.pathname}`));
      return;
    }
    const name = parts[2] ? decodeURIComponent(parts[2]) : undefined;
    const versionId = parts[3] ? decodeURIComponent(parts[3]) : undefined;

    if (req.method === 'GET' && name === undefined) {
      if (denied.has('list')) return forbidden(res, 'list');
      const max = Number(url.searchParams.get('maxresults') ?? defaultPageSize);
      const size = Number.isInteger(max) && max > 0 ? Math.min(max, 25) : defaultPageSize;
      const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
      const all = [...secrets.values()].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
      const page = all.slice(skip, skip + size);
      let nextLink: string | null = null;
      if (skip + size < all.length) {
        const next = new URL(`${base}/secrets`);
        next.searchParams.set('api-version', url.searchParams.get('api-version')!);
        next.searchParams.set('$skiptoken', String(skip + size));
        if (url.searchParams.has('maxresults')) next.searchParams.set('maxresults', String(size));
        nextLink = next.toString();
      }
      sendJson(res, 200, { value: page.map(item), nextLink });
      return;
    }

    if (req.method === 'GET' && name !== undefined) {
      if (denied.has('get')) return forbidden(res, 'get');
      const secret = vanishing.has(name.toLowerCase()) ? undefined : secrets.get(name.toLowerCase());
      const version =
        secret && (versionId ? secret.versions.find((v) => v.version === versionId) : secret.versions.at(-1));
      if (!secret || !version) {
        sendJson(
          res,
          404,
          vaultError(
            'SecretNotFound',
            `A secret with (name/id) ${name}${versionId ? `/${versionId}` : ''} was not found in this key vault.`,
          ),
        );
        return;
      }
      if (!version.enabled) {
        sendJson(
          res,
          403,
          vaultError('Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled'),
        );
        return;
      }
      sendJson(res, 200, bundle(secret, version));
      return;
    }

    if (req.method === 'PUT' && name !== undefined && versionId === undefined) {
      const text = await readBody(req);
      if (denied.has('set')) return forbidden(res, 'set');
      if (!/^[0-9A-Za-z-]{1,127}$/.test(name)) {
        sendJson(res, 400, vaultError('BadParameter', 'The request URI contains an invalid name'));
        return;
      }
      let body: { value?: unknown; contentType?: unknown; attributes?: { enabled?: unknown } };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        sendJson(res, 400, vaultError('BadParameter', 'The request body is not valid JSON.'));
        return;
      }
      if (typeof body.value !== 'string') {
        sendJson(res, 400, vaultError('BadParameter', 'Property value is required.'));
        return;
      }
      const opts: { enabled?: boolean; contentType?: string } = {};
      if (typeof body.contentType === 'string') opts.contentType = body.contentType;
      if (typeof body.attributes?.enabled === 'boolean') opts.enabled = body.attributes.enabled;
      const version = store(name, body.value, opts);
      sendJson(res, 200, bundle(secrets.get(name.toLowerCase())!, version));
      return;
    }

    sendJson(res, 405, vaultError('MethodNotAllowed', `${req.method} is not supported here`));
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, vaultError('InternalError', String(err)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const standIn: KeyVaultStandIn = {
    url: base,
    ca: cert,
    requests,
    denied,
    rejectTokens: false,
    setSecret: (name, value, opts) => store(name, value, opts).version,
    value: (name) => secrets.get(name.toLowerCase())?.versions.at(-1)?.value,
    properties: (name) => {
      const s = secrets.get(name.toLowerCase());
      const latest = s?.versions.at(-1);
      if (!s || !latest) return undefined;
      return {
        enabled: latest.enabled,
        ...(latest.contentType ? { contentType: latest.contentType } : {}),
        versions: s.versions.length,
      };
    },
    deleteSecret: (name) => {
      secrets.delete(name.toLowerCase());
    },
    names: () => [...secrets.values()].map((s) => s.name),
    vanishing,
    reset: () => {
      secrets.clear();
      requests.length = 0;
      denied.clear();
      vanishing.clear();
      standIn.rejectTokens = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return standIn;
}
