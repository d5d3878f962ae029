/**
 * Property-based fuzzing (fast-check) of the emulator's token endpoint and Altinn exchange, against a real emulator
 * on a frozen clock. Inputs are structured and shrink to a minimal counterexample: forms with random, repeated,
 * percent-garbled and non-UTF-8 parameters up to and past the 64 KiB limit; grants whose every header field and
 * claim may be missing, of the wrong type, on a boundary or nested junk, signed with the right key, the wrong key or
 * garbage, and serialised wrongly; Authorization headers with random schemes and real, truncated, bit-flipped,
 * expired, foreign-signed and emulator-signed tokens. Each answer is checked against an oracle:
 *
 * - nothing is ever a 5xx or a non-JSON error, and the emulator keeps serving;
 * - the token endpoint answers 200 exactly when the grant satisfies every documented rule (an independent model of
 *   README's rule table), and otherwise the documented OAuth error: `error`, `error_description` ending in
 *   `(trace_id: …)`, `error_uri` ending in the MP code; a grant with one broken rule gets exactly that rule's answer;
 * - the exchange answers 200 exactly for a live token signed by the emulator (and the Altinn token it returns is
 *   right), 410 for enterprise users, otherwise a 401 problem+json.
 *
 * Seeds are fixed: FUZZ_SEED overrides the seed, FUZZ_RUNS scales every numRuns. A failure prints the seed, the
 * path to replay and the shrunk counterexample.
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { type Emulator, MAX_BODY_BYTES, startEmulator } from '../../src/emulator/index.ts';
import { importPrivateJwk, type RsaPrivateJwk } from '../../src/keys/jwk.ts';
import { decodeCompact, isRsaAlgorithm, signCompact, verifyDecoded } from '../../src/keys/jws.ts';
import {
  ALTINN_ENTERPRISE_USER_HEADER,
  ALTINN_EXCHANGE_PATH,
  ALTINN_OPENID_PATH,
  CONSENT_TYPE,
  JWT_BEARER_GRANT_TYPE,
  ORG_AUTHORITY,
  SYSTEM_USER_TYPE,
} from '../../src/protocol/constants.ts';
import { CertFactory } from '../helpers/certs.ts';
import { binaryChar, webQueryParameters, webUrl } from './web-arbitraries.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 0x6d70_6675);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const settings = (numRuns: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) });

// ---- the world the properties run in ------------------------------------------------------------------------------

const ORG = '991825827'; // the emulator's default organisation, mapped to the Altinn org code `digdir`
const DELEGATOR = '310000001'; // has delegated DELEGATED_SCOPE to ORG
const DELEGATED_SCOPE = 'fuzz:read';
const OPEN_SCOPE = 'fuzz:open'; // accessible for all, at_max_age 60
const OPEN_MAX_AGE = 60;
const SERVICE_OWNER_SCOPE = 'altinn:serviceowner/fuzz';
const SCOPE_UNIVERSE = ['fuzz:read', 'fuzz:write', OPEN_SCOPE, SERVICE_OWNER_SCOPE];
const SU_ORG = '312345678';
const SU_REF = 'fuzz-ref';
const CONSENT_FROM = 'urn:altinn:person:identifier-no:12345678901';
const BURNED_JTI = 'fuzz-burned';
/** README: the claims a grant may carry. */
const ALLOWED_CLAIMS = new Set([
  'aud',
  'iss',
  'iat',
  'exp',
  'jti',
  'scope',
  'resource',
  'consumer_org',
  'iss_onbehalfof',
  'pid',
  'authorization_details',
  'nbf',
  'sub',
]);
/** README's error table: which MP codes go with which OAuth `error`. */
const CODES_OF_ERROR: Record<string, string[]> = {
  invalid_request: ['MP-011'],
  unsupported_grant_type: ['MP-011'],
  invalid_grant: ['MP-012', 'MP-100', 'MP-110', 'MP-120', 'MP-121', 'MP-122', 'MP-123', 'MP-124', 'MP-130'],
  invalid_scope: ['MP-200'],
  forbidden: ['MP-250', 'MP-251'],
  invalid_authorization_details: ['MP-301', 'MP-302'],
  invalid_altinn_customer_configuration: ['MP-303'],
};
const DIGEST = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' } as const;
/** Altinn does not copy these Maskinporten claims (or sets them itself). */
const NOT_COPIED = new Set(['aud', 'iss', 'client_amr', 'sid', 'iat', 'nbf', 'exp']);

type PartyName = 'client' | 'client2' | 'cert';
type Signer = PartyName | 'stranger';
type Digest = 'sha256' | 'sha384' | 'sha512';

interface Party {
  name: PartyName;
  id: string;
  /** Key id of the registered key; undefined for the certificate-only client. */
  kid: string | undefined;
  scopes: string[];
  lifetime: number;
}

interface PoolToken {
  token: string;
  claims: Record<string, unknown>;
}

interface World {
  emulator: Emulator;
  nowMs: number;
  nowS: number;
  parties: Record<PartyName, Party>;
  byId: Map<string, Party>;
  keys: Record<Signer, KeyObject>;
  der: { leaf: string; ca: string; other: string };
  consentId: string;
  mp: { kid: string; publicKey: KeyObject; privateKey: KeyObject };
  altinn: { kid: string; publicKey: KeyObject; privateKey: KeyObject; issuer: string };
  /** `clientId \0 jti` of every grant answered 200: the emulator refuses them again (MP-012). */
  used: Set<string>;
  pool: PoolToken[];
  altinnTokens: string[];
}

