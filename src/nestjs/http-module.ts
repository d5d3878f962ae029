/**
 * `MaskinportenHttpModule`: an `@nestjs/axios` `HttpService` whose requests carry Maskinporten or Altinn tokens —
 * the counterpart of .NET's `AddHttpClient<T>().UseMaskinportenAuthorization(scopes)` and
 * `UseMaskinportenAltinnAuthorization(scopes)`. Each registration gets its own axios instance, authorized with
 * `attachToAxios` (401 → refresh → resend once, tokens only to allowed origins).
 */
import { MaskinportenClient } from '../client.ts';
import { ConfigError } from '../errors.ts';
import type { AuthorizationOptions } from '../http/authorizer.ts';
import { type AxiosLikeInstance, attachToAxios } from '../http/axios.ts';
import type { NestDynamicModule } from './dynamic-module.ts';
import { axiosPackage, nestAxios, nestCommon } from './peers.ts';
import { getMaskinportenClientToken, getMaskinportenHttpToken } from './tokens.ts';

/**
 * Options of {@link MaskinportenHttpModule.register}.
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
export interface MaskinportenHttpModuleOptions extends AuthorizationOptions {
  /** The configured client whose tokens are sent; the default client when left out. */
  client?: string;
  /**
   * Register the service under `getMaskinportenHttpToken(name)` (inject with `@InjectMaskinportenHttp(name)`)
   * instead of as `HttpService`, so one module can hold several.
   */
  name?: string;
  /** The axios instance's config (`baseURL`, `timeout`, `headers`, …); `baseURL`'s origin may receive tokens. */
  axios?: Record<string, unknown>;
}

/**
 * The Nest module of authorized `HttpService`s. Needs `MaskinportenModule` (global by default) for the clients.
 *
 * @example
 * // .NET: services.AddHttpClient<EventsClient>().UseMaskinportenAltinnAuthorization("altinn:serviceowner/instances.read")
 * MaskinportenHttpModule.register({
 *   scopes: ['altinn:serviceowner/instances.read'],
 *   altinn: true,
 *   axios: { baseURL: 'https://platform.tt02.altinn.no' },
 * })
 * // then: constructor(http: HttpService) — every request carries an Altinn token
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; the class is the module's identity
export class MaskinportenHttpModule {
  /**
   * Registers an authorized `HttpService`.
   *
   * @param options - Scopes (or the full token `request`), `altinn`, the client's name, the axios config.
   * @returns A dynamic module exporting `HttpService` (or the named token).
   * @throws ConfigError `ERR_CONFIG` naming `@nestjs/axios` or `axios` when not installed; ArgumentError
   * `ERR_INVALID_ARGUMENT` for missing scopes or an instance without `axios.baseURL` or `allowedOrigins` (the
   * application fails to start).
   */
  static register(options: MaskinportenHttpModuleOptions): NestDynamicModule {
    if (!options || typeof options !== 'object') {
      throw new ConfigError('MaskinportenHttpModule.register: give the options (scopes, altinn, axios: { baseURL })');
    }
    const { HttpService } = nestAxios();
    const { client, name, axios: axiosConfig, ...authorization } = options;
    const provide = name === undefined ? HttpService : getMaskinportenHttpToken(name);
    return {
      module: MaskinportenHttpModule,
      providers: [
        {
          provide,
          useFactory: (maskinporten: MaskinportenClient) => {
            const instance = axiosPackage().create(axiosConfig) as AxiosLikeInstance;
            attachToAxios(instance, maskinporten, authorization);
            return new HttpService(instance);
          },
          inject: [client === undefined ? MaskinportenClient : getMaskinportenClientToken(client)],
        },
      ],
      exports: [provide],
    };
  }
}

/**
 * A parameter decorator injecting the `HttpService` registered with `name`.
 *
 * @param name - The `name` given to {@link MaskinportenHttpModule.register}.
 * @returns The decorator.
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
export function InjectMaskinportenHttp(name: string) {
  return (target: object, key: string | symbol | undefined, index: number): void => {
    nestCommon().Inject(getMaskinportenHttpToken(name))(target, key, index);
  };
}
