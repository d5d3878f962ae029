/**
 * `maskinporten emulator`: runs the local Maskinporten + Altinn emulator until interrupted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import { isLoopbackHost } from '../../url-policy.ts';
import { parse, parsePort } from '../args.ts';
import { writeFilesAtomically } from '../files.ts';
import { type CliIo, pathAsGiven, pathIn, tempDirOf } from '../io.ts';
import { openBrowser } from '../open-browser.ts';
import { painter } from '../output.ts';
import { shellQuote } from '../shell.ts';

export const help = `Usage: maskinporten emulator [--port N] [--host H] [--state FILE] [--skyporten] [--open] [--json]

Runs a local Maskinporten (token endpoint, discovery, keys), Altinn token exchange, self-service API and a
Notifications API stand-in on one origin, with a web console at its root (integrations, keys, live requests,
faults and clock). For development and tests only.

Options:
  --port N       port to listen on (default: a free port)
  --host H       address to bind (default 127.0.0.1; anything else exposes the emulator to your network)
  --state FILE   keep clients, keys and signing keys in FILE across restarts
  --skyporten    answer as Skyporten: issuer without a trailing slash, /.well-known/openid-configuration
  --open         open the console in a browser, where there is one (the URL is printed either way)
  --json         print one JSON line with the URLs and the admin client's credentials when ready
  --admin-env FILE
                 where to write the admin credentials as export lines (mode 0600; default: a private temporary
                 file, named when ready); source it, then the clients, keys and scopes commands use the emulator

Examples:
  maskinporten emulator --port 8123
  maskinporten emulator --open
  maskinporten emulator --state .emulator-state.json --json
`;

/** Writes `export NAME='value'` lines to `file` (mode 0600), or to a fresh private directory; removed on stop. */
function writeAdminEnv(
  io: CliIo,
  file: string | undefined,
  vars: Record<string, string>,
): { file: string; remove: () => void } {
  const dir = file === undefined ? mkdtempSync(join(tempDirOf(io), 'maskinporten-emulator-')) : undefined;
  const path = file === undefined ? join(dir!, 'admin.env') : pathIn(io, file);
  const content = Object.entries(vars)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
    .join('\n');
  writeFilesAtomically([{ path, content: `${content}\n`, mode: 0o600 }], true);
  return { file: path, remove: () => rmSync(dir ?? path, { recursive: true, force: true }) };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    state: { type: 'string' },
    json: { type: 'boolean' },
    open: { type: 'boolean' },
    'admin-env': { type: 'string' },
    skyporten: { type: 'boolean' },
  });
  const { onStop } = io;
  // Runs until stopped: only a process that can be signalled can stop it.
  if (!onStop) throw new Error('the emulator runs until it is stopped, and this run has no way to stop it');
  const { bold, dim, warn } = painter(io);
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
    ...(values.state === undefined ? {} : { stateFile: pathAsGiven(io, values.state) }),
    ...(values.skyporten ? { skyporten: true } : {}),
  });
  // Listen for the stop signals before saying we are ready: a caller may signal as soon as it reads the ready line.
  const stopped = new Promise<void>((resolve) => onStop(resolve));
  const admin = emulator.adminClient;
  // The admin credentials as export lines in a private file, ready to `source`: the key never goes to the terminal.
  const adminEnv = writeAdminEnv(io, values['admin-env'], {
    MaskinportenAdmin__Authority: emulator.issuer,
    MaskinportenAdmin__ClientId: admin.clientId,
    MaskinportenAdmin__JwkBase64: admin.jwkBase64,
  });
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({
        url: emulator.url,
        issuer: emulator.issuer,
        tokenEndpoint: emulator.tokenEndpoint,
        altinnPlatformUrl: emulator.altinnPlatformUrl,
        selfServiceUrl: emulator.selfServiceUrl,
        consoleUrl: `${emulator.url}/`,
        adminEnvFile: adminEnv.file,
        adminClient: { clientId: admin.clientId, kid: admin.kid, scopes: admin.scopes, jwkBase64: admin.jwkBase64 },
        // Bound beyond loopback, the control routes need it as `Authorization: Bearer …`.
        ...(emulator.adminSecret === undefined ? {} : { adminSecret: emulator.adminSecret }),
      })}\n`,
    );
  } else {
    io.stdout.write(
      [
        `${bold('Maskinporten emulator')} listening on ${emulator.url} ${dim('(for development and tests only)')}`,
        `  issuer / authority   ${emulator.issuer}`,
        `  token endpoint       ${emulator.tokenEndpoint}`,
        `  Altinn platform      ${emulator.altinnPlatformUrl}`,
        `  self-service API     ${emulator.selfServiceUrl}/clients`,
        `  admin client id      ${admin.clientId}`,
        `  admin credentials    source ${adminEnv.file} ${dim('(export lines for MaskinportenAdmin__*; then maskinporten clients list)')}`,
        `  console              ${emulator.url}/`,
        ...(emulator.adminSecret === undefined
          ? []
          : [
              `  control routes       need Authorization: Bearer <admin secret> ${dim('(the secret: run with --json)')}`,
            ]),
        dim('Press Ctrl+C to stop.'),
        '',
      ].join('\n'),
    );
  }
  if (values.open) {
    const opened = await openBrowser(`${emulator.url}/`, io);
    if (!values.json)
      io.stdout.write(
        opened
          ? `Opened the console in your browser: ${emulator.url}/\n`
          : `No browser here: open ${emulator.url}/ yourself.\n`,
      );
  }
  await stopped;
  await emulator.close();
  adminEnv.remove();
  if (!values.json) io.stdout.write('Emulator stopped.\n');
  return 0;
}
