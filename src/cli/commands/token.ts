/**
 * `maskinporten token`: a Maskinporten token, or an Altinn token, for the configured client — or, with
 * `--dry-run`, the grant that would be sent, without calling anyone.
 */

import { previewGrant } from '../../client/grant-preview.ts';
import { MaskinportenClient } from '../../client.ts';
import { createFileTokenStore, defaultTokenCacheDir } from '../../file-store/index.ts';
import { defaultAltinnPlatformUrl } from '../../protocol/environments.ts';
import { normalizeTokenRequest, type TokenRequest } from '../../protocol/grant.ts';
import type { MaskinportenSettings } from '../../settings.ts';
import type { AccessToken } from '../../token.ts';
import { parse, UsageError } from '../args.ts';
import type { CliIo } from '../io.ts';
import { listFlag, SETTINGS_FLAGS, settingsFromFlags, settingsHelp } from '../settings-flags.ts';
import { shellQuote } from '../shell.ts';

export const help = `Usage: maskinporten token --scope SCOPE [--scope SCOPE…] [options]

Gets a token for the configured client and prints it.

Token options:
  --scope SCOPE             scope to request (repeatable; spaces or commas also separate)
  --altinn                  exchange the Maskinporten token for an Altinn token
  --altinn-test             with --altinn: ?test=true (Digdir service-owner tokens act as ttd)
  --consumer-org ORGNO      Altinn API delegation: act for this organisation
  --resource URI            audience restriction (repeatable)
  --system-user-org ORGNO   Altinn system user of this organisation
  --system-user-ref REF     the system user's externalRef
  --pid FNR                 bind the token to this person
  --output FORMAT           raw (default), json, header, curl (a curl command; the API's URL from --url, or an
                            <API-URL> placeholder to replace), export
  --url URL                 with --output curl: the API URL to call
  --json                    the same as --output json
  --dry-run                 print the grant's header and claims and stop; calls nobody
  --no-cache                neither read nor keep tokens in the token cache (by default tokens are kept,
                            encrypted, in $XDG_CACHE_HOME/maskinporten or ~/.cache/maskinporten until they expire)

${settingsHelp('MaskinportenSettings')}

Examples:
  maskinporten token --scope altinn:serviceowner/notifications.create --altinn --altinn-test
  maskinporten token --config-dir ./App --app-environment Production --scope digdir:dialogporten --output header
  maskinporten token --authority test --client-id ID --key-file maskinporten-keys/private.jwk.json --scope x:y --dry-run
`;

/** Where `--output curl` puts the API's URL when `--url` is not given: plainly a placeholder, to replace. */
const URL_PLACEHOLDER = '<API-URL>';

/** RFC 6750 section 2.1 token68: what a bearer token may hold (every compact JWS does). */
export function isToken68(value: string): boolean {
  return /^[A-Za-z0-9\-._~+/]+=*$/.test(value);
}