// ---- HTTP ---------------------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: unknown;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** One request with node:http: any header values (arrays repeat the header), raw bytes, chunked when asked. */
function send(
  url: string,
  options: { method?: string; path: string; headers?: OutgoingHttpHeaders; body?: Buffer; chunked?: boolean },
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (options.body && !options.chunked) headers['content-length'] = String(options.body.length);
    const req = request(
      { host: u.hostname, port: u.port, method: options.method ?? 'GET', path: options.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    const body = options.body;
    if (body && options.chunked) {
      for (let at = 0; at < body.length; at += 4096) req.write(body.subarray(at, at + 4096));
      req.end();
    } else {
      req.end(body);
    }
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function bodyOf(a: Answer): Record<string, unknown> {
  assert.ok(isObject(a.json), `not a JSON object (status ${a.status}): ${a.text.slice(0, 300)}`);
  return a.json;
}

/** Every answer: no 5xx, and any error is a JSON object with a string `error` or a problem+json. */
function assertNoServerError(a: Answer): void {
  assert.ok(a.status >= 200 && a.status < 500, `status ${a.status}: ${a.text.slice(0, 300)}`);
  if (a.status >= 400) {
    assert.match(String(a.headers['content-type']), /^application\/(problem\+)?json/, a.text.slice(0, 300));
    bodyOf(a);
  }
}

interface OAuthError {
  status: number;
  error: string;
  code: string;
}

/** A Maskinporten error answer as README documents it; returns its status, `error` and MP code. */
function assertMpError(a: Answer, origin: string): OAuthError {
  assertNoServerError(a);
  const body = bodyOf(a);
  const context = `${a.status} ${a.text.slice(0, 400)}`;
  assert.ok(a.status === 400 || a.status === 403, context);
  assert.match(String(a.headers['content-type']), /^application\/json/, context);
  assert.equal(body.access_token, undefined, context);
  assert.equal(typeof body.error, 'string', context);
  const error = body.error as string;
  assert.ok(error in CODES_OF_ERROR, `unknown error ${error}: ${context}`);
  assert.equal(typeof body.error_description, 'string', context);
  const trace = a.headers['x-trace-id'];
  assert.ok(typeof trace === 'string' && /^[0-9a-f]+$/.test(trace), context);
  assert.ok((body.error_description as string).endsWith(`(trace_id: ${trace})`), context);
  assert.equal(typeof body.error_uri, 'string', context);
  const code = new RegExp(`^${origin.replaceAll('.', '\\.')}/errors/(MP-\\d{3})$`).exec(body.error_uri as string)?.[1];
  assert.ok(code, `error_uri should end in an MP code: ${context}`);
  assert.ok(CODES_OF_ERROR[error]!.includes(code), `${error} does not go with ${code}: ${context}`);
  assert.equal(a.status === 403, error === 'forbidden', context);
  return { status: a.status, error, code };
}

// ---- grants -------------------------------------------------------------------------------------------------------

/** Marks a header field or claim as absent. */
const MISSING: unique symbol = Symbol('missing');
type Missing = typeof MISSING;

/** A time claim relative to the frozen clock (`now`) or to the grant's `iat`, resolved when the grant is built. */
class Rel {
  readonly to: 'now' | 'iat';
  readonly seconds: number;
  constructor(to: 'now' | 'iat', seconds: number) {
    this.to = to;
    this.seconds = seconds;
  }
  toString(): string {
    return `Rel(${this.to}${this.seconds < 0 ? '' : '+'}${this.seconds})`;
  }
}

/** A jti of a given length, made afresh each time the grant is built (fast-check replays cases while shrinking). */
class FreshJti {
  readonly length: number;
  constructor(length: number) {
    this.length = length;
  }
  toString(): string {
    return `FreshJti(${this.length})`;
  }
}

let sequence = 0;
function freshJti(length: number): string {
  const id = `${(++sequence).toString(36)}`;
  return id.length >= length ? id.slice(-length) : `${'z'.repeat(length - id.length - 1)}-${id}`;
}

interface Mutation {
  claim: string;
  value: unknown;
  /** Also send the claim twice: a decoy before (the real one wins) or an override after it. */
  dup?: 'before' | 'after';
}

interface KeyRef {
  kid: unknown;
  x5c: unknown;
}

type SigMutation = 'none' | 'garbage' | 'empty' | 'truncate' | 'flip' | 'append';
type Encoding = 'compact' | 'four-parts' | 'two-parts' | 'std-base64' | 'space' | 'padded' | 'empty-header';

interface GrantCase {
  who: PartyName;
  alg: unknown;
  /** `own`: the party's kid, or its certificate chain in x5c. */
  keyRef: 'own' | KeyRef;
  typ: unknown;
  headerExtras: [string, unknown][];
  iatDelta: number;
  lifetime: number;
  scopes: string[];
  sep: string;
  jti: boolean;
  mutations: Mutation[];
  signer: 'own' | Signer;
  /** `match`: the digest the header's alg names (sha256 for a non-RS alg). */
  digest: 'match' | Digest;
  sig: SigMutation;
  at: number;
  encoding: Encoding;
}

interface Built {
  assertion: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The assertion is `base64url(header).base64url(claims).signature`, the signature untouched. */
  canonical: boolean;
  signer: Signer;
  digest: Digest;
}

const jsonText = (entries: [string, unknown][]) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
const b64url = (text: string) => Buffer.from(text).toString('base64url');

function resolveValue(v: unknown, w: World, iat: unknown): unknown {
  if (v instanceof Rel)
    return v.to === 'iat' && Number.isInteger(iat) ? (iat as number) + v.seconds : w.nowS + v.seconds;
  if (v instanceof FreshJti) return freshJti(v.length);
  return v;
}

function buildGrant(w: World, c: GrantCase): Built {
  const party = w.parties[c.who];
  const header: [string, unknown][] = [];
  if (c.alg !== MISSING) header.push(['alg', c.alg]);
  if (c.typ !== MISSING) header.push(['typ', c.typ]);
  const ref: KeyRef =
    c.keyRef !== 'own'
      ? c.keyRef
      : party.kid === undefined
        ? { kid: MISSING, x5c: [w.der.leaf, w.der.ca] }
        : { kid: party.kid, x5c: MISSING };
  if (ref.kid !== MISSING) header.push(['kid', ref.kid]);
  if (ref.x5c !== MISSING) header.push(['x5c', ref.x5c]);
  header.push(...c.headerExtras);

  const main = new Map<string, unknown>([
    ['aud', w.emulator.issuer],
    ['iss', party.id],
    ['scope', c.scopes.join(c.sep)],
    ['iat', new Rel('now', c.iatDelta)],
    ['exp', new Rel('iat', c.lifetime)],
  ]);
  if (c.jti) main.set('jti', new FreshJti(24));
  const decoys: [string, unknown][] = [];
  const overrides: [string, unknown][] = [];
  for (const m of c.mutations) {
    if (m.dup) {
      if (m.value !== MISSING) (m.dup === 'before' ? decoys : overrides).push([m.claim, m.value]);
    } else if (m.value === MISSING) main.delete(m.claim);
    else main.set(m.claim, m.value);
  }
  const entries = [...decoys, ...main, ...overrides];
  // iat first (JSON.parse keeps the last of repeated keys), then what is relative to it.
  const iatEntries = entries.filter(([k, v]) => k === 'iat' && !(v instanceof Rel && v.to === 'iat'));
  const iat = iatEntries.length ? resolveValue(iatEntries.at(-1)![1], w, undefined) : undefined;
  const resolved = entries.map(([k, v]): [string, unknown] => [
    k,
    k === 'iat' && v === iatEntries.at(-1)?.[1] ? iat : resolveValue(v, w, iat),
  ]);

  const headerText = jsonText(header);
  const payloadText = jsonText(resolved);
  const parsedHeader = JSON.parse(headerText) as Record<string, unknown>;
  const h = b64url(headerText);
  const p = b64url(payloadText);
  const signer: Signer = c.signer === 'own' ? party.name : c.signer;
  const digest: Digest =
    c.digest !== 'match' ? c.digest : isRsaAlgorithm(parsedHeader.alg) ? DIGEST[parsedHeader.alg] : 'sha256';
  const real = sign(digest, Buffer.from(`${h}.${p}`), w.keys[signer]).toString('base64url');
  let s = real;
  if (c.sig === 'garbage') s = createHash('sha512').update(`${h}.${p}`).digest('base64url');
  else if (c.sig === 'empty') s = '';
  else if (c.sig === 'truncate') s = real.slice(0, real.length - 1 - (c.at % 64));
  else if (c.sig === 'flip') {
    const i = c.at % (real.length - 1); // not the last character, whose low bits may be padding
    s = `${real.slice(0, i)}${real[i] === 'A' ? 'B' : 'A'}${real.slice(i + 1)}`;
  } else if (c.sig === 'append') s = `${real}AAAA`;

  let assertion = `${h}.${p}.${s}`;
  if (c.encoding === 'four-parts') assertion = `${assertion}.${s.slice(0, 8)}`;
  else if (c.encoding === 'two-parts') assertion = `${h}.${p}`;
  else if (c.encoding === 'std-base64')
    assertion = `${Buffer.from(headerText).toString('base64')}.${Buffer.from(payloadText).toString('base64')}.${s}`;
  else if (c.encoding === 'space') {
    const i = c.at % assertion.length;
    assertion = `${assertion.slice(0, i)} ${assertion.slice(i)}`;
  } else if (c.encoding === 'padded') assertion = `${h}==.${p}.${s}`;
  else if (c.encoding === 'empty-header') assertion = `.${p}.${s}`;

  return {
    assertion,
    header: parsedHeader,
    claims: JSON.parse(payloadText) as Record<string, unknown>,
    canonical: assertion === `${h}.${p}.${real}`,
    signer,
    digest,
  };
}

type Verdict =
  | { ok: true; party: Party; scopes: string[]; consumerOrg?: string }
  | { ok: false; why: string; party?: Party };

/** The model of README's rules: does this grant earn a token? Independent of the emulator's rule order. */
function verdict(w: World, b: Built): Verdict {
  const no = (why: string, party?: Party): Verdict => (party ? { ok: false, why, party } : { ok: false, why });
  const { header: H, claims: C } = b;
  if (!b.canonical) return no('not a well-formed compact JWS with its own signature');
  if (!isRsaAlgorithm(H.alg)) return no('alg');
  const party = typeof C.iss === 'string' ? w.byId.get(C.iss) : undefined;
  if (!party) return no('iss');
  if (party.kid === undefined) {
    const chainOk = isDeepStrictEqual(H.x5c, [w.der.leaf, w.der.ca]) || isDeepStrictEqual(H.x5c, [w.der.leaf]);
    if (H.kid !== undefined || !chainOk) return no('x5c', party);
  } else if (H.kid !== party.kid || H.x5c !== undefined) return no('kid', party);
  if (b.signer !== party.name || b.digest !== DIGEST[H.alg]) return no('signature', party);
  if (Object.keys(C).some((k) => !ALLOWED_CLAIMS.has(k))) return no('unknown claim', party);
  if (C.aud !== w.emulator.issuer) return no('aud', party);
  const { iat, exp, nbf } = C;
  if (!Number.isInteger(iat) || !Number.isInteger(exp)) return no('iat/exp type', party);
  const [i, e] = [iat as number, exp as number];
  if (Math.abs(i - w.nowS) > 10 || e <= i || e - i > 120 || e <= w.nowS) return no('time', party);
  if (nbf !== undefined && (!Number.isInteger(nbf) || (nbf as number) > w.nowS + 10)) return no('nbf', party);
  if (C.sub !== undefined && C.sub !== C.iss) return no('sub', party);
  if (C.jti !== undefined) {
    if (typeof C.jti !== 'string' || !C.jti || C.jti.length > 256) return no('jti', party);
    if (w.used.has(`${party.id}\u0000${C.jti}`)) return no('replay', party);
  }
  if (typeof C.scope !== 'string' || !C.scope.trim()) return no('scope', party);
  const scopes = [...new Set(C.scope.split(/\s+/).filter(Boolean))];
  const { resource } = C;
  if (
    resource !== undefined &&
    !(
      Array.isArray(resource) &&
      resource.length > 0 &&
      resource.every((r) => typeof r === 'string' && URL.canParse(r) && !r.includes('#'))
    )
  )
    return no('resource', party);
  if (C.pid !== undefined && !(typeof C.pid === 'string' && /^\d{11}$/.test(C.pid))) return no('pid', party);
  if (C.iss_onbehalfof !== undefined) return no('iss_onbehalfof', party);
  const consumer = C.consumer_org;
  if (consumer !== undefined) {
    if (typeof consumer !== 'string' || !/^\d{9}$/.test(consumer) || consumer === ORG) return no('consumer_org', party);
    if (!scopes.every((s) => consumer === DELEGATOR && s === DELEGATED_SCOPE)) return no('delegation', party);
  } else if (!scopes.every((s) => party.scopes.includes(s) || s === OPEN_SCOPE)) return no('scope access', party);
  if (C.authorization_details !== undefined && !detailsOk(w, C.authorization_details, consumer))
    return no('authorization_details', party);
  return consumer === undefined ? { ok: true, party, scopes } : { ok: true, party, scopes, consumerOrg: consumer };
}

function onlyKeys(o: Record<string, unknown>, keys: string[]): boolean {
  return Object.keys(o).every((k) => keys.includes(k));
}

/** The registered system user and consent, requested in any valid way; anything else is refused. */
function detailsOk(w: World, v: unknown, consumer: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  let systemUsers = 0;
  return v.every((e) => {
    if (!isObject(e)) return false;
    if (e.type === SYSTEM_USER_TYPE) {
      const org = e.systemuser_org;
      return (
        onlyKeys(e, ['type', 'systemuser_org', 'externalRef']) &&
        ++systemUsers === 1 &&
        isObject(org) &&
        onlyKeys(org, ['authority', 'ID']) &&
        org.authority === ORG_AUTHORITY &&
        org.ID === `0192:${SU_ORG}` &&
        // The system user was created with an externalRef, so a grant must name it [protocol §3 (rev), S37].
        e.externalRef === SU_REF
      );
    }
    if (e.type === CONSENT_TYPE) {
      // The consent was given to ORG: with consumer_org it would have to be the consumer's [protocol §3 (rev), S34].
      return (
        onlyKeys(e, ['type', 'id', 'from']) && e.id === w.consentId && e.from === CONSENT_FROM && consumer === undefined
      );
    }
    return false;
  });
}

async function postGrant(w: World, assertion: string): Promise<Answer> {
  return send(w.emulator.url, {
    method: 'POST',
    path: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion }).toString()),
  });
}

