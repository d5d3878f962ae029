/**
 * `maskinporten/verify`: verify Maskinporten and Altinn tokens presented to your API — signature against the
 * issuer's keys, issuer, lifetime, audience, scopes, consumer — with typed claims and RFC 6750 answers; Express,
 * Connect and Fastify glue.
 * @packageDocumentation
 */
export type { VerifiedConsent, VerifiedSystemUser, VerifiedToken } from './claims.ts';
export type { BearerErrorCode, TokenVerificationErrorCode } from './errors.ts';
export { bearerChallenge, TokenVerificationError } from './errors.ts';
export type { ConnectMiddleware, MaskinportenRequest } from './express.ts';
export { createExpressMiddleware } from './express.ts';
export type { FastifyReplyLike, FastifyRequestLike, MaskinportenFastifyHook } from './fastify.ts';
export { createFastifyHook } from './fastify.ts';
export type { TokenRequirements, TokenVerifierOptions } from './options.ts';
export { VERIFIER_AUTHORITY_PRESETS } from './options.ts';
export type { TokenVerifier } from './verifier.ts';
export { createTokenVerifier } from './verifier.ts';
