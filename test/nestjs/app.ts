/**
 * A Nest 11 application for the tests, written without decorator syntax (node's type stripping has none): the same
 * decorator functions Nest's compiled code calls, applied with `Reflect.decorate` and plain calls.
 */
import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import { Controller, Get, Inject, Module, Post, UseGuards } from '@nestjs/common';
import { MaskinportenClient } from '../../src/client.ts';
import {
  InjectMaskinportenClient,
  InjectMaskinportenHttp,
  MaskinportenGuard,
  MaskinportenHttpModule,
  MaskinportenModule,
  type MaskinportenModuleOptions,
  MaskinportenRequirements,
  MaskinportenScopes,
  MaskinportenToken,
  MaskinportenVerifierModule,
} from '../../src/nestjs/index.ts';
import type { TokenVerifierOptions, VerifiedToken } from '../../src/verify/index.ts';

export const READ = 'kommune:api.read';
export const WRITE = 'kommune:api.write';
export const NOTIFY = 'altinn:serviceowner/notifications.create';

function method(target: { prototype: object }, name: string, decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  Reflect.decorate(decorators, target.prototype, name, descriptor);
}

/** An API provider's controller: every route needs READ; `write` needs WRITE too. */
export class DataController {
  read(token: VerifiedToken) {
    return { consumer: token.consumerOrg, clientId: token.clientId, scopes: token.scopes };
  }
  write(token: VerifiedToken) {
    return { written: true, consumer: token.consumerOrg };
  }
  anyOf(token: VerifiedToken) {
    return { scopes: token.scopes };
  }
}
Controller('data')(DataController);
UseGuards(MaskinportenGuard)(DataController);
MaskinportenScopes(READ)(DataController);
method(DataController, 'read', [Get()]);
MaskinportenToken()(DataController.prototype, 'read', 0);
method(DataController, 'write', [Post(), MaskinportenScopes(WRITE)]);
MaskinportenToken()(DataController.prototype, 'write', 0);
method(DataController, 'anyOf', [Get('consumers'), MaskinportenRequirements({ consumers: ['999999999'] })]);
MaskinportenToken()(DataController.prototype, 'anyOf', 0);

/** A consumer's service: clients and authorized HttpServices injected. */
export class CallerService {
  readonly client: MaskinportenClient;
  readonly internal: MaskinportenClient;
  readonly http: HttpService;
  readonly notifications: HttpService;
  constructor(client: MaskinportenClient, internal: MaskinportenClient, http: HttpService, notifications: HttpService) {
    this.client = client;
    this.internal = internal;
    this.http = http;
    this.notifications = notifications;
  }
}
Inject(MaskinportenClient)(CallerService, undefined, 0);
InjectMaskinportenClient('internal')(CallerService, undefined, 1);
Inject(HttpService)(CallerService, undefined, 2);
InjectMaskinportenHttp('notifications')(CallerService, undefined, 3);

/** A controller that calls out through the injected HttpService: the emulator's echo API returns the token's claims. */
export class ProxyController {
  readonly caller: CallerService;
  constructor(caller: CallerService) {
    this.caller = caller;
  }
  async echo() {
    const answer = await this.caller.http.axiosRef.get('/api/echo');
    return answer.data as unknown;
  }
  async order() {
    const answer = await this.caller.notifications.axiosRef.post('/notifications/api/v1/orders', {
      recipients: [{ emailAddress: 'someone@example.com' }],
    });
    return { status: answer.status, ...(answer.data as object) };
  }
}
Controller('proxy')(ProxyController);
Inject(CallerService)(ProxyController, undefined, 0);
method(ProxyController, 'echo', [Get('echo')]);
method(ProxyController, 'order', [Post('order')]);

/** The application module: clients, two HTTP services, the verifier, and the controllers. */
export function appModule(clients: MaskinportenModuleOptions, emulatorUrl: string, verifier: TokenVerifierOptions) {
  class AppModule {}
  Module({
    imports: [
      MaskinportenModule.forRoot(clients),
      MaskinportenHttpModule.register({ scopes: [READ], axios: { baseURL: emulatorUrl } }),
      MaskinportenHttpModule.register({
        name: 'notifications',
        client: 'internal',
        scopes: [NOTIFY],
        altinn: true,
        axios: { baseURL: emulatorUrl },
      }),
      MaskinportenVerifierModule.forRoot(verifier),
    ],
    controllers: [DataController, ProxyController],
    providers: [CallerService],
  })(AppModule);
  return AppModule;
}
