/**
 * `startEmulator`: a faithful local Maskinporten, Altinn token exchange, self-service API and protected test APIs
 * on one origin. For development and tests only: it hands out keys and tokens to anyone who asks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { ArgumentError, MaskinportenError } from '../errors.ts';
import { generateRsaKeyPair, toJwkBase64, toPublicJwk } from '../keys/jwk.ts';
import { secretRegistry } from '../keys/secret-hook.ts';
import { ALTINN_OPENID_PATH } from '../protocol/constants.ts';
import { isLoopbackHost } from '../url-policy.ts';
import { accessPolicy, checkAdminSecret, checkHostnames } from './access.ts';
import { EmulatorClock } from './clock.ts';
import type { EmulatorCore } from './core.ts';
import type { AdminClient, CreateClientInput, CreatedClient, Emulator, EmulatorOptions } from './emulator-api.ts';
import { FaultSet, type FaultSpec } from './faults.ts';
import { GRANT_RULE_SETS } from './grant-rules.ts';
import type { Delegation, NewConsent, NewSystemUser, ScopeDefinition } from './model.ts';
import { ReplayGuard } from './replay-guard.ts';
import { RequestLog } from './request-log.ts';
import { adminRoutes } from './routes/admin.ts';
import { altinnRoutes } from './routes/altinn.ts';
import { maskinportenRoutes } from './routes/maskinporten.ts';
import { protectedApiRoutes } from './routes/protected-api.ts';
import { selfServiceRoutes } from './routes/self-service.ts';
import { createHandler, guard } from './server.ts';
import { EmulatorState } from './state.ts';

export type { AdminClient, CreateClientInput, CreatedClient, Emulator, EmulatorOptions };

const DEFAULT_ORG_CODES = { '991825827': 'digdir' };

/** Altinn TT02's portal issuer, the `delegation_source` of tokens from Maskinporten TEST. */
const DEFAULT_DELEGATION_SOURCE = 'https://tt02.altinn.no/';

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
 * Starts the emulator and resolves once it listens. Binds 127.0.0.1 on a free port unless told otherwise. For
 * testing only: it issues tokens for any client registered with it.
 *
 * @param options - `host`, `port`, the grant `rules`, `skyporten`, a `stateFile`, an injectable `clock`, and more.
 * @returns The running emulator: its URLs, control methods and `close()`.
 * @throws ArgumentError `ERR_INVALID_ARGUMENT` for an option out of range (naming it); EmulatorError
 *   `ERR_EMULATOR_START` when it cannot listen, `ERR_EMULATOR_STATE` when the state file cannot be read.
 *
 * @example
 * const emulator = await startEmulator();
 * const client = await emulator.createClient({ scopes: ['altinn:serviceowner/notifications.create'] });
 * // client.settings → { authority, clientId, jwkBase64, altinnPlatformUrl }
 * await emulator.close();
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_func_wellknown
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ArgumentError(`port must be 0–65535, got ${port}`);
  const hostnames = checkHostnames(options.hostnames);
  const rules = options.rules ?? 'live';
  if (!GRANT_RULE_SETS.includes(rules)) {
    throw new ArgumentError(`rules must be ${GRANT_RULE_SETS.map((r) => `"${r}"`).join(' or ')}, got ${String(rules)}`);
  }
  const skyporten = options.skyporten ?? false;
  if (typeof skyporten !== 'boolean')
    throw new ArgumentError(`skyporten must be true or false, got ${String(skyporten)}`);
  const delegationSource = options.delegationSource ?? DEFAULT_DELEGATION_SOURCE;
  if (typeof delegationSource !== 'string' || !URL.canParse(delegationSource)) {
    throw new ArgumentError(`delegationSource must be an absolute URL, got ${JSON.stringify(delegationSource)}`);
  }
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
    // Skyporten's issuer, and so its grant audience, has no trailing slash.
    issuer: skyporten ? url : `${url}/`,
    tokenEndpoint: `${url}/token`,
    rules,
    skyporten,
    delegationSource,
    altinnPlatformUrl: url,
    altinnIssuer: `${url}${ALTINN_OPENID_PATH}`,
    orgCodes: new Map(Object.entries(options.orgCodes ?? DEFAULT_ORG_CODES)),
    access: accessPolicy({ bindAddress: address.address, port: address.port, hostnames, adminSecret: givenSecret }),
  };
  if (core.access.adminSecret !== undefined) {
    // Test instrumentation (see secret-hook.ts): the secret must never be printed.
    secretRegistry()?.register(core.access.adminSecret, 'emulator admin secret');
  }

  // The administrator's key pair may be made on first read (see first-read.ts): its members read it when asked.
  const adminJwk = () => state.admin.privateJwk;
  const adminScopes = state.client(state.admin.clientId)?.scopes ?? [];
  const adminShown = () => ({
    clientId: state.admin.clientId,
    kid: state.adminKid,
    scopes: adminScopes,
    key: '[secret]',
  });
  const adminClient: AdminClient = printsAs(
    {
      clientId: state.admin.clientId,
      kid: state.adminKid,
      scopes: adminScopes,
      get privateJwk() {
        return adminJwk();
      },
      get jwkBase64() {
        return toJwkBase64(adminJwk());
      },
      settings: printsAs(
        {
          authority: core.issuer,
          clientId: state.admin.clientId,
          get jwkBase64() {
            return toJwkBase64(adminJwk());
          },
        },
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
    tokenEndpoint: core.tokenEndpoint,
    altinnPlatformUrl: core.altinnPlatformUrl,
    selfServiceUrl: url,
    rules: core.rules,
    skyporten: core.skyporten,
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
    tokenEndpoint: core.tokenEndpoint,
    rules: core.rules,
    skyporten: core.skyporten,
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
    requests: {
      entries: (filter = {}) => core.log.entries(filter),
      clear: () => core.log.clear(),
      subscribe: (listener) => core.log.subscribe(listener),
    },
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
