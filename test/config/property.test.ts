/**
 * Property-based tests over generated configurations (11,000 in all): every one either loads or fails with a coded
 * error (a ConfigValidationError, code ERR_CONFIG), an oracle decides the outcome where it can, and no message ever
 * holds part of a secret. Most cases go through the environment and code; a share writes real files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigValidationError, type LoadSettingsOptions, loadMaskinportenSettings } from '../../src/config/index.ts';
import { stripJsonComments } from '../../src/config/json-file.ts';
import { MaskinportenError } from '../../src/errors.ts';
import type { MaskinportenSettings } from '../../src/settings.ts';
import { findSecret, secretWindows, type TestKey, testKeys } from './fixtures.ts';

const SETTINGS = ['Authority', 'ClientId', 'Jwk', 'JwkBase64', 'AltinnPlatformUrl'] as const;
type Setting = (typeof SETTINGS)[number];
/** Sources from lowest to highest precedence. */
const ALL_SOURCES = ['appsettings', 'envFile', 'secretFile', 'env', 'code'] as const;
/** A fixed seed keeps CI reproducible; set CONFIG_PROPERTY_SEED to explore others. */
const SEED = Number(process.env.CONFIG_PROPERTY_SEED ?? 0x636f6e66);
type Source = (typeof ALL_SOURCES)[number];

/** A generated value: its text, whether it is valid (undefined: the oracle does not know), and what it is. */
interface Value {
  text: string;
  ok: boolean | undefined;
  /** A preset name (`test`, `tt02`): valid in configuration, not as a value from code. */
  preset?: boolean;
  /** For keys: which pool key, and whether only its public half. */
  key?: { id: number; public: boolean };
  /** For Jwk in files: write it as a JSON object rather than as text. */
  asObject?: boolean;
}

type Layer = Partial<Record<Setting, Value>>;
type Case = Partial<Record<Source, Layer>> & { section: string; noise: Record<string, string> };

const CODE_FIELD: Record<Setting, keyof MaskinportenSettings> = {
  Authority: 'authority',
  ClientId: 'clientId',
  Jwk: 'jwk',
  JwkBase64: 'jwkBase64',
  AltinnPlatformUrl: 'altinnPlatformUrl',
};

function valueArbitraries(keys: TestKey[]): Record<Setting, fc.Arbitrary<Value>> {
  const v = (text: string, ok: boolean | undefined, extra: Partial<Value> = {}): Value => ({ text, ok, ...extra });
  const garbage = fc.string({ maxLength: 40 }).map((t) => v(t, undefined));
  const keyId = fc.integer({ min: 0, max: keys.length - 1 });
  const privateJwk = fc
    .tuple(keyId, fc.boolean())
    .map(([id, asObject]) => v(keys[id]!.json, true, { key: { id, public: false }, asObject }));
  const publicJwk = fc
    .tuple(keyId, fc.boolean())
    .map(([id, asObject]) => v(keys[id]!.publicJson, false, { key: { id, public: true }, asObject }));
  // Real keys damaged: a member dropped or altered, or the text cut. The result is undecided.
  const damagedJwk = fc
    .tuple(
      keyId,
      fc.constantFrom('d', 'p', 'q', 'n', 'e', 'kty', 'kid', 'alg'),
      fc.constantFrom('drop', 'alter', 'cut'),
    )
    .map(([id, member, how]) => {
      const jwk: Record<string, unknown> = { ...keys[id]!.pair.privateJwk };
      if (how === 'drop') delete jwk[member];
      else if (how === 'alter') jwk[member] = `${String(jwk[member]).slice(0, 8)}x`;
      const text = JSON.stringify(jwk);
      return v(how === 'cut' ? text.slice(0, text.length / 2) : text, undefined);
    });
  return {
    Authority: fc.oneof(
      {
        weight: 16,
        arbitrary: fc.constantFrom(
          v('https://test.maskinporten.no/', true),
          v('https://maskinporten.no/', true),
          v('test', true, { preset: true }),
          v('prod', true, { preset: true }),
          v('DEV', true, { preset: true }),
          v('http://localhost:5000/', true),
          v('http://127.0.0.1:8080/', true),
        ),
      },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          v('http://maskinporten.example/', false),
          v('maskinporten.no', false),
          v('ftp://maskinporten.no/', false),
          v('/relative', false),
          v('', false),
        ),
      },
      { weight: 1, arbitrary: garbage },
    ),
    ClientId: fc.oneof(
      { weight: 16, arbitrary: fc.uuid().map((u) => v(u, true)) },
      { weight: 2, arbitrary: fc.constantFrom(v('', false), v('   ', false)) },
      { weight: 2, arbitrary: fc.string({ maxLength: 20 }).map((t) => v(t, t.trim() !== '')) },
    ),
    Jwk: fc.oneof(
      { weight: 14, arbitrary: privateJwk },
      { weight: 2, arbitrary: publicJwk },
      { weight: 2, arbitrary: damagedJwk },
      { weight: 1, arbitrary: garbage },
    ),
    JwkBase64: fc.oneof(
      {
        weight: 14,
        arbitrary: keyId.map((id) => v(keys[id]!.base64, true, { key: { id, public: false } })),
      },
      {
        weight: 2,
        arbitrary: keyId.map((id) => v(keys[id]!.publicBase64, false, { key: { id, public: true } })),
      },
      {
        weight: 2,
        arbitrary: damagedJwk.map((d) => v(Buffer.from(d.text).toString('base64'), undefined)),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(
          garbage,
          fc.base64String({ maxLength: 40 }).map((t) => v(t, undefined)),
        ),
      },
    ),
    AltinnPlatformUrl: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constantFrom(
          v('tt02', true, { preset: true }),
          v('prod', true, { preset: true }),
          v('https://platform.tt02.altinn.no', true),
          v('http://localhost:7000', true),
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom(v('http://platform.example', false), v('platform.altinn.no', false)) },
      { weight: 1, arbitrary: garbage },
    ),
  };
}

