/**
 * Checks the arrows between the modules of `src/`: no import cycle (type-only imports count: a type cycle still ties
 * two files together), and the layer rules of the design (docs/design.md in the project's shared notes, restated in
 * `LAYER_RULES` below). Run `node scripts/check-imports.ts`; it prints every cycle and broken rule and exits 1 when
 * there is one. `test/house/imports.test.ts` runs the same checks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One relative import of a module. */
export interface ImportEdge {
  /** The importing file, relative to `src/` with `/` separators (`cache/token-cache.ts`). */
  from: string;
  /** The imported file, the same way. */
  to: string;
  /** `static` for `import`/`export … from` (type-only ones too); `dynamic` for `import()`, loaded lazily. */
  kind: 'static' | 'dynamic';
}

/** An import of a package or a Node module (`node:http`, `undici`), by the file that imports it. */
export interface PackageImport {
  from: string;
  specifier: string;
  kind: ImportEdge['kind'];
}

/** Every relative import between the `.ts` files below `srcDir`. */
export function importGraph(srcDir: string): ImportEdge[] {
  return scan(srcDir).edges;
}

function scan(srcDir: string): { edges: ImportEdge[]; packages: PackageImport[] } {
  const edges: ImportEdge[] = [];
  const packages: PackageImport[] = [];
  for (const file of tsFilesBelow(srcDir)) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const from = posix(relative(srcDir, file));
    const add = (specifier: string, kind: ImportEdge['kind']) => {
      if (!specifier.startsWith('.')) {
        packages.push({ from, specifier, kind });
        return;
      }
      edges.push({ from, to: posix(relative(srcDir, resolve(dirname(file), specifier))), kind });
    };
    const visit = (node: ts.Node): void => {
      if (
        (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
        node.moduleSpecifier &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        add(node.moduleSpecifier.text, 'static');
      } else if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteralLike(node.arguments[0])
      ) {
        add(node.arguments[0].text, 'dynamic');
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        const literal = node.argument.literal;
        if (ts.isStringLiteral(literal)) add(literal.text, 'static');
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { edges, packages };
}

/**
 * The import cycles among static imports: each as the files around the loop, starting at its smallest name, so the
 * same cycle is reported once. Dynamic imports are left out: they load after both modules are evaluated.
 */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.kind !== 'static' || e.from === e.to) continue;
    const list = next.get(e.from) ?? [];
    if (!list.includes(e.to)) list.push(e.to);
    next.set(e.from, list);
  }
  for (const list of next.values()) list.sort();
  const cycles = new Map<string, string[]>();
  // Each strongly connected component of more than one file holds at least one cycle; report the shortest loop
  // through each of its files (enough to name what to break, without listing exponentially many loops).
  for (const component of stronglyConnected(next)) {
    if (component.length < 2) continue;
    const inside = new Set(component);
    for (const start of component) {
      const loop = shortestLoop(start, next, inside);
      if (!loop) continue;
      const at = loop.indexOf([...loop].sort()[0] as string);
      const canonical = [...loop.slice(at), ...loop.slice(0, at)];
      cycles.set(canonical.join(' -> '), canonical);
    }
  }
  return [...cycles.values()].sort((a, b) => a.join().localeCompare(b.join()));
}

/** A rule on the arrows: a file matching `from` may not import a file for which `forbids` is true. */
export interface LayerRule {
  /** What the rule protects, in a sentence. */
  name: string;
  from: (file: string) => boolean;
  forbids: (imported: string, leaves: ReadonlySet<string>) => boolean;
}

/** The modules the design names as leaves, which everyone may import: they must import only other leaves. */
export const REQUIRED_LEAVES = ['errors.ts', 'url-policy.ts', 'telemetry.ts'] as const;

/**
 * The leaves: files directly in `src/` whose static imports are all leaves (a fixed point from the files that
 * import nothing of ours), such as the error family, the URL policy, telemetry and the clock.
 */
