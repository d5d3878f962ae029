/**
 * Benchmark child: starts `oidc-provider` on 127.0.0.1 (free port) with one client doing client_credentials and
 * authenticating with private_key_jwt (its public JWK is argv[2], the scope argv[3]). The provider signs with an
 * RSA-2048 RS256 key and issues JWT access tokens for a default resource, so — like the emulator — it verifies
 * one RS256 signature and makes one per token. Prints `{ url, issuer, tokenEndpoint, clientId }` and stops when
 * stdin closes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentGone } from './lib/child.ts';

// oidc-provider ships no type declarations; this is the little of it we use.
type Provider = {
  callback(): (req: unknown, res: unknown) => void;
  on(event: string, fn: (...a: unknown[]) => void): unknown;
};
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => Provider;
const moduleName = 'oidc-provider';
const { default: OidcProvider } = (await import(moduleName)) as { default: ProviderClass };

const clientJwk = JSON.parse(process.argv[2] ?? '') as Record<string, unknown>;
const scope = process.argv[3] ?? 'bench:read';
const resource = 'urn:bench:api';
const clientId = 'bench-client';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-signing-key', alg: 'RS256', use: 'sig' };

const server = createServer({ keepAliveTimeout: 5000 });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const issuer = `http://127.0.0.1:${port}`;

const provider = new OidcProvider(issuer, {
  jwks: { keys: [signingJwk] },
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [clientJwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope,
    },
  ],
  scopes: [scope],
  clientAuthSigningAlgValues: ['RS256'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 120,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
let serverErrors = 0;
provider.on('server_error', (_ctx, err) => {
  if (++serverErrors <= 3) process.stderr.write(`oidc-provider server_error: ${String(err)}\n`);
});
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ url: issuer, issuer, tokenEndpoint: `${issuer}/token`, clientId })}\n`);
await parentGone();
server.closeAllConnections();
await new Promise<void>((resolve) => server.close(() => resolve()));
process.exit(0);
