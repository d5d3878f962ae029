/**
 * The administrator's side of the CLI: a self-service API client acting with the admin's credentials, loaded
 * through the same configuration loader (section `MaskinportenAdmin` by default) with the usual flags.
 */
import { MaskinportenClient } from '../client.ts';
import { SelfServiceClient } from '../self-service/index.ts';
import { SETTINGS_FLAGS, settingsFromFlags, settingsHelp } from './settings-flags.ts';

/** The admin credentials' default section. */
export const ADMIN_SECTION = 'MaskinportenAdmin';

/** Flags of the commands that use the self-service API. */
export const ADMIN_FLAGS = { ...SETTINGS_FLAGS, 'admin-api': { type: 'string' }, json: { type: 'boolean' } } as const;

/** Help for {@link ADMIN_FLAGS}. */
export const adminHelp = `Self-service API:
  --admin-api URL           the API (default: https://api.test.samarbeid.digdir.no for the test authority,
                            https://api.samarbeid.digdir.no for prod, the emulator's own URL for a local emulator)
  --json                    print JSON

${settingsHelp(ADMIN_SECTION).replace('Settings (loaded', 'Admin credentials (loaded')}`;

/** A self-service client for the admin credentials the flags point at. */
export async function selfServiceFromFlags(values: Partial<Record<string, unknown>>): Promise<SelfServiceClient> {
  const { settings } = await settingsFromFlags(values as Parameters<typeof settingsFromFlags>[0], ADMIN_SECTION);
  // Admin work must not depend on this machine's clock agreeing with the server's: grants are timed on the
  // server's clock, as measured from its Date header.
  const admin = new MaskinportenClient(settings, {
    allowInsecureRequests: values.insecure === true,
    correctClockSkew: true,
  });
  return new SelfServiceClient(admin, typeof values['admin-api'] === 'string' ? { baseUrl: values['admin-api'] } : {});
}