export function leavesOf(edges: readonly ImportEdge[], files: Iterable<string>): Set<string> {
  const imports = new Map<string, Set<string>>();
  for (const f of files) imports.set(f, new Set());
  for (const e of edges) if (e.kind === 'static') imports.get(e.from)?.add(e.to);
  const leaves = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [file, to] of imports) {
      if (leaves.has(file) || file.includes('/') || file === 'index.ts') continue;
      if ([...to].every((t) => leaves.has(t))) {
        leaves.add(file);
        grew = true;
      }
    }
  }
  return leaves;
}

const folderOf = (file: string) => (file.includes('/') ? (file.split('/')[0] as string) : file);
const under =
  (...places: string[]) =>
  (file: string) =>
    places.includes(folderOf(file));
/** A rule's `forbids` for "only these places (and leaves)". */
const allowOnly =
  (...places: string[]) =>
  (imported: string, leaves: ReadonlySet<string>) =>
    !leaves.has(imported) && !places.includes(folderOf(imported));
/** A rule's `forbids` for "none of these places". */
const forbid =
  (...places: string[]) =>
  (imported: string) =>
    places.includes(folderOf(imported));

/** What sits above the token client: adapters, frameworks, stores, tools and the server side. */
const ABOVE_THE_CLIENT = ['http', 'nestjs', 'verify', 'redis', 'file-store', 'self-service', 'emulator', 'cli'];

/**
 * The design's rules. Settings → key (signer) → grant → token endpoint → cache → client → adapters/CLI: each layer
 * imports only those below it. `keys/` imports nothing above it; the leaves import only leaves; `protocol/` is pure;
 * `cache/` knows nothing of HTTP; the emulator is the server side and never uses the client; nothing imports the CLI;
 * no CLI command imports another command.
 */
export const LAYER_RULES: readonly LayerRule[] = [
  {
    name: 'errors.ts, url-policy.ts and telemetry.ts are leaves: they import only other leaves',
    from: (file) => (REQUIRED_LEAVES as readonly string[]).includes(file),
    forbids: (imported, leaves) => !leaves.has(imported),
  },
  {
    name: 'keys/ (key material and signers) imports nothing above it: only keys/ and the leaves',
    from: under('keys'),
    forbids: allowOnly('keys'),
  },
  {
    name: 'protocol/ (grant, token endpoint, discovery, environments) imports only protocol/, keys/ and the leaves',
    from: under('protocol'),
    forbids: allowOnly('protocol', 'keys'),
  },
  {
    name: 'token.ts and settings.ts import only keys/, protocol/ and the leaves',
    from: under('token.ts', 'settings.ts'),
    forbids: allowOnly('keys', 'protocol'),
  },
  {
    name: 'transport/ (HTTP with retries) imports only transport/ and the leaves',
    from: under('transport'),
    forbids: allowOnly('transport'),
  },
  {
    name: 'cache/ knows nothing of HTTP, configuration or the client',
    from: under('cache'),
    forbids: forbid('transport', 'client', 'client.ts', 'config', 'settings.ts', ...ABOVE_THE_CLIENT),
  },
  {
    name: 'configuration loading builds settings and knows nothing of the client, its cache or HTTP',
    from: under('config'),
    forbids: forbid('client', 'client.ts', 'cache', 'transport', ...ABOVE_THE_CLIENT),
  },
  {
    name: 'the client composes keys, grant, endpoint and cache; it imports nothing above it',
    from: under('client', 'client.ts'),
    forbids: forbid('config', ...ABOVE_THE_CLIENT),
  },
  {
    name: 'the emulator is the server side: it never imports the client, its cache, settings or the adapters',
    from: under('emulator'),
    forbids: forbid(
      'client',
      'client.ts',
      'cache',
      'transport',
      'settings.ts',
      'config',
      ...ABOVE_THE_CLIENT.filter((f) => f !== 'emulator' && f !== 'verify'),
    ),
  },
  {
    name: 'only the CLI imports the CLI',
    from: (file) => folderOf(file) !== 'cli',
    forbids: forbid('cli'),
  },
  {
    name: 'no CLI command imports another command: what they share lives in its own module in cli/',
    from: (file) => file.startsWith('cli/commands/'),
    forbids: (imported) => imported.startsWith('cli/commands/'),
  },
];

