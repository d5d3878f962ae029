/**
 * `startEmulator`: a faithful local Maskinporten, Altinn token exchange, self-service API and protected test APIs
 * on one origin. For development and tests only: it hands out keys and tokens to anyone who asks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { ArgumentError, MaskinportenError } from '../errors.ts';
import { generateRsaKeyPair, type RsaPrivateJwk, type RsaPublicJwk, toJwkBase64, toPublicJwk } from '../keys/jwk.ts';
import { secretRegistry } from '../keys/secret-hook.ts';
import { ALTINN_OPENID_PATH } from '../protocol/constants.ts';
import { isLoopbackHost } from '../settings.ts';
import { accessPolicy, checkAdminSecret, checkHostnames } from './access.ts';
import { type Clock, EmulatorClock } from './clock.ts';
import type { EmulatorCore } from './context.ts';
import { type ActiveFault, FaultSet, type FaultSpec } from './faults.ts';
import type {
  Consent,
  Delegation,
  EmulatedClient,
  NewConsent,
  NewSystemUser,
  ScopeDefinition,
  SystemUser,
} from './model.ts';
import { ReplayGuard } from './replay-guard.ts';
import { RequestLog, type RequestLogEntry } from './request-log.ts';
import { adminRoutes } from './routes/admin.ts';
import { altinnRoutes } from './routes/altinn.ts';
import { maskinportenRoutes } from './routes/maskinporten.ts';
import { protectedApiRoutes } from './routes/protected-api.ts';
import { selfServiceRoutes } from './routes/self-service.ts';
import { createHandler, guard } from './server.ts';
import { EmulatorState } from './state.ts';

/** Options for {@link startEmulator}. */
export interface EmulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind; 127.0.0.1 by default. Anything but loopback exposes the emulator to the network. */
  host?: string;
  /** The base clock (epoch ms); the emulator's own clock runs on it plus an adjustable offset. */
  clock?: Clock;
  /** A JSON file keeping clients, keys and signing keys across restarts (written atomically, mode 0600). */
  stateFile?: string;
  /** Organisation number → Altinn organisation code, for `urn:altinn:org`. Default: `991825827` → `digdir`. */
  orgCodes?: Record<string, string>;
  /** Size of the emulator's RSA signing keys; 2048 by default (real Maskinporten uses 4096). */
  signingKeySize?: 2048 | 3072 | 4096;
  /** How many requests the request log keeps; 1000 by default. */
  logLimit?: number;
  /**
   * Host names the emulator answers to besides the address it listens on (e.g. a Docker service name). Requests
   * with any other `Host` header get 403, which defeats DNS rebinding.
   */
  hostnames?: string[];
  /**
   * The secret the control routes (`/_emulator/*`) require as `Authorization: Bearer <adminSecret>`. Bound beyond
   * loopback, one is made for each run when left out (read it from {@link Emulator.adminSecret}); on loopback the
   * control routes are open unless one is given.
   */
  adminSecret?: string;
}

/** Input of {@link Emulator.createClient}. */
export interface CreateClientInput {
  scopes: string[];
  /** Public JWKs to register. Left out, a key pair is generated and returned; `[]` makes a certificate-only client. */
  jwks?: RsaPublicJwk[];
  clientName?: string;
  description?: string;
  orgNo?: string;
  /** Seconds; 120 by default. */
  accessTokenLifetime?: number;
  clientId?: string;
}

/** A client registered through {@link Emulator.createClient}, with its generated key pair when one was made. */
export interface CreatedClient {
  clientId: string;
  clientName: string;
  orgNo: string;
  scopes: string[];
  accessTokenLifetime: number;
  /** Key id of the generated key. */
  kid?: string;
  /** The generated key pair (emulator keys only: never use them anywhere else). */
  privateJwk?: RsaPrivateJwk;
  publicJwk?: RsaPublicJwk;
  /** The generated key pair, base64-encoded as the seed's `JwkBase64` setting holds it. */
  jwkBase64?: string;
  /** Settings for `MaskinportenClient` pointing at this emulator. */
  settings: { authority: string; clientId: string; jwkBase64?: string; altinnPlatformUrl: string };
}

