/**
 * The client reads the live services' error texts. Each body below is quoted from the protocol notes (§4 for the
 * token endpoint, §5 for the Altinn exchange: real bodies seen from the live servers, and the documented MP codes)
 * and served by a real local HTTP server; each must map to the right `code`, keep the scope it names whole (colons
 * and all), and lift `mpCode` and the trace or correlation id out of the description. A 200 exchange body that is
 * not a usable JWT is ERR_INVALID_RESPONSE after one attempt, not a network error retried.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import type { MaskinportenErrorCode } from '../../src/errors.ts';
import { generateRsaKeyPair, type RsaPrivateJwk } from '../../src/keys/jwk.ts';
import { FakeClock, type LocalServer, rejectsWith, startLocalServer } from '../helpers/client-env.ts';

/** An answer the local server gives. */
interface Answer {
  status: number;
  type: string;
  body: string;
}

const json = (status: number, body: unknown): Answer => ({
  status,
  type: 'application/json',
  body: JSON.stringify(body),
});

const TRACE = '4c3d9a0e8f1b2c3d4e5f60718293a4b5';
const CORRELATION = '0b5c8a2e-6f3d-4c1a-9e7b-2d4f6a8c0e1b';

/** [what, answer, expected code, expected mpCode, text the message must contain]. */
const TOKEN_CASES: [string, Answer, MaskinportenErrorCode, string | undefined, RegExp][] = [
  [
    'MP-121 (the real body quoted in §4)',
    json(400, {
      error: 'invalid_grant',
      error_description: `Invalid assertion. Client authentication failed. Expired key. (trace_id: ${TRACE})`,
      error_uri: 'https://maskinporten.no/errors/MP-121',
    }),
    'ERR_EXPIRED_KEY',
    'MP-121',
    /expired/,
  ],
  [
    'MP-100 unknown client',
    json(400, {
      error: 'invalid_grant',
      error_description: `Invalid assertion. Client authentication failed. (trace_id: ${TRACE})`,
      error_uri: 'https://test.maskinporten.no/errors/MP-100',
    }),
    'ERR_UNKNOWN_CLIENT',
    'MP-100',
    /ClientId/,
  ],
  [
    'MP-110 wrong aud',
    json(400, {
      error: 'invalid_grant',
      error_description: 'Invalid assertion. Client authentication failed. Invalid JWT claim aud',
      error_uri: 'https://test.maskinporten.no/errors/MP-110',
    }),
    'ERR_INVALID_AUDIENCE',
    'MP-110',
    /Authority/,
  ],
  [
    'MP-120 invalid certificate',
    json(400, {
      error: 'invalid_grant',
      error_description:
        'Invalid assertion. Client authentication failed. The JWT is signed with an invalid certificate.',
      error_uri: 'https://test.maskinporten.no/errors/MP-120',
    }),
    'ERR_INVALID_CERTIFICATE',
    'MP-120',
    /certificate/,
  ],
  [
    'MP-122 certificate of another organisation',
    json(400, { error: 'invalid_grant', error_description: 'Invalid assertion. Does not match certificate orgno' }),
    'ERR_INVALID_CERTIFICATE',
    undefined,
    /certificate/,
  ],
  [
    'MP-123 bad x5c',
    json(400, {
      error: 'invalid_grant',
      error_description: 'Invalid JWT header x5c',
      error_uri: 'https://test.maskinporten.no/errors/MP-123',
    }),
    'ERR_INVALID_CERTIFICATE',
    'MP-123',
    /certificate/,
  ],
  [
    'MP-124 bad signature',
    json(400, {
      error: 'invalid_grant',
      error_description: 'Invalid JWT signature',
      error_uri: 'https://test.maskinporten.no/errors/MP-124',
    }),
    'ERR_INVALID_SIGNATURE',
    'MP-124',
    /signature/,
  ],
  [
    'MP-130 (the documented text)',
    json(400, {
      error: 'invalid_grant',
      error_description: 'JWT is expired',
      error_uri: 'https://test.maskinporten.no/errors/MP-130',
    }),
    'ERR_CLOCK_SKEW',
    'MP-130',
    /clock/,
  ],
  [
    '"JWT has expired" (live, no MP code)',
    json(400, { error: 'invalid_grant', error_description: `JWT has expired (trace_id: ${TRACE})` }),
    'ERR_CLOCK_SKEW',
    undefined,
    /clock/,
  ],
  [
    '"Issue time is in the future" (live, no MP code)',
    json(400, { error: 'invalid_grant', error_description: 'Issue time is in the future' }),
    'ERR_CLOCK_SKEW',
    undefined,
    /clock/,
  ],
  [
    '"Issue time is after now" (the documented text)',
    json(400, { error: 'invalid_grant', error_description: 'Issue time is after now' }),
    'ERR_CLOCK_SKEW',
    undefined,
    /clock/,
  ],
  [
    '"JWT has too long lifetime" (live, no MP code)',
    json(400, { error: 'invalid_grant', error_description: 'JWT has too long lifetime' }),
    'ERR_INVALID_GRANT',
    undefined,
    /grantLifetimeSeconds/,
  ],
  [
    'MP-011 invalid parameter',
    json(400, {
      error: 'invalid_request',
      error_description: 'Invalid assertion. Invalid parameter value',
      error_uri: 'https://test.maskinporten.no/errors/MP-011',
    }),
    'ERR_INVALID_REQUEST',
    'MP-011',
    /Invalid parameter value/,
  ],
  [
    'MP-012 replayed grant',
    json(400, {
      error: 'invalid_grant',
      error_description: 'Grant is used before',
      error_uri: 'https://test.maskinporten.no/errors/MP-012',
    }),
    'ERR_GRANT_REPLAYED',
    'MP-012',
    /jti/,
  ],
  [
    'missing kid on a client with registered keys',
    json(400, {
      error: 'invalid_grant',
      error_description: `Invalid assertion. Client authentication failed. Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided (trace_id: ${TRACE})`,
    }),
    'ERR_UNKNOWN_KID',
    undefined,
    /kid/,
  ],
  [
    'unknown kid (live text, correlation id, no error_uri)',
    json(400, {
      error: 'invalid_grant',
      error_description: `Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client. (correlation id: ${CORRELATION})`,
    }),
    'ERR_UNKNOWN_KID',
    undefined,
    /not registered/,
  ],
  [
    'unknown kid (live text, trace id)',
    json(400, {
      error: 'invalid_grant',
      error_description: `Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client. (trace_id: ${TRACE})`,
    }),
    'ERR_UNKNOWN_KID',
    undefined,
    /not registered/,
  ],
  [
    'MP-200 (live text: a comma, and a scope with a colon)',
    json(400, {
      error: 'invalid_scope',
      error_description: `Token request contains invalid scopes for client, altinn:serviceowners/read (trace_id: ${TRACE})`,
      error_uri: 'https://test.maskinporten.no/errors/MP-200',
    }),
    'ERR_INVALID_SCOPE',
    'MP-200',
    /scope\(s\) altinn:serviceowners\/read:/,
  ],
  [
    'MP-200 (documented text, a colon)',
    json(400, {
      error: 'invalid_scope',
      error_description: 'Token request contains invalid scopes for client: altinn:serviceowner/rolesandrights.read',
      error_uri: 'https://test.maskinporten.no/errors/MP-200',
    }),
    'ERR_INVALID_SCOPE',
    'MP-200',
    /scope\(s\) altinn:serviceowner\/rolesandrights\.read:/,
  ],
  [
    'MP-201',
    json(400, {
      error: 'invalid_scope',
      error_description: 'Token request contains scopes not allowed for maskinporten: idporten:dcr.write',
      error_uri: 'https://test.maskinporten.no/errors/MP-201',
    }),
    'ERR_INVALID_SCOPE',
    'MP-201',
    /scope\(s\) idporten:dcr\.write:/,
  ],
  [
    'MP-250 (403 forbidden, the scope kept whole)',
    json(403, {
      error: 'forbidden',
      error_description: `Consumer has not been granted access to the scope altinn:serviceowners/read (trace_id: ${TRACE})`,
      error_uri: 'https://test.maskinporten.no/errors/MP-250',
    }),
    'ERR_ACCESS_DENIED',
    'MP-250',
    /the scope altinn:serviceowners\/read/,
  ],
  [
    'MP-251',
    json(403, {
      error: 'forbidden',
      error_description:
        'Consumer 910000000 has not delegated access to the scope altinn:some/scope.read to supplier 920000000',
      error_uri: 'https://test.maskinporten.no/errors/MP-251',
    }),
    'ERR_ACCESS_DENIED',
    'MP-251',
    /altinn:some\/scope\.read to supplier 920000000/,
  ],
  [
    'MP-301 unknown authorization_details type',
    json(400, {
      error: 'invalid_authorization_details',
      error_description: 'Unknown authorization_details type',
      error_uri: 'https://test.maskinporten.no/errors/MP-301',
    }),
    'ERR_AUTHORIZATION_DETAILS',
    'MP-301',
    /authorization_details/,
  ],
  [
    'MP-303 (live error name, no error_uri)',
    json(400, {
      error: 'invalid_altinn_customer_configuration',
      error_description: 'No system user found matching the request',
    }),
    'ERR_AUTHORIZATION_DETAILS',
    undefined,
    /system user/,
  ],
  [
    'MP-303 with its error_uri',
    json(400, {
      error: 'invalid_altinn_customer_configuration',
      error_description: 'No consent found matching the request',
      error_uri: 'https://test.maskinporten.no/errors/MP-303',
    }),
    'ERR_AUTHORIZATION_DETAILS',
    'MP-303',
    /consent/,
  ],
];

