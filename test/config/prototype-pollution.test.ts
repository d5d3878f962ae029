/**
 * Prototype pollution through configuration: `__proto__`, `constructor` and `prototype` members anywhere in an
 * appsettings file, a mounted secrets JSON file, a key-per-file secret name or an environment variable are refused
 * (a `__` in a variable's name is the separator, so `__proto__` cannot be spelled there; `constructor` can)
 * with a ConfigValidationError naming the file (or variable) and the path, and `Object.prototype` stays clean.
 * Preset names resolve through own properties only.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ConfigValidationError,
  type LoadSettingsOptions,
  legacyAuthority,
  loadMaskinportenSettings,
  maskinportenAuthority,
  resolveAltinnPlatform,
  resolveAuthority,
} from '../../src/config/index.ts';
import type { ConfigProblem } from '../../src/config/validation-error.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { type TempDir, type TestKey, tempDir, testKeys } from './fixtures.ts';

const TEST = 'https://test.maskinporten.no/';

/** Own properties of Object.prototype, to compare before and after. */
const pristine = Object.getOwnPropertyNames(Object.prototype).sort();

function assertPrototypeClean(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), pristine, 'Object.prototype gained members');
  const probe: Record<string, unknown> = {};
  for (const name of ['polluted', 'NODE_OPTIONS', 'isAdmin', 'x']) assert.equal(probe[name], undefined, name);
  assert.equal(typeof Object.prototype.constructor, 'function');
  assert.equal(Object.prototype.constructor, Object);
}

