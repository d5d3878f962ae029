/**
 * `maskinporten clients` and `maskinporten keys`, built and run in this process by default (runCliProcess where a real
 * process is needed) against the self-service API of an emulator started in this process, with the admin credentials
 * given through the configuration loader's section `MaskinportenAdmin` (environment variables):
 * create/list/show/delete, and list/add/rotate/prune including rotation at the 5-key limit and the 30-day expiry
 * warning.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateRsaKeyPair, type RsaPublicJwk } from '../../src/keys/jwk.ts';
import { useEmulator } from '../helpers/emulator.ts';
import {
  adminEnv,
  assertBuilt,
  type CliResult,
  failure,
  jwtsIn,
  modeOf,
  ok,
  payloadOf,
  type RunOptions,
  runCli,
  runCliProcess,
  Secrets,
  show,
  TIMEOUT,
  usageError,
} from './cli-harness.ts';

const SCOPE = 'altinn:serviceowner/notifications.create';
const DAY_MS = 24 * 60 * 60 * 1000;
/** For scenarios of many CLI runs, which a loaded 2-core machine makes slow. */
const LONG = { timeout: 240_000 };

interface ClientJson {
  client_id: string;
  client_name: string;
  description?: string;
  scopes: string[];
}

describe('maskinporten clients and keys (built CLI)', () => {
  const emulator = useEmulator();
  let dir: string;
  let env: Record<string, string>;
  const secrets = new Secrets();
  const run = async (args: string[], options: RunOptions = {}): Promise<CliResult> =>
    secrets.check(await runCli(args, { cwd: dir, ...options, env: { ...env, ...options.env } }));
  /** The same, as a subprocess of the built bin: one run per command keeps the real process covered. */
  const runProcess = async (args: string[], options: RunOptions = {}): Promise<CliResult> =>
    secrets.check(await runCliProcess(args, { cwd: dir, ...options, env: { ...env, ...options.env } }));
  const json = <T>(r: CliResult): T => JSON.parse(ok(r).stdout) as T;

  /** A fresh key pair written as public.jwk.json (an array, as keygen writes it); its private half is a secret. */
  const publicKeyFile = async (kid: string): Promise<{ file: string; jwk: RsaPublicJwk }> => {
    const pair = await generateRsaKeyPair({ kid });
    secrets.addJwk(pair.privateJwk as unknown as Record<string, unknown>);
    const file = join(dir, `${kid}.public.jwk.json`);
    writeFileSync(file, JSON.stringify([pair.publicJwk]));
    return { file, jwk: pair.publicJwk };
  };
  /** Learns the private key `keys rotate` wrote to `out` (private.jwk.json), a secret from then on. */
  const kidsOf = (clientId: string) => emulator.getClient(clientId)!.keys.map((k) => k.jwk.kid);

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'maskinporten-cli-admin-'));
    env = adminEnv(emulator);
    secrets.addJwkBase64(emulator.adminClient.jwkBase64);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('clients', () => {
    it('create registers an integration with its scopes and public key', TIMEOUT, async () => {
      const { file, jwk } = await publicKeyFile('create-key');
      const r = ok(
        await run([
          'clients',
          'create',
          '--name',
          'my-app',
          '--description',
          'Sends notifications',
          '--scope',
          SCOPE,
          '--public-key',
          file,
        ]),
      );
      const id = /client id ([0-9a-f-]{36})/.exec(r.stdout)?.[1];
      assert.ok(id, show(r));
      assert.match(r.stdout, /Created my-app/);
      assert.match(r.stdout, /keys: create-key/);
      assert.match(r.stdout, new RegExp(`Set ClientId to ${id}`));
      const registered = emulator.getClient(id)!;
      assert.equal(registered.clientName, 'my-app');
      assert.equal(registered.description, 'Sends notifications');
      assert.deepEqual(registered.scopes, [SCOPE]);
      assert.deepEqual(
        registered.keys.map((k) => k.jwk.n),
        [jwk.n],
      );
      assert.equal(
        registered.orgNo,
        emulator.getClient(emulator.adminClient.clientId)!.orgNo,
        "the admin's organisation",
      );

      const created = json<{ client: ClientJson; keys: { kid: string }[] }>(
        await run(['clients', 'create', '--name', 'second', '--scope', 'a:b c:d', '--json']),
      );
      assert.deepEqual(created.client.scopes, ['a:b', 'c:d'], 'space-separated scopes');
      assert.equal(created.keys, undefined, 'no key given, none registered');
      assert.deepEqual(kidsOf(created.client.client_id), []);
    });

    it('create refuses a private key file and registers nothing', TIMEOUT, async () => {
      const pair = await generateRsaKeyPair();
      secrets.addJwk(pair.privateJwk as unknown as Record<string, unknown>);
      const file = join(dir, 'private.jwk.json');
      writeFileSync(file, JSON.stringify(pair.privateJwk), { mode: 0o600 });
      const before = json<ClientJson[]>(await run(['clients', 'list', '--json'])).length;
      usageError(await run(['clients', 'create', '--name', 'leaky', '--public-key', file]), /private key/);
      assert.equal(json<ClientJson[]>(await run(['clients', 'list', '--json'])).length, before);
      usageError(await run(['clients', 'create', '--scope', SCOPE]), /--name/);
    });

    it('--public-key: every private member counts, and a malformed file is never quoted', TIMEOUT, async () => {
      const pair = await generateRsaKeyPair();
      secrets.addJwk(pair.privateJwk as unknown as Record<string, unknown>);
      const before = json<ClientJson[]>(await run(['clients', 'list', '--json'])).length;
      const { d: _d, ...withoutD } = pair.privateJwk;
      for (const [name, key] of [
        ['no-d', withoutD],
        ['oth', { ...pair.publicJwk, oth: [] }],
        ['k', { kty: 'oct', k: 'c2VjcmV0LXN5bW1ldHJpYy1rZXk' }],
      ] as const) {
        const file = join(dir, `${name}.jwk.json`);
        writeFileSync(file, JSON.stringify([key]), { mode: 0o600 });
        usageError(await run(['clients', 'create', '--name', 'leaky', '--public-key', file]), /private key/);
      }
      // V8's JSON errors quote the text around the fault: for a key file that text is key material.
      const malformed = join(dir, 'malformed.jwk.json');
      const material = 'Zm9vYmFyS2V5TWF0ZXJpYWwxMjM0NTY3ODkw';
      for (const text of [`${material}"}`, `{"kty":"RSA","d":"${material}" x}`, `[{"d":"${material}`]) {
        writeFileSync(malformed, text, { mode: 0o600 });
        const r = usageError(
          await run(['clients', 'create', '--name', 'bad', '--public-key', malformed]),
          /not valid JSON/,
        );
        assert.ok(!r.stderr.includes(material.slice(0, 6)), r.stderr);
      }
      assert.equal(json<ClientJson[]>(await run(['clients', 'list', '--json'])).length, before);
    });

    it('--admin-api over plain http to a host other than loopback needs --insecure', TIMEOUT, async () => {
      usageError(
        await run(['clients', 'list', '--admin-api', 'http://api.example.org']),
        /--admin-api http:\/\/api\.example\.org uses plain http.*--insecure/,
      );
      usageError(await run(['keys', 'list', 'some-id', '--admin-api', 'http://10.1.2.3:8080/']), /--insecure/);
      usageError(await run(['clients', 'list', '--admin-api', 'ftp://127.0.0.1/']), /http\(s\)/);
      // Loopback over http is a local emulator: fine.
      ok(await run(['clients', 'list', '--admin-api', emulator.selfServiceUrl]));
    });

    it('list, show and delete', LONG, async () => {
      const { file } = await publicKeyFile('show-key');
      const id = json<{ client: ClientJson }>(
        await run(['clients', 'create', '--name', 'to-delete', '--scope', SCOPE, '--public-key', file, '--json']),
      ).client.client_id;

      const list = ok(await runProcess(['clients', 'list']));
      assert.match(list.stdout, new RegExp(`^${id}  to-delete  ${SCOPE.replaceAll('/', '\\/')}$`, 'm'));
      assert.ok(json<ClientJson[]>(await run(['clients', 'list', '--json'])).some((c) => c.client_id === id));

      const shown = ok(await run(['clients', 'show', id]));
      assert.match(shown.stdout, new RegExp(`^to-delete \\(${id}\\)`));
      assert.match(shown.stdout, /keys: show-key/);
      assert.match(shown.stdout, /organisation: \d{9}/);
      const shownJson = json<{ client: ClientJson; keys: { kid: string; exp: number }[] }>(
        await run(['clients', 'show', id, '--json']),
      );
      assert.equal(shownJson.client.client_id, id);
      assert.deepEqual(
        shownJson.keys.map((k) => k.kid),
        ['show-key'],
      );
      assert.equal(typeof shownJson.keys[0]!.exp, 'number');

      assert.match(ok(await run(['clients', 'delete', id])).stdout, new RegExp(`Deleted ${id}\\.`));
      assert.equal(emulator.getClient(id)!.active, false);
      assert.ok(!json<ClientJson[]>(await run(['clients', 'list', '--json'])).some((c) => c.client_id === id));
      failure(await run(['clients', 'show', id]), /404/);
      failure(await run(['clients', 'delete', id]), /404/);
      usageError(await run(['clients', 'show']), /client id/);
      usageError(await run(['clients', 'delete']), /client id/);
      usageError(await run(['clients', 'rename', id]), /create, list, show, delete/);
      usageError(await run(['clients']), /create, list, show, delete/);
    });

    it('without admin credentials, or with refused ones, fails with exit 1 and says why', TIMEOUT, async () => {
      failure(
        await runCliProcess(['clients', 'list'], { cwd: dir }).then((r) => secrets.check(r)),
        /MaskinportenAdmin/,
      );
      const stranger = await emulator.createClient({ scopes: ['x:y'] });
      secrets.addJwkBase64(stranger.jwkBase64!);
      failure(
        await run(['clients', 'list'], {
          env: { MaskinportenAdmin__ClientId: stranger.clientId, MaskinportenAdmin__JwkBase64: stranger.jwkBase64! },
        }),
        /scope|dcr/i,
      );
    });
  });

  describe('keys', () => {
    let clientId: string;
    let firstKid: string;

    before(async () => {
      const { file, jwk } = await publicKeyFile('first');
      firstKid = jwk.kid!;
      clientId = json<{ client: ClientJson }>(
        await run(['clients', 'create', '--name', 'rotating', '--scope', SCOPE, '--public-key', file, '--json']),
      ).client.client_id;
    });

    it('list shows each key and its expiry, without a warning for a fresh key', TIMEOUT, async () => {
      const r = ok(await runProcess(['keys', 'list', clientId]));
      assert.equal(r.stderr, '', 'no warning');
      assert.match(r.stdout, /^first {2}RS256 {2}expires \d{4}-\d\d-\d\d \((364|365) days\)\n$/);
      const list = json<{ kid: string; exp: number; expiresSoon: boolean }[]>(
        await run(['keys', 'list', clientId, '--json']),
      );
      assert.deepEqual(
        list.map((k) => [k.kid, k.expiresSoon]),
        [['first', false]],
      );
      usageError(await run(['keys', 'list']), /client id/);
      failure(await run(['keys', 'list', 'no-such-client']), /404/);
    });

    it('add registers more keys next to the current ones', TIMEOUT, async () => {
      const { file } = await publicKeyFile('added');
      const r = ok(await run(['keys', 'add', clientId, '--public-key', file]));
      assert.match(r.stdout, /Registered added; the client now has 2 key\(s\)/);
      assert.deepEqual(kidsOf(clientId), [firstKid, 'added']);
      usageError(await run(['keys', 'add', clientId]), /--public-key/);
    });

    it(
      'rotate generates a key locally, registers it next to the others and says where the private key is',
      TIMEOUT,
      async () => {
        const out = join(dir, 'rotated');
        const r = ok(await run(['keys', 'rotate', clientId, '--out-dir', out]));
        const files = { privateJwk: join(out, 'private.jwk.json'), publicJwks: join(out, 'public.jwk.json') };
        secrets.addKeyFile(join(out, 'private.jwk.json'));
        assert.deepEqual(readdirSync(out).sort(), ['private.jwk.json', 'public.jwk.json'], 'the private key once');
        // Checked again now that the new key is known: the output shows none of it.
        secrets.check(r);
        const newKid = (JSON.parse(readFileSync(files.privateJwk, 'utf8')) as { kid: string }).kid;
        assert.deepEqual(kidsOf(clientId), [firstKid, 'added', newKid], 'kept the current keys');
        assert.match(r.stdout, new RegExp(`new key ${newKid} registered next to first, added`));
        assert.ok(r.stdout.includes(`The new private key is in ${files.privateJwk}`), show(r));
        assert.ok(r.stdout.includes(`keyvault push --key-file ${files.privateJwk}`), show(r));
        assert.match(r.stdout, new RegExp(`keys prune ${clientId} --kid first`));
        assert.equal(modeOf(statSync(files.privateJwk)), 0o600);
        assert.equal(modeOf(statSync(files.publicJwks)), 0o644);

        // The new key works: a token with it.
        const token = secrets.check(
          await runCli(
            [
              'token',
              '--authority',
              emulator.issuer,
              '--client-id',
              clientId,
              '--key-file',
              files.privateJwk,
              '--scope',
              SCOPE,
            ],
            { cwd: dir },
          ),
          { tokensFrom: [emulator.issuer] },
        );
        assert.equal(payloadOf(jwtsIn(ok(token).stdout)[0]!).client_id, clientId);

        // The out-dir is not overwritten without --force.
        usageError(await run(['keys', 'rotate', clientId, '--out-dir', out]), /--force/);
        assert.equal(kidsOf(clientId).length, 3, 'nothing registered');
      },
    );

    it('rotate at the 5-key limit refuses and changes nothing', TIMEOUT, async () => {
      const two = await publicKeyFile('fourth');
      ok(await run(['keys', 'add', clientId, '--public-key', two.file]));
      const json5 = json<{ kid: string }>(
        await run(['keys', 'rotate', clientId, '--out-dir', join(dir, 'r5'), '--json']),
      );
      secrets.addKeyFile(join(dir, 'r5', 'private.jwk.json'));
      assert.equal(kidsOf(clientId).length, 5);
      assert.equal(kidsOf(clientId)[4], json5.kid);

      const before = structuredClone(emulator.getClient(clientId)!.keys);
      emulator.requests.clear();
      const out = join(dir, 'r6');
      const r = usageError(await run(['keys', 'rotate', clientId, '--out-dir', out]));
      assert.match(r.stderr, /already has 5 keys, the most allowed/);
      assert.match(r.stderr, new RegExp(`keys prune ${clientId}`), 'says how to make room');
      assert.deepEqual(emulator.getClient(clientId)!.keys, before, 'keys and their expiry unchanged');
      assert.ok(!existsSync(out), 'no key files made');
      assert.deepEqual(
        emulator.requests.entries({ endpoint: 'self-service' }).filter((e) => e.method !== 'GET'),
        [],
        'no write to the self-service API',
      );

      const sixth = await publicKeyFile('sixth');
      usageError(await run(['keys', 'add', clientId, '--public-key', sixth.file]), /at most 5/);
      assert.deepEqual(emulator.getClient(clientId)!.keys, before);
    });

    it(
      'prune removes named keys, all but the newest N, or expired ones, and never the last without --force',
      LONG,
      async () => {
        const kids = kidsOf(clientId);
        assert.equal(kids.length, 5);
        const r = ok(await run(['keys', 'prune', clientId, '--kid', 'first']));
        assert.match(r.stdout, /Removed first; 4 key\(s\) left/);
        assert.deepEqual(kidsOf(clientId), kids.slice(1));

        usageError(await run(['keys', 'prune', clientId, '--kid', 'nope']), /no key nope/);
        assert.match(ok(await run(['keys', 'prune', clientId])).stdout, /Nothing to remove/, 'no key has expired');

        // Every posted key gets the same fresh year, so "newest" is the order they were added in.
        const kept = json<{ removed: string[]; keys: string[] }>(
          await run(['keys', 'prune', clientId, '--keep', '2', '--json']),
        );
        assert.deepEqual(kept.keys, kids.slice(3), 'the two added last are kept');
        assert.deepEqual(kept.removed.sort(), kids.slice(1, 3).sort());
        assert.deepEqual(kidsOf(clientId), kids.slice(3));

        usageError(await run(['keys', 'prune', clientId, '--keep', '0']), /--force/);
        assert.deepEqual(kidsOf(clientId), kids.slice(3), 'unchanged');
        usageError(await run(['keys', 'prune', clientId, '--keep', 'some']), /--keep/);
        ok(await run(['keys', 'prune', clientId, '--keep', '0', '--force']));
        assert.deepEqual(kidsOf(clientId), []);
        assert.match(ok(await run(['keys', 'list', clientId])).stdout, /No keys registered/);
        usageError(await run(['keys', 'expire', clientId]), /list, add, rotate, prune/);
      },
    );
  });

  describe('keys rotate --private-format', () => {
    it('jwk-base64 writes the private key once, as jwk.base64, and names that file', TIMEOUT, async () => {
      const { file } = await publicKeyFile('b64-first');
      const id = json<{ client: ClientJson }>(
        await run(['clients', 'create', '--name', 'b64', '--scope', SCOPE, '--public-key', file, '--json']),
      ).client.client_id;
      const out = join(dir, 'rotated-b64');
      const r = ok(await run(['keys', 'rotate', id, '--out-dir', out, '--private-format', 'jwk-base64']));
      assert.deepEqual(readdirSync(out).sort(), ['jwk.base64', 'public.jwk.json'], 'the private key once');
      const keyFile = join(out, 'jwk.base64');
      secrets.addJwkBase64(readFileSync(keyFile, 'utf8').trim());
      secrets.check(r);
      assert.equal(modeOf(statSync(keyFile)), 0o600);
      assert.ok(r.stdout.includes(`The new private key is in ${keyFile}`), show(r));
      assert.ok(r.stdout.includes(`keyvault push --key-file ${keyFile}`), show(r));
      assert.equal(kidsOf(id).length, 2);
      // The file works as --key-file.
      const token = secrets.check(
        await runCli(
          ['token', '--authority', emulator.issuer, '--client-id', id, '--key-file', keyFile, '--scope', SCOPE],
          { cwd: dir },
        ),
        { tokensFrom: [emulator.issuer] },
      );
      assert.equal(payloadOf(jwtsIn(ok(token).stdout)[0]!).client_id, id);
      // A wrong form, and the flag on another action, are usage errors that register nothing.
      usageError(
        await run(['keys', 'rotate', id, '--out-dir', join(dir, 'r-pem'), '--private-format', 'pem']),
        /--private-format must be jwk or jwk-base64, got "pem"/,
      );
      usageError(await run(['keys', 'list', id, '--private-format', 'jwk']), /--private-format applies to keys rotate/);
      assert.equal(kidsOf(id).length, 2, 'nothing registered');
      assert.equal(existsSync(join(dir, 'r-pem')), false, 'nothing written');
    });
  });

  describe('keys list near expiry (on the server’s clock)', () => {
    it('warns on stderr about keys expiring within 30 days and about expired ones', LONG, async () => {
      const create = async (name: string) => {
        const { file } = await publicKeyFile(name);
        return json<{ client: ClientJson }>(
          await run(['clients', 'create', '--name', name, '--scope', SCOPE, '--public-key', file, '--json']),
        ).client.client_id;
      };
      try {
        // Registered 30 days ago: expires 335 days from now. Registered now: 365 days.
        emulator.clock.advance(-30 * DAY_MS);
        const old = await create('old-key');
        emulator.clock.setOffset(0);
        const aging = await create('aging-key');
        emulator.clock.advance(340 * DAY_MS);

        const r = ok(await run(['keys', 'list', aging]));
        assert.match(r.stdout, /^aging-key {2}RS256 {2}expires \d{4}-\d\d-\d\d \((2[3-5]) days\)\n$/, show(r));
        assert.equal(
          r.stderr,
          `warning: key aging-key expires within 30 days: rotate it (maskinporten keys rotate ${aging})\n`,
          'the warning goes to stderr, keeping stdout for pipes',
        );
        const list = json<{ kid: string; expiresSoon: boolean }[]>(await run(['keys', 'list', aging, '--json']));
        assert.deepEqual(
          list.map((k) => [k.kid, k.expiresSoon]),
          [['aging-key', true]],
        );

        const expired = ok(await run(['keys', 'list', old]));
        assert.match(expired.stdout, /^old-key {2}RS256 {2}EXPIRED \d{4}-\d\d-\d\d\n$/, show(expired));
        assert.match(expired.stderr, /^warning: key old-key has expired: rotate it/);
        // prune (default: the expired keys) would leave no key: only with --force.
        usageError(await run(['keys', 'prune', old]), /--force/);
        assert.deepEqual(kidsOf(old), ['old-key']);
        assert.match(ok(await run(['keys', 'prune', old, '--force'])).stdout, /Removed old-key; 0 key\(s\) left/);

        // Rotating posts the key set again: the aging key keeps its expiry (rotation never extends an old key), and
        // the new key gets a year.
        const out = join(dir, 'aging-rotated');
        const rotated = json<{ kid: string; keys: { kid: string; exp: number }[] }>(
          await run(['keys', 'rotate', aging, '--out-dir', out, '--json']),
        );
        secrets.addKeyFile(join(out, 'private.jwk.json'));
        const agingExp = rotated.keys.find((k) => k.kid === 'aging-key')!.exp;
        const now = Math.floor(emulator.clock.now() / 1000);
        assert.ok(agingExp - now < 30 * 86400, 'the aging key still expires within 30 days');
        assert.ok(rotated.keys.find((k) => k.kid === rotated.kid)!.exp - now > 364 * 86400, 'the new key: a year');
        const after = ok(await run(['keys', 'list', aging]));
        assert.match(after.stderr, /key aging-key expires within 30 days/);
        assert.doesNotMatch(after.stderr, new RegExp(rotated.kid));
      } finally {
        emulator.clock.setOffset(0);
      }
    });
  });

  describe('on the self-service API /api/v1', () => {
    it(
      "clients and keys call /api/v1; --lifetime sets a new key's exp; the last key goes by DELETE",
      LONG,
      async () => {
        emulator.requests.clear();
        const { file } = await publicKeyFile('v1-first');
        const id = json<{ client: ClientJson }>(
          await run(['clients', 'create', '--name', 'v1', '--scope', SCOPE, '--public-key', file, '--json']),
        ).client.client_id;
        const day = 86400;
        const now = () => Math.floor(emulator.clock.now() / 1000);
        const second = await publicKeyFile('v1-second');
        const added = json<{ keys: { kid: string; exp: number; use: string }[] }>(
          await run(['keys', 'add', id, '--public-key', second.file, '--lifetime', '90d', '--json']),
        );
        const exp = (kid: string) => added.keys.find((k) => k.kid === kid)!.exp;
        assert.ok(Math.abs(exp('v1-second') - (now() + 90 * day)) < 120, 'the added key lives 90 days');
        assert.ok(exp('v1-first') - now() > 364 * day, 'the first key keeps its year');
        assert.deepEqual(
          added.keys.map((k) => k.use),
          ['sig', 'sig'],
        );
        const out = join(dir, 'v1-rotated');
        const rotated = json<{ kid: string; keys: { kid: string; exp: number }[] }>(
          await run(['keys', 'rotate', id, '--out-dir', out, '--lifetime', '4w', '--json']),
        );
        secrets.addKeyFile(join(out, 'private.jwk.json'));
        const rotatedExp = rotated.keys.find((k) => k.kid === rotated.kid)!.exp;
        assert.ok(Math.abs(rotatedExp - (now() + 28 * day)) < 120, 'the rotated key lives 4 weeks');
        assert.equal(rotated.keys.find((k) => k.kid === 'v1-second')!.exp, exp('v1-second'), 'kept its exp');
        const list = ok(await run(['keys', 'list', id]));
        assert.match(list.stdout, /^v1-second {2}RS256 {2}expires \d{4}-\d\d-\d\d \((89|90) days\)$/m);

        for (const bad of ['0d', '366d', '2y', 'soon', '-5d'])
          usageError(await run(['keys', 'add', id, '--public-key', second.file, '--lifetime', bad]), /--lifetime/);
        usageError(await run(['keys', 'list', id, '--lifetime', '9d']), /--lifetime applies to/);

        ok(await run(['keys', 'prune', id, '--keep', '0', '--force']));
        assert.deepEqual(kidsOf(id), []);
        const writes = emulator.requests
          .entries({ endpoint: 'self-service' })
          .map((e) => `${e.method} ${e.path.replace(id, 'ID')} ${e.status}`);
        assert.ok(
          writes.every((w) => w.split(' ')[1]!.startsWith('/api/v1/')),
          writes.join('\n'),
        );
        assert.ok(writes.includes('POST /api/v1/clients 201'), writes.join('\n'));
        assert.ok(writes.includes('POST /api/v1/clients/ID/jwks 201'), writes.join('\n'));
        assert.equal(writes.at(-1), 'DELETE /api/v1/clients/ID/jwks 204', 'no empty set posted');
      },
    );

    it('scopes list, create, grant, access, withdraw (then MP-250), delete', LONG, async () => {
      const scope = 'emulator:cli.orders';
      const created = json<{ name: string; accessible_for_all: boolean }>(
        await run(['scopes', 'create', scope, '--description', 'Orders from the CLI', '--json']),
      );
      assert.equal(created.name, scope);
      assert.match(ok(await runProcess(['scopes', 'list'])).stdout, new RegExp(`^${scope}  Orders from the CLI$`, 'm'));
      assert.doesNotMatch(ok(await run(['scopes', 'list', '--accessible-for-all'])).stdout, new RegExp(scope));
      assert.match(ok(await run(['scopes', 'list', '--mine'])).stdout, new RegExp(scope));
      assert.match(ok(await run(['scopes', 'show', scope])).stdout, /open to all: no/);

      const consumer = await emulator.createClient({ scopes: [scope], orgNo: '310000011' });
      secrets.addJwkBase64(consumer.jwkBase64!);
      const keyFile = join(dir, 'consumer.jwk.base64');
      writeFileSync(keyFile, consumer.jwkBase64!, { mode: 0o600 });
      const token = (extra: RunOptions = {}) =>
        runCli(
          [
            'token',
            '--authority',
            emulator.issuer,
            '--client-id',
            consumer.clientId,
            '--key-file',
            keyFile,
            '--scope',
            scope,
          ],
          { cwd: dir, ...extra },
        ).then((r) => secrets.check(r, { tokensFrom: [emulator.issuer] }));

      failure(await token(), /MP-250|not been granted/);
      assert.match(ok(await run(['scopes', 'grant', scope, '310000011'])).stdout, /Granted 310000011 access/);
      assert.match(ok(await run(['scopes', 'access', scope])).stdout, /^310000011 {2}APPROVED$/m);
      ok(await token());
      assert.match(ok(await run(['scopes', 'withdraw', scope, '310000011'])).stdout, /Withdrew 310000011/);
      failure(await token(), /MP-250/);
      assert.match(ok(await run(['scopes', 'delete', scope])).stdout, new RegExp(`Deleted ${scope}`));

      usageError(await run(['scopes']), /list, show, create/);
      usageError(await run(['scopes', 'grant', scope]), /organisation number/);
      usageError(await run(['scopes', 'create', scope]), /--description/);
      failure(await run(['scopes', 'grant', scope, '12']), /9 digits/);
    });
  });

  it('--help shows the admin settings and examples', TIMEOUT, async () => {
    for (const command of ['clients', 'keys']) {
      const r = ok(await run([command, '--help']));
      assert.match(r.stdout, new RegExp(`^Usage: maskinporten ${command}`));
      assert.match(r.stdout, /MaskinportenAdmin/);
      assert.match(r.stdout, /Examples:/);
    }
  });
});
