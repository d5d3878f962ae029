/**
 * A typed Dialogporten client: openapi-fetch with types generated from Digdir's published OpenAPI document
 * (`@digdir/dialogporten-schema`, see scripts/generate-dialogporten-types.ts), authorized by
 * `maskinportenMiddleware`. To stay runnable anywhere it uses the local emulator and a local stand-in for the two
 * Dialogporten routes it calls; against TT02, `baseUrl` is `https://platform.tt02.altinn.no/dialogporten` and the
 * client's settings come from `maskinporten/config`.
 *
 * Run: npm run build && npx node examples/dialogporten-openapi-fetch.ts
 */
import { MaskinportenClient } from 'maskinporten';
import { startEmulator } from 'maskinporten/emulator';
import { maskinportenMiddleware } from 'maskinporten/http';
import createClient from 'openapi-fetch';
import { DIALOGPORTEN_SCOPE, startDialogportenStandIn } from './dialogporten-stand-in.ts';
import type { paths } from './generated/dialogporten.d.ts';

const emulator = await startEmulator();
const registered = await emulator.createClient({ scopes: [DIALOGPORTEN_SCOPE], orgNo: '991825827' });
const dialogporten = await startDialogportenStandIn(emulator.issuer);

const client = new MaskinportenClient(registered.settings);
const api = createClient<paths>({ baseUrl: dialogporten.url });
// UseMaskinportenAuthorization("digdir:dialogporten.serviceprovider"), for a typed client.
api.use(maskinportenMiddleware(client, { scopes: [DIALOGPORTEN_SCOPE], baseUrl: dialogporten.url }));

const created = await api.POST('/api/v1/serviceowner/dialogs', {
  body: {
    serviceResource: 'urn:altinn:resource:super-simple-service',
    party: 'urn:altinn:organization:identifier-no:313130983',
    status: 'New',
    content: {
      title: { mediaType: 'text/plain', value: [{ languageCode: 'nb', value: 'Hei fra Node' }] },
      summary: { mediaType: 'text/plain', value: [{ languageCode: 'nb', value: 'Laget med openapi-fetch' }] },
    },
  },
});
if (created.error !== undefined || created.data === undefined)
  throw new Error(`create failed: ${created.response.status}`);
const dialogId = created.data;
console.log('created:', created.response.status, created.response.headers.get('location'));

const { data: dialog, response } = await api.GET('/api/v1/serviceowner/dialogs/{dialogId}', {
  params: { path: { dialogId } },
});
console.log('fetched:', response.status, dialog?.serviceResource, dialog?.party, dialog?.status);

await dialogporten.close();
await emulator.close();
