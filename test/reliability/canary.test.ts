/**
 * The secret canary on purpose (issue 8, part 2). The preload (test/setup/canary.ts) scans everything each test
 * process prints for the CANARY key and token and for every key, token and grant made during the run. This file
 * drives every output surface with the CANARY key and tokens issued to it — errors of every kind, log lines,
 * tokens, the client, signers, loaded settings, configuration errors, the emulator's request log, the CLI's output
 * — and asserts that the canary (and every other registered secret) appears 0 times in what each one renders.
 * Then it proves the scanner works: a process that leaks exits non-zero with a report that names the kind of
 * secret and never shows it, a clean one passes, and `node --test` fails a test file that leaks.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Console } from 'node:console';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { format, inspect } from 'node:util';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { ConfigValidationError, type LoadSettingsOptions, loadMaskinportenSettings } from '../../src/config/index.ts';
import { type Emulator, NOTIFICATIONS_SCOPE } from '../../src/emulator/index.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { signCompact } from '../../src/keys/jws.ts';
import { loadSigner } from '../../src/keys/signer.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { type AccessToken, maskToken } from '../../src/token.ts';
import {
  assertBuilt,
  baseEnv,
  type CliResult,
  ROOT,
  type RunOptions,
  runCli,
  runCliProcess,
} from '../e2e/cli-harness.ts';
import {
  FakeClock,
  recordingLogger,
  recordingRetryHooks,
  rejectsWith,
  startLocalServer,
  startProxy,
  throwsWith,
} from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';
import { CANARY, leaksSoFar, SecretScanner, secrets } from '../setup/canary.ts';

const SCOPE = 'canary:read';
const PRELOAD = join(ROOT, 'test/setup/canary.ts');
const CHILD_TIMEOUT_MS = 45_000;

/** What was scanned, for the summary. */
const tally = { renderings: 0, surfaces: new Set<string>() };

/** Asserts that no registered secret (the CANARY first of all) is in any of `texts`. Never prints a text. */
function assertNoSecret(surface: string, texts: readonly string[]): void {
  tally.surfaces.add(surface);
  for (const text of texts) {
    tally.renderings++;
    const kinds = secrets.kindsIn(text);
    assert.deepEqual(kinds, [], `${surface}: the output holds ${kinds.length} secret(s): ${kinds.join('; ')}`);
  }
}

function safe(render: () => string | undefined): string {
  try {
    return render() ?? '';
  } catch (err) {
    return `(rendering threw ${(err as Error).name})`;
  }
}

/**
 * Everything a value can turn into when printed or logged. `raw: false` leaves out inspection without custom
 * inspectors, for plain objects that hold a secret by design (settings) and can only mask it in their inspector.
 */
function renderings(value: unknown, { raw = true } = {}): string[] {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const con = new Console({ stdout: sink, stderr: sink });
  con.log(value);
  con.error({ nested: { deeper: [value] } });
  con.dir(value, { depth: null });
  con.log('%s %o %O %j', value, value, value, value);
  const out = [
    chunks.join(''),
    inspect(value),
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    raw ? inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, customInspect: false }) : '',
    format('%s', value),
    safe(() => JSON.stringify(value)),
    safe(() => JSON.stringify({ wrapped: value })),
    safe(() => String(value)),
  ];
  if (value instanceof Error) {
    out.push(
      value.message,
      value.stack ?? '',
      safe(() => JSON.stringify(value, Object.getOwnPropertyNames(value))),
    );
    let cause: unknown = value.cause;
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      out.push(
        inspect(cause, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        safe(() => String(cause)),
      );
      if (cause instanceof Error) out.push(cause.message, cause.stack ?? '');
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    if (value instanceof ConfigValidationError) out.push(JSON.stringify(value.problems));
  }
  return out;
}

/** Asserts that nothing `value` renders to holds a secret. */
function assertRendersClean(surface: string, value: unknown, options: { raw?: boolean } = {}): void {
  assertNoSecret(surface, renderings(value, options));
}

/** The kinds the scanner finds in a text that is meant to hold one (a positive check, never printed). */
function kindsIn(text: string): string[] {
  return secrets.kindsIn(text);
}

