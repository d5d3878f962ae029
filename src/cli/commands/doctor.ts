/**
 * `maskinporten doctor`: loads the settings as the app would and checks each link of the chain — where every value
 * came from, the key pair, discovery, the clock, and a real token request — explaining each failure with its fix.
 */
import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { type ComposedCredentials, composeCredentials } from '../../client/grant-preview.ts';
import { MaskinportenClient } from '../../client.ts';
import { MaskinportenError } from '../../errors.ts';
import { jwkThumbprint, modulusBits } from '../../keys/jwk.ts';
import { discoveryUrls } from '../../protocol/discovery.ts';
import { ServerClock } from '../../server-clock.ts';
import { describeLookup } from '../app-settings-files.ts';
import { parse } from '../args.ts';
import { authorityMistake } from '../authority-hint.ts';
import type { CliIo } from '../io.ts';
import { painter } from '../output.ts';
import {
  describeSettingSource,
  type FlagSettings,
  listFlag,
  SETTINGS_FLAGS,
  settingsFromFlags,
  settingsHelp,
} from '../settings-flags.ts';

export const help = `Usage: maskinporten doctor [--scope SCOPE…] [--json] [settings options]

Checks a client's setup the way the app will use it:
  1. settings: every value and where it came from (secrets never shown)
  2. key: the key pair is whole (private and public halves match) and has a kid
  3. discovery: the authority's metadata answers and names the expected issuer
  4. clock: the offset of this machine's clock from the server's
  5. token: a real token request (with --scope; without it, a probe that proves the client and key are accepted)

Exit status 0 when every check passes, 1 otherwise.

${settingsHelp('MaskinportenSettings')}

Examples:
  maskinporten doctor --config-dir ./App --app-environment Production
  maskinporten doctor --scope altinn:serviceowner/notifications.create --json
`;

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const PROBE_SCOPE = 'maskinporten-doctor:probe';

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, {
    ...SETTINGS_FLAGS,
    scope: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  const checks: Check[] = [];
  const { bold, green } = painter(io);
  const report = () => {
    if (values.json) io.stdout.write(`${JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2)}\n`);
    else {
      for (const c of checks) {
        io.stdout.write(
          `${c.ok ? green('✔') : '✖'} ${bold(c.name)}: ${c.detail}\n${c.fix ? `    fix: ${c.fix}\n` : ''}`,
        );
      }
    }
    return checks.every((c) => c.ok) ? 0 : 1;
  };

  let loaded: FlagSettings;
  try {
    loaded = await settingsFromFlags(values, 'MaskinportenSettings', io);
  } catch (err) {
    checks.push({
      name: 'settings',
      ok: false,
      detail: (err as Error).message,
      fix: 'set the values named above in appsettings, environment variables (Section__Key) or flags',
    });
    return report();
  }
  const { settings, sources, appSettings } = loaded;
  const where = (k: keyof typeof sources) => describeSettingSource(k, sources[k]);
  const keyName = settings.jwkBase64 ? 'jwkBase64' : settings.jwk ? 'jwk' : settings.pem ? 'pem' : 'pkcs12';
  checks.push({
    name: 'settings',
    ok: true,
    detail: [
      `section ${loaded.section} (app environment ${loaded.environment}${loaded.legacy ? ', legacy shape' : ''})`,
      appSettings.missing.length
        ? describeLookup(appSettings)
        : `read ${appSettings.lookedFor.join(' and ')} from ${appSettings.dir}`,
      `authority ${settings.authority} from ${where('authority')}`,
      `clientId ${settings.clientId} from ${where('clientId')}`,
      `key (${keyName}) from ${where(keyName as keyof typeof sources)} [redacted]`,
    ].join('; '),
  });

  // The credentials as MaskinportenClient composes them: the same validation, preset resolution and signer.
  let composed: ComposedCredentials;
  try {
    composed = await composeCredentials(settings, { allowInsecureRequests: values.insecure === true });
    const { signer } = composed;
    const declared =
      typeof settings.jwk === 'object'
        ? settings.jwk
        : settings.jwk
          ? JSON.parse(settings.jwk)
          : settings.jwkBase64
            ? JSON.parse(Buffer.from(settings.jwkBase64, 'base64').toString('utf8'))
            : undefined;
    // The public half Maskinporten verifies with: the JWK's n and e, or the certificate's key; else the key's own.
    const publicKey = signer.x5c?.[0]
      ? new X509Certificate(Buffer.from(signer.x5c[0], 'base64')).publicKey
      : declared
        ? createPublicKey({ key: { kty: 'RSA', n: declared.n, e: declared.e }, format: 'jwk' })
        : createPublicKey(signer.key);
    // Whole means what the private half signs, the public half verifies: comparing members is not enough, as a
    // JWK can carry n and e of one key next to the private members (p, q, …) of another.
    const probe = Buffer.from(`maskinporten doctor ${Date.now()}`);
    let matches: boolean;
    try {
      matches = verify('sha256', probe, publicKey, sign('sha256', probe, signer.key));
    } catch {
      matches = false;
    }
    if (!matches) {
      checks.push({
        name: 'key',
        ok: false,
        detail: signer.x5c
          ? "the private key does not belong to the certificate's public key"
          : "the key's public half (n, e) does not belong to its private half: signatures made with it will not verify",
        fix: signer.x5c
          ? 'use the private key issued with the certificate (the same PKCS#12 file)'
          : 'generate a new key pair (maskinporten keygen) and register its public half',
      });
      return report();
    }
    const pub = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    const thumb = jwkThumbprint(pub);
    checks.push({
      name: 'key',
      ok: true,
      detail: `RSA-${modulusBits(publicKey)} ${signer.alg}, ${signer.kid ? `kid ${signer.kid}` : `certificate chain of ${signer.x5c?.length}`}, public and private halves match (thumbprint ${thumb})`,
    });
  } catch (err) {
    checks.push({
      name: 'key',
      ok: false,
      detail: (err as Error).message,
      fix: 'set JwkBase64 to the base64 of the key pair JWK, or pass --key-file with the private.jwk.json maskinporten keygen writes',
    });
    return report();
  }

  const [rfc8414, openid] = discoveryUrls(settings.authority);
  let url = rfc8414;
  let offsetMs: number | undefined;
  let reached = false;
  let discovered = false;
  try {
    const get = (u: string) =>
      fetch(u, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    let sent = Date.now();
    let res = await get(url);
    // Skyporten documents only OpenID Connect's metadata: the client tries it next, and so does the doctor.
    if (res.status === 404) {
      url = openid;
      sent = Date.now();
      res = await get(url);
    }
    reached = true;
    const received = Date.now();
    offsetMs = new ServerClock().observe(res.headers.get('date'), sent, received);
    const meta = (await res.json().catch(() => ({}))) as { issuer?: string };
    const expected = composed.assumedMetadata.issuer;
    if (!res.ok || typeof meta.issuer !== 'string') {
      checks.push({
        name: 'discovery',
        ok: false,
        detail: `${url} answered ${res.status} without an issuer: ${settings.authority} is not a Maskinporten authority`,
        fix: `set Authority to the base URL of the environment the client is registered in (e.g. https://test.maskinporten.no/ or https://maskinporten.no/)${authorityMistake(settings.authority) ? `; ${authorityMistake(settings.authority)}` : ''}`,
      });
    } else if (meta.issuer === expected) {
      discovered = true;
      checks.push({ name: 'discovery', ok: true, detail: `${url} names issuer ${meta.issuer}` });
    } else {
      checks.push({
        name: 'discovery',
        ok: false,
        detail: `issuer ${meta.issuer} differs from the authority ${expected}`,
        fix: `check Authority: it must be the environment the client is registered in (${meta.issuer}?)`,
      });
    }
  } catch (err) {
    checks.push({
      name: 'discovery',
      ok: false,
      detail: `${url}: ${networkProblem(err, url)}`,
      fix: 'check Authority and the network path (DNS, proxy, firewall) to it',
    });
  }

  if (!reached) {
    checks.push({ name: 'clock', ok: false, detail: 'not measured: the server was never reached' });
  } else if (offsetMs === undefined) {
    checks.push({ name: 'clock', ok: false, detail: 'the server sent no Date header; the offset is unknown' });
  } else {
    const s = Math.round(offsetMs / 100) / 10;
    checks.push(
      Math.abs(offsetMs) < 5000
        ? { name: 'clock', ok: true, detail: `this machine is within ${Math.abs(s)} s of the server` }
        : {
            name: 'clock',
            ok: false,
            detail: `the server clock is ${Math.abs(s)} s ${s > 0 ? 'ahead of' : 'behind'} this machine; Maskinporten allows 10 s`,
            fix: 'sync the clock (NTP), or set correctClockSkew: true on the client',
          },
    );
  }
  // A grant sent to an authority that is not one fails for that reason alone; its error would only mislead.
  if (!discovered) {
    checks.push({ name: 'token', ok: false, detail: 'not tried: fix discovery first (see above)' });
    return report();
  }

  const scopes = listFlag(values.scope);
  const client = new MaskinportenClient(settings, {
    allowInsecureRequests: values.insecure === true,
    retry: false,
    telemetry: false,
  });
  try {
    const token = await client.getAccessToken(scopes.length ? scopes : [PROBE_SCOPE]);
    checks.push({
      name: 'token',
      ok: true,
      detail: `got a token for ${token.scopes.join(' ')}, expires ${token.expiresAt.toISOString()}`,
    });
  } catch (err) {
    const e = err as MaskinportenError;
    if (!scopes.length && e.code === 'ERR_INVALID_SCOPE') {
      checks.push({
        name: 'token',
        ok: true,
        detail:
          'Maskinporten accepted the client and key (the probe scope was refused, as expected); pass --scope to test a real scope',
      });
    } else {
      checks.push({
        name: 'token',
        ok: false,
        detail: `${e.code ?? 'error'}: ${e.message}`,
        fix: e instanceof MaskinportenError ? fixFor(e.code) : 'see the message',
      });
    }
  }
  return report();
}

/** A failed request in plain words: which host was not found, or refused the connection. */
function networkProblem(err: unknown, url: string): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  const host = new URL(url).host;
  switch (cause?.code ?? (err as { name?: string }).name) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host ${new URL(url).hostname} was not found (DNS): check the host name in Authority`;
    case 'ECONNREFUSED':
      return `nothing answers at ${host} (connection refused): is the server running, and the port right?`;
    case 'TimeoutError':
      return `${host} did not answer within 10 s`;
    default:
      return (err as Error).message;
  }
}

function fixFor(code: string): string {
  switch (code) {
    case 'ERR_UNKNOWN_CLIENT':
      return 'check ClientId, and that Authority is the environment (test/prod) where the client was registered';
    case 'ERR_UNKNOWN_KID':
      return 'register the public key on the client (maskinporten keys add) or set kid to the registered key id';
    case 'ERR_EXPIRED_KEY':
      return 'keys live one year: rotate (maskinporten keys rotate CLIENT_ID) and switch JwkBase64 to the new key';
    case 'ERR_INVALID_SIGNATURE':
      return 'the private key is not the one registered under that kid: use the matching key pair';
    case 'ERR_INVALID_SCOPE':
      return 'add the scope to the client (portal or maskinporten clients), or ask the API owner for access';
    case 'ERR_CLOCK_SKEW':
      return "sync this machine's clock (NTP)";
    case 'ERR_INVALID_AUDIENCE':
      return 'Authority must be the Maskinporten environment the client belongs to';
    default:
      return 'see the message';
  }
}
