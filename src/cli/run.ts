/**
 * The `maskinporten` command as a function: runs one command line with the given io and resolves its exit status
 * (0 ok, 1 failure, 2 usage error), having written any error to the io's stderr as `maskinporten: <message>`. Each
 * command lives in its own module and is loaded only when run, so `--help` and light commands start fast.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.ts';
import { type CliIo, processIo } from './io.ts';

interface Command {
  help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  init: {
    summary: 'onboard an integration step by step (key, registration, settings, secrets)',
    load: () => import('./commands/init.ts'),
  },
  keygen: {
    summary: 'generate an RSA key pair locally (private JWK, JwkBase64, public array)',
    load: () => import('./commands/keygen.ts'),
  },
  token: {
    summary: 'get a Maskinporten or Altinn token (or --dry-run the grant)',
    load: () => import('./commands/token.ts'),
  },
  decode: {
    summary: "show a token's header, claims and expiry; --verify its signature",
    load: () => import('./commands/decode.ts'),
  },
  doctor: {
    summary: 'check settings, key, discovery, clock and a real token request',
    load: () => import('./commands/doctor.ts'),
  },
  keyvault: {
    summary: 'Key Vault secret names for a section; push settings to a vault',
    load: () => import('./commands/keyvault.ts'),
  },
  clients: {
    summary: 'create, list, show, delete integrations (self-service API)',
    load: () => import('./commands/clients.ts'),
  },
  keys: {
    summary: "list, add, rotate, prune an integration's keys (self-service API)",
    load: () => import('./commands/keys.ts'),
  },
  scopes: {
    summary: 'list public scopes; create scopes and grant organisations access (self-service API)',
    load: () => import('./commands/scopes.ts'),
  },
  emulator: { summary: 'run a local Maskinporten + Altinn emulator', load: () => import('./commands/emulator.ts') },
  demo: { summary: 'run the whole flow end to end on an embedded emulator', load: () => import('./commands/demo.ts') },
};

const HELP = `Usage: maskinporten <command> [options]

The TypeScript toolkit for Maskinporten and Altinn.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

Run 'maskinporten <command> --help' for a command's options and examples.

Exit status: 0 success, 1 failure, 2 usage error.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The command called `name`; only the table's own entries (not `constructor`, `toString`…). */
function lookup(name: string): (typeof COMMANDS)[string] | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // A usage error: the usage goes to stderr, keeping stdout clean for whatever reads it.
    io.stderr.write(HELP);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined ? lookup(rest[0]) : undefined;
    if (name === 'help' && rest[0] !== undefined && !topic)
      throw new UsageError(`unknown command ${JSON.stringify(rest[0])}; run 'maskinporten --help' for the list`);
    io.stdout.write(topic ? (await topic.load()).help : HELP);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  const entry = lookup(name);
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}; run 'maskinporten --help' for the list`);
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.help);
    return 0;
  }
  return command.run(rest, io);
}

/**
 * Runs `maskinporten ...argv` with `io` (the real process's by default) and resolves its exit status: 0 success,
 * 1 failure, 2 usage error. Errors never escape: each is written to `io.stderr` as `maskinporten: <message>`.
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`maskinporten: ${message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