/** A layer of settings; `absent` is how likely each setting is left out (a key form more so: usually one is set). */
function layerArbitrary(values: Record<Setting, fc.Arbitrary<Value>>, absent: number): fc.Arbitrary<Layer> {
  const option = (s: Setting) => {
    const nil = s === 'Jwk' || s === 'JwkBase64' || s === 'AltinnPlatformUrl' ? Math.max(absent, 0.5) : absent;
    const weight = Math.round(nil * 20);
    return fc.oneof(
      { weight, arbitrary: fc.constant(undefined) },
      { weight: 20 - weight, arbitrary: values[s] as fc.Arbitrary<Value | undefined> },
    );
  };
  const parts = Object.fromEntries(SETTINGS.map((s) => [s, option(s)])) as {
    [S in Setting]: fc.Arbitrary<Value | undefined>;
  };
  return fc
    .record(parts)
    .map((layer) =>
      Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined)),
    ) as fc.Arbitrary<Layer>;
}

function caseArbitrary(keys: TestKey[], sources: readonly Source[]): fc.Arbitrary<Case> {
  const values = valueArbitraries(keys);
  // Lower layers usually hold the whole section; higher ones override a few settings.
  const layers = Object.fromEntries(
    sources.map((s, i) => [s, fc.option(layerArbitrary(values, i === 0 ? 0.1 : 0.75), { freq: 4, nil: undefined })]),
  ) as Record<Source, fc.Arbitrary<Layer | undefined>>;
  return fc.record({
    ...layers,
    section: fc.constantFrom('MaskinportenSettings', 'Integrations:Maskinporten', 'custom-section'),
    noise: fc.dictionary(
      fc.constantFrom(
        'OtherSettings__ClientId',
        'PATH',
        'HOME',
        'MaskinportenSettingsX__ClientId',
        'Maskinporten__Jwk',
      ),
      fc.string({ maxLength: 10 }),
      { maxKeys: 3 },
    ),
  }) as fc.Arbitrary<Case>;
}

/** The highest source that sets `setting`, and its value. */
function winner(c: Case, setting: Setting): { source: Source; value: Value } | undefined {
  for (const source of [...ALL_SOURCES].reverse()) {
    const value = c[source]?.[setting];
    if (value !== undefined) return { source, value };
  }
  return undefined;
}

/** What the oracle expects: true (loads), false (fails), undefined (either); and the paths that must be reported. */
function expected(c: Case): { ok: boolean | undefined; failing: string[] } {
  const failing: string[] = [];
  let unknown = false;
  const judge = (setting: Setting | 'key', ok: boolean | undefined) => {
    if (ok === false) failing.push(setting);
    if (ok === undefined) unknown = true;
  };
  const present = (setting: Setting) => {
    const w = winner(c, setting);
    if (!w) return undefined;
    // An empty value from configuration means "not set"; from code it is a value (the key forms aside).
    if (w.value.text === '' && (w.source !== 'code' || setting === 'Jwk' || setting === 'JwkBase64')) return undefined;
    return w;
  };

  const authority = present('Authority');
  if (!authority) judge('Authority', false);
  else judge('Authority', authority.source === 'code' && authority.value.preset ? false : authority.value.ok);

  const clientId = present('ClientId');
  judge('ClientId', clientId ? clientId.value.text.trim() !== '' : false);

  const altinn = present('AltinnPlatformUrl');
  if (altinn) judge('AltinnPlatformUrl', altinn.source === 'code' && altinn.value.preset ? false : altinn.value.ok);

  const jwk = present('Jwk');
  const b64 = present('JwkBase64');
  // Jwk objects in two files merge member by member, as .NET's configuration does: the oracle stays out.
  const objectLayers = (['appsettings', 'envFile'] as const).filter((s) => c[s]?.Jwk?.asObject && c[s]?.Jwk?.key);
  if (objectLayers.length > 1) unknown = true;
  else if (!jwk && !b64) judge('key', false);
  else if (jwk && b64) {
    const a = jwk.value;
    const b = b64.value;
    if (a.key && b.key) judge('key', a.key.id === b.key.id && !a.key.public && !b.key.public);
    else if (a.ok === false || b.ok === false) judge('key', false);
    else unknown = true;
  } else judge('key', (jwk ?? b64)!.value.ok);

  if (failing.length) return { ok: false, failing };
  return { ok: unknown ? undefined : true, failing };
}

