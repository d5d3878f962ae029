// Adds to package-lock.json the platform-specific optional packages (e.g. @biomejs/cli-darwin-arm64) that npm
// leaves out of the lock when the registry it reaches serves only this platform's builds, and that `npm ci` then
// reports as "Missing … from lock file". Such packages are never installed here (their os/cpu do not match), so
// an entry needs only what npm matches on: version, os, cpu, libc. Run after any `npm install` that changes the
// lock: `node scripts/complete-lock.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;
// Platform package names end in -<os>-<cpu>[-musl], as biome's, esbuild's and similar do.
const PLATFORM =
  /-(android|darwin|linux|win32|freebsd|openbsd|sunos|aix|netbsd)-(arm64|x64|ia32|arm|ppc64|s390x|riscv64|loong64)(-musl|-gnu)?$/;
const added = [];
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (packages[`node_modules/${name}`] || packages[`${path}/node_modules/${name}`]) continue;
    const m = PLATFORM.exec(name);
    if (!m)
      throw new Error(
        `${name} (optional dependency of ${path || 'the root'}) is missing from the lock and is not a platform package`,
      );
    const item = { version, cpu: [m[2]], os: [m[1]] };
    if (m[3] === '-musl') item.libc = ['musl'];
    if (m[3] === '-gnu') item.libc = ['glibc'];
    if (entry.dev) item.dev = true;
    item.optional = true;
    packages[`node_modules/${name}`] = item;
    added.push(name);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lock: added ${added.length} platform package(s)${added.length ? `: ${added.join(', ')}` : ''}`);
