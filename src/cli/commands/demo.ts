/**
 * `maskinporten demo`: the whole onboarding and first API call, end to end, on the embedded emulator: key
 * generation, registration through the self-service API, a Maskinporten token, the Altinn exchange and a
 * Notifications order. Prints each step with its timing; prints no key or token.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import { NOTIFICATIONS_SCOPE } from '../../emulator/routes/protected-api.ts';
import { generateRsaKeyPair, importPrivateJwk, type RsaPrivateJwk } from '../../keys/jwk.ts';
import { decodeCompact } from '../../keys/jws.ts';
import { ALTINN_EXCHANGE_PATH, JWT_BEARER_GRANT_TYPE } from '../../protocol/constants.ts';
import { buildGrantClaims, normalizeTokenRequest, signGrant } from '../../protocol/grant.ts';
import { parse } from '../args.ts';
import { bold, dim, green } from '../output.ts';

export const help = `Usage: maskinporten demo [--json]

Runs the main job end to end on an embedded emulator: generates a key pair, registers an integration with the
scope ${NOTIFICATIONS_SCOPE} through the self-service API, gets a Maskinporten token,
exchanges it for an Altinn token and sends a notification order. Cleans up after itself.

Options:
  --json   print one JSON object per step instead of text
`;

async function fetchToken(
  tokenEndpoint: string,
  issuer: string,
  clientId: string,
  jwk: RsaPrivateJwk,
  scopes: string[],
) {
  const claims = buildGrantClaims({
    clientId,
    audience: issuer,
    nowSeconds: Math.floor(Date.now() / 1000),
    request: normalizeTokenRequest(scopes),
  });
  const assertion = signGrant(claims, { key: importPrivateJwk(jwk), alg: 'RS256', kid: jwk.kid! });
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed (${res.status}): ${body.error_description}`);
  return body.access_token;
}

async function expectOk(res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what} failed (${res.status}): ${text.slice(0, 300)}`);
  return text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const json = Boolean(values.json);
  const started = performance.now();
  let n = 0;
  const step = async <T>(title: string, fn: () => Promise<[T, string]>): Promise<T> => {
    const t0 = performance.now();
    const [result, detail] = await fn();
    const ms = performance.now() - t0;
    n += 1;
    if (json) process.stdout.write(`${JSON.stringify({ step: n, title, detail, ms: Math.round(ms * 10) / 10 })}\n`);
    else
      process.stdout.write(`${green('✔')} ${bold(`${n}. ${title}`)} ${dim(`(${ms.toFixed(1)} ms)`)}\n   ${detail}\n`);
    return result;
  };

  const emulator = await step('Started the embedded emulator', async () => {
    const e = await startEmulator();
    return [e, `Maskinporten, Altinn and the self-service API at ${e.url}`];
  });
  const dir = await mkdtemp(join(tmpdir(), 'maskinporten-demo-'));
  try {
    const key = await step('Generated an RSA key pair locally', async () => {
      const pair = await generateRsaKeyPair();
      await writeFile(join(dir, 'private.jwk.json'), JSON.stringify(pair.privateJwk), { mode: 0o600 });
      return [pair, `kid ${pair.kid}; the private key stays in ${dir} (mode 0600)`];
    });
    const admin = emulator.adminClient;
    const adminToken = await step('Authenticated to the self-service API', async () => {
      const token = await fetchToken(emulator.tokenEndpoint, emulator.issuer, admin.clientId, admin.privateJwk, [
        'idporten:dcr.write',
        'idporten:dcr.modify',
      ]);
      return [token, `admin client ${admin.clientId} got a token with idporten:dcr.write idporten:dcr.modify`];
    });
    const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const clientId = await step('Registered the integration', async () => {
      const created = (await expectOk(
        await fetch(`${emulator.selfServiceUrl}/clients`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({
            integration_type: 'maskinporten',
            client_name: 'demo-notifications',
            description: 'Sends notifications through Altinn',
            token_endpoint_auth_method: 'private_key_jwt',
            grant_types: [JWT_BEARER_GRANT_TYPE],
            scopes: [NOTIFICATIONS_SCOPE],
          }),
        }),
        'registration',
      )) as { client_id: string };
      await expectOk(
        await fetch(`${emulator.selfServiceUrl}/clients/${created.client_id}/jwks`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ keys: [key.publicJwk] }),
        }),
        'key upload',
      );
      return [created.client_id, `client id ${created.client_id}, public key ${key.kid} registered`];
    });
    const mpToken = await step('Got a Maskinporten access token', async () => {
      const token = await fetchToken(emulator.tokenEndpoint, emulator.issuer, clientId, key.privateJwk, [
        NOTIFICATIONS_SCOPE,
      ]);
      const c = decodeCompact(token).payload;
      return [token, `scope ${String(c.scope)}, expires in ${Number(c.exp) - Number(c.iat)} s`];
    });
    const altinnToken = await step('Exchanged it for an Altinn token', async () => {
      const res = await fetch(`${emulator.altinnPlatformUrl}${ALTINN_EXCHANGE_PATH}?test=true`, {
        headers: { authorization: `Bearer ${mpToken}` },
      });
      const token = String(await expectOk(res, 'exchange'));
      const c = decodeCompact(token).payload;
      return [
        token,
        `org ${String(c['urn:altinn:org'])} (${String(c['urn:altinn:orgNumber'])}), valid ${(Number(c.exp) - Number(c.iat)) / 60} min`,
      ];
    });
    await step('Sent a notification order', async () => {
      const order = (await expectOk(
        await fetch(`${emulator.url}/notifications/api/v1/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${altinnToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            sendersReference: 'demo',
            notificationChannel: 'Email',
            emailTemplate: { subject: 'Hello', body: 'Sent with the maskinporten toolkit' },
            recipients: [{ emailAddress: 'someone@example.com' }],
          }),
        }),
        'notification order',
      )) as { orderId: string };
      return [order, `order ${order.orderId} accepted (201)`];
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
    await emulator.close();
  }
  const total = performance.now() - started;
  if (json) process.stdout.write(`${JSON.stringify({ done: true, ms: Math.round(total) })}\n`);
  else
    process.stdout.write(`${green('Done')} in ${total.toFixed(0)} ms; the emulator is stopped and the key deleted.\n`);
  return 0;
}