/** Checks a 200 from the token endpoint against what the grant asked for. */
function assertIssued(w: World, a: Answer, v: Extract<Verdict, { ok: true }>, claims: Record<string, unknown>): void {
  const body = bodyOf(a);
  assert.equal(a.headers['cache-control'], 'no-store');
  assert.equal(body.token_type, 'Bearer');
  const lifetime = v.scopes.includes(OPEN_SCOPE) ? Math.min(v.party.lifetime, OPEN_MAX_AGE) : v.party.lifetime;
  assert.equal(body.expires_in, lifetime);
  assert.equal(body.scope, v.scopes.join(' '));
  const decoded = decodeCompact(body.access_token as string);
  assert.deepEqual(decoded.header, { kid: w.mp.kid, alg: 'RS256' });
  assert.ok(verifyDecoded(decoded, w.mp.publicKey, 'RS256'), 'the access token verifies with /jwk');
  const t = decoded.payload;
  assert.equal(t.iss, w.emulator.issuer);
  assert.equal(t.client_id, v.party.id);
  assert.equal(t.client_amr, v.party.kid === undefined ? 'virksomhetssertifikat' : 'private_key_jwt');
  assert.equal(t.scope, v.scopes.join(' '));
  assert.equal(t.iat, w.nowS);
  assert.equal(t.exp, w.nowS + lifetime);
  const resource = claims.resource as string[] | undefined;
  // No aud unless a resource was asked for.
  assert.deepEqual(t.aud, resource ? (resource.length === 1 ? resource[0] : resource) : undefined);
  assert.deepEqual(t.consumer, { authority: ORG_AUTHORITY, ID: `0192:${v.consumerOrg ?? ORG}` });
  if (v.consumerOrg) assert.deepEqual(t.supplier, { authority: ORG_AUTHORITY, ID: `0192:${ORG}` });
  assert.equal(t.pid, claims.pid);
  const details = claims.authorization_details as unknown[] | undefined;
  assert.equal((t.authorization_details as unknown[] | undefined)?.length, details?.length);
}

// ---- arbitraries --------------------------------------------------------------------------------------------------

/** Objects that break `String(x)`, `${x}` or `o[k] = v` in careless code (JSON.parse makes `__proto__` an own key). */
const traps: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  { toString: 1 },
  { valueOf: 1, toString: 'x' },
  { toString: {}, valueOf: {} },
  { constructor: 1, hasOwnProperty: 1 },
  { length: 3 },
  JSON.parse('{"__proto__":{"polluted":true}}'),
  JSON.parse('{"__proto__":[]}'),
);
/** Values that trip careless code: wrong types, prototype traps, boundary numbers, any JSON. */
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: traps },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      '',
      ' ',
      'null',
      '0',
      [],
      {},
      [null],
      [[]],
    ),
  },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
const junkKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'valueOf',
    'hasOwnProperty',
    'client_id',
    'nonce',
    'Aud',
    'ISS',
    ' iss',
    'scope ',
    '',
  ),
  fc.string({ maxLength: 12 }),
);

const weighted = <T>(...pairs: [number, fc.Arbitrary<T>][]) =>
  fc.oneof(...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));
/** Integers in [min, max], the edges (and `extra`) drawn often: off-by-one rules are caught only there. */
const edgy = (min: number, max: number, ...extra: number[]) =>
  weighted([1, fc.constantFrom(min, max, ...extra)], [1, fc.integer({ min, max })]);

interface Expect {
  status: 400 | 403;
  error: string;
  codes: string[];
}
const expectOf = (error: string, ...codes: string[]): Expect => ({
  status: error === 'forbidden' ? 403 : 400,
  error,
  codes,
});
const MP011 = expectOf('invalid_request', 'MP-011');

/** One change to a valid grant: a patch of the case, claim mutations, and the answer it must get when alone. */
interface Tweak {
  patch?: Partial<GrantCase>;
  mutations?: Mutation[];
  extraScope?: string;
  expect?: Expect;
}

function applyTweaks(base: GrantCase, tweaks: Tweak[]): GrantCase {
  let c: GrantCase = { ...base, mutations: [...base.mutations] };
  for (const t of tweaks) {
    c = { ...c, ...t.patch, mutations: [...c.mutations, ...(t.mutations ?? [])] };
    if (t.extraScope !== undefined) c.scopes = [...c.scopes, t.extraScope];
  }
  return c;
}

const claimTweak = (claim: string, value: fc.Arbitrary<unknown>, expect?: Expect): fc.Arbitrary<Tweak> =>
  value.map((v) => (expect ? { mutations: [{ claim, value: v }], expect } : { mutations: [{ claim, value: v }] }));

function certArbitraries(w: World) {
  const { leaf, ca, other } = w.der;
  return {
    notCertificates: fc.constantFrom<unknown>(
      ['!!!'],
      ['AAAA'],
      [Buffer.from('not a certificate').toString('base64')],
      [leaf.slice(0, 200)],
    ),
    badShape: fc.constantFrom<unknown>(null, 5, {}, [], [5], [null], [leaf, 5], leaf, 'abc', true),
    brokenChain: fc.constantFrom<unknown>([ca, leaf], [leaf, other], [leaf, leaf]),
    otherOrg: fc.constantFrom<unknown>([other, ca], [other], [ca]),
  };
}

