/**
 * `maskinporten/http`: helpers for authorizing HTTP requests with Maskinporten and Altinn tokens.
 * @packageDocumentation
 */
export { isSameOrigin, originOf } from './origin.ts';