/** Modules that speak HTTP: the layers below the client must not import them. */
const HTTP_MODULES = ['node:http', 'node:https', 'node:http2', 'undici', 'axios', 'ky', 'openapi-fetch'];

/** A rule on packages: files matching `from` may not import a package or Node module matching `forbids`. */
export interface PackageRule {
  name: string;
  from: (file: string) => boolean;
  forbids: (specifier: string) => boolean;
}

/** `protocol/` is pure (build a request, read a response) and `cache/` and `keys/` know nothing of HTTP. */
export const PACKAGE_RULES: readonly PackageRule[] = [
  {
    name: 'keys/, protocol/ and cache/ know nothing of HTTP: they import no HTTP module',
    from: under('keys', 'protocol', 'cache', 'token.ts', 'settings.ts'),
    forbids: (specifier) => HTTP_MODULES.some((m) => specifier === m || specifier.startsWith(`${m}/`)),
  },
];

/** The package imports that break a package rule. */
export function packageViolations(
  imports: readonly PackageImport[],
  rules: readonly PackageRule[] = PACKAGE_RULES,
): { import: PackageImport; rule: string }[] {
  const found: { import: PackageImport; rule: string }[] = [];
  for (const i of imports) {
    const rule = rules.find((r) => r.from(i.from) && r.forbids(i.specifier));
    if (rule) found.push({ import: i, rule: rule.name });
  }
  return found;
}

/** One broken rule: the import and the rule it breaks. */
export interface LayerViolation {
  edge: ImportEdge;
  rule: string;
}

/** The imports that break a rule, each with the first rule it breaks (`files`: every file of the tree, for working out the leaves). */
export function layerViolations(
  edges: readonly ImportEdge[],
  files: Iterable<string>,
  rules: readonly LayerRule[] = LAYER_RULES,
): LayerViolation[] {
  const leaves = leavesOf(edges, files);
  const found: LayerViolation[] = [];
  for (const edge of edges) {
    // One report per import: the first rule it breaks (the rules go from the most specific).
    const rule = rules.find((r) => r.from(edge.from) && r.forbids(edge.to, leaves));
    if (rule) found.push({ edge, rule: rule.name });
  }
  return found;
}

function tsFilesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFilesBelow(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

function posix(path: string): string {
  return path.split(sep).join('/');
}

/** Tarjan's algorithm: the strongly connected components of the graph. */
function stronglyConnected(next: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const strong = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) strong(v);
  return components;
}

/** The shortest path from `start` back to itself within `inside` (breadth first). */
function shortestLoop(
  start: string,
  next: ReadonlyMap<string, readonly string[]>,
  inside: ReadonlySet<string>,
): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i] as string;
    for (const w of next.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const loop = [v];
        for (let u = v; u !== start; ) {
          u = cameFrom.get(u) as string;
          loop.unshift(u);
        }
        return loop;
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/** The checks over a `src/` folder: its cycles and broken rules. */
export function checkImports(srcDir: string): { cycles: string[][]; violations: LayerViolation[] } {
  const { edges, packages } = scan(srcDir);
  const files = tsFilesBelow(srcDir).map((f) => posix(relative(srcDir, f)));
  const outside = packageViolations(packages).map((v) => ({
    edge: { from: v.import.from, to: v.import.specifier, kind: v.import.kind },
    rule: v.rule,
  }));
  return { cycles: findCycles(edges), violations: [...layerViolations(edges, files), ...outside] };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
  const { cycles, violations } = checkImports(srcDir);
  for (const cycle of cycles) console.log(`cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  for (const v of violations) console.log(`rule: ${v.edge.from} -> ${v.edge.to} (${v.edge.kind}): ${v.rule}`);
  console.log(`${cycles.length} cycle(s), ${violations.length} broken rule(s)`);
  process.exitCode = cycles.length || violations.length ? 1 : 0;
}
