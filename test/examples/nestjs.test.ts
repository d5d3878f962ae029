/** The NestJS example runs against the built package: the guard, its challenge, and the authorized HttpService. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runExample } from './run-example.ts';

it('examples/nestjs-app.ts: guarded route 200/401, HttpService sends the token', async () => {
  const run = await runExample('nestjs-app.ts');
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^guarded route with a token: 200 \{"consumer":"910000001","scopes":\["kommune:api\.read"\]\}$/m,
  );
  assert.match(run.stdout, /^guarded route without one: 401 Bearer$/m);
  assert.match(run.stdout, /^HttpService sent: 200 \{"sentScope":"kommune:api\.read"\}$/m);
});
