/**
 * For API providers on Nest: `MaskinportenVerifierModule` holds a token verifier, `MaskinportenGuard` checks each
 * request's bearer token with it (401/403 with the RFC 6750 `WWW-Authenticate`), `@MaskinportenScopes(…)` states
 * the scopes a controller or route needs, and `@MaskinportenToken()` hands the verified claims to a handler.
 * Decorators are plain functions (no decorator syntax in this package), applied when first used.
 */
import { ConfigError } from '../errors.ts';
import type { VerifiedToken } from '../verify/claims.ts';
import { TokenVerificationError } from '../verify/errors.ts';
import type { TokenRequirements, TokenVerifierOptions } from '../verify/options.ts';
import { createTokenVerifier, type TokenVerifier } from '../verify/verifier.ts';
import type { NestAsyncOptions, NestDynamicModule } from './dynamic-module.ts';
import { type NestExecutionContext, nestCommon } from './peers.ts';
import { MASKINPORTEN_SCOPES_KEY, MASKINPORTEN_TOKEN_VERIFIER } from './tokens.ts';

interface HttpRequestLike {
  headers?: Record<string, string | string[] | undefined>;
  maskinporten?: VerifiedToken;
}

interface HttpResponseLike {
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

function requirementsOf(target: object): TokenRequirements | undefined {
  const reflect = Reflect as unknown as { getMetadata?(key: string, target: object): unknown };
  return reflect.getMetadata?.(MASKINPORTEN_SCOPES_KEY, target) as TokenRequirements | undefined;
}

/** The class's requirements and the handler's together: scopes add up, the handler's other members win. */
function merged(onClass: TokenRequirements | undefined, onHandler: TokenRequirements | undefined) {
  if (!onClass) return onHandler;
  if (!onHandler) return onClass;
  const list = (s: TokenRequirements['scopes']) => (typeof s === 'string' ? s.split(' ') : [...(s ?? [])]);
  return {
    scopes: [...list(onClass.scopes), ...list(onHandler.scopes)],
    ...((onHandler.anyScopes ?? onClass.anyScopes) ? { anyScopes: onHandler.anyScopes ?? onClass.anyScopes } : {}),
    ...((onHandler.consumers ?? onClass.consumers) ? { consumers: onHandler.consumers ?? onClass.consumers } : {}),
  };
}

/**
 * A Nest guard that lets a request through only with a good token, and puts its claims on `request.maskinporten`.
 * Use with `@UseGuards(MaskinportenGuard)` or as `APP_GUARD`; needs `MaskinportenVerifierModule`.
 * @see https://docs.nestjs.com/guards
 */
export class MaskinportenGuard {
  readonly #verifier: TokenVerifier;

  /**
   * Nest creates the guard with the verifier `MaskinportenVerifierModule` provides.
   *
   * @param verifier - The token verifier.
   * @throws ConfigError `ERR_CONFIG` when there is no verifier (the module is not imported).
   */
  constructor(verifier: TokenVerifier) {
    if (!verifier || typeof verifier.verify !== 'function') {
      throw new ConfigError('MaskinportenGuard: import MaskinportenVerifierModule.forRoot(…) for its token verifier');
    }
    this.#verifier = verifier;
  }

  /**
   * Verifies the request's token against the verifier's and the route's requirements.
   *
   * @param context - Nest's execution context of the request.
   * @returns true for a good token.
   * @throws HttpException 401 or 403 (503 when the issuer's keys cannot be had, `ERR_KEYS_UNAVAILABLE`), with
   *   `WWW-Authenticate` set, for a token refused (`ERR_TOKEN_EXPIRED`, `ERR_TOKEN_AUDIENCE`, …, `ERR_INSUFFICIENT_SCOPE`,
   *   `ERR_CONSUMER_NOT_ALLOWED`); ConfigError `ERR_CONFIG` for a context that is not HTTP.
   * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
   */
  async canActivate(context: NestExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') {
      throw new ConfigError(`MaskinportenGuard checks HTTP requests only, not ${context.getType()}`);
    }
    const http = context.switchToHttp();
    const request = http.getRequest() as HttpRequestLike;
    const header = request.headers?.authorization;
    const requirements = merged(requirementsOf(context.getClass()), requirementsOf(context.getHandler()));
    try {
      request.maskinporten = await this.#verifier.verify(Array.isArray(header) ? header[0] : header, requirements);
      return true;
    } catch (err) {
      if (!(err instanceof TokenVerificationError)) throw err;
      const response = http.getResponse() as HttpResponseLike;
      if (err.wwwAuthenticate) {
        if (typeof response.setHeader === 'function') response.setHeader('WWW-Authenticate', err.wwwAuthenticate);
        else response.header?.('WWW-Authenticate', err.wwwAuthenticate);
      }
      const { HttpException } = nestCommon();
      const error = err.error ?? (err.status === 503 ? 'temporarily_unavailable' : 'unauthorized');
      throw new HttpException({ statusCode: err.status, error, message: err.message }, err.status);
    }
  }
}

let guardDecorated = false;

