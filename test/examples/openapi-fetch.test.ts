/**
 * The openapi-fetch example runs against the built package, and the committed Dialogporten types are exactly what
 * scripts/generate-dialogporten-types.ts makes from the installed @digdir/dialogporten-schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { generateDialogportenTypes } from '../../scripts/generate-dialogporten-types.ts';
import { ROOT, runExample } from './run-example.ts';

it('examples/dialogporten-openapi-fetch.ts creates and reads a dialog through the typed client', async () => {
  const run = await runExample('dialogporten-openapi-fetch.ts');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^created: 201 \/api\/v1\/serviceowner\/dialogs\/[0-9a-f-]{36}$/m);
  assert.match(
    run.stdout,
    /^fetched: 200 urn:altinn:resource:super-simple-service urn:altinn:organization:identifier-no:313130983 New$/m,
  );
});

it('examples/generated/dialogporten.d.ts is what the generator makes from the installed schema', async () => {
  const committed = readFileSync(join(ROOT, 'examples/generated/dialogporten.d.ts'), 'utf8');
  assert.equal(committed, await generateDialogportenTypes(), 'run: npx node scripts/generate-dialogporten-types.ts');
});
