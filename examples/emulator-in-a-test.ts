/**
 * The emulator in a program or a test: start it on a free loopback port, register an integration, get a Maskinporten
 * token and an Altinn token, stop it. No network, no configuration.
 *
 *   npx node examples/emulator-in-a-test.ts
 */
import { MaskinportenClient } from 'maskinporten';
import { startEmulator } from 'maskinporten/emulator';

const emulator = await startEmulator();
try {
  const registered = await emulator.createClient({ scopes: ['altinn:serviceowner/notifications.create'] });
  const client = new MaskinportenClient(registered.settings);
  const token = await client.getAccessToken(['altinn:serviceowner/notifications.create']);
  const altinn = await client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']);
  console.log(JSON.stringify({ maskinporten: token.claims.scope, altinnOrg: altinn.claims['urn:altinn:org'] ?? null }));
} finally {
  await emulator.close();
}