/** A JWT-shaped string with these claims (the client reads, never verifies, what it is given). */
function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k' })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe('client: live error texts', () => {
  const clock = new FakeClock();
  let server: LocalServer;
  let jwk: RsaPrivateJwk;
  let tokenAnswer: Answer;
  let exchangeAnswers: Answer[];
  let tokenRequests = 0;
  let exchangeRequests = 0;

  const maskinportenToken = () => {
    const now = Math.floor(clock.now() / 1000);
    return json(200, {
      access_token: unsignedJwt({ client_id: 'c', scope: 'altinn:serviceowners/read', iat: now, exp: now + 120 }),
      token_type: 'Bearer',
      expires_in: 120,
    });
  };

  const client = () =>
    new MaskinportenClient(
      { authority: server.url, clientId: 'c', jwk, altinnPlatformUrl: server.url },
      { clock, retryHooks: { sleep: async () => undefined, random: () => 0 } },
    );

  before(async () => {
    jwk = (await generateRsaKeyPair()).privateJwk;
    server = await startLocalServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      let answer: Answer;
      if (path === '/.well-known/oauth-authorization-server') {
        answer = json(200, { issuer: `${server.url}/`, token_endpoint: `${server.url}/token` });
      } else if (path === '/token') {
        tokenRequests++;
        answer = tokenAnswer;
      } else if (path === '/authentication/api/v1/exchange/maskinporten') {
        exchangeRequests++;
        answer = exchangeAnswers.length > 1 ? exchangeAnswers.shift()! : exchangeAnswers[0]!;
      } else {
        answer = json(404, {});
      }
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    });
  });
  beforeEach(() => {
    tokenRequests = 0;
    exchangeRequests = 0;
    tokenAnswer = maskinportenToken();
  });
  after(() => server.close());

  for (const [what, answer, code, mpCode, message] of TOKEN_CASES) {
    it(`token endpoint: ${what} → ${code}`, async () => {
      tokenAnswer = answer;
      const err = await rejectsWith(client().getAccessToken(['altinn:serviceowners/read']), code);
      assert.equal(err.status, answer.status);
      assert.equal(err.mpCode, mpCode);
      assert.match(err.message, message);
      const sent = JSON.parse(answer.body) as { error: string; error_description: string };
      assert.equal(err.error, sent.error);
      const id = /\((?:trace_id|correlation id): ([^)]+)\)/.exec(sent.error_description)?.[1];
      assert.equal(err.traceId, id);
      if (id) assert.doesNotMatch(err.errorDescription ?? '', /trace_id|correlation id/);
      assert.equal(tokenRequests, 1, 'a refusal is final: not retried');
    });
  }

  const problem = (status: number, title: string) => ({
    status,
    type: 'application/problem+json; charset=utf-8',
    body: JSON.stringify({
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.2',
      title,
      status,
      traceId: '00-8d2f4a6c0e1b3d5f7a9c2e4b6d8f0a1c-3e5a7c9e1b3d5f7a-00',
    }),
  });

  /** [what, answers in order, expected code, exchange requests expected, message]. */
  const EXCHANGE_CASES: [string, Answer[], MaskinportenErrorCode, number, RegExp][] = [
    [
      '401 ProblemDetails without detail (retried once with a fresh token)',
      [problem(401, 'Unauthorized')],
      'ERR_ALTINN_EXCHANGE',
      2,
      /did not accept the Maskinporten token.*\(Unauthorized\)/,
    ],
    [
      '410 after the token validated (enterprise users)',
      [problem(410, 'Virksomhetsbruker is no longer available')],
      'ERR_ALTINN_EXCHANGE',
      1,
      /enterprise-user.*Virksomhetsbruker is no longer available/,
    ],
    [
      '400 unknown provider (a text message)',
      [{ status: 400, type: 'text/plain', body: 'Invalid token provider' }],
      'ERR_ALTINN_EXCHANGE',
      1,
      /Invalid token provider/,
    ],
    [
      '200 with a JWT whose payload is not JSON',
      [{ status: 200, type: 'text/plain', body: 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln' }],
      'ERR_INVALID_RESPONSE',
      1,
      /not a JWT/,
    ],
    [
      '200 with a JWT without exp',
      [{ status: 200, type: 'text/plain', body: unsignedJwt({ iat: 1 }) }],
      'ERR_INVALID_RESPONSE',
      1,
      /exp/,
    ],
    [
      '200 with an HTML page',
      [{ status: 200, type: 'text/html', body: '<!doctype html><title>Sign in</title>' }],
      'ERR_INVALID_RESPONSE',
      1,
      /not a JWT/,
    ],
    ['200 with an empty body', [{ status: 200, type: 'text/plain', body: '' }], 'ERR_INVALID_RESPONSE', 1, /not a JWT/],
    [
      '200 with a JSON object instead of the token',
      [json(200, { token: 'x' })],
      'ERR_INVALID_RESPONSE',
      1,
      /not a JWT/,
    ],
  ];

  for (const [what, answers, code, requests, message] of EXCHANGE_CASES) {
    it(`Altinn exchange: ${what} → ${code}`, async () => {
      exchangeAnswers = [...answers];
      const err = await rejectsWith(client().getAltinnExchangedToken(['altinn:serviceowners/read']), code);
      assert.match(err.message, message);
      assert.equal(exchangeRequests, requests);
      if (answers[0]!.status !== 200) assert.equal(err.status, answers[0]!.status);
      if (answers[0]!.type.startsWith('application/problem+json')) {
        assert.equal(err.traceId, '00-8d2f4a6c0e1b3d5f7a9c2e4b6d8f0a1c-3e5a7c9e1b3d5f7a-00');
      }
    });
  }

  it('Altinn exchange: a bare JWT and a JSON-quoted one are both read', async () => {
    const now = Math.floor(clock.now() / 1000);
    const altinn = unsignedJwt({ iat: now, exp: now + 1800, 'urn:altinn:org': 'ttd' });
    for (const answer of [
      { status: 200, type: 'text/plain', body: altinn },
      { status: 200, type: 'application/json', body: JSON.stringify(altinn) },
    ]) {
      exchangeAnswers = [answer];
      const token = await client().getAltinnExchangedToken(['altinn:serviceowners/read']);
      assert.equal(token.value, altinn);
    }
  });
});