function describeExpiry(token: AccessToken): string {
  return token.expiresAt.toISOString();
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, {
    ...SETTINGS_FLAGS,
    scope: { type: 'string', multiple: true },
    altinn: { type: 'boolean' },
    'altinn-test': { type: 'boolean' },
    'consumer-org': { type: 'string' },
    resource: { type: 'string', multiple: true },
    'system-user-org': { type: 'string' },
    'system-user-ref': { type: 'string' },
    pid: { type: 'string' },
    output: { type: 'string' },
    json: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'no-cache': { type: 'boolean' },
    url: { type: 'string' },
  });
  const scopes = listFlag(values.scope);
  if (scopes.length === 0)
    throw new UsageError('--scope is required, e.g. --scope altinn:serviceowner/notifications.create');
  if (values.json && values.output !== undefined && values.output !== 'json')
    throw new UsageError(`--json and --output ${values.output} contradict each other`);
  const output = values.output ?? (values.json ? 'json' : 'raw');
  if (!['raw', 'json', 'header', 'curl', 'export'].includes(output)) {
    throw new UsageError(`--output must be raw, json, header, curl or export, got ${output}`);
  }
  if (values['altinn-test'] && !values.altinn) throw new UsageError('--altinn-test needs --altinn');
  if (values.url !== undefined && output !== 'curl') throw new UsageError('--url applies to --output curl');
  if (values.url !== undefined && !/^https?:\/\/[^\s]+$/i.test(values.url))
    throw new UsageError(`--url must be the http(s) URL of the API to call, got ${JSON.stringify(values.url)}`);
  if (values['system-user-ref'] !== undefined && values['system-user-org'] === undefined) {
    throw new UsageError('--system-user-ref needs --system-user-org');
  }
  const request: TokenRequest = { scopes };
  if (values['consumer-org'] !== undefined) request.consumerOrg = values['consumer-org'];
  if (values.resource?.length) request.resource = values.resource;
  if (values.pid !== undefined) request.pid = values.pid;
  if (values['system-user-org'] !== undefined) {
    request.systemUser = {
      org: values['system-user-org'],
      ...(values['system-user-ref'] ? { externalRef: values['system-user-ref'] } : {}),
    };
  }
  normalizeTokenRequest(request); // a request that cannot be sent is a usage error before any settings are read
  const { settings, section } = await settingsFromFlags(values, 'MaskinportenSettings', io);
  if (values.altinn) requireAltinnPlatform(settings, section);

  if (values['dry-run']) {
    // The client's own composition, stopped before the network: the grant it would send, with the issuer and
    // token endpoint it assumes without discovery (Maskinporten's issuer ends in a slash, Skyporten's does not).
    const preview = await previewGrant(settings, request, { allowInsecureRequests: values.insecure === true });
    const { x5c, ...rest } = preview.header;
    const header = Array.isArray(x5c) ? { ...rest, x5c: `[${x5c.length} certificate(s)]` } : preview.header;
    io.stdout.write(
      `${JSON.stringify({ header, claims: preview.claims, tokenEndpoint: preview.assumedMetadata.tokenEndpoint }, null, 2)}\n`,
    );
    return 0;
  }

  const client = new MaskinportenClient(settings, {
    allowInsecureRequests: values.insecure === true,
    // Two runs in a minute ask Maskinporten once: tokens are kept (sealed) in the user's cache directory.
    ...(values['no-cache'] ? {} : { cache: { store: createFileTokenStore(defaultTokenCacheDir(io.env)) } }),
    ...(values['altinn-test'] ? { altinnTest: true } : {}),
  });
  const token = values.altinn ? await client.getAltinnExchangedToken(request) : await client.getAccessToken(request);
  // Printing the token is this command's purpose. It goes into shell commands (curl, export) and headers, so only
  // the characters an access token may have are printed: RFC 6750's token68 alphabet, which holds every JWS.
  const value = token.value;
  if (!isToken68(value)) {
    throw new Error(
      `the ${values.altinn ? 'Altinn' : 'Maskinporten'} token endpoint answered an access token with characters outside the token68 alphabet (letters, digits, - . _ ~ + / and trailing =): refused, not printed`,
    );
  }
  switch (output) {
    case 'json':
      io.stdout.write(
        `${JSON.stringify({ access_token: value, token_type: 'Bearer', kind: token.kind, expires_at: describeExpiry(token), scopes: token.scopes, claims: token.claims }, null, 2)}\n`,
      );
      break;
    case 'header':
      io.stdout.write(`Authorization: Bearer ${value}\n`);
      break;
    case 'curl':
      // A whole command: the URL (or a placeholder that cannot be mistaken for one) is quoted like the header.
      io.stdout.write(
        `curl -H ${shellQuote(`Authorization: Bearer ${value}`)} ${shellQuote(values.url ?? URL_PLACEHOLDER)}\n`,
      );
      break;
    case 'export':
      io.stdout.write(`export ${values.altinn ? 'ALTINN_TOKEN' : 'MASKINPORTEN_TOKEN'}=${shellQuote(value)}\n`);
      break;
    default:
      io.stdout.write(`${value}\n`);
  }
  return 0;
}

/**
 * The Altinn exchange needs a platform: set, or derived from one of Digdir's authorities. Without one the run would
 * fail after fetching a token; say now which flag and which setting give it.
 */
function requireAltinnPlatform(settings: MaskinportenSettings, section: string): void {
  if (settings.altinnPlatformUrl ?? defaultAltinnPlatformUrl(settings.authority)) return;
  throw new UsageError(
    `--altinn needs an Altinn platform URL, and ${settings.authority} has none by default (only maskinporten.no and test.maskinporten.no do): pass --altinn-platform-url URL (or a preset such as tt02), or set ${section}:AltinnPlatformUrl in your settings. For a local emulator it is the emulator's own URL (maskinporten init --authority <emulator URL> writes it)`,
  );
}
