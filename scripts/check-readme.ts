/**
 * README gate: type-checks every ```ts block of README.md (and of docs/*.md, if any) against the package's own
 * types, strict, so the documentation cannot drift from the API.
 *
 * - Each block is its own module, placed (in memory, never on disk) in `examples/`, so `./generated/…` resolves as
 *   it does for the example programs.
 * - `maskinporten` and its subpaths resolve to the sources (`src/…/index.ts`), or with `--dist` to the built
 *   package through its "exports" (what a user gets; run `npm run build` first).
 * - Blocks are fragments of a program: the names they use without defining (`client`, `settings`, `emulator`, …)
 *   are declared once below in {@link CONTEXT}, with the types the prose gives them. A block that defines or imports
 *   a name shadows the declaration.
 * - Compiler options are the project's (strict, `noUncheckedIndexedAccess`, …) except three: unused names are
 *   allowed (fragments declare things to show them), parameter properties are allowed and decorators are the legacy
 *   kind (`experimentalDecorators`) — what NestJS applications compile with.
 * - A block preceded by the line `<!-- check-readme: skip -->` is not compiled; the script counts and prints those.
 *
 * Usage: `node scripts/check-readme.ts [--dist]`. Exits 1 and prints each error as README.md:line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const useDist = process.argv.includes('--dist');
const SKIP_MARKER = '<!-- check-readme: skip -->';

/** Names the README's fragments use without defining them, typed as the surrounding prose describes them. */
const CONTEXT = `import type { MaskinportenClient as Client, MaskinportenSettings, RsaPublicJwk } from 'maskinporten';
import type { Emulator } from 'maskinporten/emulator';
declare global {
  /** A client made as in "Getting a token". */
  const client: Client;
  /** Settings as loaded by maskinporten/config or written in code. */
  const settings: MaskinportenSettings;
  /** The settings of an administrator client with the idporten:dcr.* scopes. */
  const adminSettings: MaskinportenSettings;
  const clientId: string;
  const jwkBase64: string;
  const newJwkBase64: string;
  const consentId: string;
  const publicJwk: RsaPublicJwk;
  /** A running emulator, from startEmulator(). */
  const emulator: Emulator;
  const url: string;
  const body: string;
  const headers: Record<string, string>;
  /** Dialogporten request members, from the caller's own data. */
  const serviceResource: string;
  const party: string;
  /** An Express request, an Express app and a Fastify instance, as in their own documentation. */
  const req: import('express').Request;
  const app: import('express').Express;
  const fastify: import('fastify').FastifyInstance;
  /** A route handler of either framework. */
  // biome-ignore lint/suspicious/noExplicitAny: a placeholder that fits Express's and Fastify's handler types
  const handler: any;
}
export {};
`;

interface Block {
  file: string;
  /** 1-based line of the first line of code (after the fence). */
  line: number;
  code: string;
  skipped: boolean;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!.trim())) continue;
    let end = i + 1;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    blocks.push({
      file,
      line: i + 2,
      code: lines.slice(i + 1, end).join('\n'),
      skipped: before >= 0 && lines[before]!.trim() === SKIP_MARKER,
    });
    i = end;
  }
  return blocks;
}

const docsDir = join(root, 'docs');
const markdown = [
  join(root, 'README.md'),
  ...(existsSync(docsDir)
    ? readdirSync(docsDir)
        .filter((f) => f.endsWith('.md'))
        .map((f) => join(docsDir, f))
    : []),
];
const blocks = markdown.flatMap(blocksOf);
const checked = blocks.filter((b) => !b.skipped);

const parsed = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!parsed) throw new Error('cannot read tsconfig.json');
const options: ts.CompilerOptions = {
  ...parsed.options,
  noEmit: true,
  noUnusedLocals: false,
  noUnusedParameters: false,
  erasableSyntaxOnly: false,
  experimentalDecorators: true,
  types: ['node'],
};
if (!useDist) {
  // The sources, by the same subpaths package.json exports.
  options.paths = { maskinporten: ['./src/index.ts'], 'maskinporten/*': ['./src/*/index.ts'] };
} else if (!existsSync(join(root, 'dist', 'index.d.ts'))) {
  console.error('check-readme --dist: no dist/index.d.ts; run `npm run build` first');
  process.exit(1);
}

/** In-memory files: one module per block, beside the examples, and the shared context. */
const virtual = new Map<string, { text: string; block?: Block }>();
virtual.set(join(root, 'examples', '__readme_context__.d.ts'), { text: CONTEXT });
checked.forEach((block, i) => {
  const name = `__readme_${relative(root, block.file).replace(/[^\w]/g, '_')}_${i + 1}__.ts`;
  // `export {}` keeps a block without imports a module (its names stay its own; top-level await is allowed).
  virtual.set(join(root, 'examples', name), { text: `${block.code}\nexport {};\n`, block });
});

const host = ts.createCompilerHost(options);
const readFile = host.readFile.bind(host);
const fileExists = host.fileExists.bind(host);
const getSourceFile = host.getSourceFile.bind(host);
host.readFile = (f) => virtual.get(f)?.text ?? readFile(f);
host.fileExists = (f) => virtual.has(f) || fileExists(f);
host.getSourceFile = (f, language, onError, create) => {
  const v = virtual.get(f);
  return v
    ? ts.createSourceFile(f, v.text, language, true, ts.ScriptKind.TS)
    : getSourceFile(f, language, onError, create);
};

const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
const diagnostics = ts.getPreEmitDiagnostics(program);
let errors = 0;
for (const d of diagnostics) {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  const v = d.file ? virtual.get(d.file.fileName) : undefined;
  if (d.file && v?.block && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    console.log(`${relative(root, v.block.file)}:${v.block.line + line}:${character + 1}  TS${d.code}: ${message}`);
  } else if (d.file) {
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    console.log(`${relative(root, d.file.fileName)}:${line + 1}  TS${d.code}: ${message}`);
  } else {
    console.log(`TS${d.code}: ${message}`);
  }
  errors++;
}
const skipped = blocks.filter((b) => b.skipped);
for (const b of skipped) console.log(`skipped (${SKIP_MARKER}): ${relative(root, b.file)}:${b.line}`);
console.log(
  `check-readme: ${blocks.length} TypeScript blocks in ${markdown.map((f) => relative(root, f)).join(', ')}; ` +
    `${checked.length} compiled against ${useDist ? 'dist/' : 'src/'}, ${skipped.length} skipped; ` +
    `${errors} error${errors === 1 ? '' : 's'}`,
);
process.exitCode = errors === 0 ? 0 : 1;
