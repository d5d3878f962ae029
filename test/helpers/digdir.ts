/**
 * Checks an answer of the emulated self-service API against Digdir's error body (protocol.md §6 (rev)):
 * `{status, timestamp, correlation_id, errors: [{errorMessage, isFieldError, objectName, fieldIdentifier}], error,
 * error_description}`, as okdata's test fixture holds a real one.
 */
import assert from 'node:assert/strict';
import type { HttpAnswer } from './http.ts';

/** One entry of Digdir's `errors` array. */
export interface DigdirErrorEntry {
  errorMessage: string;
  isFieldError: boolean;
  objectName: string;
  fieldIdentifier: string | null;
}

/** Asserts the status and Digdir's error shape; returns the entries. `field` also asserts a field error; `label` names the case. */
export function assertDigdirError(
  answer: HttpAnswer,
  status: number,
  expect: { objectName?: string; field?: string; label?: string } = {},
): DigdirErrorEntry[] {
  assert.equal(answer.status, status, `${expect.label ?? ''} ${answer.text}`);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  const body = answer.json as Record<string, unknown>;
  assert.ok(body && typeof body === 'object', answer.text);
  assert.equal(body.status, status);
  assert.match(String(body.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.match(String(body.correlation_id), /^[0-9a-f]{32}$/);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, answer.text);
  const entries = body.errors as DigdirErrorEntry[];
  for (const e of entries) {
    assert.equal(typeof e.errorMessage, 'string');
    assert.ok(e.errorMessage.length > 0);
    assert.equal(typeof e.isFieldError, 'boolean');
    assert.equal(typeof e.objectName, 'string');
    assert.ok(e.fieldIdentifier === null || typeof e.fieldIdentifier === 'string');
  }
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.error_description, 'string');
  if (status === 400) {
    // As the live API joins them: ", error 1, error 2" in both fields.
    const joined = `, ${entries.map((e) => e.errorMessage).join(', ')}`;
    assert.equal(body.error, joined);
    assert.equal(body.error_description, joined);
  }
  if (expect.objectName !== undefined) assert.equal(entries[0]!.objectName, expect.objectName, answer.text);
  if (expect.field !== undefined) {
    assert.equal(entries[0]!.isFieldError, true, answer.text);
    assert.equal(entries[0]!.fieldIdentifier, expect.field, answer.text);
  }
  return entries;
}
