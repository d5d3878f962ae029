/**
 * Random ids (grant and token `jti`s, trace ids), drawn from a pooled buffer that `randomFillSync` refills, instead of a
 * `randomBytes` call per id: the same cryptographic randomness at a fraction of the per-request cost.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function take(bytes: number): Buffer {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + bytes);
  offset += bytes;
  return out;
}

/** `bytes` random bytes as hex. */
export function randomHex(bytes: number): string {
  return take(bytes).toString('hex');
}

/** `bytes` random bytes as base64url. */
export function randomBase64url(bytes: number): string {
  return take(bytes).toString('base64url');
}
