/**
 * Sends an Altinn notification order with an Altinn token exchanged from a Maskinporten token: settings from the
 * environment, `fetch` authorized for the Altinn platform's origin only.
 *
 *   npx node examples/altinn-notification.ts someone@example.no
 */
import { MaskinportenClient } from 'maskinporten';
import { loadMaskinportenSettings } from 'maskinporten/config';
import { createFetch } from 'maskinporten/http';

const emailAddress = process.argv[2];
if (!emailAddress) throw new Error('usage: altinn-notification.ts <email address>');

const { settings } = await loadMaskinportenSettings();
const client = new MaskinportenClient(settings);
const platform = settings.altinnPlatformUrl ?? 'https://platform.tt02.altinn.no';

// Tokens go to the Altinn platform's origin and nowhere else, even if a response redirects.
const altinnFetch = createFetch(client, {
  scopes: ['altinn:serviceowner/notifications.create'],
  altinn: true,
  allowedOrigins: [new URL(platform).origin],
});

const response = await altinnFetch(new URL('/notifications/api/v1/orders', platform), {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    notificationChannel: 'Email',
    recipients: [{ emailAddress }],
    emailTemplate: { subject: 'Hello', body: 'Sent with an Altinn token' },
  }),
});
console.log(response.status, JSON.stringify(await response.json()));
