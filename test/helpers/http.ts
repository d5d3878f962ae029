/**
 * Test helpers for the emulator's non-token endpoints: plain HTTP calls that keep status, headers, raw text and
 * parsed JSON; the admin client as a grant-signing client; the Altinn exchange; JWT payload decoding.
 */
import { request as httpRequest } from 'node:http';
import type { CreatedClient, Emulator } from '../../src/emulator/index.ts';
import { accessToken } from './grants.ts';

/** An answer read completely, with the body parsed as JSON when it is JSON. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or `undefined` when it is not JSON. */
  json: unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `fetch` that reads the whole answer. */
export async function call(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseJson(text) };
}

/** A JSON object body, or a failed assertion-friendly empty object. */
export function obj(answer: HttpAnswer): Record<string, unknown> {
  const v = answer.json;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Sends a request with `node:http`, for what `fetch` will not send (raw targets, odd headers, chunked bodies). */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer | Buffer[];
  } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: options.method ?? 'GET',
        path: options.path ?? `${u.pathname}${u.search}`,
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const body = options.body;
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The emulator's admin client in the shape the grant helpers take. */
export function adminAsClient(emulator: Emulator): CreatedClient {
  const admin = emulator.adminClient;
  return {
    clientId: admin.clientId,
    clientName: 'emulator-admin',
    orgNo: '991825827',
    scopes: [...admin.scopes],
    accessTokenLifetime: 120,
    kid: admin.kid,
    privateJwk: admin.privateJwk,
    jwkBase64: admin.jwkBase64,
    settings: { ...admin.settings, altinnPlatformUrl: emulator.altinnPlatformUrl },
  };
}

/** A Maskinporten token for the admin client, with all its scopes or `scopes`. */
export function adminToken(emulator: Emulator, scopes?: string[]): Promise<string> {
  return accessToken(emulator, adminAsClient(emulator), scopes);
}

/** The Altinn exchange URL of `emulator`. */
export function exchangeUrl(emulator: Emulator, test = false): string {
  return `${emulator.altinnPlatformUrl}/authentication/api/v1/exchange/maskinporten${test ? '?test=true' : ''}`;
}

/** Calls the Altinn exchange with `token` (no Authorization header when undefined). */
export function exchange(
  emulator: Emulator,
  token: string | undefined,
  options: { test?: boolean; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return call(exchangeUrl(emulator, options.test), { headers });
}

/** Exchanges a Maskinporten token for an Altinn token, failing loudly when the exchange does not answer 200. */
export async function altinnToken(emulator: Emulator, mpToken: string, test = false): Promise<string> {
  const answer = await exchange(emulator, mpToken, { test });
  if (answer.status !== 200) throw new Error(`exchange failed: ${answer.status} ${answer.text}`);
  return answer.text;
}

/** The payload of a compact JWT, without checking anything. */
export function payloadOf(jwt: string): Record<string, unknown> {
  const segment = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The header of a compact JWT, without checking anything. */
export function headerOf(jwt: string): Record<string, unknown> {
  const segment = jwt.split('.')[0] ?? '';
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A bearer Authorization header. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
