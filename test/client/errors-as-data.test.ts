/**
 * Errors are data: each class has one fixed code (a set, for the token-request and unavailability families), the
 * union `AnyMaskinportenError` narrows on `switch (err.code)`, a key or URL error names the setting at fault in
 * `setting` (and says what is wrong without naming it in `reason`), configuration reports problems by those fields
 * rather than by reading messages, and public functions throw coded errors, never a bare TypeError or RangeError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient } from '../../src/client.ts';
import * as config from '../../src/config/index.ts';
import {
  AbortedError,
  AltinnExchangeError,
  type AnyMaskinportenError,
  ArgumentError,
  ConfigError,
  ConfigValidationError,
  EmulatorError,
  InsecureUrlError,
  InvalidResponseError,
  isMaskinportenError,
  JwsError,
  KeyError,
  MaskinportenError,
  TokenExpiredError,
  TokenRequestError,
  UnavailableError,
} from '../../src/errors.ts';
import { generateRsaKeyPair } from '../../src/keys/jwk.ts';
import { loadSignerSync } from '../../src/keys/signer.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { AccessToken } from '../../src/token.ts';
import { tempDir } from '../config/fixtures.ts';
import { rejectsWith, throwsWith } from '../helpers/client-env.ts';

/** A PEM block with a body that is not a key: built at run time, so no key-shaped text is committed. */
const pemBlock = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;

/** What a caller's `switch` reads from each narrowed error (type-checked: each case sees its subclass's fields). */
function describeError(err: AnyMaskinportenError): string {
  switch (err.code) {
    case 'ERR_CONFIG':
      return `config:${err.setting ?? '-'}:${err instanceof ConfigValidationError ? err.problems.length : 0}`;
    case 'ERR_INVALID_KEY':
      return `key:${err.setting ?? '-'}`;
    case 'ERR_INSECURE_URL':
      return `insecure:${err.setting}:${err.reason}`;
    case 'ERR_INVALID_SCOPE':
    case 'ERR_ACCESS_DENIED':
      return `refused:${err.mpCode ?? '-'}:${err.errorDescription ?? ''}`;
    case 'ERR_TIMEOUT':
    case 'ERR_NETWORK':
      return `unavailable:${err.attempts ?? 1}`;
    case 'ERR_TOKEN_EXPIRED':
      return `expired:${err.clockOffsetMs ?? '-'}`;
    default:
      return err.code;
  }
}