/** Valid header/claim variations a grant may carry and still earn a token (for a party of `who`). */
function validTweaks(w: World, who: PartyName): fc.Arbitrary<Tweak> {
  const party = w.parties[who];
  const su = {
    type: SYSTEM_USER_TYPE,
    systemuser_org: { authority: ORG_AUTHORITY, ID: `0192:${SU_ORG}` },
    externalRef: SU_REF,
  };
  const consent = { type: CONSENT_TYPE, id: w.consentId, from: CONSENT_FROM };
  return fc.oneof(
    claimTweak(
      'nbf',
      edgy(-1000, 10, 9).map((d) => new Rel('now', d)),
    ),
    claimTweak('sub', fc.constant(party.id)),
    claimTweak('pid', fc.stringMatching(/^\d{11}$/)),
    claimTweak('resource', fc.array(webUrl(), { minLength: 1, maxLength: 3 })),
    claimTweak(
      'jti',
      edgy(1, 256, 255).map((n) => new FreshJti(n)),
    ),
    claimTweak('jti', fc.constant(MISSING)),
    claimTweak(
      'authorization_details',
      fc.constantFrom<unknown>([su], [{ ...su, externalRef: SU_REF }], [consent], [consent, su], [su, consent]),
    ),
    fc.constant<Tweak>({
      patch: { scopes: [DELEGATED_SCOPE] },
      mutations: [{ claim: 'consumer_org', value: DELEGATOR }],
    }),
    fc.record({ iatDelta: edgy(-10, 10, -9, 9), lifetime: edgy(1, 120, 11, 119) }).map((patch) => ({
      patch,
    })),
    fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', ' \t ').map((sep) => ({ patch: { sep } })),
    fc.constantFrom('RS256', 'RS384', 'RS512').map((alg) => ({ patch: { alg } })),
    weighted<unknown>([2, fc.constant(MISSING)], [1, junkValue]).map((typ) => ({ patch: { typ } })),
    fc
      .array(
        fc.tuple(
          junkKey.filter((k) => !['alg', 'kid', 'x5c'].includes(k)),
          junkValue,
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((headerExtras) => ({ patch: { headerExtras } })),
    // Repeated keys: a decoy before the real claim, or the real value again after it.
    fc
      .tuple(fc.constantFrom('aud', 'iss', 'scope', 'iat'), junkValue)
      .map(([claim, value]) => ({ mutations: [{ claim, value, dup: 'before' as const }] })),
    fc.constant<Tweak>({ mutations: [{ claim: 'aud', value: w.emulator.issuer, dup: 'after' }] }),
    ...(who === 'cert' ? [fc.constant<Tweak>({ patch: { keyRef: { kid: MISSING, x5c: [w.der.leaf] } } })] : []),
  );
}

/** Single broken rules, each with the answer README documents for it (for a party of `who`). */
function faultTweaks(w: World, who: PartyName): fc.Arbitrary<Tweak> {
  const party = w.parties[who];
  const others = (Object.values(w.parties) as Party[]).filter((p) => p.name !== who);
  const grant = (...codes: string[]) => expectOf('invalid_grant', ...codes);
  const details = (...codes: string[]) =>
    expectOf(
      codes.includes('303') ? 'invalid_altinn_customer_configuration' : 'invalid_authorization_details',
      ...codes.map((c) => `MP-${c}`),
    );
  const x5c = certArbitraries(w);
  const su = { type: SYSTEM_USER_TYPE, systemuser_org: { authority: ORG_AUTHORITY, ID: `0192:${SU_ORG}` } };
  const consent = { type: CONSENT_TYPE, id: w.consentId, from: CONSENT_FROM };
  const notIssuer = fc.oneof(
    fc.constantFrom<unknown>(
      MISSING,
      w.emulator.url,
      w.emulator.issuer.toUpperCase(),
      `${w.emulator.issuer}/`,
      ` ${w.emulator.issuer}`,
      [w.emulator.issuer],
      'https://test.maskinporten.no/',
      '',
    ),
    junkValue,
  );
  const keyTweaks: fc.Arbitrary<Tweak>[] =
    party.kid === undefined
      ? [
          x5c.badShape.map((v) => ({ patch: { keyRef: { kid: MISSING, x5c: v } }, expect: grant('MP-123') })),
          x5c.notCertificates.map((v) => ({ patch: { keyRef: { kid: MISSING, x5c: v } }, expect: grant('MP-123') })),
          fc.constant({ patch: { keyRef: { kid: MISSING, x5c: MISSING } }, expect: grant('MP-123') }),
          x5c.brokenChain.map((v) => ({ patch: { keyRef: { kid: MISSING, x5c: v } }, expect: grant('MP-120') })),
          x5c.otherOrg.map((v) => ({ patch: { keyRef: { kid: MISSING, x5c: v } }, expect: grant('MP-122') })),
          fc.string({ minLength: 1, maxLength: 20 }).map((kid) => ({
            patch: { keyRef: { kid, x5c: MISSING } },
            expect: grant('MP-100'),
          })),
          fc.string({ minLength: 1 }).map((kid) => ({
            patch: { keyRef: { kid, x5c: [w.der.leaf, w.der.ca] } },
            expect: MP011,
          })),
        ]
      : [
          fc
            .oneof(
              fc.constantFrom(...others.flatMap((p) => (p.kid ? [p.kid] : [])), `${party.kid} `, 'x'),
              fc.string({ minLength: 1, maxLength: 40 }),
            )
            .filter((kid) => kid !== party.kid)
            .map((kid) => ({ patch: { keyRef: { kid, x5c: MISSING } }, expect: grant('MP-100') })),
          fc
            .constantFrom<unknown>('', 5, null, true, [party.kid], { kid: party.kid })
            .map((kid) => ({ patch: { keyRef: { kid, x5c: MISSING } }, expect: MP011 })),
          fc.constant({ patch: { keyRef: { kid: MISSING, x5c: MISSING } }, expect: grant('MP-100') }),
          fc.constant({ patch: { keyRef: { kid: MISSING, x5c: [w.der.leaf, w.der.ca] } }, expect: grant('MP-100') }),
          fc
            .oneof(junkValue, fc.constant<unknown>([w.der.leaf]))
            .map((v) => ({ patch: { keyRef: { kid: party.kid, x5c: v } }, expect: MP011 })),
        ];
  return fc.oneof<fc.Arbitrary<Tweak>[]>(
    // header
    fc
      .oneof(
        fc.constantFrom('none', 'HS256', 'HS512', 'ES256', 'PS256', 'EdDSA', 'rs256', 'RS256 ', 'RS', '', 'RS1024'),
        fc.string({ maxLength: 12 }).filter((a) => !isRsaAlgorithm(a)),
      )
      .map((alg) => ({ patch: { alg }, expect: grant('MP-124') })),
    fc
      .constantFrom<unknown>(MISSING, null, 5, true, [], {}, ['RS256'], { alg: 'RS256' })
      .map((alg) => ({ patch: { alg }, expect: MP011 })),
    ...keyTweaks,
    // signature and serialisation
    fc
      .constantFrom<Signer>('client', 'client2', 'cert', 'stranger')
      .filter((s) => s !== who)
      .map((signer) => ({ patch: { signer }, expect: grant('MP-124') })),
    fc
      .tuple(fc.constantFrom('RS256', 'RS384', 'RS512'), fc.constantFrom<Digest>('sha256', 'sha384', 'sha512'))
      .filter(([alg, digest]) => DIGEST[alg as keyof typeof DIGEST] !== digest)
      .map(([alg, digest]) => ({ patch: { alg, digest }, expect: grant('MP-124') })),
    fc
      .record({ sig: fc.constantFrom<SigMutation>('garbage', 'empty', 'truncate', 'flip', 'append'), at: fc.nat() })
      .map((patch) => ({ patch, expect: grant('MP-124') })),
    fc
      .record({
        encoding: fc.constantFrom<Encoding>('four-parts', 'two-parts', 'space', 'padded', 'empty-header'),
        at: fc.nat(),
      })
      .map((patch) => ({ patch, expect: MP011 })),
    // claims
    claimTweak(
      'iss',
      fc.oneof(fc.constantFrom<unknown>(MISSING, '', 5, null, [party.id], { id: party.id }), fc.uuid()),
      grant('MP-100'),
    ),
    claimTweak('iss', fc.constantFrom(...others.map((p) => p.id)), grant('MP-100')),
    fc
      .tuple(
        junkKey.filter((k) => !ALLOWED_CLAIMS.has(k)),
        junkValue,
      )
      .map(([claim, value]) => ({ mutations: [{ claim, value }], expect: MP011 })),
    claimTweak('aud', notIssuer, grant('MP-110')),
    claimTweak('iat', fc.constantFrom<unknown>(MISSING, null, '0', 1.5, [], {}, true), MP011),
    claimTweak(
      'iat',
      fc
        .double({ min: -10, max: 10, noNaN: true })
        .map((d) => w.nowS + d)
        .filter((iat) => !Number.isInteger(iat)),
      MP011,
    ),
    claimTweak(
      'iat',
      fc.oneof(edgy(11, 1_000_000, 12), edgy(-1_000_000, -11, -12)).map((d) => new Rel('now', d)),
      grant('MP-130'),
    ),
    claimTweak('exp', fc.constantFrom<unknown>(MISSING, null, 'soon', 1.5, [], {}), MP011),
    claimTweak(
      'exp',
      fc.oneof(edgy(121, 100_000, 122), edgy(-100_000, 0, -1)).map((d) => new Rel('iat', d)),
      grant('MP-130'),
    ),
    fc
      .integer({ min: 1, max: 10 })
      .chain((back) => fc.integer({ min: 1, max: back }).map((lifetime) => ({ iatDelta: -back, lifetime })))
      .map((patch) => ({ patch, expect: grant('MP-130') })),
    claimTweak(
      'nbf',
      edgy(11, 1_000_000, 12).map((d) => new Rel('now', d)),
      grant('MP-130'),
    ),
    claimTweak('nbf', fc.constantFrom<unknown>(null, 'now', 1.5, [], {}, true), MP011),
    claimTweak(
      'sub',
      fc.oneof(fc.constantFrom<unknown>(null, '', 5, [party.id]), fc.string()).filter((s) => s !== party.id),
      MP011,
    ),
    claimTweak(
      'jti',
      fc.oneof(
        fc.constantFrom<unknown>('', null, 5, [], {}, true),
        edgy(257, 2000, 258).map((n) => new FreshJti(n)),
      ),
      MP011,
    ),
    claimTweak('jti', fc.constant(BURNED_JTI), grant('MP-012')),
    claimTweak(
      'scope',
      fc.constantFrom<unknown>(MISSING, null, '', ' ', '\t \n', '\u00a0'),
      expectOf('invalid_scope', 'MP-200'),
    ),
    claimTweak('scope', fc.constantFrom<unknown>(5, [], [DELEGATED_SCOPE], {}, true, false), MP011),
    fc
      .oneof(
        fc.constantFrom('fuzz:admin', 'FUZZ:READ', 'fuzz:read:x', 'idporten:dcr.write'),
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/\s/.test(s)),
      )
      .filter((s) => !party.scopes.includes(s) && s !== OPEN_SCOPE)
      .map((extraScope) => ({ extraScope, expect: expectOf('invalid_scope', 'MP-200') })),
    claimTweak(
      'resource',
      fc.constantFrom<unknown>(
        'https://api.example/',
        [],
        ['relative/path'],
        ['https://a.example/#f'],
        [5],
        [['https://a.example/']],
        null,
        {},
      ),
      MP011,
    ),
    claimTweak(
      'pid',
      fc.constantFrom<unknown>('1234567890', '123456789012', 12345678901, 'abcdefghijk', '', null, ' 12345678901'),
      MP011,
    ),
    claimTweak('iss_onbehalfof', junkValue, MP011),
    claimTweak(
      'consumer_org',
      fc.constantFrom<unknown>(ORG, '12345678', '1234567890', 991825827, null, '', ' 310000001'),
      MP011,
    ),
    fc
      .stringMatching(/^\d{9}$/)
      .filter((o) => o !== ORG && o !== DELEGATOR)
      .map((org) => ({ mutations: [{ claim: 'consumer_org', value: org }], expect: expectOf('forbidden', 'MP-251') })),
    fc.constant({
      patch: { scopes: ['fuzz:write'] },
      mutations: [{ claim: 'consumer_org', value: DELEGATOR }],
      expect: expectOf('forbidden', 'MP-251'),
    }),
    claimTweak(
      'authorization_details',
      fc.constantFrom<unknown>(null, {}, 'x', 5, [], su, [5], [null], ['x'], [[]]),
      details('303'),
    ),
    claimTweak(
      'authorization_details',
      fc
        .oneof(
          traps,
          junkValue,
          fc.constantFrom<unknown>('urn:altinn:SYSTEMUSER', 'urn:altinn:systemuser ', 'urn:altinn:consents'),
        )
        .filter((t) => t !== SYSTEM_USER_TYPE && t !== CONSENT_TYPE)
        .map((type) => [{ ...su, type }]),
      details('301'),
    ),
    claimTweak(
      'authorization_details',
      fc
        .tuple(
          junkKey.filter((k) => !['type', 'systemuser_org', 'externalRef', 'id', 'from'].includes(k)),
          junkValue,
        )
        .chain(([k, v]) =>
          fc.constantFrom(
            [Object.defineProperty({ ...su }, k, { value: v, enumerable: true })],
            [Object.defineProperty({ ...consent }, k, { value: v, enumerable: true })],
          ),
        ),
      details('302'),
    ),
    claimTweak(
      'authorization_details',
      fc.oneof(
        junkValue.filter((o) => !isObject(o)).map((org) => [{ ...su, systemuser_org: org }]),
        fc.constantFrom<unknown>(
          [{ ...su, systemuser_org: { authority: 'x', ID: `0192:${SU_ORG}` } }],
          [{ ...su, systemuser_org: { authority: ORG_AUTHORITY, ID: SU_ORG } }],
          [{ ...su, systemuser_org: { authority: ORG_AUTHORITY, ID: '0192:999999999' } }],
          [{ ...su, externalRef: 'no-such-ref' }],
          [{ ...su, externalRef: 'has space' }],
          [{ ...su, externalRef: 5 }],
          [{ ...su, externalRef: 'x'.repeat(256) }],
          [su, su],
          [{ ...consent, id: 'not-a-uuid' }],
          [{ ...consent, id: '00000000-0000-4000-8000-000000000000' }],
          [{ ...consent, from: 'urn:altinn:person:identifier-no:1' }],
          [{ ...consent, from: 'urn:altinn:organization:identifier-no:310000001' }],
        ),
      ),
      details('303'),
    ),
  );
}

/** A valid grant for a party of `who` (the base the tweaks change). */
function validBase(who: PartyName, scopePool: string[]): fc.Arbitrary<GrantCase> {
  return fc.record({
    who: fc.constant(who),
    alg: fc.constantFrom('RS256', 'RS384', 'RS512'),
    keyRef: fc.constant<'own'>('own'),
    typ: fc.constantFrom<unknown>('JWT', MISSING),
    headerExtras: fc.constant<[string, unknown][]>([]),
    iatDelta: weighted([3, fc.constant(0)], [1, edgy(-10, 10)]),
    lifetime: weighted([3, fc.constant(120)], [1, edgy(11, 120)]),
    scopes: fc.subarray(scopePool, { minLength: 1 }),
    sep: fc.constant(' '),
    jti: fc.constant(true),
    mutations: fc.constant<Mutation[]>([]),
    signer: fc.constant<'own'>('own'),
    digest: fc.constant<'match'>('match'),
    sig: fc.constant<SigMutation>('none'),
    at: fc.constant(0),
    encoding: fc.constant<Encoding>('compact'),
  });
}

/** Which client a grant is for: the keyed client twice as often (the common case), the x5c one, the other keyed one. */
const PARTY_NAMES = fc.constantFrom<PartyName>('client', 'client', 'cert', 'client2');

/**
 * `PARTY_NAMES.chain(make)`, with `make`'s arbitrary built once per party rather than once per generated case (the
 * tweak arbitraries are large trees): the same values from the same seed.
 */
function perParty<T>(make: (who: PartyName) => fc.Arbitrary<T>): fc.Arbitrary<T> {
  const made = new Map<PartyName, fc.Arbitrary<T>>();
  return PARTY_NAMES.chain((who) => {
    let arbitrary = made.get(who);
    if (!arbitrary) {
      arbitrary = make(who);
      made.set(who, arbitrary);
    }
    return arbitrary;
  });
}

// ---- the exchange -------------------------------------------------------------------------------------------------

/** Checks a 200 from the exchange: the Altinn token, its signature and claims, for a Maskinporten token's claims. */
function assertExchanged(
  w: World,
  a: Answer,
  mpClaims: Record<string, unknown>,
  options: { nowS: number; test: boolean; accept: string | undefined },
): void {
  const type = String(a.headers['content-type']);
  let token: string;
  if (type.startsWith('application/json')) {
    assert.equal(typeof a.json, 'string', a.text.slice(0, 200));
    token = a.json as string;
  } else {
    assert.match(type, /^text\/plain/);
    token = a.text;
  }
  if (options.accept === undefined || options.accept.includes('*/*') || options.accept.includes('text/plain'))
    assert.match(type, /^text\/plain/, `accept ${options.accept}`);
  else if (options.accept === 'application/json') assert.match(type, /^application\/json/);
  const decoded = decodeCompact(token);
  assert.equal(decoded.header.alg, 'RS256');
  assert.equal(decoded.header.kid, w.altinn.kid);
  assert.ok(verifyDecoded(decoded, w.altinn.publicKey, 'RS256'), 'the Altinn token verifies with its JWKS');
  const t = decoded.payload;
  const consumerId = (mpClaims.consumer as { ID: string }).ID;
  const orgNumber = consumerId.slice(consumerId.indexOf(':') + 1);
  const scope = typeof mpClaims.scope === 'string' ? mpClaims.scope : '';
  // A Map, not an object: a claim named `__proto__` must be compared like any other.
  // As .NET's token handler writes them back: a top-level array of one is its element, an empty one disappears.
  const expected = new Map<string, unknown>(
    Object.entries(mpClaims)
      .filter(([k]) => !NOT_COPIED.has(k))
      .flatMap(([k, v]): [string, unknown][] =>
        Array.isArray(v) ? (v.length === 0 ? [] : [[k, v.length === 1 ? v[0] : v]]) : [[k, v]],
      ),
  );
  for (const [k, v] of Object.entries({
    'urn:altinn:orgNumber': orgNumber,
    'urn:altinn:authenticatemethod': 'maskinporten',
    'urn:altinn:authlevel': 3,
    iss: w.altinn.issuer,
    sid: t.sid,
    nbf: options.nowS,
    iat: options.nowS,
    exp: options.nowS + 1800,
  }))
    expected.set(k, v);
  if (orgNumber === ORG && scope.includes('altinn:serviceowner'))
    expected.set('urn:altinn:org', options.test ? 'ttd' : 'digdir');
  assert.match(String(t.sid), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const sorted = (entries: [string, unknown][]) => entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  assert.deepEqual(sorted(Object.entries(t)), sorted([...expected]), 'the Altinn token copies the claims it should');
}

/**
 * A 400/401/410 from the exchange: problem+json with the status inside. A 401 is ASP.NET's `Unauthorized()`: no
 * `detail` and no `WWW-Authenticate`; a 400 is the validation problem of a `test` value that is not a bool.
 */
function assertProblem(a: Answer, status: 400 | 401 | 410): void {
  assertNoServerError(a);
  assert.equal(a.status, status, a.text.slice(0, 300));
  assert.match(String(a.headers['content-type']), /^application\/problem\+json/);
  const body = bodyOf(a);
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  if (status === 410) assert.equal(typeof body.detail, 'string');
  if (status === 401) {
    assert.equal(body.detail, undefined);
    assert.equal(a.headers['www-authenticate'], undefined);
  }
  if (status === 400) assert.ok(isObject(body.errors), a.text.slice(0, 300));
}

/** `[FromQuery] bool test` as ASP.NET binds it: false when absent, bool.TryParse, else a validation error. */
function testFlag(path: string): boolean | 'invalid' {
  const values = new URL(path, 'http://x').searchParams.getAll('test');
  if (values.length === 0) return false;
  const word = values[0]!.trim().toLowerCase();
  return word === 'true' ? true : word === 'false' ? false : 'invalid';
}

/** Header-safe characters for node:http (tab, printable ASCII, Latin-1). */
const headerChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constant('\t') },
);
const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
/** Query strings: mostly parameters, sometimes raw bytes node:http will send but the parser refuses. */
const queryString = weighted<string>(
  [4, webQueryParameters()],
  [2, fc.constantFrom('test=true', 'test=TRUE', 'test=true&test=false', 'test', 'test=1', '%zz', '&&&', '#frag')],
  [
    1,
    fc.string({
      unit: fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c)),
      maxLength: 30,
    }),
  ],
);
const acceptArb = weighted<string | undefined>(
  [3, fc.constant(undefined)],
  [
    3,
    fc.constantFrom(
      'application/json',
      'text/plain',
      '*/*',
      'application/json, text/plain',
      'application/json;q=0.9',
      'text/html',
      'APPLICATION/JSON',
      '',
    ),
  ],
  [1, headerText(40)],
);

