/**
 * NestJS on both sides of Maskinporten, without decorator syntax (so it runs with Node's type stripping; in a
 * compiled app, write `@Controller('data')`, `@UseGuards(MaskinportenGuard)` and so on):
 * - an API provider: `MaskinportenVerifierModule` + `MaskinportenGuard` + `@MaskinportenScopes`;
 * - a consumer: `MaskinportenModule` (the client) + `MaskinportenHttpModule` (an authorized `HttpService`).
 * The emulator plays Maskinporten; its echo API shows the token the HttpService sent.
 *
 * Run: npm run build && npx node examples/nestjs-app.ts
 */
import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import { Controller, Get, Inject, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MaskinportenClient } from 'maskinporten';
import { startEmulator } from 'maskinporten/emulator';
import {
  MaskinportenGuard,
  MaskinportenHttpModule,
  MaskinportenModule,
  MaskinportenScopes,
  MaskinportenToken,
  MaskinportenVerifierModule,
} from 'maskinporten/nestjs';
import type { VerifiedToken } from 'maskinporten/verify';

const emulator = await startEmulator();
const registered = await emulator.createClient({ scopes: ['kommune:api.read'], orgNo: '910000001' });

// The API provider's side: a route that needs kommune:api.read.
class DataController {
  get(token: VerifiedToken) {
    return { consumer: token.consumerOrg, scopes: token.scopes };
  }
}
Controller('data')(DataController);
UseGuards(MaskinportenGuard)(DataController);
MaskinportenScopes('kommune:api.read')(DataController);
Reflect.decorate(
  [Get()],
  DataController.prototype,
  'get',
  Object.getOwnPropertyDescriptor(DataController.prototype, 'get'),
);
MaskinportenToken()(DataController.prototype, 'get', 0);

// The consumer's side: an HttpService that carries tokens (UseMaskinportenAuthorization("kommune:api.read")).
class EchoController {
  readonly http: HttpService;
  constructor(http: HttpService) {
    this.http = http;
  }
  async get() {
    const { data } = await this.http.axiosRef.get<{ claims: { scope: string } }>('/api/echo');
    return { sentScope: data.claims.scope };
  }
}
Controller('echo')(EchoController);
Inject(HttpService)(EchoController, undefined, 0);
Reflect.decorate(
  [Get()],
  EchoController.prototype,
  'get',
  Object.getOwnPropertyDescriptor(EchoController.prototype, 'get'),
);

class AppModule {}
Module({
  imports: [
    MaskinportenModule.forRoot({ settings: registered.settings }), // or { section: 'MaskinportenSettings' }
    MaskinportenHttpModule.register({ scopes: ['kommune:api.read'], axios: { baseURL: emulator.url } }),
    MaskinportenVerifierModule.forRoot({ authority: emulator.issuer }), // authority: 'test' or 'prod' for real
  ],
  controllers: [DataController, EchoController],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

const client = app.get(MaskinportenClient);
const token = await client.getAccessToken(['kommune:api.read']);
const ok = await fetch(`${url}/data`, { headers: { authorization: token.authorizationHeader } });
console.log('guarded route with a token:', ok.status, JSON.stringify(await ok.json()));
const refused = await fetch(`${url}/data`);
console.log('guarded route without one:', refused.status, refused.headers.get('www-authenticate'));
const echo = await fetch(`${url}/echo`);
console.log('HttpService sent:', echo.status, JSON.stringify(await echo.json()));

await app.close();
await emulator.close();
