/**
 * Known Maskinporten, Skyporten and Altinn environments: one table of Maskinporten environments (with the Skyporten,
 * self-service and Altinn environment that go with each) and Altinn's platforms; presets, the legacy mapping and
 * defaults derive from them. The issuer of each Maskinporten environment ends with a slash; a Skyporten issuer has
 * none. That exact string is the grant's `aud`.
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_skyporten
 */

/**
 * Names of the Maskinporten environments with a public base URL.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export type MaskinportenEnvironment = 'prod' | 'test' | 'dev';

/**
 * Names of the Skyporten environments.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_skyporten
 */
export type SkyportenEnvironment = 'prod' | 'test';

/**
 * Names of the Altinn platform environments.
 * @see https://docs.altinn.studio/authentication/
 */
export type AltinnEnvironment = 'prod' | 'tt02' | 'at22' | 'at23' | 'at24' | 'yt01';

/**
 * What the project knows of one Maskinporten environment.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export interface EnvironmentRecord {
  /** Maskinporten's base URL (no trailing slash); its issuer is this plus `/`. */
  readonly maskinporten: string;
  /** Skyporten's base URL in this environment, where there is one; also its issuer (no trailing slash). */
  readonly skyporten?: string;
  /** Digdir's self-service API origin (client registration); the API is under `/api/v1`. */
  readonly selfServiceApi: string;
  /** The Altinn platform environment that trusts this Maskinporten's tokens, where there is one. */
  readonly altinn?: AltinnEnvironment;
}

/**
 * The one table of Maskinporten environments. The presets, the legacy `Environment` mapping, the Altinn and
 * self-service defaults of an authority, and every `*_URLS` table below derive from it.
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export const ENVIRONMENTS: Readonly<Record<MaskinportenEnvironment, EnvironmentRecord>> = Object.freeze({
  prod: Object.freeze({
    maskinporten: 'https://maskinporten.no',
    skyporten: 'https://sky.maskinporten.no',
    selfServiceApi: 'https://api.samarbeid.digdir.no',
    altinn: 'prod',
  }),
  test: Object.freeze({
    maskinporten: 'https://test.maskinporten.no',
    skyporten: 'https://test.sky.maskinporten.no',
    selfServiceApi: 'https://api.test.samarbeid.digdir.no',
    altinn: 'tt02',
  }),
  dev: Object.freeze({
    maskinporten: 'https://maskinporten.dev',
    selfServiceApi: 'https://api.samarbeid.digdir.dev',
  }),
});

/**
 * Platform base URL (no trailing slash) of each Altinn environment.
 * @see https://docs.altinn.studio/authentication/
 */
export const ALTINN_PLATFORM_URLS: Readonly<Record<AltinnEnvironment, string>> = Object.freeze({
  prod: 'https://platform.altinn.no',
  tt02: 'https://platform.tt02.altinn.no',
  at22: 'https://platform.at22.altinn.cloud',
  at23: 'https://platform.at23.altinn.cloud',
  at24: 'https://platform.at24.altinn.cloud',
  yt01: 'https://platform.yt01.altinn.cloud',
});

const MASKINPORTEN_ENVIRONMENTS = Object.keys(ENVIRONMENTS) as MaskinportenEnvironment[];

/** A frozen record of `value(env)` for each Maskinporten environment where it is defined. */
function perEnvironment<K extends MaskinportenEnvironment, V>(
  value: (env: MaskinportenEnvironment) => V | undefined,
): Readonly<Record<K, V>> {
  return Object.freeze(
    Object.fromEntries(
      MASKINPORTEN_ENVIRONMENTS.flatMap((env) => {
        const v = value(env);
        return v === undefined ? [] : [[env, v]];
      }),
    ) as Record<K, V>,
  );
}

/**
 * Base URL (no trailing slash) of each Maskinporten environment.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export const MASKINPORTEN_BASE_URLS: Readonly<Record<MaskinportenEnvironment, string>> = perEnvironment(
  (env) => ENVIRONMENTS[env].maskinporten,
);

/** The issuer (base URL plus `/`) of each Maskinporten environment: its authority preset and grant `aud`. */
export const MASKINPORTEN_ISSUERS: Readonly<Record<MaskinportenEnvironment, string>> = perEnvironment(
  (env) => `${ENVIRONMENTS[env].maskinporten}/`,
);

/**
 * Base URL of each Skyporten environment; also its issuer and grant `aud` (no trailing slash).
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_skyporten
 */
export const SKYPORTEN_BASE_URLS: Readonly<Record<SkyportenEnvironment, string>> = perEnvironment<
  SkyportenEnvironment,
  string
>((env) => ENVIRONMENTS[env].skyporten);

