/**
 * The token request and response (Digdir's token page and error list) as pure functions: the form to post, and the
 * mapping of an answer to a token or to a coded error whose message says what to do.
 */
import {
  InvalidResponseError,
  type MaskinportenErrorOptions,
  redactedJsonError,
  serverText,
  TokenRequestError,
  type TokenRequestErrorCode,
  UnavailableError,
} from '../errors.ts';
import { JWT_BEARER_GRANT_TYPE, MAX_GRANT_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS } from './constants.ts';

/** `grant_type=…&assertion=`, form-encoded once. */
const FORM_PREFIX = `${new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE })}&assertion=`;
/** Characters the form encoding leaves as they are: a compact JWS (base64url segments and dots) has no others. */
const FORM_SAFE = /^[A-Za-z0-9._-]*$/;

/** The body and headers of a token request for `assertion`. */
export function tokenRequestInit(assertion: string): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    // The same bytes URLSearchParams makes, without building one per request.
    body: FORM_SAFE.test(assertion)
      ? FORM_PREFIX + assertion
      : new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion }).toString(),
  };
}

/** The fields of a successful token response. */
export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  expiresIn: number | undefined;
  scope: string | undefined;
}

function parseJson(text: string, what: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const hint = /^\s*</.test(text)
      ? ' (it looks like an HTML page: check the authority URL or a proxy in between)'
      : '';
    throw new InvalidResponseError(`${what} answered ${status} with a body that is not JSON${hint}`, {
      cause: redactedJsonError(err),
      status,
    });
  }
}

/** Reads a 200 answer of the token endpoint. */
export function processTokenSuccess(text: string, status: number): TokenResponse {
  const body = parseJson(text, 'the token endpoint', status) as Record<string, unknown> | null;
  if (!body || typeof body !== 'object' || typeof body.access_token !== 'string' || !body.access_token) {
    throw new InvalidResponseError('the token endpoint answered without an access_token', { status });
  }
  if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
    throw new InvalidResponseError(
      `the token endpoint issued a ${serverText(body.token_type)} token; only Bearer is supported`,
      {
        status,
      },
    );
  }
  const expiresIn = body.expires_in;
  if (
    expiresIn !== undefined &&
    expiresIn !== null &&
    (typeof expiresIn !== 'number' ||
      !Number.isFinite(expiresIn) ||
      expiresIn < 0 ||
      expiresIn > MAX_TOKEN_LIFETIME_SECONDS)
  ) {
    // A lifetime that makes an Invalid Date (or one of centuries) would be cached for ever.
    throw new InvalidResponseError(
      `the token endpoint answered with an expires_in that is not a number of seconds from 0 to ${MAX_TOKEN_LIFETIME_SECONDS}`,
      { status, setting: 'expires_in' },
    );
  }
  return {
    accessToken: body.access_token,
    tokenType: 'Bearer',
    expiresIn: typeof expiresIn === 'number' ? expiresIn : undefined,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  };
}

/** Context that sharpens error messages. */
export interface ErrorContext {
  clientId: string;
  authority: string;
  /** The key id the grant was signed with, if any. */
  kid?: string | undefined;
  scopes: readonly string[];
  /** Measured offset of the server clock from ours (ms), if known. */
  clockOffsetMs?: number | undefined;
}

/**
 * The scope(s) a refusal names, colons kept: `…invalid scopes for client, altinn:serviceowners/read` (the live
 * text) or `…for client: a b` (the documented one). Undefined when the text names none.
 */
export function scopesNamedIn(description: string): string | undefined {
  const named = /\bfor (?:client|maskinporten)\b\s*[,:]\s*([^()]+?)\s*(?:\(|$)/i.exec(description)?.[1];
  return named ? named.replace(/\.$/, '') : undefined;
}

const TRACE_ID = /\((?:trace_id|correlation id):\s*([^)]+)\)\s*$/i;

function describeOffset(ms: number | undefined): string {
  if (ms === undefined) return 'the offset could not be measured';
  const s = Math.round(ms / 100) / 10;
  return s === 0
    ? 'our clock agrees with the server within 0.1 s'
    : `the server clock is ${Math.abs(s)} s ${s > 0 ? 'ahead of' : 'behind'} ours`;
}