/** The Bearer token a header carries, as RFC 6750 reads it (node trims spaces and tabs around header values). */
function bearerOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // As the controller reads it: "Bearer " in any case, the rest trimmed (node trims the header value itself).
  const header = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (!/^bearer /i.test(header)) return undefined;
  return header.slice(7).trim() || undefined;
}

/** Same header and payload text, and a signature segment that decodes to the same bytes. */
function sameJws(a: string, b: string): boolean {
  const [ah, ap, as, ...arest] = a.split('.');
  const [bh, bp, bs] = b.split('.');
  return (
    arest.length === 0 &&
    ah === bh &&
    ap === bp &&
    as !== undefined &&
    /^[A-Za-z0-9_-]*$/.test(as) &&
    Buffer.from(as, 'base64url').equals(Buffer.from(bs ?? '', 'base64url'))
  );
}

/** Outcomes of a property by label (status, MP code…): a floor on each keeps the generators honest. */
function tally(): { add(label: string): void; get(label: string): number; size: number; toString(): string } {
  const counts = new Map<string, number>();
  return {
    add: (label) => void counts.set(label, (counts.get(label) ?? 0) + 1),
    get: (label) => counts.get(label) ?? 0,
    get size() {
      return counts.size;
    },
    toString: () =>
      [...counts]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
  };
}

// ---- the properties -----------------------------------------------------------------------------------------------

/** A grant case every rule accepts: RS256 with the party's own registered key, now, 120 s, the given scopes. */
function validGrantCase(who: PartyName, scopes: string[]): GrantCase {
  return {
    who,
    alg: 'RS256',
    keyRef: 'own',
    typ: 'JWT',
    headerExtras: [],
    iatDelta: 0,
    lifetime: 120,
    scopes,
    sep: ' ',
    jti: true,
    mutations: [],
    signer: 'own',
    digest: 'match',
    sig: 'none',
    at: 0,
    encoding: 'compact',
  };
}

