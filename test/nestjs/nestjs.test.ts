/**
 * `maskinporten/nestjs` in a real Nest 11 application (platform-express) booted on 127.0.0.1: clients from an
 * appsettings section and from code, injected by class and by name; HttpServices authorized with raw and Altinn
 * tokens calling the emulator; the guard and scopes decorators answering 401/403 with `WWW-Authenticate`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MaskinportenClient } from '../../src/client.ts';
import { getMaskinportenClientToken, MASKINPORTEN_CLIENTS, MaskinportenModule } from '../../src/nestjs/index.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { accessToken } from '../helpers/grants.ts';
import { call } from '../helpers/http.ts';
import { appModule, CallerService, NOTIFY, READ, WRITE } from './app.ts';

describe('maskinporten/nestjs in a Nest 11 application', () => {
  const emulator = useEmulator();
  const main = useClient(emulator, { scopes: [READ, WRITE], orgNo: '910000001' });
  const internal = useClient(emulator, { scopes: [NOTIFY] });
  let app: INestApplication;
  let url: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mp-nest-'));
    // The default client reads a configuration section, as ConfigureMaskinportenClient does.
    writeFileSync(
      join(dir, 'appsettings.json'),
      JSON.stringify({
        Integrations: {
          Maskinporten: {
            Authority: main.settings.authority,
            ClientId: main.settings.clientId,
            JwkBase64: main.settings.jwkBase64,
          },
        },
      }),
    );
    const AppModule = appModule(
      {
        section: 'Integrations:Maskinporten',
        load: { configDir: dir, env: {}, environment: 'Development' },
        clients: { internal: { settings: internal.settings, clientOptions: { altinnTest: true } } },
      },
      emulator.url,
      { authority: emulator.issuer, clock: emulator.clock, realm: 'kommune' },
    );
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('injects the default client (from the section) and the named one', () => {
    const caller = app.get(CallerService);
    assert.ok(caller.client instanceof MaskinportenClient);
    assert.equal(caller.client.clientId, main.clientId);
    assert.equal(caller.internal.clientId, internal.clientId);
    assert.equal(app.get(getMaskinportenClientToken('internal')), caller.internal);
    assert.equal(app.get(MaskinportenClient), caller.client);
    assert.deepEqual([...(app.get(MASKINPORTEN_CLIENTS) as Map<string, unknown>).keys()].sort(), [
      'default',
      'internal',
    ]);
  });

  it('HttpService carries a Maskinporten token for its scopes', async () => {
    const answer = await call(`${url}/proxy/echo`);
    assert.equal(answer.status, 200, answer.text);
    const claims = (answer.json as { claims: Record<string, unknown> }).claims;
    assert.equal(claims.client_id, main.clientId);
    assert.equal(claims.scope, READ);
  });

  it('the named HttpService carries an Altinn token of the named client', async () => {
    const answer = await call(`${url}/proxy/order`, { method: 'POST' });
    assert.equal(answer.status, 201, answer.text);
    assert.equal((answer.json as { status: number }).status, 201);
    assert.equal((answer.json as { creator: string }).creator, 'ttd');
  });

  it('the guard lets a good token through and hands the claims to the handler', async () => {
    const token = await accessToken(emulator, main, [READ]);
    const answer = await call(`${url}/data`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { consumer: '910000001', clientId: main.clientId, scopes: [READ] });
  });

  it('the guard answers 401 with the challenge, and 403 for a missing scope or consumer', async () => {
    const none = await call(`${url}/data`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="kommune"');
    const forged = await call(`${url}/data`, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' } });
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal((forged.json as { error: string }).error, 'invalid_token');

    const reader = await accessToken(emulator, main, [READ]);
    const write = await call(`${url}/data`, { method: 'POST', headers: { authorization: `Bearer ${reader}` } });
    assert.equal(write.status, 403);
    assert.equal(
      write.headers.get('www-authenticate'),
      'Bearer realm="kommune", error="insufficient_scope", error_description="the token lacks the scope kommune:api.write", scope="kommune:api.read kommune:api.write"',
    );
    const both = await accessToken(emulator, main, [READ, WRITE]);
    const ok = await call(`${url}/data`, { method: 'POST', headers: { authorization: `Bearer ${both}` } });
    assert.equal(ok.status, 201, ok.text);
    const consumers = await call(`${url}/data/consumers`, { headers: { authorization: `Bearer ${both}` } });
    assert.equal(consumers.status, 403);
    assert.match(consumers.headers.get('www-authenticate') ?? '', /consumer organisation 910000001/);
  });

  it('forRootAsync configures clients from a factory with injected values', async () => {
    class SettingsModule {}
    Module({
      providers: [{ provide: 'SETTINGS', useValue: internal.settings }],
      exports: ['SETTINGS'],
    })(SettingsModule);
    class AsyncApp {}
    Module({
      imports: [
        MaskinportenModule.forRootAsync({
          imports: [SettingsModule],
          inject: ['SETTINGS'],
          clientNames: ['other'],
          useFactory: (settings: typeof internal.settings) => ({ settings, clients: { other: { settings } } }),
        }),
      ],
    })(AsyncApp);
    const ctx = await NestFactory.createApplicationContext(AsyncApp, { logger: false });
    try {
      assert.equal(ctx.get(MaskinportenClient).clientId, internal.clientId);
      assert.equal((ctx.get(getMaskinportenClientToken('other')) as MaskinportenClient).clientId, internal.clientId);
    } finally {
      await ctx.close();
    }
  });

  it('a section that fails validation stops the application from starting, naming the setting', async () => {
    class Broken {}
    Module({
      imports: [
        MaskinportenModule.forRoot({
          section: 'Missing',
          load: { configDir: dir, env: {}, environment: 'Development' },
        }),
      ],
    })(Broken);
    await assert.rejects(
      NestFactory.createApplicationContext(Broken, { logger: false, abortOnError: false }),
      /Missing/,
    );
  });
});
