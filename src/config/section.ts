/**
 * Reads one settings section from flat configuration into {@link MaskinportenSettings}, collecting every problem
 * (with the setting's path and its source, never its value) instead of stopping at the first. Accepts today's
 * shape (`Authority`, `ClientId`, `Jwk`/`JwkBase64`, …) and the legacy one (`ClientId`, `EncodedJwk`, `Environment`).
 */
import { isMaskinportenError, KeyError, type MaskinportenError } from '../errors.ts';
import { type KeySetting, loadSignerSync } from '../keys/signer.ts';
import { AUTHORITY_KINDS, type AuthorityKind } from '../protocol/environments.ts';
import { hideSecretsWhenPrinted, type MaskinportenSettings } from '../settings.ts';
import { checkUrlSetting } from '../url-policy.ts';
import { type ConfigValue, describeSource, type FlatConfig, type SettingSource } from './flat-config.ts';
import { legacyAuthority } from './legacy.ts';
import { resolveAltinnPlatform, resolveAuthority } from './presets.ts';
import type { ConfigProblem } from './validation-error.ts';

/** The settings of a section and where each value came from. */
export interface SectionSettings {
  settings: MaskinportenSettings;
  sources: Partial<Record<keyof MaskinportenSettings, SettingSource>>;
  /** True when the section used the legacy shape. */
  legacy: boolean;
}

const STRING_KEYS = {
  clientId: 'ClientId',
  jwkBase64: 'JwkBase64',
  kid: 'Kid',
  alg: 'Alg',
  pem: 'Pem',
  certificateChain: 'CertificateChain',
  pkcs12: 'Pkcs12',
  pkcs12Password: 'Pkcs12Password',
} as const;

/** The configuration key of each key setting an error can name (the legacy section calls `jwkBase64` EncodedJwk). */
const KEY_NAMES: Record<KeySetting, string> = {
  jwk: 'Jwk',
  jwkBase64: 'JwkBase64',
  pem: 'Pem',
  certificateChain: 'CertificateChain',
  pkcs12: 'Pkcs12',
  pkcs12Password: 'Pkcs12Password',
  kid: 'Kid',
  alg: 'Alg',
};

/** The problem's text for an error about one setting: what is wrong without its name, when the error says it. */
function reasonOf(err: MaskinportenError): string {
  return err.reason ?? err.message;
}