/** Gives the guard its constructor's injection (applied once, when a verifier module is first made). */
function decorateGuard(): void {
  if (guardDecorated) return;
  const common = nestCommon();
  common.Injectable()(MaskinportenGuard);
  common.Inject(MASKINPORTEN_TOKEN_VERIFIER)(MaskinportenGuard, undefined, 0);
  guardDecorated = true;
}

/**
 * Options of {@link MaskinportenVerifierModule.forRootAsync}.
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
export interface MaskinportenVerifierAsyncOptions extends NestAsyncOptions<TokenVerifierOptions> {
  /** Make the verifier and guard available in every module (default true). */
  isGlobal?: boolean;
}

/**
 * The Nest module of the token verifier and its guard.
 *
 * @example
 * MaskinportenVerifierModule.forRoot({ authority: 'test', consumers: ['910000001'] })
 * // a controller: @UseGuards(MaskinportenGuard) @MaskinportenScopes('kommune:api.read')
 * @see https://docs.nestjs.com/guards
 */
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; the class is the module's identity
export class MaskinportenVerifierModule {
  /**
   * Configures the verifier from options known now.
   *
   * @param options - The verifier's options (`authority`, `scopes`, `consumers`, …), as `createTokenVerifier` takes.
   * @param config - `isGlobal` (default true).
   * @returns A dynamic module exporting the verifier (`MASKINPORTEN_TOKEN_VERIFIER`) and `MaskinportenGuard`.
   * @throws ArgumentError `ERR_INVALID_ARGUMENT` naming a bad verifier option.
   */
  static forRoot(options: TokenVerifierOptions, config: { isGlobal?: boolean } = {}): NestDynamicModule {
    const verifier = createTokenVerifier(options);
    return MaskinportenVerifierModule.#module(() => verifier, [], [], config.isGlobal);
  }

  /**
   * Configures the verifier from options a factory gives when the application starts (from `ConfigService`, say).
   *
   * @param options - `useFactory` returning the verifier's options, with `inject` and `imports`.
   * @returns A dynamic module like {@link MaskinportenVerifierModule.forRoot}'s.
   * @throws ConfigError `ERR_CONFIG` without `useFactory`; options the verifier refuses fail the start with
   *   `ERR_INVALID_ARGUMENT`.
   */
  static forRootAsync(options: MaskinportenVerifierAsyncOptions): NestDynamicModule {
    if (!options || typeof options.useFactory !== 'function') {
      throw new ConfigError('MaskinportenVerifierModule.forRootAsync: give useFactory, returning the verifier options');
    }
    return MaskinportenVerifierModule.#module(
      async (...deps: unknown[]) => createTokenVerifier(await options.useFactory(...deps)),
      options.inject ?? [],
      options.imports ?? [],
      options.isGlobal,
    );
  }

  static #module(
    factory: (...deps: unknown[]) => TokenVerifier | Promise<TokenVerifier>,
    inject: NonNullable<NestAsyncOptions<unknown>['inject']>,
    // biome-ignore lint/suspicious/noExplicitAny: whatever the caller's module imports
    imports: any[],
    isGlobal: boolean | undefined,
  ): NestDynamicModule {
    decorateGuard();
    return {
      module: MaskinportenVerifierModule,
      global: isGlobal ?? true,
      imports,
      providers: [
        { provide: MASKINPORTEN_TOKEN_VERIFIER, useFactory: factory, inject },
        {
          provide: MaskinportenGuard,
          useFactory: (verifier: TokenVerifier) => new MaskinportenGuard(verifier),
          inject: [MASKINPORTEN_TOKEN_VERIFIER],
        },
      ],
      exports: [MASKINPORTEN_TOKEN_VERIFIER, MaskinportenGuard],
    };
  }
}

/**
 * A class or method decorator: the scopes a controller or route needs, all of them (on top of the verifier's own;
 * a class's and a method's add up).
 *
 * @param scopes - The scopes.
 * @returns The decorator.
 * @example
 * // @MaskinportenScopes('kommune:api.read') — or without decorator syntax:
 * MaskinportenScopes('kommune:api.read')(DataController);
 * @see https://docs.nestjs.com/custom-decorators
 */
export function MaskinportenScopes(...scopes: string[]) {
  return MaskinportenRequirements({ scopes });
}

/**
 * A class or method decorator with the full requirements: `scopes`, `anyScopes`, `consumers`.
 *
 * @param requirements - What the route needs on top of the verifier's own.
 * @returns The decorator.
 * @see https://docs.nestjs.com/custom-decorators
 */
export function MaskinportenRequirements(requirements: TokenRequirements) {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    nestCommon().SetMetadata(MASKINPORTEN_SCOPES_KEY, requirements)(target, key, descriptor);
  };
}

/**
 * A parameter decorator giving a handler the verified token (`request.maskinporten`).
 *
 * @returns The decorator.
 * @example
 * // get(@MaskinportenToken() token: VerifiedToken) { return token.consumerOrg; }
 * @see https://docs.nestjs.com/custom-decorators
 */
export function MaskinportenToken() {
  return (target: object, key: string | symbol | undefined, index: number): void => {
    const decorator = nestCommon().createParamDecorator(
      (_data, context) => (context.switchToHttp().getRequest() as HttpRequestLike).maskinporten,
    )();
    decorator(target, key, index);
  };
}
