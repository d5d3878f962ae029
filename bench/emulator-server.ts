/**
 * Benchmark child: starts the emulator on 127.0.0.1 (free port), registers a client with the public JWK given as
 * argv[2] and the scope argv[3], prints one JSON line `{ url, issuer, tokenEndpoint, clientId }`, and stops when
 * stdin closes.
 */
import { startEmulator } from '../src/emulator/index.ts';
import type { RsaPublicJwk } from '../src/keys/jwk.ts';
import { parentGone } from './lib/child.ts';

const publicJwk = JSON.parse(process.argv[2] ?? '') as RsaPublicJwk;
const scope = process.argv[3] ?? 'bench:read';

const emulator = await startEmulator({ host: '127.0.0.1', port: 0, signingKeySize: 2048 });
const client = await emulator.createClient({ scopes: [scope], jwks: [publicJwk], clientName: 'bench' });
process.stdout.write(
  `${JSON.stringify({ url: emulator.url, issuer: emulator.issuer, tokenEndpoint: emulator.tokenEndpoint, clientId: client.clientId })}\n`,
);
await parentGone();
await emulator.close();
process.exit(0);
