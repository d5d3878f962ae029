/**
 * `maskinporten demo`: the whole onboarding and first API call, end to end, on the embedded emulator: key
 * generation, registration through the self-service API, a Maskinporten token, the Altinn exchange and a
 * Notifications order. Prints each step with its timing; prints no key or token.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MaskinportenClient } from '../../client.ts';
import { NOTIFICATIONS_SCOPE, startEmulator } from '../../emulator/index.ts';
import { createFetch } from '../../http/index.ts';
import { generateRsaKeyPair } from '../../keys/jwk.ts';
import { SelfServiceClient } from '../../self-service/index.ts';
import type { AccessToken } from '../../token.ts';
import { parse } from '../args.ts';
import { type CliIo, tempDirOf } from '../io.ts';
import { painter } from '../output.ts';

export const help = `Usage: maskinporten demo [--json]

Runs the main job end to end on an embedded emulator: generates a key pair, registers an integration with the
scope ${NOTIFICATIONS_SCOPE} through the self-service API, gets a Maskinporten token,
exchanges it for an Altinn token and sends a notification order. Cleans up after itself.

Options:
  --json   print one JSON object per step instead of text

Examples:
  maskinporten demo
  maskinporten demo --json
`;

/** What the token's `client_amr` says, in words: how the client proved who it is. */
function clientAuth(token: AccessToken): string {
  const amr = token.claims.client_amr;
  return amr === 'private_key_jwt'
    ? 'client_amr private_key_jwt: the client proved who it is with a JWT signed by its private key (no shared secret was sent)'
    : amr === 'virksomhetssertifikat'
      ? "client_amr virksomhetssertifikat: the client proved who it is with its organisation's business certificate"
      : `client_amr ${String(amr)}: how the client proved who it is`;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const json = Boolean(values.json);
  const { bold, dim, green } = painter(io);
  const started = performance.now();
  let n = 0;
  // A step's detail is one or more lines: indented under the title on a terminal, one sentence each in JSON
  // (`detail` joined by "; ", so a JSON reader never gets layout).
  const step = async <T>(title: string, fn: () => Promise<[T, string | string[]]>): Promise<T> => {
    const t0 = performance.now();
    const [result, detail] = await fn();
    const lines = typeof detail === 'string' ? [detail] : detail;
    const ms = performance.now() - t0;
    n += 1;
    if (json)
      io.stdout.write(
        `${JSON.stringify({ step: n, title, detail: lines.join('; '), ms: Math.round(ms * 10) / 10 })}\n`,
      );
    else
      io.stdout.write(
        `${green('✔')} ${bold(`${n}. ${title}`)} ${dim(`(${ms.toFixed(1)} ms)`)}\n${lines.map((l) => `   ${l}\n`).join('')}`,
      );
    return result;
  };

  const emulator = await step('Started the embedded emulator', async () => {
    const e = await startEmulator();
    return [e, `Maskinporten, Altinn and the self-service API at ${e.url}`];
  });
  const dir = await mkdtemp(join(tempDirOf(io), 'maskinporten-demo-'));
  try {
    const key = await step('Generated an RSA key pair locally', async () => {
      const pair = await generateRsaKeyPair();
      await writeFile(join(dir, 'private.jwk.json'), JSON.stringify(pair.privateJwk), { mode: 0o600 });
      return [pair, `kid ${pair.kid}; the private key stays in ${dir} (mode 0600)`];
    });
    const admin = new MaskinportenClient(emulator.adminClient.settings);
    const selfService = new SelfServiceClient(admin, { baseUrl: emulator.selfServiceUrl });
    const clientId = await step('Registered the integration through the self-service API', async () => {
      const created = await selfService.createClient({
        clientName: 'demo-notifications',
        description: 'Sends notifications through Altinn',
        scopes: [NOTIFICATIONS_SCOPE],
      });
      await selfService.replaceKeys(created.client_id, [key.publicJwk]);
      return [
        created.client_id,
        `client id ${created.client_id}, public key ${key.kid} registered (admin ${emulator.adminClient.clientId})`,
      ];
    });
    const client = new MaskinportenClient(
      { authority: emulator.issuer, clientId, jwk: key.privateJwk, altinnPlatformUrl: emulator.altinnPlatformUrl },
      { altinnTest: true },
    );
    await step('Got a Maskinporten access token', async () => {
      const token = await client.getAccessToken([NOTIFICATIONS_SCOPE]);
      return [token, [`scope ${token.scopes.join(' ')}, expires ${token.expiresAt.toISOString()}`, clientAuth(token)]];
    });
    await step('Exchanged it for an Altinn token', async () => {
      const token = await client.getAltinnExchangedToken([NOTIFICATIONS_SCOPE]);
      const c = token.claims;
      const minutes = Math.round(token.expiresIn() / 60_000);
      return [token, `org ${String(c['urn:altinn:org'])} (${String(c['urn:altinn:orgNumber'])}), valid ${minutes} min`];
    });
    await step('Sent a notification order with the Altinn-authorized fetch', async () => {
      const notifications = createFetch(client, { scopes: [NOTIFICATIONS_SCOPE], altinn: true });
      const res = await notifications(`${emulator.url}/notifications/api/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          sendersReference: 'demo',
          notificationChannel: 'Email',
          emailTemplate: { subject: 'Hello', body: 'Sent with the maskinporten toolkit' },
          recipients: [{ emailAddress: 'someone@example.com' }],
        }),
      });
      if (res.status !== 201) throw new Error(`the notification order failed with ${res.status}: ${await res.text()}`);
      const order = (await res.json()) as { orderId: string };
      return [order, `order ${order.orderId} accepted (201)`];
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
    await emulator.close();
  }
  const total = performance.now() - started;
  if (json) io.stdout.write(`${JSON.stringify({ done: true, ms: Math.round(total) })}\n`);
  else io.stdout.write(`${green('Done')} in ${total.toFixed(0)} ms; the emulator is stopped and the key deleted.\n`);
  return 0;
}
