#!/usr/bin/env node
/**
 * The `maskinporten` command: runs the CLI with the real process's streams, environment and working directory,
 * and exits with its status (0 ok, 1 failure, 2 usage error).
 */
import module from 'node:module';

// Before the commands load: the modules a run compiles are kept in Node's default compile cache directory, so
// later runs start with less work (Node 22.1 and later; a no-op where there is no compile cache).
module.enableCompileCache?.();

import('./run.ts')
  .then(({ runCli }) => runCli(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
