import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessToken } from '../../src/index.ts';

const issuedAt = new Date('2026-01-01T00:00:00Z');
const expiresAt = new Date('2026-01-01T00:02:00Z');

function jwtOf(payload: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'at+jwt' })}.${part(payload)}.${Buffer.from('sig').toString('base64url')}`;
}

describe('AccessToken.fromValue: named for what it takes', () => {
  it('takes an opaque token, with expiry and scope from the token response', () => {
    const token = AccessToken.fromValue('opaque-token_value.0', 'maskinporten', {
      expiresAt,
      issuedAt,
      scope: 'b:two a:one',
    });
    assert.equal(token.value, 'opaque-token_value.0');
    assert.deepEqual(token.scopes, ['a:one', 'b:two']);
    assert.equal(token.expiresAt.getTime(), expiresAt.getTime());
    assert.deepEqual(token.claims, {});
  });

  it('takes a JWT, with expiry and scope from its claims', () => {
    const iat = issuedAt.getTime() / 1000;
    const token = AccessToken.fromValue(jwtOf({ iat, exp: iat + 60, scope: 'x:y' }), 'altinn');
    assert.equal(token.expiresAt.getTime(), (iat + 60) * 1000);
    assert.deepEqual(token.scopes, ['x:y']);
    assert.equal(token.kind, 'altinn');
  });

  it('keeps fromJwt working as a deprecated alias that gives the same token', () => {
    const fallback = { expiresAt, issuedAt, scope: 's' };
    const a = AccessToken.fromJwt('opaque', 'maskinporten', fallback);
    const b = AccessToken.fromValue('opaque', 'maskinporten', fallback);
    assert.deepEqual(a.toJSON(), b.toJSON());
    assert.equal(a.value, b.value);
  });
});