/** The emulator's administrator client for the self-service API. */
export interface AdminClient {
  clientId: string;
  kid: string;
  scopes: string[];
  privateJwk: RsaPrivateJwk;
  jwkBase64: string;
  settings: { authority: string; clientId: string; jwkBase64: string };
}

/** A running emulator. */
export interface Emulator {
  /** Origin, no trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The Maskinporten issuer (`url + '/'`): the `authority` for clients and the grant's `aud`. */
  readonly issuer: string;
  /** The Altinn platform base URL (same origin). */
  readonly altinnPlatformUrl: string;
  /** The self-service API base URL (same origin). */
  readonly selfServiceUrl: string;
  /** Token endpoint URL. */
  readonly tokenEndpoint: string;
  /** The administrator client that may use the self-service API. */
  readonly adminClient: AdminClient;
  /** The secret the control routes require (`Authorization: Bearer …`), or undefined when they are open. */
  readonly adminSecret: string | undefined;
  /** Registers a client; generates a key pair unless `jwks` is given. */
  createClient(input: CreateClientInput): Promise<CreatedClient>;
  /** The client with this id, as the emulator holds it. */
  getClient(clientId: string): EmulatedClient | undefined;
  /** Defines a scope's token properties (`atMaxAge`, `accessibleForAll`). */
  defineScope(scope: ScopeDefinition): ScopeDefinition;
  /** Registers an Altinn delegation: `consumerOrg` lets `supplierOrg` use `scope` on its behalf. */
  addDelegation(delegation: Delegation): Delegation;
  /** Registers an Altinn system user of `org` that the listed clients may act as. */
  addSystemUser(input: NewSystemUser): SystemUser;
  /** Registers an Altinn consent from `from` to `toOrg`. */
  addConsent(input: NewConsent): Consent;
  /** Fault control. */
  readonly faults: {
    add(spec: FaultSpec): ActiveFault;
    remove(id: number): boolean;
    clear(): void;
    list(): ActiveFault[];
  };
  /** Clock control. */
  readonly clock: {
    now(): number;
    readonly offsetMs: number;
    setOffset(ms: number): void;
    advance(ms: number): void;
    set(time: Date | number): void;
  };
  /** The request log. */
  readonly requests: { entries(filter?: { endpoint?: string }): RequestLogEntry[]; clear(): void };
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_ORG_CODES = { '991825827': 'digdir' };

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Makes `target` print (util.inspect, JSON.stringify) as `shown`, so its secrets never reach a log. */
function printsAs<T extends object>(target: T, name: string, shown: () => Record<string, unknown>): T {
  Object.defineProperty(target, 'toJSON', { value: shown });
  Object.defineProperty(target, inspect.custom, {
    value: (_depth: number, options: object) => `${name} ${inspect(shown(), options)}`,
  });
  return target;
}

/**
 * Starts the emulator and resolves once it listens. Binds 127.0.0.1 on a free port unless told otherwise.
 *
 * @example
 * const emulator = await startEmulator();
 * const client = await emulator.createClient({ scopes: ['altinn:serviceowner/notifications.create'] });
 * // client.settings → { authority, clientId, jwkBase64, altinnPlatformUrl }
 * await emulator.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ArgumentError(`port must be 0–65535, got ${port}`);
  const hostnames = checkHostnames(options.hostnames);
  const givenSecret = checkAdminSecret(options.adminSecret);
  if (!isLoopbackHost(host)) {
    process.emitWarning(
      `The Maskinporten emulator is bound to ${host}, not loopback: anyone who can reach it can get tokens. It is for development and tests only.`,
      { code: 'MASKINPORTEN_EMULATOR_EXPOSED' },
    );
  }
  const clock = new EmulatorClock(options.clock);
  const state = await EmulatorState.open({
    clock,
    ...(options.stateFile === undefined ? {} : { file: options.stateFile }),
    ...(options.signingKeySize === undefined ? {} : { signingKeySize: options.signingKeySize }),
  });

  const server: Server = createServer({ keepAliveTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new MaskinportenError(
          'ERR_EMULATOR_START',
          `the emulator could not listen on ${host}:${port}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(host === 'localhost' ? '127.0.0.1' : address.address)}:${address.port}`;
  const core: EmulatorCore = {
    state,
    clock,
    faults: new FaultSet(),
    log: new RequestLog(options.logLimit),
    replay: new ReplayGuard(),
    url,
    issuer: `${url}/`,
    altinnPlatformUrl: url,
    altinnIssuer: `${url}${ALTINN_OPENID_PATH}`,
    orgCodes: new Map(Object.entries(options.orgCodes ?? DEFAULT_ORG_CODES)),
    access: accessPolicy({ bindAddress: address.address, port: address.port, hostnames, adminSecret: givenSecret }),
  };
  if (core.access.adminSecret !== undefined) {
    // Test instrumentation (see secret-hook.ts): the secret must never be printed.
    secretRegistry()?.register(core.access.adminSecret, 'emulator admin secret');
  }

  const adminJwk = state.admin.privateJwk;
  const adminScopes = state.client(state.admin.clientId)?.scopes ?? [];
  const adminShown = () => ({
    clientId: state.admin.clientId,
    kid: adminJwk.kid,
    scopes: adminScopes,
    key: '[secret]',
  });
  const adminClient: AdminClient = printsAs(
    {
      clientId: state.admin.clientId,
      kid: adminJwk.kid!,
      scopes: adminScopes,
      privateJwk: adminJwk,
      jwkBase64: toJwkBase64(adminJwk),
      settings: printsAs(
        { authority: core.issuer, clientId: state.admin.clientId, jwkBase64: toJwkBase64(adminJwk) },
        'AdminClientSettings',
        () => ({ authority: core.issuer, clientId: state.admin.clientId, jwkBase64: '[secret]' }),
      ),
    },
    'AdminClient',
    adminShown,
  );

  /** The registered client as plain data: the admin route's JSON answer, which hands the key to its caller. */
  const registerClient = async (input: CreateClientInput): Promise<CreatedClient> => {
    if (input === null || typeof input !== 'object') throw new ArgumentError('createClient needs { scopes, … }');
    const generated = input.jwks === undefined ? await generateRsaKeyPair() : undefined;
    const client = state.addClient({
      scopes: input.scopes,
      jwks: generated ? [generated.publicJwk] : input.jwks!,
      ...(input.clientName === undefined ? {} : { clientName: input.clientName }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.orgNo === undefined ? {} : { orgNo: input.orgNo }),
      ...(input.accessTokenLifetime === undefined ? {} : { accessTokenLifetime: input.accessTokenLifetime }),
      ...(input.clientId === undefined ? {} : { clientId: input.clientId }),
    });
    const created: CreatedClient = {
      clientId: client.clientId,
      clientName: client.clientName,
      orgNo: client.orgNo,
      scopes: [...client.scopes],
      accessTokenLifetime: client.accessTokenLifetime,
      settings: { authority: core.issuer, clientId: client.clientId, altinnPlatformUrl: core.altinnPlatformUrl },
    };
    if (generated) {
      created.kid = generated.kid;
      created.privateJwk = generated.privateJwk;
      created.publicJwk = toPublicJwk(generated.privateJwk);
      created.jwkBase64 = toJwkBase64(generated.privateJwk);
      created.settings.jwkBase64 = created.jwkBase64;
    }
    return created;
  };
  // In code, the result prints (util.inspect, JSON.stringify) without the private key, as the admin client does;
  // `privateJwk` and `jwkBase64` stay readable by property access.
  const createClient = async (input: CreateClientInput): Promise<CreatedClient> => {
    const created = await registerClient(input);
    const { privateJwk, jwkBase64, settings, ...shown } = created;
    const masked = (v: unknown) => (v === undefined ? undefined : '[secret]');
    printsAs(settings, 'CreatedClientSettings', () => ({ ...settings, jwkBase64: masked(settings.jwkBase64) }));
    return printsAs(created, 'CreatedClient', () => ({
      ...shown,
      privateJwk: masked(privateJwk),
      jwkBase64: masked(jwkBase64),
      settings: { ...settings, jwkBase64: masked(settings.jwkBase64) },
    }));
  };

