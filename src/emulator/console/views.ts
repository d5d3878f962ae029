/**
 * What the console shows, as plain data: the emulator's state with every secret left out, and request log entries
 * scrubbed of anything that could be key material or a token. The page (server-rendered and live) reads only these.
 */
import { MAX_CLIENT_KEYS } from '../../protocol/constants.ts';
import type { EmulatorCore } from '../core.ts';
import type { ActiveFault } from '../faults.ts';
import type { Consent, Delegation, EmulatedClient, ScopeDefinition, SystemUser } from '../model.ts';
import type { RequestLogEntry } from '../request-log.ts';

/** A key warns this long before it expires. */
export const KEY_WARNING_MS = 30 * 24 * 60 * 60 * 1000;

/** A registered key as the console shows it: never its modulus, only facts about it. */
export interface KeyView {
  kid: string;
  alg: string;
  bits: number;
  created: string;
  expires: string;
  /** `ok`, `expiring` (within 30 days) or `expired`, on the emulator's clock. */
  status: 'ok' | 'expiring' | 'expired';
  daysLeft: number;
}

/** An integration as the console shows it. */
export interface IntegrationView
  extends Pick<EmulatedClient, 'clientId' | 'clientName' | 'description' | 'orgNo' | 'scopes' | 'accessTokenLifetime'> {
  created: string;
  /** The emulator's own self-service administrator, which the console does not let anyone deactivate. */
  admin: boolean;
  keys: KeyView[];
  keyLimit: number;
}

/** Everything the console lists. */
export interface Overview {
  url: string;
  issuer: string;
  tokenEndpoint: string;
  clock: { now: string; offsetMs: number };
  integrations: IntegrationView[];
  scopes: ScopeDefinition[];
  delegations: Delegation[];
  systemUsers: SystemUser[];
  consents: (Omit<Consent, 'consentedAt' | 'validTo'> & { consentedAt: string; validTo: string })[];
  faults: ActiveFault[];
}

// Out-of-range times (a consent valid to 1e300, say) show as empty rather than fail the page.
const iso = (ms: number) => {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
};
const DAY_MS = 24 * 60 * 60 * 1000;

function keyBits(n: unknown): number {
  if (typeof n !== 'string') return 0;
  const bytes = Buffer.from(n, 'base64url');
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return (bytes.length - start) * 8;
}

/**
 * One integration without its key material.
 *
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function integrationView(client: EmulatedClient, nowMs: number, adminId: string): IntegrationView {
  return {
    clientId: client.clientId,
    clientName: client.clientName,
    description: client.description,
    orgNo: client.orgNo,
    scopes: [...client.scopes],
    accessTokenLifetime: client.accessTokenLifetime,
    created: iso(client.createdAt),
    admin: client.clientId === adminId,
    keys: client.keys.map((k) => ({
      kid: k.jwk.kid ?? '',
      alg: k.jwk.alg ?? 'RS256',
      bits: keyBits(k.jwk.n),
      created: iso(k.createdAt),
      expires: iso(k.expiresAt),
      status: k.expiresAt <= nowMs ? 'expired' : k.expiresAt - nowMs <= KEY_WARNING_MS ? 'expiring' : 'ok',
      daysLeft: Math.floor((k.expiresAt - nowMs) / DAY_MS),
    })),
    keyLimit: MAX_CLIENT_KEYS,
  };
}

/**
 * The whole state the console lists.
 *
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function overview(core: EmulatorCore): Overview {
  const now = core.clock.now();
  const adminId = core.state.admin.clientId;
  return {
    url: core.url,
    issuer: core.issuer,
    tokenEndpoint: `${core.url}/token`,
    clock: { now: iso(now), offsetMs: core.clock.offsetMs },
    integrations: core.state.clients().map((c) => integrationView(c, now, adminId)),
    scopes: core.state.scopes(),
    delegations: core.state.delegations(),
    systemUsers: core.state.systemUsers(),
    consents: core.state.consents().map((c) => ({
      ...c,
      consentedAt: iso(c.consentedAt),
      validTo: iso(c.validTo),
    })),
    faults: core.faults.list(),
  };
}

// A compact JWS or JWE (what a grant, a token or a signed request looks like), or a PEM block.
const JWT_LIKE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
const PEM_LIKE = /-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KEY_MEMBERS = ['n', 'x', 'y', 'x5c'];

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(JWT_LIKE, '[token hidden]').replace(PEM_LIKE, '[PEM hidden]');
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  // No prototype: a `__proto__` member of hostile input stays a plain member.
  const out: Record<string, unknown> = Object.create(null);
  const record = value as Record<string, unknown>;
  const isKey = PRIVATE_MEMBERS.some((m) => m in record) || ('kty' in record && KEY_MEMBERS.some((m) => m in record));
  for (const [k, v] of Object.entries(record)) {
    // A JWK anywhere (e.g. a `jwk` header a client should never send) shows only its kid and type.
    if (isKey && k !== 'kid' && k !== 'kty' && k !== 'alg' && k !== 'use') out[k] = '[key hidden]';
    else if (k === 'x5c' && Array.isArray(v)) out[k] = `[${v.length} certificate(s) hidden]`;
    else out[k] = scrub(v, depth + 1);
  }
  return out;
}

/**
 * A log entry safe to put on a page: any token, assertion, PEM block or key inside it is replaced by a marker.
 *
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function pageEntry(entry: RequestLogEntry): RequestLogEntry {
  return scrub(entry) as RequestLogEntry;
}
