/** JWS helpers for the page: base64url, signing a grant with WebCrypto, and reading a token's claims. */

/** base64url of bytes or text. */
export function b64url(data: ArrayBuffer | Uint8Array | string): string {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The claims of a compact JWT (not verified: only to show them). */
export function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const bin = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/** An RS256 key pair made by WebCrypto; `extractable` decides whether the private half can be downloaded. */
export function generateRsa(extractable: boolean): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    extractable,
    ['sign', 'verify'],
  );
}

/** The public JWK to register: kty, n, e with the kid, alg and use the self-service API expects. */
export async function publicJwk(pair: CryptoKeyPair, kid: string): Promise<Record<string, unknown>> {
  const { kty, n, e } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { kty, kid, alg: 'RS256', use: 'sig', n, e };
}

/** A compact RS256 JWS of `claims`. */
export async function signJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: CryptoKey,
): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(input));
  return `${input}.${b64url(signature)}`;
}

/** A fresh key id: where it was made, when, and a random part. */
export function newKid(prefix: string): string {
  const day = new Date().toISOString().slice(0, 10);
  return `${prefix}-${day}-${crypto.randomUUID().slice(0, 8)}`;
}
