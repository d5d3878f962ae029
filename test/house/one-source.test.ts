import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ALTINN_PLATFORM_URLS,
  AUTHORITY_PRESETS,
  ENVIRONMENTS,
  fromLegacySettings,
  LEGACY_ENVIRONMENTS,
  MASKINPORTEN_BASE_URLS,
  maskinportenAuthority,
  SELF_SERVICE_API_URLS,
  SKYPORTEN_BASE_URLS,
  skyportenAuthority,
} from '../../src/config/index.ts';
import { DOCUMENTED_MAX_GRANT_LIFETIME_SECONDS } from '../../src/emulator/grant-rules.ts';
import { MaskinportenClient } from '../../src/index.ts';
import { DEFAULT_GRANT_LIFETIME_SECONDS, MAX_GRANT_LIFETIME_SECONDS } from '../../src/protocol/constants.ts';
import { defaultAltinnPlatformUrl, environmentOfAuthority } from '../../src/protocol/environments.ts';
import { buildGrantClaims, normalizeTokenRequest } from '../../src/protocol/grant.ts';
import { defaultSelfServiceUrl } from '../../src/self-service/index.ts';
import { VERIFIER_AUTHORITY_PRESETS } from '../../src/verify/index.ts';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');
const envs = Object.keys(ENVIRONMENTS) as (keyof typeof ENVIRONMENTS)[];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('one environment table', () => {
  it('every table of environments derives from ENVIRONMENTS', () => {
    for (const env of envs) {
      const row = ENVIRONMENTS[env];
      assert.equal(MASKINPORTEN_BASE_URLS[env], row.maskinporten);
      assert.equal(SELF_SERVICE_API_URLS[env], row.selfServiceApi);
      assert.equal(AUTHORITY_PRESETS[env], `${row.maskinporten}/`);
      assert.equal(maskinportenAuthority(env), `${row.maskinporten}/`);
      assert.equal(LEGACY_ENVIRONMENTS[env], `${row.maskinporten}/`);
      assert.equal(
        fromLegacySettings({ clientId: 'c', encodedJwk: 'x', environment: env }).authority,
        AUTHORITY_PRESETS[env],
      );
      assert.equal(VERIFIER_AUTHORITY_PRESETS[env], AUTHORITY_PRESETS[env]);
      assert.equal(environmentOfAuthority(`${row.maskinporten}/`), env);
      assert.equal(defaultSelfServiceUrl(`${row.maskinporten}/`), row.selfServiceApi);
      assert.equal(
        defaultAltinnPlatformUrl(`${row.maskinporten}/`),
        row.altinn === undefined ? undefined : ALTINN_PLATFORM_URLS[row.altinn],
      );
      if (row.skyporten !== undefined) {
        assert.equal(SKYPORTEN_BASE_URLS[env as 'prod' | 'test'], row.skyporten);
        assert.equal(AUTHORITY_PRESETS[`skyporten-${env as 'prod' | 'test'}`], row.skyporten);
        assert.equal(skyportenAuthority(env as 'prod' | 'test'), row.skyporten);
      }
    }
    assert.deepEqual(Object.keys(LEGACY_ENVIRONMENTS), envs);
    assert.deepEqual(
      Object.keys(SKYPORTEN_BASE_URLS),
      envs.filter((e) => ENVIRONMENTS[e].skyporten !== undefined),
    );
    assert.equal(VERIFIER_AUTHORITY_PRESETS.skyporten, AUTHORITY_PRESETS['skyporten-prod']);
    assert.ok(Object.isFrozen(ENVIRONMENTS) && envs.every((e) => Object.isFrozen(ENVIRONMENTS[e])));
  });

  it('pairs Maskinporten prod and test with Altinn prod and tt02, and leaves other hosts alone', () => {
    assert.equal(defaultAltinnPlatformUrl('https://maskinporten.no/'), 'https://platform.altinn.no');
    assert.equal(defaultAltinnPlatformUrl('https://test.maskinporten.no/'), 'https://platform.tt02.altinn.no');
    assert.equal(defaultAltinnPlatformUrl('https://maskinporten.dev/'), undefined);
    assert.equal(environmentOfAuthority('https://test.maskinporten.no.evil.example/'), undefined);
    assert.equal(environmentOfAuthority('not a url'), undefined);
    assert.equal(defaultSelfServiceUrl('http://127.0.0.1:5555/'), 'http://127.0.0.1:5555');
  });

  it('no other file in src/ writes an environment URL as its own literal', () => {
    const host =
      /['"`]https?:\/\/[^'"`\s]*(maskinporten\.(no|dev)|samarbeid\.digdir\.(no|dev)|altinn\.cloud|platform\.[^'"`\s]*altinn\.no)[^'"`\s]*['"`]/;
    const found: string[] = [];
    for (const file of tsFiles(SRC)) {
      const name = relative(SRC, file).split('\\').join('/');
      if (name === 'protocol/environments.ts' || name.startsWith('emulator/console/page/')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.trim();
          if (code.startsWith('*') || code.startsWith('/*') || code.startsWith('//')) return;
          if (host.test(code)) found.push(`${name}:${i + 1}: ${code}`);
        });
    }
    assert.deepEqual(found, []);
  });
});

describe('one default per setting', () => {
  it('the grant lifetime: the client and a bare grant use the same default, within the one maximum', () => {
    assert.equal(DEFAULT_GRANT_LIFETIME_SECONDS, 60);
    assert.ok(DEFAULT_GRANT_LIFETIME_SECONDS <= MAX_GRANT_LIFETIME_SECONDS);
    assert.equal(DOCUMENTED_MAX_GRANT_LIFETIME_SECONDS, MAX_GRANT_LIFETIME_SECONDS);
    const claims = buildGrantClaims({
      clientId: 'c',
      audience: 'https://test.maskinporten.no/',
      nowSeconds: 1_000,
      request: normalizeTokenRequest({ scopes: ['a:b'] }),
    });
    assert.equal((claims.exp as number) - (claims.iat as number), DEFAULT_GRANT_LIFETIME_SECONDS);
  });

  it('the client refuses a grant lifetime over the one maximum, naming it', () => {
    const settings = { authority: 'https://test.maskinporten.no/', clientId: 'c', jwk: {} } as never;
    assert.throws(
      () => new MaskinportenClient(settings, { grantLifetimeSeconds: MAX_GRANT_LIFETIME_SECONDS + 1 }),
      (err: Error & { code?: string }) =>
        err.code === 'ERR_CONFIG' && err.message.includes(`1–${MAX_GRANT_LIFETIME_SECONDS}`),
    );
  });
});
