/**
 * `maskinporten emulator`: runs the local Maskinporten + Altinn emulator until interrupted.
 */
import { startEmulator } from '../../emulator/index.ts';
import { isLoopbackHost } from '../../settings.ts';
import { parse, parsePort } from '../args.ts';
import { openBrowser } from '../open-browser.ts';
import { bold, dim, warn } from '../output.ts';

export const help = `Usage: maskinporten emulator [--port N] [--host H] [--state FILE] [--open] [--json]

Runs a local Maskinporten (token endpoint, discovery, keys), Altinn token exchange, self-service API and a
Notifications API stand-in on one origin, with a web console at its root (integrations, keys, live requests,
faults and clock). For development and tests only.

Options:
  --port N       port to listen on (default: a free port)
  --host H       address to bind (default 127.0.0.1; anything else exposes the emulator to your network)
  --state FILE   keep clients, keys and signing keys in FILE across restarts
  --open         open the console in a browser, where there is one (the URL is printed either way)
  --json         print one JSON line with the URLs and the admin client's credentials when ready

Examples:
  maskinporten emulator --port 8123
  maskinporten emulator --open
  maskinporten emulator --state .emulator-state.json --json
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    state: { type: 'string' },
    json: { type: 'boolean' },
    open: { type: 'boolean' },
  });
  const host = values.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    warn(
      `WARNING: binding the emulator to ${host}. Anyone who can reach this address can register clients and get tokens.`,
    );
    warn('WARNING: the emulator is for development and tests only.');
  }
  const port = parsePort(values.port);
  const emulator = await startEmulator({
    host,
    ...(port === undefined ? {} : { port }),
    ...(values.state === undefined ? {} : { stateFile: values.state }),
  });
  // Listen for the stop signals before saying we are ready: a caller may signal as soon as it reads the ready line.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const admin = emulator.adminClient;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        url: emulator.url,
        issuer: emulator.issuer,
        tokenEndpoint: emulator.tokenEndpoint,
        altinnPlatformUrl: emulator.altinnPlatformUrl,
        selfServiceUrl: emulator.selfServiceUrl,
        consoleUrl: `${emulator.url}/`,
        adminClient: { clientId: admin.clientId, kid: admin.kid, scopes: admin.scopes, jwkBase64: admin.jwkBase64 },
      })}\n`,
    );
  } else {
    process.stdout.write(
      [
        `${bold('Maskinporten emulator')} listening on ${emulator.url} ${dim('(for development and tests only)')}`,
        `  issuer / authority   ${emulator.issuer}`,
        `  token endpoint       ${emulator.tokenEndpoint}`,
        `  Altinn platform      ${emulator.altinnPlatformUrl}`,
        `  self-service API     ${emulator.selfServiceUrl}/clients`,
        `  admin client id      ${admin.clientId} ${dim('(its key: run with --json)')}`,
        `  console              ${emulator.url}/`,
        dim('Press Ctrl+C to stop.'),
        '',
      ].join('\n'),
    );
  }
  if (values.open) {
    const opened = await openBrowser(`${emulator.url}/`);
    if (!values.json)
      process.stdout.write(
        opened
          ? `Opened the console in your browser: ${emulator.url}/\n`
          : `No browser here: open ${emulator.url}/ yourself.\n`,
      );
  }
  await stopped;
  await emulator.close();
  if (!values.json) process.stdout.write('Emulator stopped.\n');
  return 0;
}
