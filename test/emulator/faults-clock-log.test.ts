import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { ENDPOINT_NAMES, type EndpointName, NOTIFICATIONS_SCOPE, startEmulator } from '../../src/emulator/index.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { accessToken, makeGrant, mpCode, postToken } from '../helpers/grants.ts';
import { adminToken, altinnToken, bearer, call, exchangeUrl, obj } from '../helpers/http.ts';

const ORDER = JSON.stringify({ recipients: [{ emailAddress: 'someone@example.com' }] });

/** How to reach one endpoint with a request that succeeds when no fault is set. */
interface Target {
  send(): Promise<Response>;
  okStatus: number;
  /** The content type of the real answer. */
  okType: RegExp;
  /** Another endpoint, for checks that a fault stays on its own endpoint. */
  other: EndpointName;
}

describe('faults, clock and request log', () => {
  const emulator = useEmulator();
  const client = useClient(emulator, { scopes: [NOTIFICATIONS_SCOPE, 'test:read'] });
  let mpToken: string;
  let altinn: string;
  let admin: string;
  let targets: Record<EndpointName, Target>;

  before(async () => {
    mpToken = await accessToken(emulator, client);
    altinn = await altinnToken(emulator, mpToken);
    admin = await adminToken(emulator);
    const json = /^application\/json/;
    const openid = `${emulator.altinnPlatformUrl}/authentication/api/v1/openid/.well-known/openid-configuration`;
    targets = {
      discovery: {
        send: () => fetch(`${emulator.url}/.well-known/oauth-authorization-server`),
        okStatus: 200,
        okType: json,
        other: 'jwks',
      },
      jwks: { send: () => fetch(`${emulator.url}/jwk`), okStatus: 200, okType: json, other: 'discovery' },
      token: {
        send: () =>
          fetch(emulator.tokenEndpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
              assertion: makeGrant(emulator, client),
            }),
          }),
        okStatus: 200,
        okType: json,
        other: 'jwks',
      },
      exchange: {
        send: () => fetch(exchangeUrl(emulator), { headers: bearer(mpToken) }),
        okStatus: 200,
        okType: /^text\/plain/,
        other: 'token',
      },
      'altinn-jwks': { send: () => fetch(`${openid}/jwks`), okStatus: 200, okType: json, other: 'exchange' },
      'self-service': {
        send: () => fetch(`${emulator.selfServiceUrl}/clients`, { headers: bearer(admin) }),
        okStatus: 200,
        okType: json,
        other: 'echo',
      },
      notifications: {
        send: () =>
          fetch(`${emulator.url}/notifications/api/v1/orders`, {
            method: 'POST',
            headers: { ...bearer(altinn), 'content-type': 'application/json' },
            body: ORDER,
          }),
        okStatus: 201,
        okType: json,
        other: 'echo',
      },
      echo: {
        send: () => fetch(`${emulator.url}/api/echo`, { headers: bearer(mpToken) }),
        okStatus: 200,
        okType: json,
        other: 'notifications',
      },
    };
  });
  afterEach(() => emulator.faults.clear());

  /** Sends to `endpoint` and asserts the real, unfaulted answer. */
  async function assertHealthy(endpoint: EndpointName): Promise<void> {
    const target = targets[endpoint];
    const res = await target.send();
    const text = await res.text();
    assert.equal(res.status, target.okStatus, `${endpoint}: ${text}`);
    assert.match(res.headers.get('content-type') ?? '', target.okType, endpoint);
  }

  it('covers every endpoint a fault can name', () => {
    assert.deepEqual(Object.keys(targets).sort(), [...ENDPOINT_NAMES].sort());
  });

  for (const endpoint of ENDPOINT_NAMES) {
    describe(`faults on ${endpoint}`, () => {
      it('status 500: a JSON server_error until the fault is removed', async () => {
        const fault = emulator.faults.add({ endpoint, status: 500 });
        for (let i = 0; i < 2; i++) {
          const res = await targets[endpoint].send();
          assert.equal(res.status, 500);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          assert.equal(((await res.json()) as { error: string }).error, 'server_error');
        }
        await assertHealthy(targets[endpoint].other);
        assert.equal(emulator.faults.remove(fault.id), true);
        await assertHealthy(endpoint);
      });

      it('status 503 with Retry-After', async () => {
        emulator.faults.add({ endpoint, status: 503, retryAfter: 7 });
        const res = await targets[endpoint].send();
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '7');
        assert.equal(((await res.json()) as { error: string }).error, 'temporarily_unavailable');
      });

      it('429 with Retry-After', async () => {
        emulator.faults.add({ endpoint, status: 429, retryAfter: 2 });
        const res = await targets[endpoint].send();
        assert.equal(res.status, 429);
        assert.equal(res.headers.get('retry-after'), '2');
        const body = (await res.json()) as { error: string; error_description: string };
        assert.equal(body.error, 'too_many_requests');
        assert.equal(typeof body.error_description, 'string');
      });

      it('reset: the request fails without an answer, and the server carries on', async () => {
        emulator.faults.add({ endpoint, reset: true, times: 1 });
        await assert.rejects(targets[endpoint].send(), TypeError);
        await assertHealthy(endpoint);
      });

      it('truncated: the body cannot be read whole', async () => {
        emulator.faults.add({ endpoint, body: 'truncated', times: 1 });
        const failed = await targets[endpoint].send().then(
          async (res) => {
            assert.equal(res.status, targets[endpoint].okStatus);
            try {
              const text = await res.text();
              if (targets[endpoint].okType.source.includes('json')) JSON.parse(text);
              else assert.fail(`a truncated body was read whole: ${text}`);
              return false;
            } catch (err) {
              return !(err instanceof assert.AssertionError);
            }
          },
          () => true,
        );
        assert.equal(failed, true, 'reading the truncated answer must fail');
        await assertHealthy(endpoint);
      });

      it('non-json: 200 with a plain-text body', async () => {
        emulator.faults.add({ endpoint, body: 'non-json' });
        const res = await targets[endpoint].send();
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
        const text = await res.text();
        assert.throws(() => JSON.parse(text), SyntaxError);
      });

      it('html: an HTML error page (502 unless told otherwise)', async () => {
        emulator.faults.add({ endpoint, body: 'html', times: 1 });
        const res = await targets[endpoint].send();
        assert.equal(res.status, 502);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(await res.text(), /^<!DOCTYPE html>/);
        emulator.faults.add({ endpoint, body: 'html', status: 503, times: 1 });
        const html503 = await targets[endpoint].send();
        await html503.text();
        assert.equal(html503.status, 503);
      });

      it('times: N fails N times, then recovers', async () => {
        const fault = emulator.faults.add({ endpoint, status: 503, times: 2 });
        assert.equal(fault.remaining, 2);
        for (const expected of [503, 503]) {
          const res = await targets[endpoint].send();
          await res.text();
          assert.equal(res.status, expected);
        }
        assert.deepEqual(emulator.faults.list(), []);
        await assertHealthy(endpoint);
        await assertHealthy(endpoint);
      });

      it('latencyMs: the answer is the real one, it comes after a prompt answer elsewhere, and is logged', async () => {
        emulator.faults.add({ endpoint, latencyMs: 300, times: 1 });
        emulator.requests.clear();
        const finished: string[] = [];
        const slow = targets[endpoint].send().then(async (res) => {
          finished.push('slow');
          return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
        });
        const fast = targets[targets[endpoint].other].send().then(async (res) => {
          finished.push('fast');
          await res.text();
          return res.status;
        });
        const [slowAnswer, fastStatus] = await Promise.all([slow, fast]);
        assert.deepEqual(finished, ['fast', 'slow']);
        assert.equal(fastStatus, targets[targets[endpoint].other].okStatus);
        assert.equal(slowAnswer.status, targets[endpoint].okStatus, slowAnswer.text);
        assert.match(slowAnswer.type ?? '', targets[endpoint].okType);
        const entry = emulator.requests.entries({ endpoint }).at(-1);
        assert.equal(entry?.fault, 'latency 300 ms');
        assert.equal(entry?.outcome, 'ok');
      });
    });
  }

  describe('fault selection', () => {
    it('"*" applies to every endpoint, but never to the control routes or unknown paths', async () => {
      emulator.faults.add({ endpoint: '*', status: 500 });
      for (const endpoint of ENDPOINT_NAMES) {
        const res = await targets[endpoint].send();
        await res.text();
        assert.equal(res.status, 500, endpoint);
      }
      assert.equal((await call(`${emulator.url}/_emulator/health`)).status, 200);
      assert.equal((await call(`${emulator.url}/_emulator/faults`)).status, 200);
      assert.equal((await call(`${emulator.url}/no/such/path`)).status, 404);
    });

    it('"*" with times counts requests to any endpoint', async () => {
      emulator.faults.add({ endpoint: '*', status: 503, times: 3 });
      const statuses: number[] = [];
      for (const endpoint of ['discovery', 'jwks', 'token', 'echo', 'discovery'] as const) {
        const res = await targets[endpoint].send();
        await res.text();
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [503, 503, 503, 200, 200]);
    });

    it('the first matching fault applies; a fault on one endpoint leaves the others alone', async () => {
      emulator.faults.add({ endpoint: 'token', status: 500 });
      emulator.faults.add({ endpoint: '*', status: 503 });
      const token = await targets.token.send();
      await token.text();
      assert.equal(token.status, 500);
      const jwk = await targets.jwks.send();
      await jwk.text();
      assert.equal(jwk.status, 503);
      emulator.faults.clear();
      emulator.faults.add({ endpoint: 'exchange', status: 500 });
      for (const endpoint of ENDPOINT_NAMES.filter((e) => e !== 'exchange')) await assertHealthy(endpoint);
    });

    it('latency with a status answers the status after the delay and logs both', async () => {
      emulator.requests.clear();
      emulator.faults.add({ endpoint: 'jwks', latencyMs: 50, status: 500, times: 1 });
      const res = await targets.jwks.send();
      await res.text();
      assert.equal(res.status, 500);
      const entry = emulator.requests.entries({ endpoint: 'jwks' }).at(-1);
      assert.equal(entry?.outcome, 'fault');
      assert.equal(entry?.fault, 'latency 50 ms, status 500');
      assert.equal(entry?.status, 500);
    });

    it('refuses invalid fault specs from code', () => {
      for (const spec of [
        { endpoint: 'nowhere', status: 500 },
        { endpoint: 'token' },
        { endpoint: 'token', status: 200 },
        { endpoint: 'token', status: 600 },
        { endpoint: 'token', status: 500, times: 0 },
        { endpoint: 'token', latencyMs: -1 },
        { endpoint: 'token', body: 'garbled' },
        { endpoint: 'token', reset: 'yes' },
        { endpoint: 'token', status: 500, surprise: true },
        null,
      ]) {
        assert.throws(
          () => emulator.faults.add(spec as never),
          (err: Error & { code?: string }) => err.code === 'ERR_INVALID_ARGUMENT',
          JSON.stringify(spec),
        );
      }
      assert.deepEqual(emulator.faults.list(), []);
    });
  });

  describe('faults over HTTP', () => {
    const faultsUrl = () => `${emulator.url}/_emulator/faults`;
    const postFault = (body: unknown, contentType = 'application/json') =>
      call(faultsUrl(), {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });

    it('POST adds, GET lists, and a fault with times disappears once used', async () => {
      const added = await postFault({ endpoint: 'token', status: 503, retryAfter: 1, times: 1 });
      assert.equal(added.status, 201, added.text);
      const fault = obj(added);
      assert.equal(typeof fault.id, 'number');
      assert.equal(fault.remaining, 1);
      const listed = await call(faultsUrl());
      assert.equal(listed.status, 200);
      assert.deepEqual(
        (listed.json as { id: number }[]).map((f) => f.id),
        [fault.id],
      );
      const res = await targets.token.send();
      await res.text();
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.deepEqual((await call(faultsUrl())).json, []);
      await assertHealthy('token');
    });

    it('DELETE /_emulator/faults/{id} removes one; an unknown id is 404', async () => {
      const a = obj(await postFault({ endpoint: 'jwks', status: 500 }));
      const b = obj(await postFault({ endpoint: 'discovery', status: 500 }));
      const removed = await call(`${faultsUrl()}/${a.id}`, { method: 'DELETE' });
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.json, { removed: a.id });
      assert.deepEqual(
        ((await call(faultsUrl())).json as { id: number }[]).map((f) => f.id),
        [b.id],
      );
      await assertHealthy('jwks');
      const again = await call(`${faultsUrl()}/${a.id}`, { method: 'DELETE' });
      assert.equal(again.status, 404);
      assert.equal(obj(again).error, 'not_found');
    });

    it('DELETE /_emulator/faults clears every fault', async () => {
      await postFault({ endpoint: '*', reset: true });
      await postFault({ endpoint: 'token', status: 500 });
      // The control routes are never faulted, so the faults can always be cleared.
      const cleared = await call(faultsUrl(), { method: 'DELETE' });
      assert.equal(cleared.status, 200);
      assert.deepEqual((await call(faultsUrl())).json, []);
      for (const endpoint of ENDPOINT_NAMES) await assertHealthy(endpoint);
    });

    it('each fault kind works when set over HTTP', async () => {
      await postFault({ endpoint: 'echo', reset: true, times: 1 });
      await assert.rejects(targets.echo.send(), TypeError);
      await postFault({ endpoint: 'echo', body: 'non-json', times: 1 });
      const nonJson = await targets.echo.send();
      assert.match(nonJson.headers.get('content-type') ?? '', /^text\/plain/);
      const nonJsonText = await nonJson.text();
      assert.throws(() => JSON.parse(nonJsonText), SyntaxError);
      await postFault({ endpoint: 'echo', body: 'html', times: 1 });
      const html = await targets.echo.send();
      assert.equal(html.status, 502);
      await html.text();
      await postFault({ endpoint: 'echo', status: 429, retryAfter: 3, times: 1 });
      const limited = await targets.echo.send();
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '3');
      await limited.text();
      await postFault({ endpoint: 'echo', body: 'truncated', times: 1 });
      await assert.rejects(async () => JSON.parse(await (await targets.echo.send()).text()));
      await assertHealthy('echo');
    });

    it('refuses invalid specs with 400 and non-JSON with 415', async () => {
      for (const body of [
        { endpoint: 'nowhere', status: 500 },
        { endpoint: 'token' },
        { endpoint: 'token', status: 302 },
        { endpoint: 'token', status: 500, times: -1 },
        { endpoint: 'token', status: 500, extra: 1 },
        [],
        '{',
        'null',
      ]) {
        const answer = await postFault(body);
        assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
        assert.equal(obj(answer).error, 'invalid_request');
      }
      assert.equal((await postFault('endpoint=token&status=500', 'application/x-www-form-urlencoded')).status, 415);
      assert.deepEqual((await call(faultsUrl())).json, []);
    });
  });

  describe('clock', () => {
    afterEach(() => emulator.clock.setOffset(0));

    it('a clock option without now(), or with only one timer function, is an argument error naming clock', async () => {
      const bad = [
        {},
        { now: 1 },
        null,
        { now: () => 0, setTimeout: () => 0 },
        { now: () => 0, clearTimeout: () => {} },
      ];
      for (const clock of bad) {
        await assert.rejects(
          startEmulator({ clock: clock as never }),
          (err: unknown) =>
            err instanceof MaskinportenError && err.code === 'ERR_INVALID_ARGUMENT' && err.setting === 'clock',
          JSON.stringify(clock),
        );
      }
    });

    it('the Date header follows the emulator clock', async () => {
      for (const offset of [0, 30_000, -3_600_000, 400 * 24 * 3600 * 1000]) {
        emulator.clock.setOffset(offset);
        const before = emulator.clock.now();
        const res = await fetch(`${emulator.url}/jwk`);
        await res.text();
        const afterNow = emulator.clock.now();
        const date = Date.parse(res.headers.get('date') ?? '');
        assert.ok(date >= Math.floor(before / 1000) * 1000 && date <= afterNow, `offset ${offset}`);
      }
    });

    it('grants are judged on the emulator clock: a skewed client is refused with the live texts', async () => {
      const machineNow = () => Math.floor(Date.now() / 1000);
      const description = (answer: { body: Record<string, unknown> }) =>
        String(answer.body.error_description).replace(/ \(trace_id: \w+\)$/, '');
      // 140 s ahead: a 120 s grant made on machine time expired more than the 10 s of skew ago.
      emulator.clock.setOffset(140_000);
      const onMachineTime = await postToken(emulator, makeGrant(emulator, client, { now: machineNow() }));
      assert.equal(onMachineTime.status, 400, JSON.stringify(onMachineTime.body));
      assert.equal(description(onMachineTime), 'JWT has expired');
      const onEmulatorTime = await postToken(emulator, makeGrant(emulator, client));
      assert.equal(onEmulatorTime.status, 200, JSON.stringify(onEmulatorTime.body));

      emulator.clock.setOffset(-30_000);
      const ahead = await postToken(emulator, makeGrant(emulator, client, { now: machineNow() }));
      assert.equal(description(ahead), 'Issue time is in the future');

      // 30 s behind the emulator is fine live (no "iat too old" check), and so is anything within ±10 s.
      for (const offset of [30_000, 5_000, -5_000]) {
        emulator.clock.setOffset(offset);
        assert.equal((await postToken(emulator, makeGrant(emulator, client, { now: machineNow() }))).status, 200);
      }
    });

    it('issued tokens and log entries are dated on the emulator clock', async () => {
      // 100 days on (inside the client key's year), on a whole hour.
      const target = Math.floor((emulator.clock.now() + 100 * 24 * 3600 * 1000) / 3_600_000) * 3_600_000;
      emulator.clock.set(target);
      const answer = await postToken(emulator, makeGrant(emulator, client));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const { iat } = JSON.parse(
        Buffer.from((answer.body.access_token as string).split('.')[1]!, 'base64url').toString(),
      ) as { iat: number };
      assert.ok(iat >= target / 1000 && iat <= emulator.clock.now() / 1000, String(iat));
      const entry = emulator.requests.entries({ endpoint: 'token' }).at(-1);
      const logged = Date.parse(entry?.time ?? '');
      assert.ok(logged >= target && logged <= emulator.clock.now(), entry?.time);
    });

    it('POST /_emulator/clock sets the offset, advances, or sets the time; GET describes it', async () => {
      const clockUrl = `${emulator.url}/_emulator/clock`;
      const post = (body: unknown) =>
        call(clockUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const set = await post({ offsetMs: 30_000 });
      assert.equal(set.status, 200, set.text);
      assert.equal(obj(set).offsetMs, 30_000);
      assert.equal(emulator.clock.offsetMs, 30_000);

      const advanced = await post({ advanceMs: 1_500 });
      assert.equal(obj(advanced).offsetMs, 31_500);
      assert.equal(emulator.clock.offsetMs, 31_500);

      const target = Math.floor((emulator.clock.now() + 30 * 24 * 3600 * 1000) / 3_600_000) * 3_600_000;
      const at = await post({ now: new Date(target).toISOString() });
      assert.equal(at.status, 200);
      const now = Date.parse(obj(at).now as string);
      assert.ok(now >= target && now < target + 60_000, obj(at).now as string);
      assert.ok(emulator.clock.now() >= target);

      const atMs = await post({ now: target });
      assert.equal(atMs.status, 200);

      const described = await call(clockUrl);
      assert.equal(described.status, 200);
      assert.equal(typeof obj(described).now, 'string');
      assert.equal(obj(described).offsetMs, emulator.clock.offsetMs);

      // The Date header of the token endpoint follows the clock set over HTTP.
      await post({ offsetMs: 0 });
      await post({ offsetMs: 7_200_000 });
      const before = emulator.clock.now();
      const res = await targets.discovery.send();
      await res.text();
      assert.ok(Date.parse(res.headers.get('date') ?? '') >= Math.floor(before / 1000) * 1000);

      for (const bad of [{}, { offsetMs: 'x' }, { advanceMs: null }, { now: 'not a date' }, { now: true }]) {
        const answer = await post(bad);
        assert.equal(answer.status, 400, `${JSON.stringify(bad)}: ${answer.text}`);
        assert.equal(obj(answer).error, 'invalid_request');
      }
      assert.equal(emulator.clock.offsetMs, 7_200_000, 'a refused change changes nothing');
    });
  });

  describe('request log', () => {
    it('records the decoded grant header and claims, the outcome and the MP code', async () => {
      emulator.requests.clear();
      const good = makeGrant(emulator, client, { claims: { scope: 'test:read' } });
      const goodAnswer = await postToken(emulator, good);
      assert.equal(goodAnswer.status, 200);
      const bad = makeGrant(emulator, client, { claims: { scope: 'test:not-mine' } });
      const badAnswer = await postToken(emulator, bad);
      assert.equal(badAnswer.status, 400);

      const [ok, refused] = emulator.requests.entries({ endpoint: 'token' });
      assert.ok(ok && refused);
      assert.equal(ok.method, 'POST');
      assert.equal(ok.path, '/token');
      assert.equal(ok.status, 200);
      assert.equal(ok.outcome, 'ok');
      assert.equal(ok.clientId, client.clientId);
      assert.equal(ok.grant?.header.alg, 'RS256');
      assert.equal(ok.grant?.header.kid, client.kid);
      assert.equal(ok.grant?.claims.iss, client.clientId);
      assert.equal(ok.grant?.claims.aud, emulator.issuer);
      assert.equal(ok.grant?.claims.scope, 'test:read');
      assert.equal(typeof ok.grant?.claims.jti, 'string');
      assert.equal(ok.mpCode, undefined);
      assert.ok(!Number.isNaN(Date.parse(ok.time)));
      assert.equal(typeof ok.durationMs, 'number');
      assert.ok(ok.id < refused.id);

      assert.equal(refused.status, 400);
      assert.equal(refused.outcome, 'error');
      assert.equal(refused.error, 'invalid_scope');
      assert.equal(refused.mpCode, 'MP-200');
      assert.match(refused.errorDescription ?? '', /trace_id/);
      assert.equal(refused.grant?.claims.scope, 'test:not-mine');
    });

    it('never holds an assertion, a signature, a private key member or an issued token', async () => {
      emulator.requests.clear();
      const secrets: string[] = [];
      const keep = (jwt: string) => {
        secrets.push(jwt, jwt.split('.')[2]!);
      };
      // A good grant, a refused one, one with a signature that does not verify, and a replay.
      const good = makeGrant(emulator, client);
      keep(good);
      const issued = await postToken(emulator, good);
      assert.equal(issued.status, 200);
      keep(issued.body.access_token as string);
      const replay = await postToken(emulator, good);
      assert.equal(mpCode(replay), 'MP-012');
      const refused = makeGrant(emulator, client, { claims: { aud: 'https://elsewhere.example/' } });
      keep(refused);
      await postToken(emulator, refused);
      const [h, p] = makeGrant(emulator, client).split('.');
      const badSig = `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}`;
      keep(badSig);
      assert.equal(mpCode(await postToken(emulator, badSig)), 'MP-124');

      // Exchange, protected APIs and self-service see tokens too.
      const exchanged = await altinnToken(emulator, issued.body.access_token as string);
      keep(exchanged);
      await fetch(`${emulator.url}/notifications/api/v1/orders`, {
        method: 'POST',
        headers: { ...bearer(exchanged), 'content-type': 'application/json' },
        body: ORDER,
      }).then((r) => r.text());
      await fetch(`${emulator.url}/api/echo`, { headers: bearer(issued.body.access_token as string) }).then((r) =>
        r.text(),
      );
      keep(admin);
      const created = await call(`${emulator.url}/_emulator/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scopes: ['test:read'] }),
      });
      assert.equal(created.status, 201, created.text);
      const createdKey = obj(created).privateJwk as Record<string, string>;
      await fetch(`${emulator.url}/clients/${emulator.adminClient.clientId}/jwks`, {
        method: 'POST',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        // Refused (private members), but the body must not reach the log either.
        body: JSON.stringify({ keys: [createdKey] }),
      }).then((r) => r.text());

      for (const jwk of [client.privateJwk!, emulator.adminClient.privateJwk, createdKey]) {
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
          assert.equal(typeof jwk[member], 'string');
          secrets.push(jwk[member] as string);
        }
      }

      const fromCode = JSON.stringify(emulator.requests.entries());
      const overHttp = (await call(`${emulator.url}/_emulator/log`)).text;
      assert.ok(emulator.requests.entries().length >= 8);
      for (const logged of [fromCode, overHttp]) {
        for (const secret of secrets) {
          assert.ok(secret.length > 20);
          assert.ok(!logged.includes(secret), `the log holds a secret starting ${secret.slice(0, 12)}…`);
        }
        assert.ok(!logged.includes('"assertion"'));
        assert.ok(!logged.includes('access_token'));
        assert.ok(!logged.includes('privateJwk'));
      }
    });

    it('records faults and unknown paths', async () => {
      emulator.requests.clear();
      emulator.faults.add({ endpoint: 'jwks', status: 503, times: 1 });
      await (await targets.jwks.send()).text();
      await call(`${emulator.url}/nowhere`);
      const [faulted, unknown] = emulator.requests.entries();
      assert.equal(faulted?.endpoint, 'jwks');
      assert.equal(faulted?.outcome, 'fault');
      assert.equal(faulted?.status, 503);
      assert.equal(faulted?.fault, 'status 503');
      assert.equal(unknown?.endpoint, 'other');
      assert.equal(unknown?.status, 404);
      assert.equal(unknown?.outcome, 'error');
    });

    it('GET /_emulator/log serves it (filtered by ?endpoint=), DELETE clears it, control calls are not logged', async () => {
      const logUrl = `${emulator.url}/_emulator/log`;
      assert.equal((await call(logUrl, { method: 'DELETE' })).status, 200);
      assert.deepEqual((await call(logUrl)).json, []);
      await (await targets.jwks.send()).text();
      await postToken(emulator, makeGrant(emulator, client));
      await (await targets.discovery.send()).text();

      const all = await call(logUrl);
      assert.equal(all.status, 200);
      assert.deepEqual(all.json, JSON.parse(JSON.stringify(emulator.requests.entries())));
      assert.deepEqual(
        (all.json as { endpoint: string }[]).map((e) => e.endpoint),
        ['jwks', 'token', 'discovery'],
      );
      const tokenOnly = (await call(`${logUrl}?endpoint=token`)).json as { endpoint: string; grant: unknown }[];
      assert.equal(tokenOnly.length, 1);
      assert.equal(tokenOnly[0]?.endpoint, 'token');
      assert.ok(tokenOnly[0]?.grant);
      assert.deepEqual((await call(`${logUrl}?endpoint=nothing`)).json, []);

      const cleared = await call(logUrl, { method: 'DELETE' });
      assert.deepEqual(cleared.json, { cleared: true });
      assert.deepEqual((await call(logUrl)).json, []);
      assert.deepEqual(emulator.requests.entries(), []);
    });

    it('keeps only the newest logLimit entries', async () => {
      const small = await startEmulator({ logLimit: 3 });
      try {
        for (let i = 0; i < 5; i++) await (await fetch(`${small.url}/jwk`)).text();
        const entries = small.requests.entries();
        assert.equal(entries.length, 3);
        assert.deepEqual(
          entries.map((e) => e.id),
          [3, 4, 5],
        );
      } finally {
        await small.close();
      }
    });
  });
});