function classify(
  mpCode: string | undefined,
  error: string | undefined,
  description: string,
  ctx: ErrorContext,
): [TokenRequestErrorCode, string] {
  const d = description.toLowerCase();
  const kid = ctx.kid ?? '(none)';
  if (mpCode === 'MP-110' || d.includes('claim aud')) {
    return [
      'ERR_INVALID_AUDIENCE',
      `Maskinporten rejected the grant's audience: check Authority (${ctx.authority}) and that it is the environment the client ${ctx.clientId} is registered in`,
    ];
  }
  if (mpCode === 'MP-121' || d.includes('expired key')) {
    return [
      'ERR_EXPIRED_KEY',
      `the key ${kid} of client ${ctx.clientId} has expired (keys live one year): register a new key and switch to it`,
    ];
  }
  if (mpCode === 'MP-012' || d.includes('used before')) {
    return ['ERR_GRANT_REPLAYED', 'Maskinporten has seen this grant (jti) before: every grant must be new'];
  }
  // Live texts without an MP code: "JWT has expired", "Issue time is in the future"; the docs' "JWT is expired".
  if (mpCode === 'MP-130' || d.includes('issue time') || /\bjwt (?:is|has) expired\b/.test(d)) {
    return [
      'ERR_CLOCK_SKEW',
      `Maskinporten rejected the grant's iat/exp: ${describeOffset(ctx.clockOffsetMs)}. Sync this machine's clock (NTP) or enable correctClockSkew`,
    ];
  }
  // Before the generic "client authentication failed": MP-120's description starts with that phrase too.
  if (
    mpCode === 'MP-120' ||
    mpCode === 'MP-122' ||
    mpCode === 'MP-123' ||
    d.includes('invalid certificate') ||
    d.includes('certificate orgno') ||
    d.includes('header x5c')
  ) {
    return [
      'ERR_INVALID_CERTIFICATE',
      `Maskinporten rejected the business certificate of client ${ctx.clientId}: ${description} Check that the certificate is valid now, belongs to the organisation the client is registered to, and comes with its full chain`,
    ];
  }
  if (mpCode === 'MP-124' || d.includes('signature')) {
    return [
      'ERR_INVALID_SIGNATURE',
      `the grant's signature did not verify with key ${kid}: the private key does not match the public key registered under that kid`,
    ];
  }
  if (d.includes('no key identifier (kid)')) {
    return [
      'ERR_UNKNOWN_KID',
      `client ${ctx.clientId} has registered keys, so grants must name one with kid: set kid on the key`,
    ];
  }
  if (
    d.includes('kid') &&
    (d.includes('no key') || d.includes('not registered') || d.includes('unknown') || d.includes('could not find'))
  ) {
    return [
      'ERR_UNKNOWN_KID',
      `the key id ${kid} is not registered on client ${ctx.clientId} in this environment (${ctx.authority}): check kid, or register the public key`,
    ];
  }
  if (mpCode === 'MP-100' || d.includes('client not found') || d.includes('client authentication failed')) {
    return [
      'ERR_UNKNOWN_CLIENT',
      `Maskinporten does not know client ${ctx.clientId} at ${ctx.authority}: check ClientId and that Authority is the environment it was registered in`,
    ];
  }
  if (d.includes('too long lifetime')) {
    return [
      'ERR_INVALID_GRANT',
      `Maskinporten refused the grant's lifetime (exp − iat over 180 s): ${description}. Keep grantLifetimeSeconds at ${MAX_GRANT_LIFETIME_SECONDS} or less`,
    ];
  }
  if (error === 'invalid_scope' || mpCode === 'MP-200' || mpCode === 'MP-201') {
    const which = scopesNamedIn(description) ?? ctx.scopes.join(' ');
    return [
      'ERR_INVALID_SCOPE',
      `client ${ctx.clientId} may not use the scope(s) ${which}: add them to the client, or ask the API owner for access`,
    ];
  }
  if (error === 'forbidden' || mpCode === 'MP-250' || mpCode === 'MP-251') {
    return ['ERR_ACCESS_DENIED', `Maskinporten denied access: ${description}`];
  }
  if (
    error === 'invalid_authorization_details' ||
    error === 'invalid_altinn_customer_configuration' ||
    mpCode?.startsWith('MP-30')
  ) {
    return [
      'ERR_AUTHORIZATION_DETAILS',
      `Maskinporten rejected authorization_details (system user or consent): ${description}`,
    ];
  }
  if (error === 'invalid_request' || error === 'unsupported_grant_type') {
    return ['ERR_INVALID_REQUEST', `Maskinporten rejected the request: ${description}`];
  }
  return ['ERR_INVALID_GRANT', `Maskinporten rejected the grant: ${description || error || 'no reason given'}`];
}

/** Maps a non-200 answer of the token endpoint to the error to throw. */
export function tokenErrorFromResponse(
  status: number,
  text: string,
  ctx: ErrorContext,
): TokenRequestError | UnavailableError | InvalidResponseError {
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // a non-JSON error body: classified by status alone below
  }
  const error = typeof body.error === 'string' ? serverText(body.error) : undefined;
  const rawDescription = typeof body.error_description === 'string' ? serverText(body.error_description) : '';
  const traceId = TRACE_ID.exec(rawDescription)?.[1]?.trim();
  const description = rawDescription.replace(TRACE_ID, '').trim();
  const mpCode = typeof body.error_uri === 'string' ? /MP-\d+/.exec(body.error_uri)?.[0] : undefined;
  const details: MaskinportenErrorOptions = { status };
  if (error !== undefined) details.error = error;
  if (description) details.errorDescription = description;
  if (mpCode !== undefined) details.mpCode = mpCode;
  if (traceId !== undefined) details.traceId = traceId;
  if (ctx.clockOffsetMs !== undefined) details.clockOffsetMs = ctx.clockOffsetMs;
  const suffix = [mpCode, traceId && `trace_id ${traceId}`].filter(Boolean).join(', ');
  if (status === 429) {
    return new UnavailableError(
      'ERR_RATE_LIMITED',
      `Maskinporten is rate limiting requests (429)${suffix ? ` [${suffix}]` : ''}`,
      details,
    );
  }
  if (status >= 500) {
    return new UnavailableError(
      'ERR_SERVER',
      `Maskinporten failed with ${status}${description ? `: ${description}` : ''}${suffix ? ` [${suffix}]` : ''}`,
      details,
    );
  }
  if (!error) {
    return new InvalidResponseError(`the token endpoint answered ${status} without an OAuth error body`, details);
  }
  const [code, message] = classify(mpCode, error, description, ctx);
  return new TokenRequestError(code, `${message}${suffix ? ` [${suffix}]` : ''}`, details);
}