  const info = () => ({
    url,
    issuer: core.issuer,
    tokenEndpoint: `${url}/token`,
    altinnPlatformUrl: core.altinnPlatformUrl,
    selfServiceUrl: url,
    adminClient: { clientId: adminClient.clientId, kid: adminClient.kid, scopes: adminClient.scopes },
  });

  const clockControl = {
    now: () => clock.now(),
    get offsetMs() {
      return clock.offsetMs;
    },
    setOffset: (ms: number) => clock.setOffset(ms),
    advance: (ms: number) => clock.advance(ms),
    set: (time: Date | number) => clock.set(time),
  };

  const faultControl = {
    add: (spec: FaultSpec) => core.faults.add(spec),
    remove: (id: number) => core.faults.remove(id),
    clear: () => core.faults.clear(),
    list: () => core.faults.list(),
  };

  const routes = [
    ...maskinportenRoutes(core),
    ...altinnRoutes(core),
    ...selfServiceRoutes(core),
    ...protectedApiRoutes(core),
    ...adminRoutes({
      info,
      createClient: (b) => registerClient(b as unknown as CreateClientInput),
      defineScope: (b) => state.defineScope(b as unknown as ScopeDefinition),
      addDelegation: (b) => state.addDelegation(b as unknown as Delegation),
      addSystemUser: (b) => state.addSystemUser(b as unknown as NewSystemUser),
      addConsent: (b) => state.addConsent(b as unknown as NewConsent),
      faults: faultControl,
      clock: {
        describe: () => ({ now: new Date(clock.now()).toISOString(), offsetMs: clock.offsetMs }),
        setOffset: (ms) => clock.setOffset(ms),
        advance: (ms) => clock.advance(ms),
        set: (ms) => clock.set(ms),
      },
      log: core.log,
    }),
  ];
  const handler = createHandler(core, routes);
  server.on('request', guard(handler));
  // A client that sends garbage at the socket level gets a 400 and the server carries on.
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"invalid_request"}',
      );
    else socket.destroy();
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };

  const emulator: Emulator = {
    url,
    issuer: core.issuer,
    altinnPlatformUrl: core.altinnPlatformUrl,
    selfServiceUrl: url,
    tokenEndpoint: `${url}/token`,
    adminClient,
    adminSecret: core.access.adminSecret,
    createClient,
    getClient: (id) => state.client(id),
    defineScope: (s) => state.defineScope(s),
    addDelegation: (d) => state.addDelegation(d),
    addSystemUser: (u) => state.addSystemUser(u),
    addConsent: (c) => state.addConsent(c),
    faults: faultControl,
    clock: clockControl,
    requests: { entries: (filter = {}) => core.log.entries(filter), clear: () => core.log.clear() },
    close,
    [Symbol.asyncDispose]: close,
  };
  // The emulator holds the admin client's private key and the admin secret: printing it shows neither.
  return printsAs(emulator, 'Emulator', () => ({
    ...info(),
    adminClient: adminShown(),
    ...(core.access.adminSecret === undefined ? {} : { adminSecret: '[secret]' }),
  }));
}
