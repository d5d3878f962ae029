#!/usr/bin/env node
/**
 * The `maskinporten` command. Each command lives in its own module and is loaded only when run, so `--help` and
 * light commands start fast. Exit status: 0 ok, 1 failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.ts';

interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: { summary: 'run the whole flow end to end on an embedded emulator', load: () => import('./commands/demo.ts') },
  emulator: { summary: 'run a local Maskinporten + Altinn emulator', load: () => import('./commands/emulator.ts') },
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

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}; run 'maskinporten --help' for the list`);
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`maskinporten: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`maskinporten: ${message}\n`);
    process.exitCode = 1;
  },
);
