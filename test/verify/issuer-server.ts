/**
 * A stand-in issuer for verifier tests: a real HTTP server on 127.0.0.1 that publishes Maskinporten-shaped
 * metadata and a JWKS of keys the test holds, so a test can sign any token (wrong issuer, other algorithms, rotated
 * keys) with a key the verifier trusts, count key fetches, and make the JWKS fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateRsaKeyPair, importPrivateJwk, type RsaPublicJwk } from '../../src/keys/jwk.ts';
import { type JwsHeader, signCompact } from '../../src/keys/jws.ts';

/** A running stand-in issuer. */
export interface IssuerServer {
  url: string;
  issuer: string;
  /** Requests to the JWKS so far. */
  jwksFetches: number;
  /** When set, the JWKS answers this status. */
  failWith: number | undefined;
  /** Adds a signing key; returns its kid. */
  addKey(alg?: 'RS256' | 'RS384' | 'RS512'): Promise<string>;
  /** Removes a key from the published set (the test can still sign with it). */
  unpublish(kid: string): void;
  /** Signs claims with key `kid` (the first key by default). */
  sign(claims: Record<string, unknown>, header?: Partial<JwsHeader>, kid?: string): string;
  /** A Maskinporten-shaped claim set for this issuer, valid for 120 s from `nowSeconds`. */
  claims(nowSeconds: number, extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

/** Starts a stand-in issuer with one key. */
export async function startIssuerServer(): Promise<IssuerServer> {
  const keys = new Map<string, { publicJwk: RsaPublicJwk; privateJwk: Parameters<typeof importPrivateJwk>[0] }>();
  const published = new Set<string>();
  let server: Server | undefined;
  const state: IssuerServer = {
    url: '',
    issuer: '',
    jwksFetches: 0,
    failWith: undefined,
    async addKey(alg = 'RS256') {
      const pair = await generateRsaKeyPair({ alg });
      const kid = pair.publicJwk.kid as string;
      keys.set(kid, { publicJwk: pair.publicJwk, privateJwk: pair.privateJwk });
      published.add(kid);
      return kid;
    },
    unpublish(kid) {
      published.delete(kid);
    },
    sign(claims, header = {}, kid) {
      const id = kid ?? [...keys.keys()][0]!;
      const key = importPrivateJwk(keys.get(id)!.privateJwk);
      const alg = keys.get(id)!.publicJwk.alg ?? 'RS256';
      return signCompact({ alg, kid: id, ...header } as JwsHeader, claims, key);
    },
    claims(nowSeconds, extra = {}) {
      return {
        iss: state.issuer,
        client_amr: 'private_key_jwt',
        token_type: 'Bearer',
        scope: 'kommune:api.read',
        consumer: { authority: 'iso6523-actorid-upis', ID: '0192:910000001' },
        client_id: 'stand-in-client',
        iat: nowSeconds,
        exp: nowSeconds + 120,
        jti: 'j',
        ...extra,
      };
    },
    async close() {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    },
  };
  await state.addKey();
  server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/oauth-authorization-server') {
      return send(200, { issuer: state.issuer, jwks_uri: `${state.url}/jwk`, token_endpoint: `${state.url}/token` });
    }
    if (req.url === '/jwk') {
      state.jwksFetches++;
      if (state.failWith !== undefined) return send(state.failWith, { error: 'unavailable' });
      return send(200, { keys: [...published].map((kid) => keys.get(kid)!.publicJwk) });
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.issuer = `${state.url}/`;
  return state;
}