describe('secret canary', () => {
  after(() => {
    // The summary, and a last check that nothing this file printed leaked (the exit report would fail it anyway).
    console.log(
      `secret canary: ${tally.renderings} renderings of ${tally.surfaces.size} output surfaces scanned for ` +
        `${secrets.size} registered secrets, the CANARY among them`,
    );
    assert.equal(leaksSoFar().length, 0, 'this process printed no secret');
  });

  describe('the CANARY', () => {
    it('is registered: the key (whole, partial, as JwkBase64, as PEM) and the token are recognised', () => {
      const members = ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => `CANARY private key member ${m}`);
      assert.deepEqual(kindsIn(CANARY.jwkJson), members);
      assert.deepEqual(kindsIn(`x ${CANARY.privateJwk.d.slice(100, 131)} y`), [members[0]], '31 characters of d');
      assert.deepEqual(
        kindsIn(CANARY.jwkBase64),
        members.map((m) => `${m} (base64-encoded)`),
      );
      assert.deepEqual(
        kindsIn(CANARY.pem)
          .map((k) => k.replace(' (base64-encoded)', ''))
          .sort(),
        [...members].sort(),
      );
      assert.deepEqual(kindsIn(`Authorization: Bearer ${CANARY.token}`), ['CANARY token']);
      // The public half, and a token without its signature, are no secrets.
      assert.deepEqual(kindsIn(JSON.stringify(CANARY.publicJwk)), []);
      assert.deepEqual(kindsIn(CANARY.token.slice(0, CANARY.token.lastIndexOf('.'))), []);
    });

    it('is preloaded with --import, as in every test file’s process (npm test, scripts/test-node22.sh)', () => {
      const args = process.execArgv.map((a) => a.replace(/^--import=/, ''));
      const preloaded = args.some((a) => /test[\\/]setup[\\/]canary\.ts$/.test(a));
      assert.ok(preloaded, 'run the suite with --import ./test/setup/canary.ts (the test script does)');
    });

    it('is in the environment of every test process', () => {
      assert.ok(process.env.MASKINPORTEN_CANARY_JWK_BASE64 === CANARY.jwkBase64, 'MASKINPORTEN_CANARY_JWK_BASE64');
      assert.ok(process.env.MASKINPORTEN_CANARY_TOKEN === CANARY.token, 'MASKINPORTEN_CANARY_TOKEN');
    });

    it('every key the package generates is registered', async () => {
      const pair = await generateRsaKeyPair({ kid: 'registered-on-creation' });
      assert.deepEqual(
        kindsIn(JSON.stringify(pair.privateJwk)),
        ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => `private key member ${m} (kid registered-on-creation)`),
      );
      assert.deepEqual(kindsIn(JSON.stringify(pair.publicJwk)), []);
    });
  });

  describe('with the CANARY key against the emulator', () => {
    const clock = new FakeClock();
    // The documented rules, whose skew errors carry MP-130 (the error kinds below include clock skew).
    const emulator = useEmulator({ clock, rules: 'documented' });
    const canaryClient = useClient(emulator, {
      scopes: [SCOPE, NOTIFICATIONS_SCOPE],
      jwks: [CANARY.publicJwk],
      clientName: 'canary',
    });
    let settings: MaskinportenSettings;
    const logger = recordingLogger();
    const { retryHooks } = recordingRetryHooks();
    let client: MaskinportenClient;
    let token: AccessToken;
    let altinnToken: AccessToken;

    const newClient = (over: Partial<MaskinportenSettings> = {}, options: MaskinportenClientOptions = {}) =>
      new MaskinportenClient({ ...settings, ...over }, { logger, clock, retryHooks, altinnTest: true, ...options });

    before(async () => {
      settings = {
        authority: emulator.issuer,
        clientId: canaryClient.clientId,
        jwkBase64: CANARY.jwkBase64,
        altinnPlatformUrl: emulator.altinnPlatformUrl,
      };
      client = newClient();
      token = await client.getAccessToken([SCOPE]);
      altinnToken = await client.getAltinnExchangedToken([NOTIFICATIONS_SCOPE]);
    });
    beforeEach(() => {
      emulator.faults.clear();
      emulator.clock.setOffset(0);
    });

    it('tokens issued to the CANARY client are registered (the emulator tells the registry)', () => {
      assert.ok(kindsIn(token.value).some((k) => k.startsWith('Maskinporten access token (emulator')));
      assert.ok(kindsIn(altinnToken.authorizationHeader).some((k) => k.startsWith('Altinn token (emulator')));
    });

    it('AccessToken: util.inspect, JSON.stringify, String, console of both kinds show a masked form', () => {
      for (const t of [token, altinnToken]) {
        assertRendersClean(`AccessToken (${t.kind})`, t);
        assertRendersClean(`AccessToken (${t.kind}) in an object`, { token: t, list: [t] });
        assertNoSecret(`AccessToken (${t.kind}) template`, [`${t}`, maskToken(t.value), JSON.stringify(t.claims)]);
      }
    });

    it('the client: util.inspect, JSON.stringify, String, console', () => {
      assertRendersClean('MaskinportenClient', client);
      assertRendersClean('MaskinportenClient in an object', { client, settingsKeys: Object.keys(settings) });
    });

    it('LoadedSigner objects from each form of the CANARY key', async () => {
      const forms: Record<string, Partial<MaskinportenSettings>> = {
        'jwk object': { jwk: { ...CANARY.privateJwk } },
        'jwk text': { jwk: CANARY.jwkJson },
        jwkBase64: { jwkBase64: CANARY.jwkBase64 },
        'pem + kid': { pem: CANARY.pem, kid: CANARY.kid },
      };
      for (const [form, material] of Object.entries(forms)) {
        const signer = await loadSigner(material);
        assert.equal(signer.id, `kid:${CANARY.kid}`);
        assertRendersClean(`LoadedSigner (${form})`, signer);
      }
    });

    it('errors for bad CANARY key material: message, stack, inspect, JSON', async () => {
      const other = await generateRsaKeyPair({ kid: CANARY.kid });
      const { kty: _kty, ...noKty } = CANARY.privateJwk;
      const { kid: _kid, ...noKid } = CANARY.privateJwk;
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      const bad: Record<string, Partial<MaskinportenSettings>> = {
        'truncated JWK JSON': { jwk: CANARY.jwkJson.slice(0, -30) },
        // V8 quotes the text around a JSON syntax error in its message.
        'JWK JSON with a stray comma': { jwk: CANARY.jwkJson.replace('","p":', '",,"p":') },
        'truncated JwkBase64 JSON': { jwkBase64: b64(CANARY.jwkJson.slice(0, -30)) },
        'JwkBase64 that is not base64': {
          jwkBase64: `${CANARY.jwkBase64.slice(0, 200)}!${CANARY.jwkBase64.slice(200)}`,
        },
        'JwkBase64 of something else': { jwkBase64: b64(`not a key ${CANARY.jwkJson}`) },
        'a key list': { jwk: { keys: [CANARY.privateJwk] } },
        'a key list as JwkBase64': { jwkBase64: b64(JSON.stringify([CANARY.privateJwk])) },
        'the public half': { jwk: { ...CANARY.publicJwk } },
        'kty EC': { jwk: { ...CANARY.privateJwk, kty: 'EC' } },
        'no kty': { jwk: noKty },
        'alg HS256': { jwk: { ...CANARY.privateJwk, alg: 'HS256' } },
        'no kid': { jwk: noKid },
        'a bad kid': { jwk: CANARY.privateJwk, kid: 'not a valid kid!' },
        'n of another key': { jwk: { ...CANARY.privateJwk, n: other.privateJwk.n } },
        'a private member that is not a string': { jwk: { ...CANARY.privateJwk, d: 42 } },
        'p of another key': { jwk: { ...CANARY.privateJwk, p: other.privateJwk.p } },
        'jwk and jwkBase64 of different keys': {
          jwk: CANARY.privateJwk,
          jwkBase64: b64(JSON.stringify(other.privateJwk)),
        },
        'pem without kid': { pem: CANARY.pem },
        'truncated pem': { pem: CANARY.pem.slice(0, 500), kid: CANARY.kid },
        'a JWK given as pem': { pem: CANARY.jwkJson, kid: CANARY.kid },
        'pem with a chain that is no certificate': { pem: CANARY.pem, certificateChain: [CANARY.tokenSignature] },
        'pem with both kid and a chain': { pem: CANARY.pem, kid: CANARY.kid, certificateChain: [CANARY.jwkBase64] },
      };
      for (const [what, material] of Object.entries(bad)) {
        const base = { authority: emulator.issuer, clientId: canaryClient.clientId };
        let err: unknown;
        try {
          new MaskinportenClient({ ...base, ...material } as MaskinportenSettings, { logger });
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof MaskinportenError, `${what}: a MaskinportenError`);
        assertRendersClean(`client error: ${what} (${err.code})`, err);
        // The same material through the loader (every problem at once).
        const signerErr = await loadSigner(material).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (signerErr) assertRendersClean(`loadSigner error: ${what}`, signerErr);
      }
    });

    it('every kind of token-request error with the CANARY key: message, stack, inspect, JSON', async () => {
      const errors: Record<string, MaskinportenError> = {};
      const expect = async (what: string, promise: Promise<unknown>, code: MaskinportenError['code']) => {
        errors[`${what} (${code})`] = await rejectsWith(promise, code);
      };
      await expect('unknown kid', newClient({ kid: 'not-registered' }).getAccessToken([SCOPE]), 'ERR_UNKNOWN_KID');
      await expect(
        'unknown client',
        newClient({ clientId: 'no-such-client' }).getAccessToken([SCOPE]),
        'ERR_UNKNOWN_CLIENT',
      );
      const proxy = await startProxy(emulator, {
        discovery: (doc) => ({ ...doc, issuer: 'https://test.maskinporten.no/' }),
      });
      try {
        await expect(
          'wrong audience',
          newClient({ authority: proxy.url }).getAccessToken([SCOPE]),
          'ERR_INVALID_AUDIENCE',
        );
      } finally {
        await proxy.close();
      }
      const impostor = await generateRsaKeyPair();
      const wrongKey = await emulator.createClient({
        scopes: [SCOPE],
        jwks: [{ ...impostor.publicJwk, kid: CANARY.kid }],
      });
      await expect(
        'a key that does not match the registered one',
        newClient({ clientId: wrongKey.clientId }).getAccessToken([SCOPE]),
        'ERR_INVALID_SIGNATURE',
      );
      await expect('an unregistered scope', client.getAccessToken(['not:registered']), 'ERR_INVALID_SCOPE');
      await expect(
        'no delegation',
        client.getAccessToken({ scopes: [SCOPE], consumerOrg: '310000009' }),
        'ERR_ACCESS_DENIED',
      );
      await expect(
        'an unknown system user',
        client.getAccessToken({ scopes: [SCOPE], systemUser: { org: '310000008' } }),
        'ERR_AUTHORIZATION_DETAILS',
      );
      emulator.clock.setOffset(120_000);
      try {
        await expect('clock skew', newClient().getAccessToken([SCOPE]), 'ERR_CLOCK_SKEW');
      } finally {
        emulator.clock.setOffset(0);
      }
      const faults: [string, Parameters<Emulator['faults']['add']>[0], MaskinportenError['code']][] = [
        ['500', { endpoint: 'token', status: 500 }, 'ERR_SERVER'],
        ['503 with Retry-After', { endpoint: 'token', status: 503, retryAfter: 1 }, 'ERR_SERVER'],
        ['429 with Retry-After', { endpoint: 'token', status: 429, retryAfter: 1 }, 'ERR_RATE_LIMITED'],
        ['connection reset', { endpoint: 'token', reset: true }, 'ERR_NETWORK'],
        // The body stops half-way and the connection closes: a network error.
        ['truncated body', { endpoint: 'token', body: 'truncated' }, 'ERR_NETWORK'],
        ['invalid JSON', { endpoint: 'token', body: 'non-json' }, 'ERR_INVALID_RESPONSE'],
        ['an HTML error page (502)', { endpoint: 'token', body: 'html' }, 'ERR_SERVER'],
        ['latency past the timeout', { endpoint: 'token', latencyMs: 400 }, 'ERR_TIMEOUT'],
      ];
      for (const [what, fault, code] of faults) {
        emulator.faults.clear();
        emulator.faults.add(fault);
        await expect(
          what,
          newClient({}, { timeoutMs: 150, deadlineMs: 2000, retry: { maxAttempts: 2 } }).getAccessToken([SCOPE]),
          code,
        );
      }
      emulator.faults.clear();
      for (const [what, status, code] of [
        ['Altinn exchange 401', 401, 'ERR_ALTINN_EXCHANGE'],
        ['Altinn exchange 500', 500, 'ERR_SERVER'],
      ] as const) {
        emulator.faults.clear();
        emulator.faults.add({ endpoint: 'exchange', status });
        await expect(
          what,
          newClient({}, { retry: { maxAttempts: 2 } }).getAltinnExchangedToken([NOTIFICATIONS_SCOPE]),
          code,
        );
      }
      emulator.faults.clear();
      // Token responses that are not what they should be, with a CANARY-signed token or the CANARY token's
      // signature as the access token.
      const expired = signCompact(
        { alg: 'RS256', kid: CANARY.kid },
        { ...CANARY.tokenClaims, iat: 1_600_000_000, exp: 1_600_000_060, jti: 'canary-expired' },
        (await loadSigner({ jwk: CANARY.privateJwk })).key,
      );
      secrets.register(expired.slice(expired.lastIndexOf('.') + 1), 'CANARY-signed expired token');
      const answers: [string, Record<string, unknown>, MaskinportenError['code']][] = [
        [
          'an opaque token without expires_in',
          { access_token: CANARY.tokenSignature, expires_in: undefined },
          'ERR_INVALID_RESPONSE',
        ],
        ['an expired token', { access_token: expired }, 'ERR_TOKEN_EXPIRED'],
        ['a token of another type', { access_token: CANARY.token, token_type: 'DPoP' }, 'ERR_INVALID_RESPONSE'],
        ['no access_token', { access_token: '', note: `not ${CANARY.token}` }, 'ERR_INVALID_RESPONSE'],
      ];
      for (const [what, change, code] of answers) {
        const tampering = await startProxy(emulator, { tokenBody: (body) => ({ ...body, ...change }) });
        try {
          await expect(what, newClient({ authority: tampering.url }).getAccessToken([SCOPE]), code);
        } finally {
          await tampering.close();
        }
      }
      // Nobody listening, and a caller that gives up.
      const closed = await startLocalServer(() => undefined);
      await closed.close();
      await expect(
        'nobody listening',
        newClient({ authority: closed.url }, { retry: false }).getAccessToken([SCOPE]),
        'ERR_NETWORK',
      );
      emulator.faults.add({ endpoint: 'token', latencyMs: 300 });
      await expect(
        'aborted by the caller',
        newClient().getAccessToken([SCOPE], { signal: AbortSignal.timeout(30) }),
        'ERR_ABORTED',
      );
      emulator.faults.clear();
      errors['insecure authority (ERR_INSECURE_URL)'] = throwsWith(
        () => newClient({ authority: 'http://example.com/' }),
        'ERR_INSECURE_URL',
      );
      errors['no scopes (ERR_INVALID_ARGUMENT)'] = await rejectsWith(
        Promise.resolve().then(() => client.getAccessToken([])),
        'ERR_INVALID_ARGUMENT',
      );

      assert.ok(Object.keys(errors).length >= 25, 'every kind of error was met');
      for (const [what, err] of Object.entries(errors)) assertRendersClean(`client error: ${what}`, err);
    });

    it('a logger receiving every log line (debug, info, warn, error)', async () => {
      // Discovery failing (warn), retries (debug), fetched tokens (debug), a failed background refresh (warn),
      // new settings (info).
      emulator.faults.add({ endpoint: 'discovery', status: 500, times: 1 });
      emulator.faults.add({ endpoint: 'token', status: 503, times: 1 });
      const logged = newClient({}, { cache: { refreshAhead: 0.5 } });
      await logged.getAccessToken([SCOPE]);
      await logged.getAltinnExchangedToken([NOTIFICATIONS_SCOPE]);
      clock.advance(70_000);
      emulator.faults.add({ endpoint: 'token', status: 400, times: 1 });
      const failedRefresh = logger.next('warn', /background token refresh failed/);
      await logged.getAccessToken([SCOPE]);
      await failedRefresh;
      await logged.reconfigure({ ...settings });
      emulator.faults.clear();
      const levels = new Set(logger.entries.map((e) => e.level));
      assert.ok(logger.entries.length >= 5 && levels.has('debug') && levels.has('warn') && levels.has('info'));
      for (const entry of logger.entries) {
        assertNoSecret(`log line (${entry.level}: ${entry.msg})`, [
          entry.msg ?? '',
          safe(() => JSON.stringify(entry.obj)),
          ...renderings(entry.obj),
        ]);
      }
    });

    it("the emulator's request log", () => {
      const entries = emulator.requests.entries();
      assert.ok(
        entries.some((e) => e.endpoint === 'token' && e.grant) && entries.some((e) => e.endpoint === 'exchange'),
      );
      assertRendersClean('emulator request log', entries);
    });

    describe('settings loaded with the CANARY key', () => {
      let dir: string;
      const load = (options: LoadSettingsOptions) => loadMaskinportenSettings({ env: {}, configDir: dir, ...options });
      const appsettings = (section: Record<string, unknown>, name = 'appsettings.json') =>
        writeFileSync(join(dir, name), JSON.stringify({ MaskinportenSettings: section }, null, 2));

      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'maskinporten-canary-config-'));
      });
      after(() => rmSync(dir, { recursive: true, force: true }));

      it('the loaded settings and their sources: util.inspect, JSON.stringify, String, console', async () => {
        const section = { Authority: emulator.issuer, ClientId: canaryClient.clientId, JwkBase64: CANARY.jwkBase64 };
        appsettings(section);
        const fromFile = await load({});
        const fromEnv = await load({
          env: {
            MaskinportenSettings__Authority: emulator.issuer,
            MaskinportenSettings__ClientId: canaryClient.clientId,
            MaskinportenSettings__Jwk: CANARY.jwkJson,
          },
        });
        const fromCode = await load({ configure: { jwk: { ...CANARY.privateJwk }, jwkBase64: undefined } });
        for (const [what, loaded] of Object.entries({ fromFile, fromEnv, fromCode })) {
          assertRendersClean(`loaded settings (${what})`, loaded.settings, { raw: false });
          assertRendersClean(`loadMaskinportenSettings result (${what})`, loaded, { raw: false });
          assert.ok(inspect(loaded.settings).includes("'[secret]'"), 'the key is shown as [secret]');
        }
        // Still the key, for the client: masking is only for display.
        assert.ok(fromFile.settings.jwkBase64 === CANARY.jwkBase64);
        const fromLoaded = new MaskinportenClient(fromFile.settings, { clock });
        assert.ok((await fromLoaded.getAccessToken([SCOPE])).scopes.includes(SCOPE));
      });

      it('ConfigValidationError for configurations holding the CANARY key but otherwise invalid', async () => {
        const valid = { Authority: emulator.issuer, ClientId: canaryClient.clientId };
        const cases: Record<string, () => Promise<unknown>> = {
          'no client id, insecure authority': () => {
            appsettings({ Authority: 'http://example.com/', ClientId: '', JwkBase64: CANARY.jwkBase64 });
            return load({});
          },
          'truncated JwkBase64': () => {
            appsettings({ ...valid, JwkBase64: CANARY.jwkBase64.slice(0, -40) });
            return load({});
          },
          'truncated Jwk text': () => {
            appsettings({ ...valid, Jwk: CANARY.jwkJson.slice(0, -40) });
            return load({});
          },
          'Jwk and JwkBase64 of different keys': async () => {
            const other = await generateRsaKeyPair({ kid: CANARY.kid });
            appsettings({
              ...valid,
              Jwk: CANARY.privateJwk,
              JwkBase64: Buffer.from(JSON.stringify(other.privateJwk)).toString('base64'),
            });
            return load({});
          },
          'JwkBase64 of the wrong type': () => {
            appsettings({ ...valid, JwkBase64: { value: CANARY.jwkBase64 } });
            return load({});
          },
          'Pem without Kid': () => {
            appsettings({ ...valid, Pem: CANARY.pem });
            return load({});
          },
          'legacy EncodedJwk with an unknown Environment': () => {
            appsettings({ ClientId: canaryClient.clientId, EncodedJwk: CANARY.jwkBase64, Environment: 'staging' });
            return load({});
          },
          'malformed appsettings.json around the key': () => {
            writeFileSync(
              join(dir, 'appsettings.json'),
              `{ "MaskinportenSettings": { "ClientId": "x", "JwkBase64": "${CANARY.jwkBase64}" "Authority": "test" } }`,
            );
            return load({});
          },
          'environment variables with a bad authority': () => {
            rmSync(join(dir, 'appsettings.json'), { force: true });
            return load({
              env: {
                MaskinportenSettings__Authority: 'not a url',
                MaskinportenSettings__ClientId: canaryClient.clientId,
                MaskinportenSettings__JwkBase64: `${CANARY.jwkBase64}!`,
              },
            });
          },
          'a secrets directory with a damaged key': () => {
            const secretsDir = join(dir, 'secrets');
            mkdirSync(secretsDir, { recursive: true });
            writeFileSync(join(secretsDir, 'MaskinportenSettings__JwkBase64'), CANARY.jwkBase64.slice(8));
            writeFileSync(join(secretsDir, 'MaskinportenSettings__Jwk'), `[${CANARY.jwkJson}]`);
            return load({ secretsDir, configure: { authority: emulator.issuer, clientId: canaryClient.clientId } });
          },
          'code values: a public key holding one private member': () =>
            load({
              configure: {
                authority: emulator.issuer,
                clientId: canaryClient.clientId,
                jwk: JSON.stringify({ ...CANARY.publicJwk, p: CANARY.privateJwk.p }),
              },
            }),
        };
        for (const [what, run] of Object.entries(cases)) {
          const err = await run().then(
            () => undefined,
            (e: unknown) => e,
          );
          assert.ok(err instanceof ConfigValidationError, `${what}: a ConfigValidationError`);
          assertRendersClean(`ConfigValidationError: ${what}`, err);
        }
      });
    });

    describe('the CLI (built, run on the project’s Node 24)', () => {
      // The CLI runs on the system clock: an emulator of its own, on the same clock.
      const cliEmulator = useEmulator();
      const cliClient = useClient(cliEmulator, { scopes: [SCOPE], jwks: [CANARY.publicJwk], clientName: 'canary' });
      let dir: string;
      const files = { json: '', base64: '', pem: '' };
      let flags: string[];
      /**
       * Runs the built CLI in this process (its stdout and stderr captured, never written to this process's own)
       * and scans what it printed with this process's registry — which, the CLI running here, also learns every
       * key it generates and every grant it signs. `process: true` runs the built bin as a subprocess instead, so
       * that the bin's real stdout and stderr are scanned too.
       */
      const cli = async (
        surface: string,
        args: string[],
        options: RunOptions & { process?: boolean } = {},
      ): Promise<CliResult> => {
        const { process: asProcess, ...runOptions } = options;
        const r = await (asProcess ? runCliProcess : runCli)(args, runOptions);
        assertNoSecret(`CLI ${surface}${asProcess ? ' (bin)' : ''}`, [r.stdout, r.stderr]);
        return r;
      };

      before(async () => {
        assertBuilt();
        dir = mkdtempSync(join(tmpdir(), 'maskinporten-canary-cli-'));
        files.json = join(dir, 'canary.jwk.json');
        files.base64 = join(dir, 'canary.jwk.base64');
        files.pem = join(dir, 'canary.pem');
        writeFileSync(files.json, CANARY.jwkJson, { mode: 0o600 });
        writeFileSync(files.base64, CANARY.jwkBase64, { mode: 0o600 });
        writeFileSync(files.pem, CANARY.pem, { mode: 0o600 });
        flags = ['--authority', cliEmulator.issuer, '--client-id', cliClient.clientId];
      });
      after(async () => {
        rmSync(dir, { recursive: true, force: true });
      });

      it('doctor: every check, passing and failing, with the key from a file, env vars and appsettings', async () => {
        const passed = await cli('doctor', ['doctor', ...flags, '--key-file', files.base64, '--scope', SCOPE]);
        assert.equal(passed.code, 0, 'doctor passes with the CANARY key');
        await cli('doctor --json', ['doctor', ...flags, '--key-file', files.json, '--json']);
        await cli('doctor (pem)', ['doctor', ...flags, '--key-file', files.pem, '--kid', CANARY.kid]);
        const unknownKid = await cli('doctor (unknown kid)', [
          'doctor',
          ...flags,
          '--key-file',
          files.json,
          '--kid',
          'nope',
        ]);
        assert.equal(unknownKid.code, 1);
        const unknownClient = ['--authority', cliEmulator.issuer, '--client-id', 'nope', '--key-file', files.json];
        await cli('doctor (unknown client)', ['doctor', ...unknownClient]);
        const env = {
          MaskinportenSettings__Authority: cliEmulator.issuer,
          MaskinportenSettings__ClientId: cliClient.clientId,
        };
        await cli('doctor (settings from env)', ['doctor', '--json'], {
          env: { ...env, MaskinportenSettings__JwkBase64: CANARY.jwkBase64 },
        });
        await cli('doctor (truncated key in env)', ['doctor'], {
          env: { ...env, MaskinportenSettings__JwkBase64: CANARY.jwkBase64.slice(0, -40) },
        });
        const appDir = join(dir, 'app');
        mkdirSync(appDir, { recursive: true });
        const section = { Authority: cliEmulator.issuer, ClientId: cliClient.clientId, Jwk: CANARY.privateJwk };
        writeFileSync(join(appDir, 'appsettings.json'), JSON.stringify({ MaskinportenSettings: section }));
        await cli('doctor (appsettings)', ['doctor', '--config-dir', appDir, '--scope', SCOPE]);
      });

      it('token --dry-run and token errors', async () => {
        for (const [file, extra] of [
          [files.json, []],
          [files.base64, []],
          [files.pem, ['--kid', CANARY.kid]],
        ] as const) {
          const args = ['token', ...flags, '--key-file', file, ...extra, '--scope', SCOPE, '--dry-run'];
          const r = await cli('token --dry-run', args);
          assert.equal(r.code, 0);
          assert.ok(r.stdout.includes('"claims"'), 'the grant claims');
        }
        const withKey = [...flags, '--key-file', files.json];
        await cli('token (unregistered scope)', ['token', ...withKey, '--scope', 'not:registered']);
        await cli('token (unknown kid)', ['token', ...withKey, '--kid', 'nope', '--scope', SCOPE]);
        await cli('token (missing key file)', [
          'token',
          ...flags,
          '--key-file',
          join(dir, 'missing'),
          '--scope',
          SCOPE,
        ]);
        writeFileSync(join(dir, 'broken.json'), CANARY.jwkJson.slice(0, -30));
        const broken = ['--key-file', join(dir, 'broken.json')];
        // A truncated CANARY key, run as the bin: its real stderr, where V8 may quote the text around a JSON error.
        const brokenRun = await cli('token (broken key file)', ['token', ...flags, ...broken, '--scope', SCOPE], {
          process: true,
        });
        assert.equal(brokenRun.code, 1, 'the bin fails');
        assert.match(brokenRun.stderr, /^maskinporten: \S/, 'with a message on its stderr');
        // Printing the token is `token`'s purpose: the scanner sees exactly that token, and nothing of the key —
        // on the bin's real stdout and stderr, and in this process's captured output.
        for (const asProcess of [true, false]) {
          const args = ['token', ...withKey, '--scope', SCOPE, '--output', 'json'];
          const printed = await (asProcess ? runCliProcess : runCli)(args);
          assert.equal(printed.code, 0);
          const kinds = kindsIn(printed.stdout);
          assert.ok(
            kinds.length === 1 && kinds[0]!.startsWith('Maskinporten access token (emulator'),
            `only the token${asProcess ? ' (bin)' : ''}`,
          );
          assertNoSecret(`CLI token (stderr${asProcess ? ', bin' : ''})`, [printed.stderr]);
        }
      });

      it('keygen --json and keygen: the new private key never printed', async () => {
        for (const json of [true, false]) {
          const outDir = join(dir, json ? 'keys-json' : 'keys-text');
          const r = await runCli([
            'keygen',
            '--out-dir',
            outDir,
            '--kid',
            'canary-keygen',
            ...(json ? ['--json'] : []),
          ]);
          assert.equal(r.code, 0);
          const written = JSON.parse(readFileSync(join(outDir, 'private.jwk.json'), 'utf8')) as Record<string, string>;
          // Made by the CLI in this process, so registered on creation (the package tells the registry).
          assert.equal(kindsIn(JSON.stringify(written)).length, 6, 'the key is registered');
          assertNoSecret(`CLI keygen${json ? ' --json' : ''}`, [r.stdout, r.stderr]);
        }
      });

      it('decode of CANARY tokens shows the claims, never the signature', async () => {
        const issued = await new MaskinportenClient({
          authority: cliEmulator.issuer,
          clientId: cliClient.clientId,
          jwkBase64: CANARY.jwkBase64,
        }).getAccessToken([SCOPE]);
        // Signed with the CANARY key but naming the emulator as issuer: --verify must refuse it.
        const forged = signCompact(
          { alg: 'RS256', kid: 'forged', typ: 'JWT' },
          { ...CANARY.tokenClaims, iss: cliEmulator.issuer, jti: 'canary-forged' },
          (await loadSigner({ jwk: CANARY.privateJwk })).key,
        );
        secrets.register(forged.slice(forged.lastIndexOf('.') + 1), 'CANARY-signed forged token');
        const stdin = { input: `Bearer ${CANARY.token}\n` };
        const runs: [string, string[], string, number, RunOptions?][] = [
          ['decode', ['decode', CANARY.token], CANARY.tokenClaims.jti, 0],
          ['decode --json', ['decode', CANARY.token, '--json'], CANARY.tokenClaims.jti, 0],
          ['decode (stdin, Bearer)', ['decode', '-'], CANARY.tokenClaims.jti, 0, stdin],
          // The emulator is no preset issuer: --verify trusts it only when named.
          [
            'decode --verify (emulator token)',
            ['decode', issued.value, '--verify', '--authority', cliEmulator.issuer],
            cliClient.clientId,
            0,
          ],
          [
            'decode --verify --json (emulator)',
            ['decode', issued.value, '--verify', '--json', '--authority', cliEmulator.issuer],
            cliClient.clientId,
            0,
          ],
          ['decode --verify (forged)', ['decode', forged, '--verify'], 'canary-forged', 1],
        ];
        for (const [surface, args, shown, code, options] of runs) {
          const r = await cli(surface, args, options);
          assert.equal(r.code, code, surface);
          assert.ok(r.stdout.includes(shown), `${surface} shows the claims`);
        }
        const [h, p, s] = CANARY.token.split('.') as [string, string, string];
        for (const [what, broken] of [
          ['a damaged payload', `${h}.${p.slice(0, 20)}!!.${s}`],
          ['two segments', `${p}.${s}`],
          ['a payload that is not JSON', `${h}.${Buffer.from(`not json ${s}`).toString('base64url')}.${s}`],
        ] as const) {
          const r = await cli(`decode (${what})`, ['decode', broken]);
          assert.notEqual(r.code, 0, what);
        }
      });

      it('a secret in the captured output of a run in this process fails the check (positive control)', async () => {
        // `decode` prints a token's claims: a claim holding part of the CANARY key puts it in the captured stdout.
        const segment = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        const leaky = [
          segment({ alg: 'RS256', typ: 'JWT' }),
          segment({ iss: 'https://leaky.invalid/', note: CANARY.privateJwk.d.slice(100, 140) }),
          CANARY.tokenSignature.slice(0, 43),
        ].join('.');
        await assert.rejects(cli('decode (control: a claim holding part of the CANARY key)', ['decode', leaky]), {
          name: 'AssertionError',
          message: /holds 1 secret\(s\): CANARY private key member d\n/,
        });
        // `token` prints the token on purpose: the check that every other run passes would fail it.
        await assert.rejects(cli('token (control)', ['token', ...flags, '--key-file', files.json, '--scope', SCOPE]), {
          name: 'AssertionError',
          message: /Maskinporten access token \(emulator/,
        });
        // Captured, never written to this process's own output.
        assert.equal(leaksSoFar().length, 0, 'nothing reached this process’s stdout or stderr');
      });
    });
  });

  describe('the scanner catches a deliberate leak (positive control)', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'maskinporten-canary-control-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const url = (path: string) => pathToFileURL(join(ROOT, path)).href;
    /** A script run with the preload: `leak` prints secrets of every kind, `clean` prints only what may be printed. */
    const fixture = () => `
import { inspect } from 'node:util';
import { writeFileSync } from 'node:fs';
import { CANARY } from ${JSON.stringify(url('test/setup/canary.ts'))};
import { generateRsaKeyPair } from ${JSON.stringify(url('src/keys/jwk.ts'))};
import { startEmulator, NOTIFICATIONS_SCOPE } from ${JSON.stringify(url('src/emulator/index.ts'))};
import { MaskinportenClient } from ${JSON.stringify(url('src/client.ts'))};

const mode = process.argv[2];
const seen = {};
const emulator = await startEmulator();
try {
const created = await emulator.createClient({ scopes: ['x:y', NOTIFICATIONS_SCOPE] });
const pair = await generateRsaKeyPair({ kid: 'leaky-generated' });
const client = new MaskinportenClient(created.settings, {
  altinnTest: true,
  fetch: (url, init) => {
    if (String(url).endsWith('/token')) {
      seen.grant = new URLSearchParams(String(init.body)).get('assertion');
      if (mode === 'leak') console.log('POST', String(url), String(init.body));
    }
    return fetch(url, init);
  },
});
const token = await client.getAccessToken(['x:y']);
const altinn = await client.getAltinnExchangedToken([NOTIFICATIONS_SCOPE]);
if (mode === 'leak') {
  console.log('part of the CANARY key:', CANARY.privateJwk.d.slice(100, 140));
  process.stderr.write(CANARY.jwkBase64 + '\\n');
  console.error(inspect({ headers: { authorization: 'Bearer ' + CANARY.token } }));
  console.log(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  console.log('token', token.value);
  console.log(altinn.authorizationHeader);
} else {
  console.log(JSON.stringify(CANARY.publicJwk), JSON.stringify(pair.publicJwk), JSON.stringify(created.publicJwk));
  console.log(CANARY.token.split('.').slice(0, 2).join('.'), token.value.split('.').slice(0, 2).join('.'));
  console.log(String(token), inspect(altinn), JSON.stringify(token), inspect(client), JSON.stringify(token.claims));
  console.log(inspect(emulator.requests.entries(), { depth: null }));
}
// The secrets of this process, for the parent to look for in the report.
writeFileSync(process.argv[3], JSON.stringify({ d: pair.privateJwk.d, token: token.value, altinn: altinn.value, grant: seen.grant }));
} finally {
  await emulator.close();
}
`;

    const runChild = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
      // The clean base environment, plus the compile cache of the suite (test/helpers/compile-cache.ts), so that the
      // child reuses the compiled sources rather than compiling them again (it changes nothing the child prints).
      const cache = process.env.NODE_COMPILE_CACHE;
      const env = { ...baseEnv(), ...(cache ? { NODE_COMPILE_CACHE: cache } : {}) };
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
      });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the child did not finish in ${CHILD_TIMEOUT_MS} ms`));
        }, CHILD_TIMEOUT_MS);
        child.once('error', reject);
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    };

    it('a process that prints secrets fails, with a report naming each kind and never showing one', async () => {
      const script = join(dir, 'fixture.mjs');
      const leaked = join(dir, 'leaked.json');
      writeFileSync(script, fixture());
      const r = await runChild(['--import', PRELOAD, script, 'leak', leaked]);
      assert.equal(r.code, 1, 'the leak sets exit code 1');
      const at = r.stderr.indexOf('✖ secret canary:');
      assert.ok(at >= 0, 'a report on stderr');
      const report = r.stderr.slice(at);
      for (const kind of [
        'CANARY private key member d',
        'CANARY private key member qi',
        'CANARY token',
        'private key member d (kid leaky-generated)',
        'grant (client assertion of',
        'Maskinporten access token (emulator, client',
        'Altinn token (emulator)',
      ]) {
        assert.ok(report.includes(kind), `the report names "${kind}"`);
      }
      // The report is masked, so it may be shown when an assertion fails.
      assert.match(report, /on stdout, written by .*fixture\.mjs:\d+/);
      assert.match(report, /on stderr, written by .*fixture\.mjs:\d+/);
      assert.match(report, /excerpt: .*⟦secret⟧/);
      // The report shows none of them: neither the CANARY (known here) nor the child's own secrets.
      const childSecrets = JSON.parse(readFileSync(leaked, 'utf8')) as Record<string, string>;
      const local = new SecretScanner();
      for (const [name, value] of Object.entries(childSecrets)) {
        local.register(name === 'd' ? value : value.slice(value.lastIndexOf('.') + 1), `child ${name}`);
      }
      assert.deepEqual(local.kindsIn(r.stdout + r.stderr.slice(0, at)).length, 4, 'the child did print them');
      assert.deepEqual(local.kindsIn(report), [], 'the report shows none of the child’s secrets');
      assert.deepEqual(kindsIn(report), [], 'the report shows no part of the CANARY');
    });

    it('a process that prints only what may be printed passes without a report', async () => {
      const script = join(dir, 'fixture.mjs');
      writeFileSync(script, fixture());
      const r = await runChild(['--import', PRELOAD, script, 'clean', join(dir, 'clean.json')]);
      assert.ok(!r.stderr.includes('secret canary'), 'no report');
      assert.equal(r.code, 0);
      assert.ok(r.stdout.includes('AccessToken(maskinporten'));
    });

    it('node --test fails a test file whose tests pass but print the canary', async () => {
      const file = join(dir, 'prints-the-canary.test.mjs');
      writeFileSync(
        file,
        `import { test } from 'node:test';\n` +
          `test('passes, but prints the canary token', () => { console.log('debug', process.env.MASKINPORTEN_CANARY_TOKEN); });\n`,
      );
      const r = await runChild(['--import', PRELOAD, '--test', '--test-reporter=spec', file]);
      assert.equal(r.code, 1, 'the run fails');
      // The output holds the leaked token: test it, never show it.
      const output = r.stdout + r.stderr;
      assert.ok(/✔ passes, but prints the canary token/.test(output), 'the test itself passed');
      assert.ok(/secret canary: 1 secret\(s\) leaked/.test(output), 'the report');
      assert.ok(
        /CANARY token — on stdout, written by .*prints-the-canary\.test\.mjs:2/.test(output),
        'the report names the kind and the line that printed it',
      );
      assert.ok(/ℹ fail 1/.test(output), 'the file counts as failed');
    });
  });
});
