/**
 * `MaskinportenSettings`: who the client is (authority, client id), the key it signs with, and where Altinn is.
 * Validated up front so a misconfiguration fails at start with a message naming the setting.
 */
import { type InspectOptions, inspect } from 'node:util';
import { ConfigError } from './errors.ts';
import type { KeyMaterial } from './keys/signer.ts';
import { controlCharacterAt, controlCharacterName } from './protocol/control-characters.ts';
import { AUTHORITY_KINDS, type AuthorityKind } from './protocol/environments.ts';
import { checkUrlSetting } from './url-policy.ts';

/**
 * The settings of a Maskinporten client (`MaskinportenSettings` of Altinn's .NET app library, in camelCase).
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_protocol_jwtgrant
 */
export interface MaskinportenSettings extends KeyMaterial {
  /** Maskinporten base URL, e.g. `https://test.maskinporten.no/` (trailing slash optional). */
  authority: string;
  /** The integration's client id (a UUID) from the portal or the self-service API. */
  clientId: string;
  /** Altinn platform base URL; derived from the authority for prod and test when left out. */
  altinnPlatformUrl?: string;
  /**
   * `maskinporten` (issuer = authority + `/`) or `skyporten` (issuer = authority, no trailing slash). Judged from
   * the host when left out (Skyporten's hosts are `sky.maskinporten.no` and `test.sky.maskinporten.no`); set it for
   * a Skyporten stand-in on another host. Used where discovery cannot say: the grant's `aud` when it fails.
   */
  authorityKind?: AuthorityKind;
}

/**
 * The settings that are plain text (not key material, whose PEM has line breaks): they appear in requests, messages
 * and `String(client)`, so a control character in them is refused.
 */
const PLAIN_STRING_SETTINGS = ['authority', 'clientId', 'altinnPlatformUrl', 'authorityKind', 'kid', 'alg'] as const;

/** Validates settings (not the key, which the signer loader checks). */
export function validateSettings(settings: MaskinportenSettings, allowInsecureRequests: boolean): void {
  if (settings === null || typeof settings !== 'object') {
    throw new ConfigError(
      'settings must be an object with authority, clientId and a key (jwk, jwkBase64, pem or pkcs12)',
    );
  }
  // Checked before parsing: the URL parser silently drops CR, LF and tab, and the raw value is what gets printed.
  for (const name of PLAIN_STRING_SETTINGS) {
    const value = (settings as unknown as Record<string, unknown>)[name];
    const at = typeof value === 'string' ? controlCharacterAt(value) : -1;
    if (at !== -1) {
      throw new ConfigError(
        `${name} must not contain control characters: found ${controlCharacterName(value as string, at)}; remove the line break or stray character from the setting`,
        { setting: name },
      );
    }
  }
  checkUrlSetting('authority', settings.authority, allowInsecureRequests);
  if (typeof settings.clientId !== 'string' || !settings.clientId.trim()) {
    throw new ConfigError(
      'clientId is required: the client id of the integration (from the portal or self-service API)',
    );
  }
  if (settings.altinnPlatformUrl !== undefined) {
    checkUrlSetting('altinnPlatformUrl', settings.altinnPlatformUrl, allowInsecureRequests);
  }
  if (settings.authorityKind !== undefined && !AUTHORITY_KINDS.includes(settings.authorityKind)) {
    throw new ConfigError(
      `authorityKind must be ${AUTHORITY_KINDS.map((k) => JSON.stringify(k)).join(' or ')}, got ${JSON.stringify(settings.authorityKind)}`,
      { setting: 'authorityKind' },
    );
  }
}

/** The settings that are secret: never shown when settings are printed. */
const SECRET_SETTINGS = ['jwk', 'jwkBase64', 'pem', 'pkcs12', 'pkcs12Password'] as const;

/**
 * Makes `settings` print without their secrets: `console.log`, `console.dir`, `util.inspect` and `JSON.stringify`
 * show `[secret]` (or `[Getter/Setter]`) in place of the key and its password. The values themselves stay readable
 * and writable as before, for the client; a copy (`{ ...settings }`) is a plain object again.
 */
export function hideSecretsWhenPrinted<T extends Partial<MaskinportenSettings>>(settings: T): T {
  const shown = () => {
    const out: Record<string, unknown> = { ...settings };
    for (const k of SECRET_SETTINGS) if (out[k] !== undefined) out[k] = '[secret]';
    return out;
  };
  for (const k of SECRET_SETTINGS) {
    if (settings[k] === undefined) continue;
    // An accessor, so that inspection without custom inspectors (console.dir) shows no value either.
    let value = settings[k];
    Object.defineProperty(settings, k, {
      get: () => value,
      set: (v: typeof value) => {
        value = v;
      },
      enumerable: true,
      configurable: true,
    });
  }
  Object.defineProperties(settings, {
    toJSON: { value: shown },
    [inspect.custom]: {
      value: (_depth: number, options: InspectOptions, inspectFn: typeof inspect) => inspectFn(shown(), options),
    },
  });
  return settings;
}