describe('configuration refuses prototype-polluting member names', () => {
  let key: TestKey;
  const dirs: TempDir[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  before(async () => {
    key = (await testKeys())[0]!;
  });
  afterEach(() => {
    // Whatever a failing run did, the next test starts clean (and this one still reports the pollution).
    for (const name of Object.getOwnPropertyNames(Object.prototype)) {
      if (!pristine.includes(name)) delete (Object.prototype as Record<string, unknown>)[name];
    }
  });
  after(() => {
    for (const d of dirs) d.cleanup();
  });

  const valid = () => ({ Authority: TEST, ClientId: 'client-1', JwkBase64: key.base64 });

  async function problemsOf(options: LoadSettingsOptions): Promise<readonly ConfigProblem[]> {
    let caught: unknown;
    try {
      await loadMaskinportenSettings({ env: {}, configDir: dir().path, ...options });
    } catch (err) {
      caught = err;
    }
    assertPrototypeClean();
    assert.ok(caught instanceof ConfigValidationError, `expected a ConfigValidationError, got ${String(caught)}`);
    assert.equal(caught.code, 'ERR_CONFIG');
    return caught.problems;
  }

  function at(problems: readonly ConfigProblem[], path: string): ConfigProblem {
    const found = problems.find((p) => p.path === path);
    assert.ok(found, `a problem at ${path} in ${JSON.stringify(problems)}`);
    return found;
  }

  const hostileTrees: [string, string, string][] = [
    [
      '__proto__ inside the section',
      `{"MaskinportenSettings": {"Authority": "${TEST}", "ClientId": "c", "__proto__": {"polluted": "yes"}}}`,
      'MaskinportenSettings:__proto__',
    ],
    [
      '__proto__ at the top level',
      `{"__proto__": {"MaskinportenSettings": {"polluted": "yes"}}, "MaskinportenSettings": {"Authority": "${TEST}"}}`,
      '__proto__',
    ],
    [
      '__proto__ under Jwk (rebuilt as an object)',
      `{"MaskinportenSettings": {"Authority": "${TEST}", "ClientId": "c", "Jwk": {"kty": "RSA", "__proto__": {"NODE_OPTIONS": "--require /tmp/evil.js"}}}}`,
      'MaskinportenSettings:Jwk:__proto__',
    ],
    [
      'constructor.prototype under Jwk',
      `{"MaskinportenSettings": {"Authority": "${TEST}", "ClientId": "c", "Jwk": {"constructor": {"prototype": {"isAdmin": "true"}}}}}`,
      'MaskinportenSettings:Jwk:constructor',
    ],
    [
      'prototype in an array element',
      `{"MaskinportenSettings": {"Authority": "${TEST}", "CertificateChain": [{"prototype": {"x": "1"}}]}}`,
      'MaskinportenSettings:CertificateChain:0:prototype',
    ],
  ];

  for (const [what, text, path] of hostileTrees) {
    it(`appsettings.json: ${what}`, async () => {
      const d = dir();
      const file = d.write('appsettings.json', text);
      const problems = await problemsOf({ configDir: d.path });
      const p = at(problems, path);
      assert.equal(p.source, `file ${file}`);
      assert.match(p.message, /not allowed in configuration/);
    });

    it(`mounted secrets JSON: ${what}`, async () => {
      const d = dir();
      const file = d.write('maskinporten-settings.json', text);
      const problems = await problemsOf({ secretsFiles: [file] });
      assert.equal(at(problems, path).source, `secret file ${file}`);
    });
  }

  it('a secrets directory: a JSON file and a key-per-file name', async () => {
    const d = dir();
    d.write('appsettings.json', { MaskinportenSettings: valid() });
    const secrets = dir();
    const json = secrets.write('more.json', '{"MaskinportenSettings": {"Jwk": {"__proto__": {"polluted": "1"}}}}');
    const perFile = secrets.write('MaskinportenSettings__Jwk__constructor__prototype__polluted', 'yes');
    const problems = await problemsOf({ configDir: d.path, secretsDir: secrets.path });
    assert.equal(at(problems, 'MaskinportenSettings:Jwk:__proto__').source, `secret file ${json}`);
    assert.equal(
      at(problems, 'MaskinportenSettings:Jwk:constructor:prototype:polluted').source,
      `secret file ${perFile}`,
    );
  });

  it('environment variables', async () => {
    const d = dir();
    d.write('appsettings.json', { MaskinportenSettings: { ...valid(), JwkBase64: undefined } });
    const problems = await problemsOf({
      configDir: d.path,
      env: {
        MaskinportenSettings__Jwk__constructor__prototype__isAdmin: 'true',
        MaskinportenSettings__Prototype__x: 'y',
      },
    });
    assert.equal(
      at(problems, 'MaskinportenSettings:Jwk:constructor:prototype:isAdmin').source,
      'environment variable MaskinportenSettings__Jwk__constructor__prototype__isAdmin',
    );
    at(problems, 'MaskinportenSettings:Prototype:x');
  });

  it('a Jwk or JwkBase64 given as JSON text with such a member (an environment variable)', async () => {
    const jwk = JSON.parse(key.json) as Record<string, unknown>;
    for (const member of ['__proto__', 'constructor', 'prototype']) {
      const text = `${key.json.replace(/}\s*$/, '')}, "${member}": {"polluted": "yes"}}`;
      assert.equal(JSON.parse(text).kty, jwk.kty, 'still a well-formed JWK otherwise');
      for (const [name, value] of [
        ['Jwk', text],
        ['JwkBase64', Buffer.from(text).toString('base64')],
      ] as const) {
        const d = dir();
        d.write('appsettings.json', { MaskinportenSettings: { Authority: TEST, ClientId: 'c' } });
        const problems = await problemsOf({ configDir: d.path, env: { [`MaskinportenSettings__${name}`]: value } });
        const p = at(problems, `MaskinportenSettings:${name}`);
        assert.match(p.message, new RegExp(`member named "${member}"`));
        assert.doesNotMatch(p.message, /polluted/);
      }
    }
  });

  it('a valid configuration still loads, with the Jwk object rebuilt as a plain object', async () => {
    const d = dir();
    d.write('appsettings.json', {
      MaskinportenSettings: { Authority: TEST, ClientId: 'c', Jwk: JSON.parse(key.json) },
    });
    const { settings } = await loadMaskinportenSettings({ env: {}, configDir: d.path });
    assert.equal(Object.getPrototypeOf(settings.jwk), Object.prototype);
    assertPrototypeClean();
  });

  it('preset names resolve through own properties only', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      assert.equal(resolveAuthority(name), name, name);
      assert.equal(resolveAltinnPlatform(name), name, name);
      const err = (() => {
        try {
          maskinportenAuthority(name as 'test');
        } catch (e) {
          return e;
        }
      })();
      assert.ok(err instanceof MaskinportenError && err.code === 'ERR_CONFIG', `maskinportenAuthority(${name})`);
      assert.throws(
        () => legacyAuthority(name),
        (e: unknown) => e instanceof MaskinportenError && e.code === 'ERR_CONFIG',
      );
    }
    const d = dir();
    d.write('appsettings.json', {
      MaskinportenSettings: {
        Authority: 'constructor',
        ClientId: 'c',
        JwkBase64: key.base64,
        AltinnPlatformUrl: 'toString',
      },
    });
    const problems = await problemsOf({ configDir: d.path });
    assert.match(at(problems, 'MaskinportenSettings:Authority').message, /absolute URL/);
    assert.match(at(problems, 'MaskinportenSettings:AltinnPlatformUrl').message, /absolute URL/);
    for (const p of problems) assert.doesNotMatch(p.message, /function|native code/);
    const legacy = dir();
    legacy.write('appsettings.json', {
      MaskinportenSettings: { ClientId: 'c', EncodedJwk: key.base64, Environment: 'constructor' },
    });
    assert.match(
      at(await problemsOf({ configDir: legacy.path }), 'MaskinportenSettings:Environment').message,
      /not a known/,
    );
  });
});