describe('fuzzing the emulator (property-based)', () => {
  let w: World;
  let dir: string;
  let certs: CertFactory;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-fuzz-'));
    certs = new CertFactory();
    const ca = certs.ca('fuzz-ca');
    const leaf = certs.leaf('fuzz-leaf', ORG, ca);
    const other = certs.leaf('fuzz-other', '987654321', ca);
    // Frozen a little ahead (with a fraction of a second) so the certificates just made are valid.
    const nowMs = Math.floor(Date.now() / 1000) * 1000 + 5250;
    const stateFile = join(dir, 'state.json');
    // The documented rules, which this model follows (README's rule table, "documented" column).
    const emulator = await startEmulator({
      clock: { now: () => nowMs },
      stateFile,
      logLimit: 100_000,
      rules: 'documented',
    });
    emulator.defineScope({ name: OPEN_SCOPE, accessibleForAll: true, atMaxAge: OPEN_MAX_AGE });
    const c1 = await emulator.createClient({ scopes: ['fuzz:read', 'fuzz:write', SERVICE_OWNER_SCOPE], orgNo: ORG });
    const c2 = await emulator.createClient({ scopes: ['fuzz:read'], orgNo: ORG, accessTokenLifetime: 300 });
    const c3 = await emulator.createClient({ scopes: ['fuzz:read', 'fuzz:write'], orgNo: ORG, jwks: [] });
    emulator.addDelegation({ consumerOrg: DELEGATOR, supplierOrg: ORG, scope: DELEGATED_SCOPE });
    emulator.addSystemUser({ org: SU_ORG, clientIds: [c1.clientId, c2.clientId, c3.clientId], externalRef: SU_REF });
    const consent = emulator.addConsent({ from: CONSENT_FROM, toOrg: ORG, validTo: nowMs + 86_400_000 });

    // The emulator's signing keys, from its state file, to forge tokens only the emulator could make.
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      signingKeys: Record<'maskinporten' | 'altinn', { kid: string; privateJwk: RsaPrivateJwk }>;
    };
    const keyPair = (k: { kid: string; privateJwk: RsaPrivateJwk }) => {
      const privateKey = importPrivateJwk(k.privateJwk);
      return { kid: k.kid, privateKey, publicKey: createPublicKey(privateKey) };
    };
    const parties: Record<PartyName, Party> = {
      client: { name: 'client', id: c1.clientId, kid: c1.kid, scopes: c1.scopes, lifetime: 120 },
      client2: { name: 'client2', id: c2.clientId, kid: c2.kid, scopes: c2.scopes, lifetime: 300 },
      cert: { name: 'cert', id: c3.clientId, kid: undefined, scopes: c3.scopes, lifetime: 120 },
    };
    w = {
      emulator,
      nowMs,
      nowS: Math.floor(nowMs / 1000),
      parties,
      byId: new Map(Object.values(parties).map((p) => [p.id, p])),
      keys: {
        client: importPrivateJwk(c1.privateJwk),
        client2: importPrivateJwk(c2.privateJwk),
        cert: createPrivateKey(leaf.keyPem),
        stranger: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      },
      der: { leaf: leaf.der, ca: ca.der, other: other.der },
      consentId: consent.id,
      mp: keyPair(state.signingKeys.maskinporten),
      altinn: { ...keyPair(state.signingKeys.altinn), issuer: `${emulator.url}${ALTINN_OPENID_PATH}` },
      used: new Set(),
      pool: [],
      altinnTokens: [],
    };
    const published = bodyOf(await send(emulator.url, { path: '/jwk' })).keys as { kid: string }[];
    assert.deepEqual(
      published.map((k) => k.kid),
      [w.mp.kid],
      'the state file holds the key /jwk publishes',
    );

    // Burn one jti per client, and fill the pool of real tokens.
    for (const who of ['client', 'client2', 'cert'] as const) {
      const b = buildGrant(w, {
        ...validGrantCase(who, ['fuzz:read']),
        mutations: [{ claim: 'jti', value: BURNED_JTI }],
      });
      assert.equal((await postGrant(w, b.assertion)).status, 200);
      w.used.add(`${parties[who].id}\u0000${BURNED_JTI}`);
    }
    const poolCases: GrantCase[] = [
      validGrantCase('client', ['fuzz:read', SERVICE_OWNER_SCOPE]),
      validGrantCase('cert', ['fuzz:write']),
      {
        ...validGrantCase('client2', ['fuzz:read', OPEN_SCOPE]),
        mutations: [
          { claim: 'resource', value: ['https://api.example/a', 'https://api.example/b'] },
          { claim: 'pid', value: '12345678901' },
        ],
      },
      { ...validGrantCase('client', ['fuzz:read']), mutations: [{ claim: 'consumer_org', value: DELEGATOR }] },
    ];
    for (const c of poolCases) {
      const answer = await postGrant(w, buildGrant(w, c).assertion);
      assert.equal(answer.status, 200, answer.text);
      const token = bodyOf(answer).access_token as string;
      w.pool.push({ token, claims: decodeCompact(token).payload });
    }
    const exchanged = await send(emulator.url, {
      path: ALTINN_EXCHANGE_PATH,
      headers: { authorization: `Bearer ${w.pool[0]!.token}` },
    });
    assert.equal(exchanged.status, 200, exchanged.text);
    w.altinnTokens.push(exchanged.text);
  });

  after(async () => {
    if (w) {
      // Still serving, and not one 5xx in the whole run.
      assert.equal((await send(w.emulator.url, { path: '/_emulator/health' })).status, 200);
      const failures = w.emulator.requests.entries().filter((e) => e.status >= 500 || e.status === 0);
      await w.emulator.close();
      assert.deepEqual(failures, []);
    }
    agent.destroy();
    certs?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('POST /token with arbitrary form bodies: 413 past the limit, otherwise the documented JSON error or a token', async (t) => {
    const FORM = 'application/x-www-form-urlencoded';
    /** A fresh valid assertion, made per execution. */
    class ValidAssertion {
      toString() {
        return 'ValidAssertion';
      }
    }
    class Huge {
      readonly n: number;
      constructor(n: number) {
        this.n = n;
      }
      toString() {
        return `Huge(${this.n})`;
      }
    }
    const percentGarbage = fc
      .array(
        fc.constantFrom(
          '%',
          '%z',
          '%zz',
          '%FF',
          '%C3',
          '%C3%28',
          '%E2%82',
          '%ED%A0%80',
          '%00',
          '+',
          '%2B',
          '%25',
          '%%',
          '%u00e9',
          'a',
          '=',
          '&',
        ),
        { maxLength: 8 },
      )
      .map((parts) => parts.join(''));
    const key = weighted<string>(
      [
        6,
        fc.constantFrom(
          'grant_type',
          'assertion',
          'scope',
          'client_id',
          'client_assertion',
          'client_assertion_type',
          'resource',
          'GRANT_TYPE',
          'grant_type ',
          'assertion[]',
          '',
        ),
      ],
      [1, fc.string({ unit: binaryChar, maxLength: 10 })],
      [1, percentGarbage],
    );
    const value = weighted<string | ValidAssertion | Huge>(
      [3, fc.constant(JWT_BEARER_GRANT_TYPE)],
      [3, fc.constant(new ValidAssertion())],
      [
        2,
        fc.constantFrom(
          'client_credentials',
          `${JWT_BEARER_GRANT_TYPE} `,
          JWT_BEARER_GRANT_TYPE.toUpperCase(),
          '',
          'a.b.c',
          'e30.e30.',
          'eyJhbGciOiJub25lIn0.e30.',
        ),
      ],
      [2, fc.string({ unit: binaryChar, maxLength: 40 })],
      [1, percentGarbage],
      [1, fc.integer({ min: 1, max: MAX_BODY_BYTES + 2048 }).map((n) => new Huge(n))],
    );
    const contentType = weighted<string | string[] | undefined>(
      [8, fc.constant(FORM)],
      [1, fc.mixedCase(fc.constant(FORM))],
      [
        2,
        fc.constantFrom(
          `${FORM}; charset=utf-8`,
          `${FORM};charset=ISO-8859-1`,
          `${FORM}; charset=nonsense; ;;=`,
          ` ${FORM} `,
          `${FORM}x`,
          'application/x-www-form',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
          '',
        ),
      ],
      [1, headerText(60)],
      [1, fc.constant(undefined)],
      [1, fc.constantFrom([FORM, 'text/plain'], ['text/plain', FORM])],
    );
    const formCase = fc.record({
      // Random parameters, around a well-formed grant_type + assertion pair two times in three.
      params: fc
        .tuple(
          fc.array(fc.tuple(key, value), { maxLength: 4 }),
          weighted<[string, string | ValidAssertion | Huge][]>(
            [1, fc.constant([])],
            [
              1,
              fc.constant([
                ['grant_type', JWT_BEARER_GRANT_TYPE],
                ['assertion', new ValidAssertion()],
              ]),
            ],
            [
              1,
              fc.constant([
                ['assertion', new ValidAssertion()],
                ['grant_type', JWT_BEARER_GRANT_TYPE],
              ]),
            ],
          ),
          fc.array(fc.tuple(key, value), { maxLength: 4 }),
        )
        .map(([before, core, rest]) => [...before, ...core, ...rest]),
      encode: fc.boolean(),
      separator: weighted([6, fc.constant('&')], [1, fc.constantFrom(';', '&&', '&amp;', '\n')]),
      junk: weighted<{ bytes: Uint8Array; at: number } | undefined>(
        [4, fc.constant(undefined)],
        [1, fc.record({ bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }), at: fc.nat() })],
      ),
      padTo: weighted<number | undefined>(
        [6, fc.constant(undefined)],
        [1, fc.integer({ min: MAX_BODY_BYTES - 64, max: MAX_BODY_BYTES + 64 })],
        [1, fc.integer({ min: 0, max: MAX_BODY_BYTES + 4096 })],
      ),
      contentType,
      chunked: weighted([4, fc.constant(false)], [1, fc.constant(true)]),
      query: fc.option(webQueryParameters(), { nil: undefined }),
    });

    const seen = tally();
    await fc.assert(
      fc.asyncProperty(formCase, async (c) => {
        // Signed only when the form carries it: no other assertion can equal a fresh one.
        const carriesValid = c.params.some(([, v]) => v instanceof ValidAssertion);
        const valid = carriesValid ? buildGrant(w, validGrantCase('client', ['fuzz:read'])).assertion : undefined;
        const pieces = c.params.map(([k, v]) => {
          const text = v instanceof ValidAssertion ? valid! : v instanceof Huge ? 'A'.repeat(v.n) : v;
          return c.encode ? new URLSearchParams([[k, text]]).toString() : `${k}=${text}`;
        });
        let body = Buffer.from(pieces.join(c.separator));
        if (c.junk) {
          const at = c.junk.at % (body.length + 1);
          body = Buffer.concat([body.subarray(0, at), c.junk.bytes, body.subarray(at)]);
        }
        if (c.padTo !== undefined && body.length < c.padTo) {
          const room = c.padTo - body.length;
          body = Buffer.concat([body, Buffer.from(room >= 5 ? `&pad=${'x'.repeat(room - 5)}` : '&'.repeat(room))]);
        }
        const headers: Record<string, string | string[]> = {};
        if (c.contentType !== undefined) headers['content-type'] = c.contentType;
        const a = await send(w.emulator.url, {
          method: 'POST',
          path: c.query ? `/token?${c.query}` : '/token',
          headers,
          body,
          chunked: c.chunked,
        });
        assertNoServerError(a);
        seen.add(String(a.status));

        // What the emulator sees: the first Content-Type, node's parser trimming spaces and tabs around it.
        const first = Array.isArray(c.contentType) ? c.contentType[0] : c.contentType;
        const media = (first ?? '')
          .replace(/^[ \t]+|[ \t]+$/g, '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        if (body.length > MAX_BODY_BYTES) {
          // Past the limit: 413, unless the Content-Type was refused before the body was read.
          if (media !== FORM && a.status === 400) assertMpError(a, w.emulator.url);
          else {
            assert.equal(a.status, 413, a.text.slice(0, 200));
            assert.equal(bodyOf(a).error, 'invalid_request');
            assert.equal(typeof bodyOf(a).error_description, 'string');
          }
          return;
        }
        const form = new URLSearchParams(body.toString('utf8'));
        const grantType = form.get('grant_type');
        const assertion = form.get('assertion');
        let expected: Expect | 'token' | 'any error' | 'token or invalid_request';
        if (media !== FORM || !grantType || (grantType === JWT_BEARER_GRANT_TYPE && !assertion)) expected = MP011;
        else if (grantType !== JWT_BEARER_GRANT_TYPE) expected = expectOf('unsupported_grant_type', 'MP-011');
        else if (assertion !== valid) expected = 'any error';
        // RFC 6749 forbids repeated parameters; the emulator reads the first. Either answer is acceptable.
        else if (form.getAll('grant_type').length > 1 || form.getAll('assertion').length > 1)
          expected = 'token or invalid_request';
        else expected = 'token';

        if (a.status === 200) {
          assert.ok(
            expected === 'token' || expected === 'token or invalid_request',
            `200 for ${JSON.stringify(expected)}`,
          );
          assert.equal(typeof bodyOf(a).access_token, 'string');
          return;
        }
        assert.notEqual(expected, 'token', `a valid form was refused: ${a.text}`);
        const error = assertMpError(a, w.emulator.url);
        if (expected === 'token or invalid_request') assert.equal(error.error, 'invalid_request');
        else if (typeof expected === 'object') {
          assert.equal(error.error, expected.error, a.text);
          assert.ok(expected.codes.includes(error.code), a.text);
        }
      }),
      settings(600),
    );
    t.diagnostic(`outcomes: ${seen}`);
    assert.ok(seen.get('200') >= 30 && seen.get('413') >= 10, `the generator must reach every outcome: ${seen}`);
  });

  it('POST /token with mutated grants: 200 exactly when every rule holds, otherwise a documented MP error', async (t) => {
    const tweaks = (who: PartyName) =>
      weighted<Tweak[]>(
        [2, fc.constant([])],
        [5, fc.array(fc.oneof(validTweaks(w, who), faultTweaks(w, who)), { minLength: 1, maxLength: 3 })],
      );
    const grantCase = perParty((who) =>
      fc.tuple(validBase(who, SCOPE_UNIVERSE), tweaks(who)).map(([base, list]) =>
        applyTweaks(
          base,
          list.map((t) => ({ ...t, expect: undefined })),
        ),
      ),
    );
    const outcomes = tally();
    await fc.assert(
      fc.asyncProperty(grantCase, async (c) => {
        const built = buildGrant(w, c);
        const v = verdict(w, built);
        const a = await postGrant(w, built.assertion);
        assertNoServerError(a);
        if (v.ok) {
          assert.equal(a.status, 200, `a grant satisfying every rule was refused: ${a.text}`);
          assertIssued(w, a, v, built.claims);
          w.used.add(`${v.party.id}\u0000${String(built.claims.jti)}`);
          outcomes.add('200');
        } else {
          assert.notEqual(a.status, 200, `a grant breaking a rule (${v.why}) got a token`);
          const error = assertMpError(a, w.emulator.url);
          outcomes.add(error.code);
        }
      }),
      settings(1500),
    );
    t.diagnostic(`outcomes: ${outcomes}`);
    // The generator must reach both sides and most rules, or the property proves little.
    assert.ok(outcomes.get('200') >= 300, `${outcomes}`);
    assert.ok(outcomes.size >= 14, `${outcomes}`);
  });

  it('POST /token with one broken rule: exactly that rule’s status, error and MP code', async (t) => {
    const outcomes = tally();
    const faultCase = perParty((who) =>
      fc.tuple(validBase(who, [...w.parties[who].scopes, OPEN_SCOPE]), faultTweaks(w, who)),
    );
    await fc.assert(
      fc.asyncProperty(faultCase, async ([base, fault]) => {
        const built = buildGrant(w, applyTweaks(base, [fault]));
        const a = await postGrant(w, built.assertion);
        assert.notEqual(a.status, 200, `a grant breaking one rule got a token: ${verdict(w, built).ok}`);
        const error = assertMpError(a, w.emulator.url);
        outcomes.add(error.code);
        const expected = fault.expect!;
        assert.equal(error.status, expected.status, a.text);
        assert.equal(error.error, expected.error, a.text);
        assert.ok(expected.codes.includes(error.code), `${error.code} is not one of ${expected.codes}: ${a.text}`);
        assert.equal(verdict(w, built).ok, false, 'the model agrees the grant is refused');
      }),
      settings(1500),
    );
    t.diagnostic(`outcomes: ${outcomes}`);
    assert.ok(outcomes.size >= 14, `every MP code the rules document (but MP-121, MP-250) should come up: ${outcomes}`);
  });

  it('GET the exchange with arbitrary Authorization, Accept, query and clock: 200 only for a live emulator token', async (t) => {
    const b64urlChar = fc.constantFrom(
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ '.split(''),
    );
    const poolIndex = fc.nat(w.pool.length - 1);
    type Presented =
      | { kind: 'real'; i: number }
      | { kind: 'truncated'; i: number; keep: number }
      | { kind: 'flipped'; i: number; at: number; ch: string }
      | { kind: 'resigned'; i: number; signer: Signer; kid: string | Missing; alg: 'RS256' | 'RS384' }
      | { kind: 'unsigned'; i: number; alg: string; sig: string }
      | { kind: 'altinn' }
      | { kind: 'text'; text: string }
      | { kind: 'segments'; parts: string[] };
    const presented = weighted<Presented>(
      [5, fc.record({ kind: fc.constant('real' as const), i: poolIndex })],
      [2, fc.record({ kind: fc.constant('truncated' as const), i: poolIndex, keep: fc.nat() })],
      [2, fc.record({ kind: fc.constant('flipped' as const), i: poolIndex, at: fc.nat(), ch: b64urlChar })],
      [
        1,
        fc.record({
          kind: fc.constant('resigned' as const),
          i: poolIndex,
          signer: fc.constantFrom<Signer>('client', 'client2', 'cert', 'stranger'),
          kid: fc.constantFrom<string | Missing>(w.mp.kid, w.altinn.kid, 'x', MISSING),
          alg: fc.constantFrom('RS256' as const, 'RS384' as const),
        }),
      ],
      [
        1,
        fc.record({
          kind: fc.constant('unsigned' as const),
          i: poolIndex,
          alg: fc.constantFrom('none', 'HS256', 'ES256', 'RS256'),
          sig: fc.constantFrom('', 'AAAA', 'c2lnbmF0dXJl'),
        }),
      ],
      [1, fc.constant({ kind: 'altinn' as const })],
      [2, fc.record({ kind: fc.constant('text' as const), text: headerText(200) })],
      [
        1,
        fc.record({
          kind: fc.constant('segments' as const),
          parts: fc.array(fc.base64String({ maxLength: 40 }), { maxLength: 5 }),
        }),
      ],
    );
    const exchangeCase = fc.record({
      token: presented,
      scheme: weighted(
        [6, fc.constant('Bearer')],
        [1, fc.mixedCase(fc.constant('bearer'))],
        [1, fc.constantFrom('Basic', 'DPoP', 'Token', 'Bearer:', '', 'Bearer Bearer')],
        [1, headerText(10)],
      ),
      space: weighted([6, fc.constant(' ')], [1, fc.constantFrom('', '  ', '\t', ' \t ')]),
      trailing: weighted([6, fc.constant('')], [1, fc.constantFrom(' ', '\t', ' x')]),
      noAuth: weighted([12, fc.constant(false)], [1, fc.constant(true)]),
      enterprise: weighted<string | undefined>([12, fc.constant(undefined)], [1, headerText(20)]),
      accept: acceptArb,
      query: fc.option(queryString, { nil: undefined }),
      clockMs: weighted(
        [6, fc.constant(0)],
        [2, fc.integer({ min: -3_600_000, max: 3_600_000 })],
        // Around the end of the pool tokens' lives plus the 10 s Altinn allows.
        [
          3,
          fc
            .tuple(fc.constantFrom(60, 120), fc.integer({ min: -1500, max: 1500 }))
            .map(([life, ms]) => (life + 11) * 1000 - (w.nowMs % 1000) + ms),
        ],
      ),
    });

    const outcomes = tally();
    await fc.assert(
      fc.asyncProperty(exchangeCase, async (c) => {
        let token: string;
        let original: PoolToken | undefined;
        const t = c.token;
        if (t.kind === 'text') token = t.text;
        else if (t.kind === 'segments') token = t.parts.join('.');
        else if (t.kind === 'altinn') token = w.altinnTokens[0]!;
        else {
          original = w.pool[t.i]!;
          const real = original.token;
          if (t.kind === 'real') token = real;
          else if (t.kind === 'truncated') token = real.slice(0, t.keep % real.length);
          else if (t.kind === 'flipped') {
            const at = t.at % real.length;
            token = `${real.slice(0, at)}${t.ch}${real.slice(at + 1)}`;
          } else if (t.kind === 'resigned') {
            const header = t.kid === MISSING ? { alg: t.alg } : { alg: t.alg, kid: t.kid };
            token = signCompact(header, original.claims, w.keys[t.signer]);
          } else {
            token = `${b64url(JSON.stringify({ alg: t.alg, kid: w.mp.kid }))}.${real.split('.')[1]}.${t.sig}`;
          }
        }
        const authorization = c.noAuth ? undefined : `${c.scheme}${c.space}${token}${c.trailing}`;
        const headers: OutgoingHttpHeaders = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (c.accept !== undefined) headers.accept = c.accept;
        if (c.enterprise !== undefined) headers[ALTINN_ENTERPRISE_USER_HEADER] = c.enterprise;
        const path = c.query === undefined ? ALTINN_EXCHANGE_PATH : `${ALTINN_EXCHANGE_PATH}?${c.query}`;

        w.emulator.clock.setOffset(c.clockMs);
        let a: Answer;
        try {
          a = await send(w.emulator.url, { path, headers });
        } finally {
          w.emulator.clock.setOffset(0);
        }
        assertNoServerError(a);
        outcomes.add(String(a.status));
        if (/[\x7f-\xff]/.test(path)) {
          // node's HTTP parser refuses such a request line before the emulator sees it: still a JSON 400.
          assert.equal(a.status, 400);
          assert.equal(bodyOf(a).error, 'invalid_request');
          return;
        }
        const flag = testFlag(path);
        if (flag === 'invalid') return assertProblem(a, 400);
        const nowS = Math.floor((w.nowMs + c.clockMs) / 1000);
        const presentedToken = bearerOf(authorization);
        const live =
          original !== undefined &&
          presentedToken !== undefined &&
          sameJws(presentedToken, original.token) &&
          (original.claims.exp as number) + 10 >= nowS;
        if (!live) return assertProblem(a, 401);
        // Only once the token validated, and only for a non-empty value (string.IsNullOrEmpty).
        if (c.enterprise?.replace(/^[ \t]+|[ \t]+$/g, '')) return assertProblem(a, 410);
        assert.equal(a.status, 200, `a live token was refused: ${a.text}`);
        const test = flag;
        assertExchanged(w, a, original!.claims, { nowS, test, accept: c.accept });
      }),
      settings(1000),
    );
    t.diagnostic(`outcomes: ${outcomes}`);
    // Fewer 200s than before: a `test` value that is not a bool is now a 400, as ASP.NET binds it.
    assert.ok(outcomes.get('200') >= 100 && outcomes.get('401') >= 150, `${outcomes}`);
    assert.ok(outcomes.get('400') >= 5 && outcomes.get('410') >= 5, `${outcomes}`);
  });

  it('GET the exchange with tokens signed by the emulator’s own key and arbitrary claims: 200 exactly when Altinn’s checks pass', async (t) => {
    const consumerJunk = fc.oneof(
      fc.constantFrom<unknown>(
        MISSING,
        null,
        'x',
        5,
        [],
        {},
        { authority: ORG_AUTHORITY },
        { authority: 'x', ID: `0192:${ORG}` },
        { authority: ORG_AUTHORITY, ID: 5 },
        { authority: ORG_AUTHORITY, ID: `9908:${ORG}` },
        { authority: ORG_AUTHORITY, ID: ORG },
        { authority: ORG_AUTHORITY, ID: '0192:' },
        { authority: ORG_AUTHORITY, ID: `0192:${SU_ORG}` },
        { authority: ORG_AUTHORITY, ID: `0192:${ORG}`, extra: { toString: 1 } },
      ),
      fc.string().map((s) => ({ authority: ORG_AUTHORITY, ID: `0192:${s}` })),
      junkValue,
    );
    const mutation = fc.oneof(
      claimTweak(
        'iss',
        fc.oneof(
          fc.constantFrom<unknown>(MISSING, w.emulator.url, `${w.emulator.url}${ALTINN_OPENID_PATH}`, ''),
          junkValue,
        ),
      ),
      claimTweak(
        'exp',
        fc.oneof(
          fc.integer({ min: -12, max: 12 }).map((d) => new Rel('now', d - 10)),
          fc.constantFrom<unknown>(MISSING, null, '9999999999', 1e308, -1e308, 1.5, []),
        ),
      ),
      claimTweak(
        'nbf',
        fc.oneof(
          fc.integer({ min: -12, max: 12 }).map((d) => new Rel('now', d + 10)),
          fc.constantFrom<unknown>(null, 'later', 1e308, []),
        ),
      ),
      claimTweak('consumer', consumerJunk),
      claimTweak(
        'scope',
        fc.oneof(
          fc.constantFrom<unknown>(MISSING, SERVICE_OWNER_SCOPE, 'altinn:serviceowner', 5, [], null),
          fc.string(),
        ),
      ),
      fc
        .tuple(
          weighted<string>(
            [
              2,
              fc.constantFrom(
                'urn:altinn:org',
                'urn:altinn:orgNumber',
                'sid',
                'aud',
                'client_amr',
                'iat',
                'jti',
                'pid',
                'client_id',
                '__proto__',
              ),
            ],
            [1, junkKey],
          ),
          junkValue,
        )
        .map(([claim, value]): Tweak => ({ mutations: [{ claim, value }] })),
    );
    const forgedCase = fc.record({
      i: fc.nat(w.pool.length - 1),
      mutations: weighted<Tweak[]>([1, fc.constant([])], [4, fc.array(mutation, { minLength: 1, maxLength: 4 })]),
      alg: weighted([8, fc.constant('RS256' as const)], [1, fc.constantFrom('RS384' as const, 'RS512' as const)]),
      kid: weighted<'mp' | 'altinn' | Missing | string>(
        [8, fc.constant('mp')],
        [1, fc.constantFrom('altinn', MISSING, '')],
      ),
      key: weighted([8, fc.constant('mp' as const)], [1, fc.constant('altinn' as const)]),
      test: fc.boolean(),
      accept: acceptArb,
    });

    const outcomes = tally();
    await fc.assert(
      fc.asyncProperty(forgedCase, async (c) => {
        const claims = new Map<string, unknown>(Object.entries(w.pool[c.i]!.claims));
        for (const m of c.mutations.flatMap((t) => t.mutations ?? [])) {
          if (m.value === MISSING) claims.delete(m.claim);
          else claims.set(m.claim, resolveValue(m.value, w, undefined));
        }
        const payloadText = jsonText([...claims]);
        const kid = c.kid === 'mp' ? w.mp.kid : c.kid === 'altinn' ? w.altinn.kid : c.kid;
        const headerText = jsonText(
          kid === MISSING
            ? [['alg', c.alg]]
            : [
                ['alg', c.alg],
                ['kid', kid],
              ],
        );
        const input = `${b64url(headerText)}.${b64url(payloadText)}`;
        const key = c.key === 'mp' ? w.mp.privateKey : w.altinn.privateKey;
        const token = `${input}.${sign(DIGEST[c.alg], Buffer.from(input), key).toString('base64url')}`;
        const headers: OutgoingHttpHeaders = { authorization: `Bearer ${token}` };
        if (c.accept !== undefined) headers.accept = c.accept;
        const a = await send(w.emulator.url, {
          path: `${ALTINN_EXCHANGE_PATH}${c.test ? '?test=true' : ''}`,
          headers,
        });
        assertNoServerError(a);
        outcomes.add(String(a.status));

        const mp = JSON.parse(payloadText) as Record<string, unknown>;
        const consumer = mp.consumer;
        const { exp, nbf } = mp;
        const ok =
          c.alg === 'RS256' &&
          kid === w.mp.kid &&
          c.key === 'mp' &&
          mp.iss === w.emulator.issuer &&
          typeof exp === 'number' &&
          exp + 10 >= w.nowS &&
          !(typeof nbf === 'number' && nbf - 10 > w.nowS) &&
          isObject(consumer) &&
          consumer.authority === ORG_AUTHORITY &&
          typeof consumer.ID === 'string' &&
          consumer.ID.startsWith('0192:');
        if (!ok) return assertProblem(a, 401);
        assert.equal(a.status, 200, `a token Altinn accepts was refused: ${a.text}`);
        assertExchanged(w, a, mp, { nowS: w.nowS, test: c.test, accept: c.accept });
      }),
      settings(800),
    );
    t.diagnostic(`outcomes: ${outcomes}`);
    assert.ok(outcomes.get('200') >= 150 && outcomes.get('401') >= 150, `${outcomes}`);
  });
});
