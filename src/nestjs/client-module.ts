/**
 * `MaskinportenModule`: `MaskinportenClient`s as Nest providers, configured as Altinn's .NET apps'
 * `ConfigureMaskinportenClient` does — settings from a configuration section (appsettings files, mounted secrets,
 * environment variables, Key Vault through `maskinporten/config`) or given in code, one default client and any
 * number of named ones, synchronously or from an async factory.
 */
import { MaskinportenClient, type MaskinportenClientOptions } from '../client.ts';
import { type LoadSettingsOptions, loadNamedMaskinportenSettings } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import type { MaskinportenSettings } from '../settings.ts';
import type { NestAsyncOptions, NestDynamicModule, NestFactoryProvider } from './dynamic-module.ts';
import { nestCommon } from './peers.ts';
import { getMaskinportenClientToken, MASKINPORTEN_CLIENTS } from './tokens.ts';

/**
 * How one client is configured: settings in code, or the configuration section to load them from.
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
export interface MaskinportenClientConfig {
  /** The settings themselves; takes precedence over `section`. */
  settings?: MaskinportenSettings;
  /** The configuration section path, e.g. `MaskinportenSettings` or `Integrations:Maskinporten`. */
  section?: string;
  /** Options of the client (logger, retry, store, …). */
  clientOptions?: MaskinportenClientOptions;
}

/**
 * Options of {@link MaskinportenModule.forRoot}.
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
export interface MaskinportenModuleOptions extends MaskinportenClientConfig {
  /** Named clients (`@InjectMaskinportenClient('name')`); each is configured like the default one. */
  clients?: Record<string, MaskinportenClientConfig>;
  /**
   * Whether the default client (injected as `MaskinportenClient`) exists. Default: true unless only `clients` are
   * given; it then reads the `MaskinportenSettings` section when neither `settings` nor `section` is set.
   */
  defaultClient?: boolean;
  /** Where sections are read from (config directory, environment, secrets, Key Vault); see `maskinporten/config`. */
  load?: LoadSettingsOptions;
  /** Make the clients injectable in every module (default true). */
  isGlobal?: boolean;
}

/**
 * Options of {@link MaskinportenModule.forRootAsync}.
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules#async-configuration
 */
export interface MaskinportenModuleAsyncOptions extends NestAsyncOptions<MaskinportenModuleOptions> {
  /** The names of the clients the factory configures, so they can be injected by name. */
  clientNames?: string[];
  /** Whether the factory configures a default client (default true). */
  defaultClient?: boolean;
  /** Make the clients injectable in every module (default true). */
  isGlobal?: boolean;
}

const DEFAULT = 'default';
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function checkName(name: string): void {
  if (!NAME.test(name) || name === DEFAULT) {
    throw new ConfigError(
      `MaskinportenModule: client name ${JSON.stringify(name)} must be 1–64 letters, digits, "_", "." or "-" and not "default"`,
    );
  }
}

function wantsDefault(options: MaskinportenModuleOptions): boolean {
  return options.defaultClient ?? (options.settings !== undefined || options.section !== undefined || !options.clients);
}

/** Builds every configured client; sections are read once for all of them. */
async function createClients(options: MaskinportenModuleOptions): Promise<Map<string, MaskinportenClient>> {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('MaskinportenModule: the options must be an object (settings, section, clients)');
  }
  const configs: Array<[string, MaskinportenClientConfig]> = [];
  if (wantsDefault(options)) configs.push([DEFAULT, options]);
  for (const [name, config] of Object.entries(options.clients ?? {})) {
    checkName(name);
    configs.push([name, config ?? {}]);
  }
  const sections: Record<string, string> = {};
  for (const [name, config] of configs) {
    if (config.settings === undefined) sections[name] = config.section ?? 'MaskinportenSettings';
  }
  const loaded = Object.keys(sections).length ? await loadNamedMaskinportenSettings(sections, options.load) : {};
  const clients = new Map<string, MaskinportenClient>();
  for (const [name, config] of configs) {
    const settings = config.settings ?? loaded[name]!.settings;
    clients.set(name, new MaskinportenClient(settings, config.clientOptions));
  }
  return clients;
}

