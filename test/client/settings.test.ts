/**
 * Settings and options: validated up front with ERR_CONFIG naming the setting; the authority's trailing slash is
 * optional; the settings are copied, so later changes to the object do not reach the client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskinportenClient, type MaskinportenClientOptions } from '../../src/client.ts';
import { ConfigError } from '../../src/errors.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { FakeClock, lastGrant, throwsWith } from '../helpers/client-env.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

describe('client settings and options', () => {
  const clock = new FakeClock();
  const emulator = useEmulator({ clock });
  const created = useClient(emulator, { scopes: ['a'] });

  const make =
    (settings: Partial<MaskinportenSettings>, options: MaskinportenClientOptions = {}) =>
    () =>
      new MaskinportenClient({ ...created.settings, ...settings } as MaskinportenSettings, { clock, ...options });

  it('requires an absolute http(s) authority', () => {
    for (const authority of [undefined, '', '  ', 'test.maskinporten.no', 'ftp://test.maskinporten.no/', 42]) {
      const err = throwsWith(make({ authority: authority as string }), 'ERR_CONFIG');
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /authority/);
    }
  });

  it('requires a clientId', () => {
    for (const clientId of [undefined, '', '   ']) {
      assert.match(throwsWith(make({ clientId: clientId as string }), 'ERR_CONFIG').message, /clientId is required/);
    }
    assert.match(
      throwsWith(() => new MaskinportenClient(null as unknown as MaskinportenSettings), 'ERR_CONFIG').message,
      /settings must be an object/,
    );
  });

  it('checks altinnPlatformUrl when given', () => {
    assert.match(throwsWith(make({ altinnPlatformUrl: 'not a url' }), 'ERR_CONFIG').message, /altinnPlatformUrl/);
  });

  it('refuses control characters in settings with ERR_CONFIG naming the setting', () => {
    const authority = created.settings.authority;
    for (const [setting, value] of [
      ['authority', `${authority}\r\nX-Injected: 1`],
      ['authority', `${authority}\u0000`],
      ['authority', authority.replace(/\/$/, '\r\n/')],
      ['clientId', 'c\r\nx'],
      ['clientId', 'c\u001b[31m'],
      ['altinnPlatformUrl', 'https://platform.tt02.altinn.no/\n'],
      ['kid', 'k\u0085'],
    ] as const) {
      const err = throwsWith(make({ [setting]: value }), 'ERR_CONFIG');
      assert.equal(err.setting, setting);
      assert.match(err.message, new RegExp(`^${setting} must not contain control characters`));
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters refused
      assert.doesNotMatch(err.message, /[\u0000-\u001f\u0085]/, 'the message itself is clean');
    }
  });

  it('takes the authority with or without its trailing slash', async () => {
    const withSlash = make({ authority: `${emulator.url}/` })();
    const without = make({ authority: emulator.url })();
    const doubled = make({ authority: `${emulator.url}//` })();
    for (const c of [withSlash, without, doubled]) {
      assert.equal(c.authority, emulator.url);
      await c.getAccessToken(['a']);
      assert.equal(lastGrant(emulator).claims.aud, emulator.issuer);
    }
  });

  it('copies the settings: changing the object afterwards changes nothing', async () => {
    const settings: MaskinportenSettings = { ...created.settings };
    const c = new MaskinportenClient(settings, { clock });
    settings.clientId = 'someone-else';
    settings.authority = 'https://maskinporten.no/';
    assert.equal(c.clientId, created.clientId);
    await c.getAccessToken(['a']);
    assert.equal(lastGrant(emulator).claims.iss, created.clientId);
  });

  it('validates cache, retry and timing options with ERR_CONFIG naming the option', () => {
    const cases: [MaskinportenClientOptions, RegExp][] = [
      [{ cache: { refreshAhead: 0 } }, /refreshAhead/],
      [{ cache: { refreshAhead: 1.5 } }, /refreshAhead/],
      [{ cache: { expiryMarginMs: -1 } }, /expiryMarginMs/],
      [{ cache: { maxEntries: 0 } }, /maxEntries/],
      [{ cache: { maxEntries: 2.5 } }, /maxEntries/],
      [{ retry: { maxAttempts: 0 } }, /maxAttempts/],
      [{ retry: { maxAttempts: 1.5 } }, /maxAttempts/],
      [{ retry: { baseDelayMs: -5 } }, /baseDelayMs/],
      [{ timeoutMs: 0 }, /timeoutMs/],
      [{ deadlineMs: Number.NaN }, /deadlineMs/],
      [{ grantLifetimeSeconds: 300 }, /grantLifetimeSeconds/],
    ];
    for (const [options, pattern] of cases) {
      const err = throwsWith(make({}, options), 'ERR_CONFIG');
      assert.match(err.message, pattern);
    }
  });

  it('exposes clientId, authority and the measured clock offset', async () => {
    const c = make({})();
    assert.equal(c.clientId, created.clientId);
    assert.equal(c.authority, emulator.url);
    assert.equal(c.clockOffsetMs, undefined, 'nothing measured yet');
    await c.getAccessToken(['a']);
    assert.equal(c.clockOffsetMs, 250, 'Date header second, midpoint, against the fake clock 250 ms past it');
  });
});
