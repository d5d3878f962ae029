/**
 * Maskinporten's own endpoints: the RFC 8414 metadata document, the signing keys, and the token endpoint that
 * enforces every grant rule.
 */
import { JWT_BEARER_GRANT_TYPE, WELL_KNOWN_PATH } from '../../protocol/constants.ts';
import type { EmulatorCore } from '../core.ts';
import { decodeAssertion, validateGrant } from '../grant-validation.ts';
import { mediaType, readBody, sendJson } from '../http.ts';
import { mp } from '../mp-errors.ts';
import { issueToken } from '../token-issuer.ts';
import type { Route } from './route.ts';

/** The metadata document, with exactly the fields of Maskinporten TEST's. */
export function discoveryDocument(core: EmulatorCore): Record<string, unknown> {
  return {
    issuer: core.issuer,
    token_endpoint: core.tokenEndpoint,
    jwks_uri: `${core.url}/jwk`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    grant_types_supported: [JWT_BEARER_GRANT_TYPE],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'RS512'],
    authorization_details_types_supported: ['urn:altinn:systemuser', 'urn:altinn:consent'],
  };
}

/**
 * Skyporten's metadata, at `/.well-known/openid-configuration`: Maskinporten's fields with the issuer without a
 * trailing slash, plus the members OpenID discovery requires, which cloud identity federation reads.
 */
export function skyportenDiscoveryDocument(core: EmulatorCore): Record<string, unknown> {
  return {
    ...discoveryDocument(core),
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

/** The routes of the Maskinporten side. */
export function maskinportenRoutes(core: EmulatorCore): Route[] {
  return [
    core.skyporten
      ? {
          pattern: /^\/\.well-known\/openid-configuration\/?$/,
          endpoint: 'discovery',
          methods: { GET: (ctx) => sendJson(ctx, 200, skyportenDiscoveryDocument(core)) },
        }
      : {
          // With a trailing slash too, as real clients ask for it.
          pattern: new RegExp(`^${WELL_KNOWN_PATH.replaceAll('.', '\\.')}/?$`),
          endpoint: 'discovery',
          methods: { GET: (ctx) => sendJson(ctx, 200, discoveryDocument(core)) },
        },
    {
      pattern: /^\/jwk$/,
      endpoint: 'jwks',
      methods: { GET: (ctx) => sendJson(ctx, 200, { keys: [core.state.maskinportenKey.publicJwk] }) },
    },
    {
      pattern: /^\/token$/,
      endpoint: 'token',
      methods: {
        POST: async (ctx) => {
          if (mediaType(ctx) !== 'application/x-www-form-urlencoded') {
            throw mp.badRequest('The request must have Content-Type application/x-www-form-urlencoded.');
          }
          const form = new URLSearchParams((await readBody(ctx)).toString('utf8'));
          const grantType = form.get('grant_type');
          if (!grantType) throw mp.badRequest('The parameter grant_type is missing.');
          if (grantType !== JWT_BEARER_GRANT_TYPE) throw mp.unsupportedGrantType(grantType);
          const assertion = form.get('assertion');
          if (!assertion) throw mp.badRequest('The parameter assertion is missing.');
          const decoded = decodeAssertion(assertion);
          // The log keeps what the grant says, never the assertion or its signature.
          ctx.log.grant = { header: decoded.header, claims: decoded.payload };
          if (typeof decoded.payload.iss === 'string') ctx.log.clientId = decoded.payload.iss;
          const nowMs = core.clock.now();
          const grant = await validateGrant(decoded, {
            state: core.state,
            issuer: core.issuer,
            tokenEndpoint: core.tokenEndpoint,
            rules: core.rules,
            nowMs,
            replay: core.replay,
          });
          const { body } = await issueToken(grant, {
            issuer: core.issuer,
            delegationSource: core.delegationSource,
            nowMs,
            key: core.state.maskinportenKey,
            state: core.state,
          });
          sendJson(ctx, 200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
        },
      },
    },
  ];
}