/** Checks an outcome against the oracle and for secrets. */
function check(
  c: Case,
  outcome: { settings?: MaskinportenSettings; error?: unknown },
  windows: Set<string>,
  oracle = expected(c),
  exact = true,
): void {
  if (outcome.error !== undefined) {
    const err = outcome.error;
    assert.ok(err instanceof MaskinportenError, `not a MaskinportenError: ${String(err)}`);
    assert.match(err.code, /^ERR_[A-Z_]+$/);
    assert.ok(err instanceof ConfigValidationError, `not a ConfigValidationError: ${err.message}`);
    assert.equal(err.code, 'ERR_CONFIG');
    const texts = [err.message, ...err.problems.flatMap((p) => [p.path, p.message, p.source ?? ''])];
    for (const text of texts) assert.equal(findSecret(text, windows), undefined, `a secret in: ${text.slice(0, 120)}`);
    assert.notEqual(oracle.ok, true, `expected to load, got: ${err.message}`);
    // A section found nowhere is one problem; otherwise each failing setting is reported.
    const missing = err.problems.some((p) => p.path === c.section);
    for (const setting of missing ? [] : oracle.failing) {
      if (setting === 'key') {
        assert.ok(
          err.problems.some((p) => /:(Jwk|JwkBase64|Kid|Alg)$/.test(p.path)),
          `a key problem is reported: ${err.message}`,
        );
      } else {
        assert.ok(
          err.problems.some((p) => p.path === `${c.section}:${setting}` || p.path === c.section),
          `${setting} is reported: ${err.message}`,
        );
      }
    }
    return;
  }
  assert.notEqual(oracle.ok, false, `expected to fail on ${oracle.failing.join(', ')}`);
  if (!exact) return;
  const settings = outcome.settings!;
  const clientId = winner(c, 'ClientId')!;
  assert.equal(settings.clientId, clientId.value.text);
  assert.ok(new URL(settings.authority));
}

function codeOverrides(layer: Layer | undefined): Partial<MaskinportenSettings> | undefined {
  if (!layer) return undefined;
  const out: Record<string, string> = {};
  for (const [setting, value] of Object.entries(layer) as [Setting, Value][]) out[CODE_FIELD[setting]] = value.text;
  return out as Partial<MaskinportenSettings>;
}

function envVars(c: Case): Record<string, string> {
  const prefix = c.section.replaceAll(':', '__');
  const env: Record<string, string> = { ...c.noise };
  for (const [setting, value] of Object.entries(c.env ?? {}) as [Setting, Value][]) {
    env[`${prefix}__${setting}`] = value.text;
  }
  return env;
}

async function outcomeOf(options: LoadSettingsOptions): Promise<{ settings?: MaskinportenSettings; error?: unknown }> {
  try {
    return { settings: (await loadMaskinportenSettings(options)).settings };
  } catch (error) {
    return { error };
  }
}

