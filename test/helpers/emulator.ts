/**
 * The emulator fixture: one line in a `describe` block starts a real emulator before its tests and closes it after
 * them, instead of a `let` plus `before`/`after` hooks in every file.
 *
 * ```ts
 * describe('client cache', () => {
 *   const clock = new FakeClock();
 *   const emulator = useEmulator({ clock, resetEach: true });
 *   const created = useClient(emulator, { scopes: ['a', 'b'] });
 *   const proxy = useProxy(emulator);
 *   it('…', async () => { … emulator.issuer … created.settings … proxy.url … });
 * });
 * ```
 *
 * What these return is usable from the first `before` hook on (the hooks run in the order they were declared):
 * each is a stand-in that forwards every property to the real object once it exists, and fails clearly when used
 * earlier (at `describe` time).
 */
import { after, before, beforeEach } from 'node:test';
import { inspect } from 'node:util';
import {
  type CreateClientInput,
  type CreatedClient,
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from '../../src/emulator/index.ts';
import { type LocalServer, type ProxyOptions, startProxy } from './client-env.ts';
import type { FakeTime } from './fake-time.ts';

/** A value made by a hook, and a stand-in for it that forwards to the value once it is there. */
interface Late<T extends object> {
  /** Forwards every property access to the value (methods are bound to it). */
  readonly ref: T;
  set(value: T | undefined): void;
  get(): T | undefined;
}

/** A stand-in for a value that a `before` hook makes. */
function late<T extends object>(what: string): Late<T> {
  let value: T | undefined;
  const real = (): T => {
    if (value === undefined)
      throw new Error(`${what} is not there yet: use it inside a test or a hook, not at describe time`);
    return value;
  };
  // util.inspect looks at the proxy's target, not through the traps: the target prints the real value.
  const target = { [inspect.custom]: (_depth: number, options: object) => inspect(real(), options) };
  const ref = new Proxy(target, {
    get(_t, key) {
      const v = Reflect.get(real(), key) as unknown;
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(real()) : v;
    },
    set: (_t, key, v) => Reflect.set(real(), key, v),
    has: (_t, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor(_t, key) {
      const d = Reflect.getOwnPropertyDescriptor(real(), key);
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  }) as unknown as T;
  return { ref, set: (v) => (value = v), get: () => value };
}

/** Options of {@link useEmulator}: the emulator's own, plus test-suite conveniences. */
export interface UseEmulatorOptions extends EmulatorOptions {
  /** Before each test, clear the request log and every fault, so a test starts from a quiet emulator. */
  resetEach?: boolean;
  /** Run the emulator on this fake time's server clock, its finished requests counted (`time.watch`). */
  time?: FakeTime;
}

/** Starts a real emulator (on 127.0.0.1, a free port) before the block's tests, and closes it after them. */
export function useEmulator(options: UseEmulatorOptions = {}): Emulator {
  const { resetEach, time, ...emulatorOptions } = options;
  const emulator = late<Emulator>('the emulator');
  before(async () => {
    const started = await startEmulator(time ? { ...emulatorOptions, clock: time.serverClock } : emulatorOptions);
    time?.watch(started);
    emulator.set(started);
  });
  if (resetEach) {
    beforeEach(() => {
      emulator.ref.faults.clear();
      emulator.ref.requests.clear();
    });
  }
  after(async () => {
    await emulator.get()?.close();
    emulator.set(undefined);
  });
  return emulator.ref;
}

/** Registers a client (with a generated key pair unless `input.jwks` is given) on `emulator` before the tests. */
export function useClient(emulator: Emulator, input: CreateClientInput): CreatedClient {
  const client = late<CreatedClient>('the client');
  before(async () => {
    client.set(await emulator.createClient(input));
  });
  return client.ref;
}

/** A proxy in front of `emulator` (see {@link startProxy}), started before the tests and closed after them. */
export function useProxy(emulator: Emulator, options: ProxyOptions = {}): LocalServer {
  const proxy = late<LocalServer>('the proxy');
  before(async () => {
    proxy.set(await startProxy(emulator, options));
  });
  after(async () => {
    await proxy.get()?.close();
    proxy.set(undefined);
  });
  return proxy.ref;
}
