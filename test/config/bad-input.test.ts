import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigValidationError, type LoadSettingsOptions, loadMaskinportenSettings } from '../../src/config/index.ts';
import type { ConfigProblem } from '../../src/config/validation-error.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { assertNoSecret, type TempDir, type TestKey, tempDir, testKeys } from './fixtures.ts';

const TEST = 'https://test.maskinporten.no/';
const runningAsRoot = process.getuid?.() === 0;

describe('bad configuration input', () => {
  let keys: TestKey[];
  let key: TestKey;
  let secrets: string[];
  const dirs: TempDir[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  before(async () => {
    keys = await testKeys();
    key = keys[0]!;
    secrets = keys.flatMap((k) => k.secrets);
  });
  after(() => {
    for (const d of dirs) d.cleanup();
  });

  /** Loads, expecting a ConfigValidationError; checks its shape and that no secret is in it; returns its problems. */
  async function problemsOf(options: LoadSettingsOptions): Promise<readonly ConfigProblem[]> {
    const opts: LoadSettingsOptions = { env: {}, configDir: dir().path, ...options };
    let caught: unknown;
    try {
      await loadMaskinportenSettings(opts);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ConfigValidationError, `expected a ConfigValidationError, got ${String(caught)}`);
    assert.ok(caught instanceof MaskinportenError);
    assert.equal(caught.code, 'ERR_CONFIG');
    assert.ok(caught.problems.length > 0);
    for (const p of caught.problems) {
      assert.ok(caught.message.includes(`${p.path}: ${p.message}`), `the message lists ${p.path}`);
      if (p.source) assert.ok(caught.message.includes(`(from ${p.source})`));
    }
    assertNoSecret(caught, secrets);
    return caught.problems;
  }

  /** The one problem at `path`. */
  function at(problems: readonly ConfigProblem[], path: string): ConfigProblem {
    const found = problems.filter((p) => p.path === path);
    assert.equal(found.length, 1, `one problem at ${path} in ${JSON.stringify(problems)}`);
    return found[0]!;
  }

  const env = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [`MaskinportenSettings__${k}`, v]));

  it('lists every problem in one error, each with its path and source', async () => {
    const d = dir();
    const base = d.write('appsettings.json', {
      MaskinportenSettings: {
        Authority: 'http://maskinporten.example/',
        ClientId: { Value: 'x' },
        Jwk: key.pair.privateJwk,
        JwkBase64: keys[1]!.base64,
        AltinnPlatformUrl: 'not a url',
      },
      Internal: { ClientId: 'x' },
    });
    const broken = d.write('appsettings.Production.json', '{\n  "MaskinportenSettings": {\n    "Kid": \n}\n');
    const problems = await problemsOf({
      configDir: d.path,
      environment: 'Production',
      env: { MaskinportenSettings__Alg: 'HS256' },
    });
    const fromFile = `file ${base}`;
    assert.equal(at(problems, 'MaskinportenSettings').source, `file ${broken}`);
    assert.match(
      at(problems, 'MaskinportenSettings').message,
      /appsettings\.Production\.json is not valid JSON \(line 4, column 1\)/,
    );
    assert.equal(at(problems, 'MaskinportenSettings:Authority').source, fromFile);
    assert.match(at(problems, 'MaskinportenSettings:Authority').message, /plain http/);
    assert.equal(at(problems, 'MaskinportenSettings:ClientId').source, fromFile);
    assert.match(at(problems, 'MaskinportenSettings:ClientId').message, /single value/);
    assert.equal(at(problems, 'MaskinportenSettings:AltinnPlatformUrl').source, fromFile);
    assert.match(at(problems, 'MaskinportenSettings:AltinnPlatformUrl').message, /absolute URL/);
    // One key problem: the signer stops at the first thing wrong with the key material, here the Alg from env.
    const alg = at(problems, 'MaskinportenSettings:Alg');
    assert.equal(alg.source, 'environment variable MaskinportenSettings__Alg');
    assert.match(alg.message, /RS256, RS384 or RS512/);
    assert.equal(problems.length, 5, JSON.stringify(problems, null, 1));
  });

  describe('malformed JSON', () => {
    it('names the file, line and column', async () => {
      const d = dir();
      const file = d.write(
        'appsettings.json',
        '{\n  "MaskinportenSettings": {\n    "Authority": "https://test.maskinporten.no/"\n    "ClientId": "x"\n  }\n}\n',
      );
      const problems = await problemsOf({ configDir: d.path });
      assert.equal(problems.length, 1, 'no "section not found" besides: the section may be in the broken file');
      const [p] = problems;
      assert.equal(p!.path, 'MaskinportenSettings');
      assert.equal(p!.source, `file ${file}`);
      assert.ok(p!.message.startsWith(`${file} is not valid JSON (line 4, column 5)`), p!.message);
      assert.match(p!.message, /expected ',' or '}'/);
    });

    it('counts lines through comments and reports the end of a truncated file', async () => {
      const d = dir();
      d.write('appsettings.json', '/* a\n   comment */\n// another\n{ "MaskinportenSettings": { "ClientId": "x", }\n');
      const [p] = await problemsOf({ configDir: d.path });
      assert.match(p!.message, /\(line 5, column 1\): expected ',' or '}' after a property value, but the text ends/);
    });

    it('never quotes the file: a key pasted without quotes or without its closing quote stays out', async () => {
      for (const text of [
        `{ "MaskinportenSettings": { "JwkBase64": ${key.base64} } }`,
        `{ "MaskinportenSettings": { "JwkBase64": "${key.base64}\n, "ClientId": "x" } }`,
        `{ "MaskinportenSettings": { "Jwk": ${key.json.replace('"d":', 'd:')} } }`,
        `{ "MaskinportenSettings": { "JwkBase64": "${key.base64}" "ClientId": "x" } }`,
        `{ "MaskinportenSettings": { "JwkBase64": "${key.base64}" }} ${key.base64}`,
      ]) {
        const d = dir();
        d.write('appsettings.json', text);
        const [p] = await problemsOf({ configDir: d.path });
        assert.match(p!.message, /is not valid JSON \(line \d+, column \d+\)/);
      }
    });

    it('reports a malformed mounted JSON section file as a secret file', async () => {
      const s = dir();
      const file = s.write('maskinporten-settings.json', `{"MaskinportenSettings": {"JwkBase64": "${key.base64}",,}}`);
      const problems = await problemsOf({ secretsDir: s.path, env: env({ Authority: TEST, ClientId: 'c' }) });
      const p = at(problems, 'MaskinportenSettings');
      assert.equal(p.source, `secret file ${file}`);
      assert.match(p.message, /maskinporten-settings\.json is not valid JSON \(line 1, column \d+\)/);
      // The section is partly in the environment, so what is missing is reported too.
      assert.match(at(problems, 'MaskinportenSettings:JwkBase64').message, /no signing key/);
    });

    it('refuses a file whose top level is not an object', async () => {
      const d = dir();
      const file = d.write('appsettings.json', '[{"MaskinportenSettings": {}}]');
      const [p] = await problemsOf({ configDir: d.path });
      assert.equal(p!.source, `file ${file}`);
      assert.match(p!.message, /must hold a JSON object at the top level/);
    });
  });

  describe('unreadable files', () => {
    it('reports a directory named appsettings.json', async () => {
      const d = dir();
      mkdirSync(join(d.path, 'appsettings.json'));
      const [p] = await problemsOf({ configDir: d.path });
      assert.equal(p!.source, `file ${join(d.path, 'appsettings.json')}`);
      assert.match(p!.message, /cannot read .*appsettings\.json: EISDIR/);
    });

    it('reports a configuration directory that is a file, and a secrets directory that is a file', async () => {
      const d = dir();
      const file = d.write('not-a-dir', 'x');
      const problems = await problemsOf({ configDir: file, secretsDir: file, env: {} });
      assert.equal(problems.length, 2, JSON.stringify(problems));
      assert.match(problems[0]!.message, /cannot read the configuration directory .*ENOTDIR/);
      assert.match(problems[1]!.message, /cannot read the secrets directory .*ENOTDIR/);
    });

    it('reports a secrets file named in secretsFiles that is a directory', async () => {
      const d = dir();
      mkdirSync(join(d.path, 'maskinporten-settings.json'));
      const [p] = await problemsOf({ secretsFiles: [join(d.path, 'maskinporten-settings.json')] });
      assert.match(p!.message, /cannot read the secrets file .*EISDIR/);
    });

    it('reports a file without read permission', {
      skip: runningAsRoot ? 'root reads files regardless of their mode' : false,
    }, async () => {
      const d = dir();
      const file = d.write('appsettings.json', { MaskinportenSettings: { ClientId: 'x' } });
      const secret = d.write('secrets/MaskinportenSettings__JwkBase64', key.base64);
      chmodSync(file, 0o000);
      chmodSync(secret, 0o000);
      try {
        const problems = await problemsOf({ configDir: d.path, secretsDir: join(d.path, 'secrets') });
        assert.ok(problems.some((p) => /cannot read .*appsettings\.json: EACCES/.test(p.message)));
        assert.ok(problems.some((p) => /cannot read the secret file .*EACCES/.test(p.message)));
      } finally {
        chmodSync(file, 0o600);
        chmodSync(secret, 0o600);
      }
    });
  });

  describe('missing section and wrong types', () => {
    it('reports a missing section by its path', async () => {
      const d = dir();
      d.write('appsettings.json', { Logging: { LogLevel: { Default: 'Information' } } });
      const [p] = await problemsOf({ configDir: d.path, section: 'Integrations:Maskinporten' });
      assert.equal(p!.path, 'Integrations:Maskinporten');
      assert.match(p!.message, /Integrations:Maskinporten was not found in any configuration source/);
    });

    it('reports a section given as a single value', async () => {
      const d = dir();
      const file = d.write('appsettings.json', { MaskinportenSettings: key.base64 });
      const [p] = await problemsOf({ configDir: d.path });
      assert.equal(p!.path, 'MaskinportenSettings');
      assert.equal(p!.source, `file ${file}`);
      assert.match(p!.message, /must be a section/);
    });

    it('reports an object or a list where a single value belongs, with its source, once', async () => {
      const d = dir();
      const file = d.write('appsettings.json', {
        MaskinportenSettings: {
          Authority: ['https://test.maskinporten.no/'],
          ClientId: { Id: 'x' },
          JwkBase64: { Value: key.base64 },
        },
      });
      const problems = await problemsOf({ configDir: d.path });
      assert.deepEqual(problems.map((p) => p.path).sort(), [
        'MaskinportenSettings:Authority',
        'MaskinportenSettings:ClientId',
        'MaskinportenSettings:JwkBase64',
      ]);
      for (const p of problems) {
        assert.match(p.message, /single value/);
        assert.equal(p.source, `file ${file}`);
      }
    });

    it('reports a Jwk that is a list of keys (the public JWKS), from a file', async () => {
      const d = dir();
      d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'c', Jwk: { keys: [key.pair.publicJwk] } },
      });
      const problems = await problemsOf({ configDir: d.path });
      assert.match(at(problems, 'MaskinportenSettings:Jwk').message, /list of keys/);
    });
  });

  describe('Authority', () => {
    const load = (authority: string, extra: LoadSettingsOptions = {}) =>
      loadMaskinportenSettings({
        configDir: dir().path,
        env: env({ Authority: authority, ClientId: 'c', JwkBase64: key.base64 }),
        ...extra,
      });

    for (const [authority, pattern] of [
      ['test.maskinporten.no', /must be an absolute URL/],
      ['/token', /must be an absolute URL/],
      ['ftp://test.maskinporten.no/', /http\(s\) URL/],
      ['http://test.maskinporten.no/', /plain http/],
      ['http://10.0.0.5:8080/', /plain http/],
      ['http://localhost.example.com/', /plain http/],
    ] as const) {
      it(`refuses ${JSON.stringify(authority)}`, async () => {
        const problems = await problemsOf({ env: env({ Authority: authority, ClientId: 'c', JwkBase64: key.base64 }) });
        const p = at(problems, 'MaskinportenSettings:Authority');
        assert.match(p.message, pattern);
        assert.equal(p.source, 'environment variable MaskinportenSettings__Authority');
      });
    }

    for (const authority of [
      'http://localhost:5000/',
      'http://127.0.0.1:8080/',
      'http://[::1]:7000/',
      'http://127.1.2.3/',
    ]) {
      it(`allows loopback http: ${authority}`, async () => {
        const loaded = await load(authority);
        assert.equal(loaded.settings.authority, authority);
      });
    }

    it('allows non-loopback http only when allowInsecureRequests is set', async () => {
      const loaded = await load('http://maskinporten.internal/', { allowInsecureRequests: true });
      assert.equal(loaded.settings.authority, 'http://maskinporten.internal/');
    });

    it('requires an Authority', async () => {
      const problems = await problemsOf({ env: env({ ClientId: 'c', JwkBase64: key.base64 }) });
      assert.match(at(problems, 'MaskinportenSettings:Authority').message, /is required/);
    });
  });

  describe('ClientId', () => {
    for (const clientId of ['', '   ']) {
      it(`refuses ${JSON.stringify(clientId)}, naming where it came from`, async () => {
        const d = dir();
        d.write('appsettings.json', {
          MaskinportenSettings: { Authority: TEST, ClientId: 'file', JwkBase64: key.base64 },
        });
        const problems = await problemsOf({ configDir: d.path, env: env({ ClientId: clientId }) });
        const p = at(problems, 'MaskinportenSettings:ClientId');
        assert.match(p.message, /is required/);
        if (clientId) assert.equal(p.source, 'environment variable MaskinportenSettings__ClientId');
      });
    }
  });

  describe('the key', () => {
    const cases: Array<[string, Record<string, string>, string, RegExp]> = [
      ['JwkBase64 that is not base64', { JwkBase64: 'not base64 at all!' }, 'JwkBase64', /is not base64/],
      [
        'JwkBase64 that decodes to something else',
        { JwkBase64: Buffer.from('hello world').toString('base64') },
        'JwkBase64',
        /does not decode to a JWK/,
      ],
      [
        'JwkBase64 that decodes to broken JSON',
        { JwkBase64: Buffer.from('{"kty":"RSA",').toString('base64') },
        'JwkBase64',
        /not valid JSON/,
      ],
      ['Jwk text that is not JSON', { Jwk: 'kty=RSA' }, 'Jwk', /not valid JSON/],
      ['Jwk of another key type', { Jwk: '{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}' }, 'Jwk', /kty "EC"/],
      ['Jwk with broken numbers', { Jwk: '{"kty":"RSA","n":"AA","e":"AQAB","d":"AA","kid":"k"}' }, 'Jwk', /valid RSA/],
      ['no key at all', {}, 'JwkBase64', /no signing key/],
      ['a public-only JwkBase64', { JwkBase64: '' }, 'JwkBase64', /public half/],
      ['a public-only Jwk', { Jwk: '' }, 'Jwk', /public half/],
      ['Jwk and JwkBase64 with different keys', { Jwk: '', JwkBase64: '' }, 'Jwk', /different keys/],
      ['a Kid that is not an id', { JwkBase64: '', Kid: 'has spaces and / slashes' }, 'Kid', /kid must be/],
      ['an Alg that is not RSA', { JwkBase64: '', Alg: 'ES256' }, 'Alg', /alg must be RS256/],
      ['a Jwk without a kid', { Jwk: '' }, 'Jwk', /no "kid".*thumbprint/],
    ];
    for (const [title, values, setting, pattern] of cases) {
      it(`refuses ${title}`, async () => {
        const v = { ...values };
        if (title === 'a public-only JwkBase64') v.JwkBase64 = key.publicBase64;
        if (title === 'a public-only Jwk') v.Jwk = key.publicJson;
        if (title.startsWith('Jwk and JwkBase64')) {
          v.Jwk = key.json;
          v.JwkBase64 = keys[1]!.base64;
        }
        if (title.startsWith('a Kid') || title.startsWith('an Alg')) v.JwkBase64 = key.base64;
        if (title === 'a Jwk without a kid') {
          const { kid: _kid, ...rest } = key.pair.privateJwk;
          v.Jwk = JSON.stringify(rest);
        }
        const problems = await problemsOf({ env: env({ Authority: TEST, ClientId: 'c', ...v }) });
        assert.equal(problems.length, 1, JSON.stringify(problems));
        const p = at(problems, `MaskinportenSettings:${setting}`);
        assert.match(p.message, pattern);
        if (setting in v) assert.equal(p.source, `environment variable MaskinportenSettings__${setting}`);
      });
    }

    it('refuses a public-only Jwk object in appsettings, naming the file', async () => {
      const d = dir();
      const file = d.write('appsettings.json', {
        MaskinportenSettings: { Authority: TEST, ClientId: 'c', Jwk: key.pair.publicJwk },
      });
      const problems = await problemsOf({ configDir: d.path });
      const p = at(problems, 'MaskinportenSettings:Jwk');
      assert.match(p.message, /public half/);
      assert.equal(p.source, `file ${file}`);
    });
  });

  it('refuses an unknown legacy environment among other problems', async () => {
    const problems = await problemsOf({
      env: { MaskinportenSettings__Environment: 'qa', MaskinportenSettings__EncodedJwk: key.base64 },
    });
    assert.match(at(problems, 'MaskinportenSettings:Environment').message, /"qa".*prod, test, dev/);
    assert.match(at(problems, 'MaskinportenSettings:ClientId').message, /is required/);
    assert.equal(problems.length, 2);
  });

  it('keeps problem objects frozen and the message a readable list', async () => {
    let caught: unknown;
    try {
      await loadMaskinportenSettings({ configDir: dir().path, env: env({ Authority: 'x', ClientId: '' }) });
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ConfigValidationError);
    assert.ok(Object.isFrozen(caught.problems));
    assert.ok(Object.isFrozen(caught.problems[0]));
    assert.match(caught.message, /^the Maskinporten settings are not valid:\n {2}- MaskinportenSettings:/);
  });
});