describe('property: generated configurations load or fail with a coded error, never showing a secret', () => {
  let keys: TestKey[];
  let windows: Set<string>;
  let base: string;
  let emptyDir: string;

  before(async () => {
    keys = await testKeys();
    windows = secretWindows(keys.flatMap((k) => k.secrets));
    base = mkdtempSync(join(tmpdir(), 'maskinporten-config-property-'));
    emptyDir = join(base, 'empty');
    mkdirSync(emptyDir);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('environment variables and code: 9,000 configurations', async (t) => {
    let loaded = 0;
    await fc.assert(
      fc.asyncProperty(caseArbitrary(keys, ['env', 'code']), async (c) => {
        const configure = codeOverrides(c.code);
        const outcome = await outcomeOf({
          configDir: emptyDir,
          environment: 'Production',
          section: c.section,
          env: envVars(c),
          ...(configure ? { configure } : {}),
        });
        if (outcome.settings) loaded += 1;
        check(c, outcome, windows);
      }),
      { numRuns: 9000, seed: SEED },
    );
    t.diagnostic(`${loaded} of 9000 loaded`);
    // Both outcomes are well represented.
    assert.ok(loaded > 900 && loaded < 8100, `loaded ${loaded} of 9000`);
  });

  it('files, mounted secrets, environment and code, with damaged JSON: 2,000 configurations', async (t) => {
    const dir = join(base, 'files');
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir, { recursive: true });
    const written: string[] = [];
    let damaged = 0;
    let loaded = 0;
    await fc.assert(
      fc.asyncProperty(
        caseArbitrary(keys, ALL_SOURCES),
        fc.constantFrom('Production', 'Staging', 'production'),
        // A quarter of the files get one character deleted or inserted.
        fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          {
            weight: 1,
            arbitrary: fc.tuple(fc.nat(), fc.constantFrom('delete', '{', '}', '"', ',', ':', 'x', '\n'), fc.boolean()),
          },
        ),
        async (c, environment, damage) => {
          // One directory for every run (creating and removing thousands is slow on some file systems): the
          // previous run's files are removed first.
          for (const file of written.splice(0)) unlinkSync(file);
          const write = (file: string, text: string) => {
            writeFileSync(file, text);
            written.push(file);
          };
          const path = c.section.split(':');
          const sectionJson = (layer: Layer | undefined) => {
            let node: Record<string, unknown> = {};
            for (const [setting, value] of Object.entries(layer ?? {}) as [Setting, Value][]) {
              node[setting] = setting === 'Jwk' && value.asObject && value.key ? JSON.parse(value.text) : value.text;
            }
            for (const part of [...path].reverse()) node = { [part]: node };
            return node;
          };
          let appsettings = JSON.stringify(sectionJson(c.appsettings), null, 2);
          let wasDamaged = false;
          if (damage) {
            // Anywhere, or (as often) at a quote: where a JSON engine's message would start quoting a value.
            const [at, what, atQuote] = damage;
            const quotes = [...appsettings.matchAll(/"/g)].map((m) => m.index);
            const i = atQuote && quotes.length ? quotes[at % quotes.length]! : at % (appsettings.length + 1);
            const next =
              what === 'delete'
                ? appsettings.slice(0, i) + appsettings.slice(i + 1)
                : appsettings.slice(0, i) + what + appsettings.slice(i);
            try {
              JSON.parse(stripJsonComments(next)); // trailing commas are allowed
            } catch {
              wasDamaged = true;
              damaged += 1;
            }
            appsettings = next;
          }
          if (c.appsettings || damage) write(join(dir, 'appsettings.json'), appsettings);
          if (c.envFile) write(join(dir, `appsettings.${environment}.json`), JSON.stringify(sectionJson(c.envFile)));
          const prefix = c.section.replaceAll(':', '__');
          for (const [setting, value] of Object.entries(c.secretFile ?? {}) as [Setting, Value][]) {
            // Mounted secrets often end in a newline, which the reader trims (one, and only a final one).
            const text = value.text.endsWith('\r') ? value.text : `${value.text}\n`;
            write(join(secretsDir, `${prefix}__${setting}`), text);
          }
          const configure = codeOverrides(c.code);
          const outcome = await outcomeOf({
            configDir: dir,
            environment,
            secretsDir,
            section: c.section,
            env: envVars(c),
            ...(configure ? { configure } : {}),
          });
          if (outcome.settings) loaded += 1;
          if (wasDamaged) {
            // A broken file fails the load, naming the file with line and column; the rest is checked as usual.
            assert.ok(outcome.error instanceof ConfigValidationError, 'a damaged file fails the load');
            assert.ok(
              outcome.error.problems.some(
                (p) => /appsettings\.json is not valid JSON \(line \d+, column \d+\)/.test(p.message) && p.source,
              ),
              outcome.error.message,
            );
            check(c, outcome, windows, { ok: false, failing: [] });
            return;
          }
          // A change that left the JSON valid may have changed a value: then only the error's shape is checked.
          if (damage) check(c, outcome, windows, { ok: undefined, failing: [] }, false);
          else check(c, outcome, windows);
        },
      ),
      { numRuns: 2000, seed: SEED + 1 },
    );
    t.diagnostic(`${loaded} of 2000 loaded, ${damaged} with a damaged appsettings.json`);
    assert.ok(damaged > 100, `only ${damaged} damaged files`);
    assert.ok(loaded > 150, `only ${loaded} of 2000 loaded`);
  });
});
