/**
 * Test helpers for talking to the emulator the way a client would: build a grant (optionally breaking one rule),
 * post it to the token endpoint, read the answer.
 */
import assert from 'node:assert/strict';
import { type KeyObject, randomBytes } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import type { CreatedClient, Emulator } from '../../src/emulator/index.ts';
import { importPrivateJwk, type RsaPrivateJwk } from '../../src/keys/jwk.ts';
import { type JwsHeader, signCompact } from '../../src/keys/jws.ts';
import { JWT_BEARER_GRANT_TYPE } from '../../src/protocol/constants.ts';

/** Options for {@link makeGrant}: any header or claim may be replaced, and claims set to `undefined` are dropped. */
export interface GrantOptions {
  header?: Partial<JwsHeader> & Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** Sign with this key instead of the client's. */
  key?: KeyObject;
  /** Seconds since the epoch used for iat/exp; defaults to the emulator's clock. */
  now?: number;
}

/** What a grant needs of a client: a {@link CreatedClient}, or the emulator's `adminClient`. */
export type GrantClient = Pick<CreatedClient, 'clientId' | 'scopes'> & { kid?: string; privateJwk?: RsaPrivateJwk };

function grantParts(
  emulator: Emulator,
  client: GrantClient,
  options: Omit<GrantOptions, 'key'>,
): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const now = options.now ?? Math.floor(emulator.clock.now() / 1000);
  const header: Record<string, unknown> = { alg: 'RS256', kid: client.kid, ...options.header };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  const claims: Record<string, unknown> = {
    aud: emulator.issuer,
    iss: client.clientId,
    scope: client.scopes.join(' '),
    iat: now,
    exp: now + 120,
    jti: randomBytes(16).toString('base64url'),
    ...options.claims,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return { header, claims };
}

/** A valid grant for `client` against `emulator`, with the given changes applied. */
export function makeGrant(emulator: Emulator, client: GrantClient, options: GrantOptions = {}): string {
  const { header, claims } = grantParts(emulator, client, options);
  const key = options.key ?? importPrivateJwk(client.privateJwk as RsaPrivateJwk);
  return signCompact(header as JwsHeader, claims, key);
}

/**
 * A grant built like {@link makeGrant} but not signed: the header may name any `alg` (`none`, HS256, ES256…) and
 * the signature segment is `signature` (garbage by default).
 */
export function craftGrant(
  emulator: Emulator,
  client: GrantClient,
  options: Omit<GrantOptions, 'key'> & { signature?: string } = {},
): string {
  const { header, claims } = grantParts(emulator, client, options);
  const segment = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signature = options.signature ?? randomBytes(64).toString('base64url');
  return `${segment(header)}.${segment(claims)}.${signature}`;
}

/** The parsed answer of the token endpoint. */
export interface TokenAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Posts a grant (or a raw form) to the token endpoint. */
export async function postToken(
  emulator: Emulator,
  assertion: string | URLSearchParams | string,
  init: { contentType?: string; rawBody?: string } = {},
): Promise<TokenAnswer> {
  const body =
    init.rawBody ??
    (assertion instanceof URLSearchParams
      ? assertion.toString()
      : new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion }).toString());
  const res = await fetch(emulator.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/x-www-form-urlencoded' },
    body,
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { unparsed: text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The MP code at the end of an `error_uri`. */
export function mpCode(answer: TokenAnswer): string | undefined {
  const uri = answer.body.error_uri;
  return typeof uri === 'string' ? /MP-\d+$/.exec(uri)?.[0] : undefined;
}

/**
 * Asserts that `answer` is the Maskinporten error `status` / `error` / MP `code`: `error_uri` ends in the code and
 * `error_description` ends in `(trace_id: <hex>)` naming the answer's trace id.
 */
export function assertMpError(answer: TokenAnswer, status: number, error: string, code: string): void {
  const context = JSON.stringify(answer.body);
  assert.equal(answer.status, status, context);
  assert.equal(answer.body.error, error, context);
  assert.equal(mpCode(answer), code, context);
  assert.match(String(answer.body.error_uri), new RegExp(`/errors/${code}$`), context);
  const description = String(answer.body.error_description);
  const trace = /\(trace_id: ([0-9a-f]+)\)$/.exec(description);
  assert.ok(trace, `error_description should end with (trace_id: <hex>): ${description}`);
  assert.equal(trace[1], answer.headers.get('x-trace-id'), context);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(answer.body.access_token, undefined);
}

/** Verifies an access token from `emulator` against its `/jwk` with `jose`, and returns its claims. */
export async function verifiedClaims(emulator: Emulator, token: string): Promise<JWTPayload> {
  const jwks = (await (await fetch(`${emulator.url}/jwk`)).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: emulator.issuer,
    algorithms: ['RS256'],
    currentDate: new Date(emulator.clock.now()),
  });
  return payload;
}

/** Gets an access token for `client` with its registered scopes (or `scopes`). */
export async function accessToken(emulator: Emulator, client: GrantClient, scopes?: string[]): Promise<string> {
  const answer = await postToken(
    emulator,
    makeGrant(emulator, client, scopes ? { claims: { scope: scopes.join(' ') } } : {}),
  );
  if (answer.status !== 200) throw new Error(`token request failed: ${JSON.stringify(answer.body)}`);
  return answer.body.access_token as string;
}
