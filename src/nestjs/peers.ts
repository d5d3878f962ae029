/**
 * The optional peers `@nestjs/common` and `@nestjs/axios`, loaded on first use (both are CommonJS, so a synchronous
 * require works from ESM). A missing one is a coded error naming the package to install. Typed with the few members
 * this package uses, so its declarations need no Nest types.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../errors.ts';

type Decorator = (target: object, key?: string | symbol, indexOrDescriptor?: number | PropertyDescriptor) => unknown;

/** The members of `@nestjs/common` used here. */
export interface NestCommon {
  Inject(token: unknown): Decorator;
  Injectable(): (target: object) => void;
  SetMetadata(key: string, value: unknown): Decorator;
  createParamDecorator(factory: (data: unknown, context: NestExecutionContext) => unknown): () => Decorator;
  HttpException: new (response: unknown, status: number) => Error;
}

/**
 * The members of Nest's `ExecutionContext` used here.
 * @see https://docs.nestjs.com/guards
 */
export interface NestExecutionContext {
  /** The route handler. @returns The method, whose metadata holds the route's requirements. */
  getHandler(): object;
  /** The controller. @returns Its class, whose metadata holds the controller's requirements. */
  getClass(): object;
  /** The transport. @returns `http`, `rpc` or `ws`. */
  getType(): string;
  /** The HTTP view of the context. @returns Its request and response. */
  switchToHttp(): { getRequest(): unknown; getResponse(): unknown };
}

/** `@nestjs/axios`'s `HttpService`, as far as used here. */
export interface NestAxios {
  HttpService: new (instance?: unknown) => { axiosRef: unknown };
}

const require = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

function load<T>(name: string, purpose: string): T {
  if (!loaded.has(name)) {
    try {
      loaded.set(name, require(name));
    } catch (cause) {
      throw new ConfigError(`maskinporten/nestjs needs ${name} for ${purpose}: npm install ${name}`, { cause });
    }
  }
  return loaded.get(name) as T;
}

/** `@nestjs/common`, loaded once. */
export function nestCommon(): NestCommon {
  return load<NestCommon>('@nestjs/common', 'its modules, guard and decorators');
}

/** `@nestjs/axios`, loaded once. */
export function nestAxios(): NestAxios {
  return load<NestAxios>('@nestjs/axios', 'MaskinportenHttpModule');
}

/** `axios`, loaded once (a peer of `@nestjs/axios`). */
export function axiosPackage(): { create(config?: Record<string, unknown>): unknown } {
  const mod = load<{ default?: unknown; create?: unknown }>('axios', 'MaskinportenHttpModule');
  return (typeof mod.create === 'function' ? mod : mod.default) as {
    create(config?: Record<string, unknown>): unknown;
  };
}