/**
 * Self-service API origins (client registration) per Maskinporten environment; the API itself is under `/api/v1`.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export const SELF_SERVICE_API_URLS: Readonly<Record<MaskinportenEnvironment, string>> = perEnvironment(
  (env) => ENVIRONMENTS[env].selfServiceApi,
);

/** The host of each Maskinporten environment's base URL, parsed once. */
const ENVIRONMENT_OF_HOST: ReadonlyMap<string, MaskinportenEnvironment> = new Map(
  MASKINPORTEN_ENVIRONMENTS.map((env) => [new URL(ENVIRONMENTS[env].maskinporten).host, env]),
);

/**
 * The Maskinporten environment an authority URL belongs to, by its host; undefined for any other host (a local
 * emulator, a proxy) or a value that is not a URL.
 *
 * @param authority - The authority URL.
 * @returns `prod`, `test`, `dev` or undefined.
 */
export function environmentOfAuthority(authority: string): MaskinportenEnvironment | undefined {
  if (typeof authority !== 'string' || !URL.canParse(authority)) return undefined;
  return ENVIRONMENT_OF_HOST.get(new URL(authority).host);
}

/**
 * What kind of authorization server an authority is. `maskinporten`: the issuer is the base URL plus `/`.
 * `skyporten`: Maskinporten's issuer for cloud workloads, whose issuer (and so the grant's `aud`) is the base URL
 * without a trailing slash.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export type AuthorityKind = 'maskinporten' | 'skyporten';

/** Every authority kind, for validation. */
export const AUTHORITY_KINDS: readonly AuthorityKind[] = Object.freeze(['maskinporten', 'skyporten']);

/**
 * Names of the authority presets: the Maskinporten environments, and `skyporten-prod`, `skyporten-test`.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export type AuthorityPreset = MaskinportenEnvironment | `skyporten-${SkyportenEnvironment}`;

/**
 * The authority each preset name stands for (Maskinporten's with its trailing slash, Skyporten's without).
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export const AUTHORITY_PRESETS: Readonly<Record<AuthorityPreset, string>> = Object.freeze({
  ...MASKINPORTEN_ISSUERS,
  ...(Object.fromEntries(Object.entries(SKYPORTEN_BASE_URLS).map(([env, url]) => [`skyporten-${env}`, url])) as Record<
    `skyporten-${SkyportenEnvironment}`,
    string
  >),
});

/**
 * The authority of a preset name (case and surrounding spaces ignored), or undefined when `value` is not one. Own
 * properties only, so `constructor` or `toString` are not presets.
 *
 * @param value - A preset name such as `test` or `skyporten-prod`, or anything else.
 * @returns The preset's authority URL, or undefined.
 */
export function authorityPreset(value: string): string | undefined {
  const name = String(value).trim().toLowerCase();
  return Object.hasOwn(AUTHORITY_PRESETS, name) ? AUTHORITY_PRESETS[name as AuthorityPreset] : undefined;
}

/**
 * The kind of an authority: `skyporten` for Skyporten's hosts, else `maskinporten`. An authority on another host
 * (a local emulator in Skyporten mode) names its kind in the settings.
 *
 * @param authority - The authority URL.
 * @returns Its kind, judged by its host.
 */
export function authorityKindOf(authority: string): AuthorityKind {
  if (!URL.canParse(authority)) return 'maskinporten';
  const host = new URL(authority).hostname;
  return Object.values(SKYPORTEN_BASE_URLS).some((base) => new URL(base).hostname === host)
    ? 'skyporten'
    : 'maskinporten';
}

/**
 * The issuer (base URL plus `/`) of a Maskinporten environment.
 *
 * @param environment - `prod`, `test` or `dev`.
 * @returns The issuer, also the grant's `aud`, e.g. `https://test.maskinporten.no/`.
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export function maskinportenIssuer(environment: MaskinportenEnvironment): string {
  return MASKINPORTEN_ISSUERS[environment];
}

/**
 * The platform URL of an Altinn environment name (case ignored), or undefined when `value` is not one. Own
 * properties only.
 *
 * @param value - An environment name such as `tt02`, or anything else.
 * @returns The platform URL, or undefined.
 */
export function altinnPreset(value: string): string | undefined {
  const name = String(value).trim().toLowerCase();
  return Object.hasOwn(ALTINN_PLATFORM_URLS, name) ? ALTINN_PLATFORM_URLS[name as AltinnEnvironment] : undefined;
}

/**
 * The Altinn platform paired with a Maskinporten authority (prod ↔ platform.altinn.no, test ↔ platform.tt02.altinn.no,
 * as {@link ENVIRONMENTS} pairs them). Undefined for any other authority (set `altinnPlatformUrl` then).
 *
 * @param authority - A Maskinporten authority URL.
 * @returns The Altinn platform URL, or `undefined`.
 * @see https://docs.altinn.studio/authentication/
 */
export function defaultAltinnPlatformUrl(authority: string): string | undefined {
  const environment = environmentOfAuthority(authority);
  const altinn = environment && ENVIRONMENTS[environment].altinn;
  return altinn && ALTINN_PLATFORM_URLS[altinn];
}