function clientProviders(names: string[], hasDefault: boolean): NestFactoryProvider[] {
  const pick = (name: string) => (clients: Map<string, MaskinportenClient>) => {
    const client = clients.get(name);
    if (!client)
      throw new ConfigError(`MaskinportenModule: the factory configured no client named ${JSON.stringify(name)}`);
    return client;
  };
  const providers: NestFactoryProvider[] = names.map((name) => ({
    provide: getMaskinportenClientToken(name),
    useFactory: pick(name),
    inject: [MASKINPORTEN_CLIENTS],
  }));
  if (hasDefault) {
    providers.push(
      { provide: MaskinportenClient, useFactory: pick(DEFAULT), inject: [MASKINPORTEN_CLIENTS] },
      { provide: getMaskinportenClientToken(DEFAULT), useFactory: pick(DEFAULT), inject: [MASKINPORTEN_CLIENTS] },
    );
  }
  return providers;
}

function dynamicModule(
  clientsProvider: NestFactoryProvider,
  names: string[],
  hasDefault: boolean,
  isGlobal: boolean | undefined,
  // biome-ignore lint/suspicious/noExplicitAny: whatever the caller's module imports
  imports: any[] = [],
): NestDynamicModule {
  nestCommon(); // fail here, naming the package, rather than somewhere inside Nest
  const providers = [clientsProvider, ...clientProviders(names, hasDefault)];
  return {
    module: MaskinportenModule,
    global: isGlobal ?? true,
    imports,
    providers,
    exports: providers.map((p) => p.provide),
  };
}

/**
 * The Nest module of Maskinporten clients.
 *
 * @example
 * // .NET: services.ConfigureMaskinportenClient(config.GetSection("MaskinportenSettings"))
 * MaskinportenModule.forRoot({ section: 'MaskinportenSettings', clients: { internal: { section: 'MaskinportenInternal' } } })
 * // then: constructor(client: MaskinportenClient, @InjectMaskinportenClient('internal') internal: MaskinportenClient)
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; the class is the module's identity
export class MaskinportenModule {
  /**
   * Configures the clients from options known now.
   *
   * @param options - The default client's settings or section, named `clients`, where sections are loaded from.
   * @returns A dynamic module exporting `MaskinportenClient`, the named clients' tokens and `MASKINPORTEN_CLIENTS`.
   * @throws ConfigError `ERR_CONFIG` naming a bad client name, or `@nestjs/common` when it is not installed; settings
   * that fail validation throw `ConfigValidationError` (`ERR_CONFIG`) when the application starts.
   */
  static forRoot(options: MaskinportenModuleOptions = {}): NestDynamicModule {
    const names = Object.keys(options.clients ?? {});
    names.forEach(checkName);
    return dynamicModule(
      { provide: MASKINPORTEN_CLIENTS, useFactory: () => createClients(options) },
      names,
      wantsDefault(options),
      options.isGlobal,
    );
  }

  /**
   * Configures the clients from a factory that may inject other providers (a `ConfigService`, …).
   *
   * @param options - `useFactory`, `inject`, `imports`, and the `clientNames` the factory configures.
   * @returns A dynamic module like {@link MaskinportenModule.forRoot}'s.
   */
  static forRootAsync(options: MaskinportenModuleAsyncOptions): NestDynamicModule {
    if (!options || typeof options.useFactory !== 'function') {
      throw new ConfigError('MaskinportenModule.forRootAsync: give useFactory, returning the module options');
    }
    const names = options.clientNames ?? [];
    names.forEach(checkName);
    return dynamicModule(
      {
        provide: MASKINPORTEN_CLIENTS,
        useFactory: async (...deps: unknown[]) => {
          const resolved = await options.useFactory(...deps);
          return createClients({ ...resolved, defaultClient: options.defaultClient ?? true });
        },
        inject: options.inject ?? [],
      },
      names,
      options.defaultClient ?? true,
      options.isGlobal,
      options.imports,
    );
  }
}

/**
 * A parameter decorator injecting the client named `name` (the default client without a name).
 *
 * @param name - A name from `clients`.
 * @returns `@Inject(getMaskinportenClientToken(name))`.
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
export function InjectMaskinportenClient(name?: string) {
  return (target: object, key: string | symbol | undefined, index: number): void => {
    nestCommon().Inject(name === undefined ? MaskinportenClient : getMaskinportenClientToken(name))(target, key, index);
  };
}