/** Reads and validates `section`; returns the settings or the problems. */
export function readSection(
  config: FlatConfig,
  section: string,
  options: { allowInsecureRequests?: boolean; overrides?: Partial<MaskinportenSettings> } = {},
): SectionSettings | { problems: ConfigProblem[]; partial: Partial<MaskinportenSettings> } {
  const problems: ConfigProblem[] = [];
  const path = (key: string) => `${section}:${key}`;
  const from = (v: ConfigValue | undefined) => (v ? describeSource(v.source) : undefined);
  const problem = (key: string, message: string, v?: ConfigValue) => {
    const p: ConfigProblem = { path: path(key), message };
    const src = from(v);
    if (src) p.source = src;
    problems.push(p);
  };
  const overrides = options.overrides ?? {};
  if (!config.has(section) && Object.keys(overrides).length === 0) {
    return {
      problems: [{ path: section, message: `the section ${section} was not found in any configuration source` }],
      partial: {},
    };
  }
  const whole = config.get(section);
  if (whole !== undefined && config.children(section).length === 0 && Object.keys(overrides).length === 0) {
    return {
      problems: [
        {
          path: section,
          message: 'must be a section (an object with Authority, ClientId and a key), not a single value',
          source: describeSource(whole.source),
        },
      ],
      partial: {},
    };
  }
  const settings: Partial<MaskinportenSettings> = {};
  const sources: SectionSettings['sources'] = {};
  const scalar = (key: string): ConfigValue | undefined => {
    const v = config.get(path(key));
    const kids = v === undefined ? config.children(path(key)) : [];
    if (kids.length > 0) {
      problem(key, 'must be a single value, not an object or a list', kids[0]);
      return undefined;
    }
    return v;
  };

  for (const [name, key] of Object.entries(STRING_KEYS) as [keyof typeof STRING_KEYS, string][]) {
    const v = scalar(key);
    if (v && v.value !== '') {
      (settings as Record<string, unknown>)[name] = v.value;
      sources[name] = v.source;
    }
  }

  // The key as a JWK: an object in JSON files, or JSON text from env vars and secrets.
  const jwkValue = config.get(path('Jwk'));
  const jwkObject = config.object(path('Jwk'));
  if (jwkObject) {
    settings.jwk = jwkObject;
    sources.jwk = config.children(path('Jwk'))[0]!.source;
  } else if (jwkValue && jwkValue.value !== '') {
    settings.jwk = jwkValue.value;
    sources.jwk = jwkValue.source;
  }

  // Legacy shape: EncodedJwk and Environment instead of JwkBase64 and Authority.
  const encoded = scalar('EncodedJwk');
  const legacyEnv = scalar('Environment');
  const authorityValue = scalar('Authority');
  const legacy = (encoded !== undefined || legacyEnv !== undefined) && authorityValue === undefined;
  if (encoded && settings.jwkBase64 === undefined) {
    settings.jwkBase64 = encoded.value;
    sources.jwkBase64 = encoded.source;
  }
  if (authorityValue && authorityValue.value !== '') {
    settings.authority = resolveAuthority(authorityValue.value);
    sources.authority = authorityValue.source;
  } else if (legacyEnv) {
    try {
      settings.authority = legacyAuthority(legacyEnv.value);
      sources.authority = legacyEnv.source;
    } catch (err) {
      problem('Environment', (err as Error).message, legacyEnv);
    }
  }
  const kind = scalar('AuthorityKind');
  if (kind && kind.value !== '') {
    const value = kind.value.trim().toLowerCase();
    if (AUTHORITY_KINDS.includes(value as AuthorityKind)) {
      settings.authorityKind = value as AuthorityKind;
      sources.authorityKind = kind.source;
    } else {
      problem('AuthorityKind', `must be ${AUTHORITY_KINDS.join(' or ')}`, kind);
    }
  }
  const altinn = scalar('AltinnPlatformUrl');
  if (altinn && altinn.value !== '') {
    settings.altinnPlatformUrl = resolveAltinnPlatform(altinn.value);
    sources.altinnPlatformUrl = altinn.source;
  }

  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    (settings as Record<string, unknown>)[k] = v;
    (sources as Record<string, SettingSource>)[k] = { kind: 'code' };
  }

  const src = (name: keyof MaskinportenSettings) => {
    const s = sources[name];
    return s ? { key: '', value: '', source: s } : undefined;
  };
  const reported = (key: string) => problems.some((p) => p.path === path(key));
  if (settings.authority === undefined && !legacyEnv) {
    if (!reported('Authority')) {
      problem('Authority', 'is required: the Maskinporten URL, e.g. https://test.maskinporten.no/ (or "test"/"prod")');
    }
  } else if (settings.authority !== undefined) {
    try {
      checkUrlSetting('Authority', settings.authority, options.allowInsecureRequests === true);
    } catch (err) {
      if (!isMaskinportenError(err)) throw err;
      problem('Authority', reasonOf(err), src('authority'));
    }
  }
  if ((settings.clientId === undefined || !settings.clientId.trim()) && !reported('ClientId')) {
    problem(
      'ClientId',
      "is required: the integration's client id from the portal or the self-service API",
      src('clientId'),
    );
  }
  if (settings.altinnPlatformUrl !== undefined) {
    try {
      checkUrlSetting('AltinnPlatformUrl', settings.altinnPlatformUrl, options.allowInsecureRequests === true);
    } catch (err) {
      if (!isMaskinportenError(err)) throw err;
      problem('AltinnPlatformUrl', reasonOf(err), src('altinnPlatformUrl'));
    }
  }
  const names = legacy ? { jwkBase64: 'EncodedJwk' } : {};
  try {
    loadSignerSync(settings as MaskinportenSettings, names);
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
    // The error names the setting at fault; no key at all is reported where one is expected.
    const setting: KeySetting = err.setting === undefined ? 'jwkBase64' : (err.setting as KeySetting);
    const keyName = setting === 'jwkBase64' && legacy ? 'EncodedJwk' : KEY_NAMES[setting];
    // A key setting of the wrong type was reported already; "no signing key" would only repeat it.
    if (!reported(keyName)) problem(keyName, err.message, src(setting));
  }
  if (problems.length) return { problems, partial: settings };
  // Loaded settings are often logged while a configuration is debugged: they print without the key.
  return { settings: hideSecretsWhenPrinted(settings as MaskinportenSettings), sources, legacy };
}
