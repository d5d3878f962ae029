/**
 * The administrator's side of the CLI: a self-service API client acting with the admin's credentials, loaded
 * through the same configuration loader (section `MaskinportenAdmin` by default) with the usual flags.
 */
import { MaskinportenClient } from '../client.ts';
import { SelfServiceClient } from '../self-service/index.ts';
import { isLoopbackHost } from '../url-policy.ts';
import { UsageError } from './args.ts';
import type { CliIo } from './io.ts';
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
export async function selfServiceFromFlags(
  values: Partial<Record<string, unknown>>,
  io: CliIo,
): Promise<SelfServiceClient> {
  const insecure = values.insecure === true;
  const baseUrl = typeof values['admin-api'] === 'string' ? checkedAdminApi(values['admin-api'], insecure) : undefined;
  const { settings } = await settingsFromFlags(values as Parameters<typeof settingsFromFlags>[0], ADMIN_SECTION, io);
  // Admin work must not depend on this machine's clock agreeing with the server's: grants are timed on the
  // server's clock, as measured from its Date header.
  const admin = new MaskinportenClient(settings, {
    allowInsecureRequests: values.insecure === true,
    correctClockSkew: true,
  });
  return new SelfServiceClient(admin, { ...(baseUrl ? { baseUrl } : {}), allowInsecureRequests: insecure });
}

/** `--admin-api`: an http(s) URL, https unless loopback or `--insecure` (the admin token must not travel in clear). */
function checkedAdminApi(value: string, insecure: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--admin-api must be the self-service API's URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError(`--admin-api must be an http(s) URL, got ${url.protocol}`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !insecure) {
    throw new UsageError(
      `--admin-api ${url.origin} uses plain http, so the admin token would travel in clear: use https, or add --insecure for a test server on a network you trust`,
    );
  }
  return value;
}
