/**
 * The shapes of Nest's dynamic modules and factory providers, structurally: what `forRoot` and `register` return
 * is assignable to Nest's `DynamicModule` without this package's declarations importing Nest.
 */

/**
 * A class, as Nest's `Type`.
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
// biome-ignore lint/suspicious/noExplicitAny: Nest's Type<any> takes any constructor arguments
export type NestType = new (...args: any[]) => any;

/**
 * A Nest injection token.
 * @see https://docs.nestjs.com/fundamentals/custom-providers
 */
export type NestToken = string | symbol | NestType;

/**
 * A factory provider (`{ provide, useFactory, inject }`).
 * @see https://docs.nestjs.com/fundamentals/custom-providers#factory-providers-usefactory
 */
export interface NestFactoryProvider {
  provide: NestToken;
  // biome-ignore lint/suspicious/noExplicitAny: Nest calls the factory with the injected values
  useFactory: (...args: any[]) => unknown;
  inject?: NestToken[];
}

/**
 * A dynamic module, as `MaskinportenModule.forRoot` and friends return it.
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
export interface NestDynamicModule {
  module: NestType;
  global?: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: whatever the caller's module imports (modules, dynamic modules, forward refs)
  imports?: any[];
  providers: NestFactoryProvider[];
  exports: NestToken[];
}

/**
 * Async configuration, as Nest's `forRootAsync` convention has it.
 * @see https://docs.nestjs.com/fundamentals/dynamic-modules
 */
export interface NestAsyncOptions<T> {
  // biome-ignore lint/suspicious/noExplicitAny: whatever the caller's module imports
  imports?: any[];
  inject?: NestToken[];
  // biome-ignore lint/suspicious/noExplicitAny: Nest calls the factory with the injected values
  useFactory: (...args: any[]) => T | Promise<T>;
}
