/**
 * Gets a Maskinporten token with settings from the environment (`MaskinportenSettings__Authority`,
 * `MaskinportenSettings__ClientId`, `MaskinportenSettings__JwkBase64`, as an Altinn app has them) and prints what it
 * got — never the token itself.
 *
 *   npx node examples/get-token.ts altinn:serviceowner/notifications.create
 */
import { MaskinportenClient } from 'maskinporten';
import { loadMaskinportenSettings } from 'maskinporten/config';

const scopes = process.argv.slice(2);
if (scopes.length === 0) throw new Error('usage: get-token.ts <scope> [scope …]');

const { settings } = await loadMaskinportenSettings();
const client = new MaskinportenClient(settings);
const token = await client.getAccessToken(scopes);

// String(token) masks the token; the claims are safe to print.
console.log(String(token));
console.log(JSON.stringify({ scope: token.claims.scope, consumer: token.claims.consumer, expiresAt: token.expiresAt }));