describe('errors are data', () => {
  it('each class carries its fixed code, and the union narrows by it', () => {
    const cases: [MaskinportenError, string, string][] = [
      [new ConfigError('x', { setting: 'authority' }), 'ERR_CONFIG', 'config:authority:0'],
      [new ConfigValidationError([{ path: 'A:B', message: 'm' }]), 'ERR_CONFIG', 'config:-:1'],
      [new KeyError('x', { setting: 'jwk' }), 'ERR_INVALID_KEY', 'key:jwk'],
      [new JwsError('x'), 'ERR_INVALID_JWS', 'ERR_INVALID_JWS'],
      [new ArgumentError('x'), 'ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT'],
      [new InsecureUrlError('x', { setting: 'authority', reason: 'r' }), 'ERR_INSECURE_URL', 'insecure:authority:r'],
      [new TokenRequestError('ERR_INVALID_SCOPE', 'x', { mpCode: 'MP-200' }), 'ERR_INVALID_SCOPE', 'refused:MP-200:'],
      [new UnavailableError('ERR_TIMEOUT', 'x', { attempts: 3 }), 'ERR_TIMEOUT', 'unavailable:3'],
      [new AbortedError('x'), 'ERR_ABORTED', 'ERR_ABORTED'],
      [new InvalidResponseError('x'), 'ERR_INVALID_RESPONSE', 'ERR_INVALID_RESPONSE'],
      [new TokenExpiredError('x', { clockOffsetMs: 5 }), 'ERR_TOKEN_EXPIRED', 'expired:5'],
      [new AltinnExchangeError('x'), 'ERR_ALTINN_EXCHANGE', 'ERR_ALTINN_EXCHANGE'],
      [new EmulatorError('ERR_EMULATOR_STATE', 'x'), 'ERR_EMULATOR_STATE', 'ERR_EMULATOR_STATE'],
    ];
    for (const [err, code, described] of cases) {
      assert.equal(err.code, code);
      assert.ok(err instanceof MaskinportenError);
      assert.equal(err.name, err.constructor.name);
      assert.ok(isMaskinportenError(err));
      assert.equal(describeError(err), described);
    }
    // The configuration subpath's class is the same class.
    assert.equal(config.ConfigValidationError, ConfigValidationError);
  });

  it('a key error names the setting at fault; how messages call it is the caller’s choice', async () => {
    const { privateJwk, publicJwk } = await generateRsaKeyPair();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');
    const cases: [Parameters<typeof loadSignerSync>[0], string | undefined][] = [
      [{}, undefined],
      [{ jwkBase64: '!!not base64!!' }, 'jwkBase64'],
      [{ jwkBase64: b64(publicJwk) }, 'jwkBase64'],
      [{ jwk: publicJwk as unknown as Record<string, unknown> }, 'jwk'],
      [{ jwk: '{not json' }, 'jwk'],
      [{ jwk: { ...privateJwk, kid: undefined } as unknown as Record<string, unknown> }, 'jwk'],
      [{ jwk: privateJwk as unknown as Record<string, unknown>, alg: 'HS256' as 'RS256' }, 'alg'],
      [{ jwk: privateJwk as unknown as Record<string, unknown>, kid: 'has spaces' }, 'kid'],
      [{ pem: 'not a pem', kid: 'k' }, 'pem'],
      [{ pem: pemBlock('PRIVATE KEY', 'AAAA'), kid: 'k' }, 'pem'],
    ];
    for (const [material, setting] of cases) {
      const err = throwsWith(() => loadSignerSync(material), 'ERR_INVALID_KEY');
      assert.ok(err instanceof KeyError);
      assert.equal(err.setting, setting, err.message);
    }
    const pem = (await import('node:crypto'))
      .createPrivateKey({ key: privateJwk as never, format: 'jwk' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const chain = throwsWith(() => loadSignerSync({ pem, certificateChain: ['bm90IGEgY2VydA=='] }), 'ERR_INVALID_KEY');
    assert.equal(chain.setting, 'certificateChain');
    const named = throwsWith(() => loadSignerSync({ jwkBase64: '!!' }, { jwkBase64: 'EncodedJwk' }), 'ERR_INVALID_KEY');
    assert.equal(named.setting, 'jwkBase64');
    assert.match(named.message, /^EncodedJwk is not base64/);
  });

  it('a URL setting error names the setting and gives the reason without it', () => {
    const settings = { clientId: 'c', jwkBase64: 'x' } as MaskinportenSettings;
    const err = throwsWith(() => new MaskinportenClient({ ...settings, authority: 'nope' }), 'ERR_CONFIG');
    assert.equal(err.setting, 'authority');
    assert.equal(err.reason, 'must be an absolute URL, got "nope"');
    assert.equal(err.message, `authority ${err.reason}`);
    const insecure = throwsWith(
      () => new MaskinportenClient({ ...settings, authority: 'http://maskinporten.example/' }),
      'ERR_INSECURE_URL',
    );
    assert.ok(insecure instanceof InsecureUrlError);
    assert.equal(insecure.setting, 'authority');
  });

  it('configuration reports a key problem under the setting the error names (a bad certificate chain)', async () => {
    const { privateJwk } = await generateRsaKeyPair();
    const pem = (await import('node:crypto'))
      .createPrivateKey({ key: privateJwk as never, format: 'jwk' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const dir = tempDir();
    try {
      dir.write('appsettings.json', {
        MaskinportenSettings: {
          Authority: 'test',
          ClientId: 'c',
          Pem: pem,
          CertificateChain: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----',
        },
      });
      const err = await rejectsWith(config.loadMaskinportenSettings({ env: {}, configDir: dir.path }), 'ERR_CONFIG');
      assert.ok(err instanceof ConfigValidationError);
      assert.deepEqual(
        err.problems.map((p) => p.path),
        ['MaskinportenSettings:CertificateChain'],
      );
      assert.match(err.problems[0]!.message, /not an X\.509 certificate/);
    } finally {
      dir.cleanup();
    }
  });

  it('public functions throw coded errors, never a bare TypeError or RangeError', async () => {
    const { privateJwk } = await generateRsaKeyPair();
    const client = new MaskinportenClient(
      {
        authority: 'https://test.maskinporten.no/',
        clientId: 'c',
        jwk: privateJwk as unknown as Record<string, unknown>,
      },
      {
        fetch: async () => {
          throw new Error('offline');
        },
        retry: false,
      },
    );
    for (const input of [null, undefined, 5, true]) {
      const err = await rejectsWith(client.getAccessToken(input as never), 'ERR_INVALID_ARGUMENT');
      assert.equal(err.setting, 'request');
    }
    await rejectsWith(client.getAccessToken({ scopes: ['a'], systemUser: null as never }), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(client.getAccessToken({ scopes: ['a'], consent: null as never }), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(client.getAccessToken({ scopes: ['a'], resource: 5 as never }), 'ERR_INVALID_ARGUMENT');
    const settings = { authority: 'https://test.maskinporten.no/', clientId: 'c', jwk: privateJwk } as never;
    assert.equal(throwsWith(() => new MaskinportenClient(settings, null as never), 'ERR_CONFIG').setting, 'options');
    await rejectsWith(config.loadMaskinportenSettings(null as never), 'ERR_CONFIG');
    await rejectsWith(config.loadMaskinportenSettings({ section: 5 as never }), 'ERR_CONFIG');
    await rejectsWith(config.loadNamedMaskinportenSettings(null as never), 'ERR_CONFIG');
    throwsWith(() => config.maskinportenAuthority('staging' as 'test'), 'ERR_CONFIG');
    throwsWith(() => config.altinnPlatformUrl('nowhere' as 'tt02'), 'ERR_CONFIG');
    throwsWith(() => AccessToken.fromValue('not-a-jwt', 'maskinporten'), 'ERR_INVALID_RESPONSE');
    throwsWith(() => AccessToken.fromValue(undefined as never, 'altinn'), 'ERR_INVALID_RESPONSE');
  });
});
