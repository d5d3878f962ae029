/** The `maskinporten/verify` example runs against the built package and shows both answers. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runExample } from './run-example.ts';

it('examples/verify-express.ts: 200 with the claims, 401 with a Bearer challenge', async () => {
  const run = await runExample('verify-express.ts');
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^with a token: 200 \{"consumer":"910000001","client":"[^"]+","scopes":\["kommune:api\.read"\]\}$/m,
  );
  assert.match(run.stdout, /^without one: 401 Bearer$/m);
});
