import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { assertDigdirError } from '../helpers/digdir.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { accessToken, assertMpError, makeGrant, postToken } from '../helpers/grants.ts';
import { adminToken, call, type HttpAnswer, obj } from '../helpers/http.ts';

const OWNER = '991825827';
const CONSUMER = '974761076';
const STRANGER = '910000009';

describe('self-service API: scope administration and access (protocol.md §6 (rev), §4 (rev))', () => {
  const emulator = useEmulator();
  let ownerToken: string;
  let api: (path: string, init?: { method?: string; body?: unknown; token?: string | null }) => Promise<HttpAnswer>;
  let counter = 0;
  const fresh = () => `scope${++counter}`;

  before(async () => {
    ownerToken = await adminToken(emulator);
    api = (path, init = {}) => {
      const headers: Record<string, string> = {};
      const t = init.token === undefined ? ownerToken : init.token;
      if (t !== null) headers.authorization = `Bearer ${t}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      return call(`${emulator.selfServiceUrl}/api/v1${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    };
  });

  async function createScope(subscope: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const answer = await api('/scopes', {
      method: 'POST',
      body: { prefix: 'digdirtest', subscope, description: 'a test scope', ...body },
    });
    assert.equal(answer.status, 201, answer.text);
    return obj(answer);
  }

  /** An administrator of another organisation, with the scope-admin scope. */
  async function otherAdmin(orgNo: string): Promise<string> {
    const admin = await emulator.createClient({ scopes: ['idporten:scopes.write', 'idporten:dcr.read'], orgNo });
    return accessToken(emulator, admin);
  }

  it('walks through MP-250: create a scope, grant an organisation, get a token, withdraw, see MP-250', async () => {
    const name = `digdirtest:${fresh()}`;
    // 1. The API provider creates the scope.
    const created = await createScope(name.split(':')[1]!);
    assert.equal(created.name, name);
    assert.equal(created.owner_orgno, OWNER);
    // 2. The consumer's integration has the scope registered, but its organisation has no access yet: MP-250.
    const consumer = await emulator.createClient({ scopes: [name], orgNo: CONSUMER });
    assertMpError(await postToken(emulator, makeGrant(emulator, consumer)), 403, 'forbidden', 'MP-250');
    // 3. The provider grants the organisation access.
    const granted = await api(`/scopes/access/${CONSUMER}?scope=${encodeURIComponent(name)}`, { method: 'PUT' });
    assert.equal(granted.status, 200, granted.text);
    assert.deepEqual(
      { ...obj(granted), created: undefined, last_updated: undefined },
      {
        consumer_orgno: CONSUMER,
        owner_orgno: OWNER,
        scope: name,
        state: 'APPROVED',
        created: undefined,
        last_updated: undefined,
      },
    );
    // 4. The consumer gets a token.
    const ok = await postToken(emulator, makeGrant(emulator, consumer));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.scope, name);
    // 5. The provider withdraws the access …
    const withdrawn = await api(`/scopes/access/${CONSUMER}?scope=${encodeURIComponent(name)}`, { method: 'DELETE' });
    assert.equal(withdrawn.status, 200, withdrawn.text);
    assert.equal(obj(withdrawn).state, 'DENIED');
    // 6. … and the token endpoint answers MP-250 with the live text, though the scope is still on the client.
    const refused = await postToken(emulator, makeGrant(emulator, consumer));
    assertMpError(refused, 403, 'forbidden', 'MP-250');
    assert.match(
      String(refused.body.error_description),
      new RegExp(`^Consumer has not been granted access to the scope ${name} \\(trace_id: [0-9a-f]+\\)$`),
    );
    assert.deepEqual(emulator.getClient(consumer.clientId)?.scopes, [name]);
  });

  it('lists a scope’s access, withdrawn grants included, and the owner’s scopes', async () => {
    const name = `digdirtest:${fresh()}`;
    await createScope(name.split(':')[1]!);
    for (const org of [CONSUMER, STRANGER]) {
      assert.equal((await api(`/scopes/access/${org}?scope=${name}`, { method: 'PUT' })).status, 200);
    }
    assert.equal((await api(`/scopes/access/${STRANGER}?scope=${name}`, { method: 'DELETE' })).status, 200);
    const list = await api(`/scopes/access?scope=${name}`);
    assert.equal(list.status, 200, list.text);
    const states = Object.fromEntries(
      (list.json as { consumer_orgno: string; state: string }[]).map((a) => [a.consumer_orgno, a.state]),
    );
    assert.deepEqual(states, { [CONSUMER]: 'APPROVED', [STRANGER]: 'DENIED' });
    // Granting again re-approves.
    assert.equal(obj(await api(`/scopes/access/${STRANGER}?scope=${name}`, { method: 'PUT' })).state, 'APPROVED');
    const one = await api(`/scopes?scope=${name}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(obj(one).name, name);
    const mine = (await api('/scopes')).json as { name: string; owner_orgno: string }[];
    assert.ok(mine.some((s) => s.name === name));
    assert.ok(mine.every((s) => s.owner_orgno === OWNER));
  });

  it('MP-201: a scope whose allowed_integration_types leave out maskinporten is refused, until they include it', async () => {
    const name = `digdirtest:${fresh()}`;
    await createScope(name.split(':')[1]!, { allowed_integration_types: ['idporten'], accessible_for_all: true });
    const client = await emulator.createClient({ scopes: [name] });
    const refused = await postToken(emulator, makeGrant(emulator, client));
    assertMpError(refused, 400, 'invalid_scope', 'MP-201');
    assert.match(
      String(refused.body.error_description),
      new RegExp(`^Token request contains scopes not allowed for maskinporten: ${name} \\(trace_id: [0-9a-f]+\\)$`),
    );
    const changed = await api(`/scopes?scope=${encodeURIComponent(name)}`, {
      method: 'PUT',
      body: { allowed_integration_types: ['idporten', 'maskinporten'] },
    });
    assert.equal(changed.status, 200, changed.text);
    const ok = await postToken(emulator, makeGrant(emulator, client));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.scope, name);
  });

  it('creates the full scope object from prefix and subscope, and shows it in the public list', async () => {
    const subscope = `${fresh()}/orders.read`;
    const created = await createScope(subscope, {
      long_description: 'longer',
      at_max_age: 60,
      allowed_integration_types: ['maskinporten', 'api_klient'],
      delegation_source: 'https://tt02.altinn.no/',
      token_type: 'SELF_CONTAINED',
      visibility: 'PUBLIC',
      accessible_for_all: false,
    });
    assert.equal(created.prefix, 'digdirtest');
    assert.equal(created.subscope, subscope);
    assert.equal(created.name, `digdirtest:${subscope}`);
    assert.equal(created.description, 'a test scope');
    assert.equal(created.long_description, 'longer');
    assert.equal(created.at_max_age, 60);
    assert.deepEqual(created.allowed_integration_types, ['maskinporten', 'api_klient']);
    assert.equal(created.delegation_source, 'https://tt02.altinn.no/');
    assert.equal(created.token_type, 'SELF_CONTAINED');
    assert.equal(created.visibility, 'PUBLIC');
    assert.equal(created.accessible_for_all, false);
    assert.equal(created.active, true);
    assert.ok(!Number.isNaN(Date.parse(created.created as string)));
    const all = (await call(`${emulator.selfServiceUrl}/api/v1/scopes/all`)).json as Record<string, unknown>[];
    assert.deepEqual(
      all.find((s) => s.name === created.name),
      created,
    );
    // ?scope= on POST, when given, must name the same scope.
    const mismatch = await api(`/scopes?scope=digdirtest:other`, {
      method: 'POST',
      body: { prefix: 'digdirtest', subscope: fresh() },
    });
    assertDigdirError(mismatch, 400, { objectName: 'Scope', field: 'scope' });
  });

  it('at_max_age of a created scope caps the token lifetime; PUT changes it (protocol.md §3)', async () => {
    const name = `digdirtest:${fresh()}`;
    await createScope(name.split(':')[1]!, { at_max_age: 45 });
    const own = await emulator.createClient({ scopes: [name], orgNo: OWNER });
    assert.equal((await postToken(emulator, makeGrant(emulator, own))).body.expires_in, 45);
    const changed = await api(`/scopes?scope=${name}`, { method: 'PUT', body: { at_max_age: 0, description: 'new' } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(obj(changed).description, 'new');
    assert.equal(obj(changed).name, name, 'the name stays');
    assert.equal((await postToken(emulator, makeGrant(emulator, own))).body.expires_in, 120);
    const rename = await api(`/scopes?scope=${name}`, {
      method: 'PUT',
      body: { prefix: 'digdirtest', subscope: 'renamed' },
    });
    assertDigdirError(rename, 400, { objectName: 'Scope', field: 'scope' });
  });

  it('the owner’s organisation has access until withdrawn; withdrawing is idempotent and needs no prior grant', async () => {
    const name = `digdirtest:${fresh()}`;
    await createScope(name.split(':')[1]!);
    const own = await emulator.createClient({ scopes: [name] }); // the default organisation: the owner's
    assert.equal((await postToken(emulator, makeGrant(emulator, own))).status, 200);
    for (let i = 0; i < 2; i++) {
      const withdrawn = await api(`/scopes/access/${OWNER}?scope=${name}`, { method: 'DELETE' });
      assert.equal(withdrawn.status, 200, withdrawn.text);
      assert.equal(obj(withdrawn).state, 'DENIED');
    }
    assertMpError(await postToken(emulator, makeGrant(emulator, own)), 403, 'forbidden', 'MP-250');
    assert.equal(obj(await api(`/scopes/access/${OWNER}?scope=${name}`, { method: 'PUT' })).state, 'APPROVED');
    assert.equal((await postToken(emulator, makeGrant(emulator, own))).status, 200);
    // Withdrawing an organisation that never had access records the refusal, and changes nothing for it.
    const never = await api(`/scopes/access/${STRANGER}?scope=${name}`, { method: 'DELETE' });
    assert.equal(obj(never).state, 'DENIED');
    const stranger = await emulator.createClient({ scopes: [name], orgNo: STRANGER });
    assertMpError(await postToken(emulator, makeGrant(emulator, stranger)), 403, 'forbidden', 'MP-250');
  });

  it('the owner’s own organisation needs no grant; an accessible_for_all scope needs neither grant nor registration', async () => {
    const owned = `digdirtest:${fresh()}`;
    const open = `digdirtest:${fresh()}`;
    await createScope(owned.split(':')[1]!);
    await createScope(open.split(':')[1]!, { accessible_for_all: true });
    const own = await emulator.createClient({ scopes: [owned], orgNo: OWNER });
    assert.equal((await postToken(emulator, makeGrant(emulator, own))).status, 200);
    const consumer = await emulator.createClient({ scopes: ['test:unrelated'], orgNo: CONSUMER });
    const answer = await postToken(emulator, makeGrant(emulator, consumer, { claims: { scope: open } }));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const forAll = (await call(`${emulator.selfServiceUrl}/api/v1/scopes/all?accessible_for_all=true`)).json as {
      name: string;
    }[];
    assert.ok(forAll.some((s) => s.name === open));
    assert.ok(!forAll.some((s) => s.name === owned));
    // The consumer's organisation sees the open scope among those it may use.
    const consumerAdmin = await otherAdmin(CONSUMER);
    const usable = (await api('/scopes/access/all?accessible_for_all=true', { token: consumerAdmin })).json as {
      scope: string;
      state: string;
    }[];
    assert.ok(usable.some((a) => a.scope === open && a.state === 'APPROVED'));
  });

  it('scopes without an owner (defined from code, or never defined) stay open to every organisation', async () => {
    emulator.defineScope({ name: 'test:builtin', atMaxAge: 30 });
    const consumer = await emulator.createClient({ scopes: ['test:builtin', 'test:undefined'], orgNo: CONSUMER });
    const answer = await postToken(emulator, makeGrant(emulator, consumer));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  it('a scope defined from code is open until an organisation administers it, which then owns it', async () => {
    emulator.defineScope({ name: 'codedef:orders', atMaxAge: 90 });
    const consumer = await emulator.createClient({ scopes: ['codedef:orders'], orgNo: CONSUMER });
    assert.equal((await postToken(emulator, makeGrant(emulator, consumer))).status, 200, 'open while it has no owner');
    const read = await api('/scopes?scope=codedef:orders');
    assert.equal(read.status, 200, read.text);
    assert.equal(obj(read).owner_orgno, null, 'reading claims nothing');
    // A bad change claims nothing either.
    assertDigdirError(await api('/scopes?scope=codedef:orders', { method: 'PUT', body: { at_max_age: -1 } }), 400);
    assert.equal(obj(await api('/scopes?scope=codedef:orders')).owner_orgno, null);
    const granted = await api(`/scopes/access/${STRANGER}?scope=codedef:orders`, { method: 'PUT' });
    assert.equal(granted.status, 200, granted.text);
    assert.equal(obj(granted).owner_orgno, OWNER);
    assert.equal(obj(await api('/scopes?scope=codedef:orders')).at_max_age, 90, 'its properties stay');
    assertMpError(await postToken(emulator, makeGrant(emulator, consumer)), 403, 'forbidden', 'MP-250');
    const other = await otherAdmin(STRANGER);
    assertDigdirError(await api('/scopes?scope=codedef:orders', { method: 'DELETE', token: other }), 404);
  });

  it('DELETE deactivates a scope: no one gets tokens with it until PUT makes it active again', async () => {
    const name = `digdirtest:${fresh()}`;
    await createScope(name.split(':')[1]!);
    const own = await emulator.createClient({ scopes: [name], orgNo: OWNER });
    const deleted = await api(`/scopes?scope=${name}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(obj(deleted).active, false);
    assertMpError(await postToken(emulator, makeGrant(emulator, own)), 403, 'forbidden', 'MP-250');
    const all = (await call(`${emulator.selfServiceUrl}/api/v1/scopes/all`)).json as { name: string }[];
    assert.ok(!all.some((s) => s.name === name), 'an inactive scope is not listed');
    assert.ok(!((await api('/scopes')).json as { name: string }[]).some((s) => s.name === name));
    assert.ok(((await api('/scopes?inactive=true')).json as { name: string }[]).some((s) => s.name === name));
    const again = await api('/scopes', {
      method: 'POST',
      body: { prefix: 'digdirtest', subscope: name.split(':')[1] },
    });
    assertDigdirError(again, 400, { objectName: 'Scope', field: 'name' });
    assert.match(again.text, /PUT/);
    assert.equal(obj(await api(`/scopes?scope=${name}`, { method: 'PUT', body: { active: true } })).active, true);
    assert.equal((await postToken(emulator, makeGrant(emulator, own))).status, 200);
  });

  it('needs idporten:scopes.write, and lets an organisation manage only its own scopes and prefixes', async () => {
    const name = `digdirtest:${fresh()}`;
    await createScope(name.split(':')[1]!);
    const dcrOnly = await adminToken(emulator, ['idporten:dcr.read', 'idporten:dcr.write']);
    for (const [method, path] of [
      ['POST', '/scopes'],
      ['GET', `/scopes?scope=${name}`],
      ['PUT', `/scopes?scope=${name}`],
      ['DELETE', `/scopes?scope=${name}`],
      ['GET', `/scopes/access?scope=${name}`],
      ['PUT', `/scopes/access/${CONSUMER}?scope=${name}`],
      ['DELETE', `/scopes/access/${CONSUMER}?scope=${name}`],
    ] as const) {
      const body = method === 'POST' || method === 'PUT' ? {} : undefined;
      assertDigdirError(await api(path, { method, token: dcrOnly, body }), 403, { label: `${method} ${path}` });
      assertDigdirError(await api(path, { method, token: null, body }), 401, { label: `${method} ${path}` });
    }
    const other = await otherAdmin(STRANGER);
    assertDigdirError(await api(`/scopes?scope=${name}`, { token: other }), 404, { objectName: 'Scope' });
    assertDigdirError(await api(`/scopes?scope=${name}`, { method: 'DELETE', token: other }), 404);
    assertDigdirError(await api(`/scopes/access/${STRANGER}?scope=${name}`, { method: 'PUT', token: other }), 404);
    const taken = await api('/scopes', {
      method: 'POST',
      token: other,
      body: { prefix: 'digdirtest', subscope: fresh() },
    });
    assertDigdirError(taken, 400, { objectName: 'Scope', field: 'prefix' });
    // The stranger's own prefix is its own.
    const own = await api('/scopes', {
      method: 'POST',
      token: other,
      body: { prefix: 'strangerorg', subscope: 'api' },
    });
    assert.equal(own.status, 201, own.text);
    assert.equal(obj(own).owner_orgno, STRANGER);
    // Nothing changed for the owner's scope.
    assert.equal(obj(await api(`/scopes?scope=${name}`)).active, true);
  });

  it('refuses bad scope input with a field error naming the field, and changes nothing', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['no subscope', { prefix: 'digdirtest' }, 'subscope'],
      ['bad prefix', { prefix: 'has space', subscope: 'x' }, 'prefix'],
      ['bad subscope', { prefix: 'digdirtest', subscope: 'a b' }, 'subscope'],
      ['name disagrees', { prefix: 'digdirtest', subscope: 'x', name: 'digdirtest:y' }, 'name'],
      ['at_max_age negative', { prefix: 'digdirtest', subscope: 'x1', at_max_age: -1 }, 'at_max_age'],
      ['at_max_age a string', { prefix: 'digdirtest', subscope: 'x2', at_max_age: '60' }, 'at_max_age'],
      [
        'accessible_for_all a string',
        { prefix: 'digdirtest', subscope: 'x3', accessible_for_all: 'yes' },
        'accessible_for_all',
      ],
      ['token_type unknown', { prefix: 'digdirtest', subscope: 'x4', token_type: 'JWT' }, 'token_type'],
      ['visibility unknown', { prefix: 'digdirtest', subscope: 'x5', visibility: 'SECRET' }, 'visibility'],
      [
        'integration types not an array',
        { prefix: 'digdirtest', subscope: 'x6', allowed_integration_types: 'maskinporten' },
        'allowed_integration_types',
      ],
      ['description a number', { prefix: 'digdirtest', subscope: 'x7', description: 5 }, 'description'],
      [
        '__proto__ as a field',
        JSON.parse('{"prefix":"digdirtest","subscope":"x8","__proto__":{"active":false},"at_max_age":-5}'),
        'at_max_age',
      ],
    ];
    const before = ((await api('/scopes?inactive=true')).json as unknown[]).length;
    for (const [why, body, field] of cases) {
      assertDigdirError(await api('/scopes', { method: 'POST', body }), 400, {
        objectName: 'Scope',
        field,
        label: why,
      });
    }
    assert.equal(((await api('/scopes?inactive=true')).json as unknown[]).length, before, 'nothing was created');
    assert.equal(({} as Record<string, unknown>).active, undefined, 'no prototype pollution');
    const name = `digdirtest:${fresh()}`;
    await createScope(name.split(':')[1]!);
    assertDigdirError(await api(`/scopes/access/12345?scope=${name}`, { method: 'PUT' }), 400, {
      objectName: 'ScopeAccess',
      field: 'consumer_orgno',
    });
    assertDigdirError(await api(`/scopes/access/${CONSUMER}`, { method: 'PUT' }), 400, { field: 'scope' });
    assertDigdirError(await api(`/scopes?scope=${name}`, { method: 'PUT', body: { at_max_age: 1.5 } }), 400, {
      field: 'at_max_age',
    });
    assert.equal(obj(await api(`/scopes?scope=${name}`)).at_max_age, 0);
  });

  it('keeps scopes and access grants across a restart with a state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-scopes-'));
    const stateFile = join(dir, 'state.json');
    const name = 'persisted:api';
    let consumerClient: Awaited<ReturnType<Emulator['createClient']>>;
    const first = await startEmulator({ stateFile });
    try {
      const t = await adminToken(first);
      const post = (path: string, method: string, body?: unknown) =>
        call(`${first.selfServiceUrl}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${t}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      assert.equal((await post('/scopes', 'POST', { prefix: 'persisted', subscope: 'api' })).status, 201);
      assert.equal((await post(`/scopes/access/${CONSUMER}?scope=${name}`, 'PUT')).status, 200);
      consumerClient = await first.createClient({ scopes: [name], orgNo: CONSUMER });
    } finally {
      await first.close();
    }
    const second = await startEmulator({ stateFile });
    try {
      assert.equal((await postToken(second, makeGrant(second, consumerClient))).status, 200);
      const stranger = await second.createClient({ scopes: [name], orgNo: STRANGER });
      assertMpError(await postToken(second, makeGrant(second, stranger)), 403, 'forbidden', 'MP-250');
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
