#!/usr/bin/env node
/**
 * The `maskinporten` command: runs the CLI with the real process's streams, environment and working directory,
 * and exits with its status (0 ok, 1 failure, 2 usage error).
 */
import { runCli } from './run.ts';

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
