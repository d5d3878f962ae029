/**
 * Values the emulator makes only when first read. A fresh emulator needs its Maskinporten signing key at once, but
 * many runs (most test suites among them) never ask for the Altinn signing key or the self-service administrator's
 * key pair, and each RSA key costs 40–100 ms of CPU to generate. Such a value is an accessor that, on its first
 * read, makes the value and turns itself into the plain data property it would otherwise have been; a write first
 * simply replaces it. Everything that reads it (routes, `JSON.stringify`, spreading) sees the same value.
 */
import { type GeneratedKeyPair, type GenerateKeyOptions, generateRsaKeyPairSync } from '../keys/jwk.ts';

/** Makes `target[name]` the value `make()` returns, made on the property's first read. */
export function defineOnFirstRead<T extends object, K extends keyof T>(target: T, name: K, make: () => T[K]): void {
  const settle = (value: T[K]): T[K] => {
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(target, name, {
    get: () => settle(make()),
    set: (value: T[K]) => settle(value),
    enumerable: true,
    configurable: true,
  });
}

/** True while `target[name]` is a value of {@link defineOnFirstRead} not yet read (nor written). */
export function isUnread<T extends object>(target: T, name: keyof T): boolean {
  return Object.getOwnPropertyDescriptor(target, name)?.get !== undefined;
}

/**
 * An RSA key pair whose `kid` is fixed now and whose key is generated, on the calling thread, the first time
 * `pair()` is called (the same pair every time after).
 */
export function keyPairOnFirstUse(options: GenerateKeyOptions & { kid: string }): () => GeneratedKeyPair {
  let pair: GeneratedKeyPair | undefined;
  return () => {
    pair ??= generateRsaKeyPairSync(options);
    return pair;
  };
}
