/**
 * TSDoc gate: walks every symbol the package exports (the entry points named in package.json "exports", read from
 * the sources with the TypeScript compiler API) and fails when one lacks what a reader of the API reference needs:
 *
 * - a summary on every export, and on every public method and constructor of an exported class or interface;
 * - an `@param` for each parameter of an exported function, method or constructor;
 * - an `@returns` where the result is not `void`, `undefined`, `never` or `Promise<void>`;
 * - in each `@throws`, at least one error code (`ERR_…`), and only codes that `MaskinportenErrorCode` defines;
 * - at least one `@see` on every exported symbol (function, class, interface, type alias, constant, enum, namespace):
 *   the RFC section, Digdir's or Altinn's page, or a `{@link}` to a related export. Members need none.
 *
 * Declarations marked `@internal` are skipped: the build strips them from the published types. Each symbol is
 * checked once, however many subpaths export it.
 *
 * Usage: `node scripts/check-tsdoc.ts [--json]`. Exits 1 and lists the gaps (file:line, name, what is missing).
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types?: string }>;
};

/** `./dist/config/index.d.ts` → `<root>/src/config/index.ts`: the source each published entry point is built from. */
function entrySources(): string[] {
  const files: string[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    const types = typeof target === 'string' ? target : target.types;
    if (!types?.startsWith('./dist/') || !types.endsWith('.d.ts')) {
      throw new Error(`package.json exports["${subpath}"] has no ./dist/….d.ts types to map to a source file`);
    }
    files.push(join(root, 'src', `${types.slice('./dist/'.length, -'.d.ts'.length)}.ts`));
  }
  return files;
}

const configPath = join(root, 'tsconfig.build.json');
const parsed = ts.getParsedCommandLineOfConfigFile(
  configPath,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!parsed) throw new Error(`cannot read ${configPath}`);
const entries = entrySources();
const program = ts.createProgram({ rootNames: entries, options: { ...parsed.options, noEmit: true } });
const checker = program.getTypeChecker();

/** Every code `MaskinportenErrorCode` defines, so a `@throws` cannot name a code that does not exist. */
function knownCodes(): Set<string> {
  const errors = program.getSourceFile(join(root, 'src', 'errors.ts'));
  const alias = errors?.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'MaskinportenErrorCode',
  );
  if (!alias) throw new Error('src/errors.ts has no MaskinportenErrorCode type');
  const type = checker.getTypeAtLocation(alias.name);
  const members = type.isUnion() ? type.types : [type];
  return new Set(members.filter((t) => t.isStringLiteral()).map((t) => (t as ts.StringLiteralType).value));
}
const codes = knownCodes();

interface Gap {
  file: string;
  line: number;
  name: string;
  missing: string;
}
const gaps: Gap[] = [];
const seen = new Set<ts.Node>();
let checkedDeclarations = 0;
let checkedSignatures = 0;

function report(node: ts.Node, name: string, missing: string): void {
  const sf = node.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  gaps.push({ file: relative(root, sf.fileName), line: line + 1, name, missing });
}

/** The doc comments attached to a declaration (for a variable: its statement's). */
function docsOf(node: ts.Node): ts.JSDoc[] {
  return ts.getJSDocCommentsAndTags(node).filter((d): d is ts.JSDoc => ts.isJSDoc(d));
}

function commentText(comment: string | ts.NodeArray<ts.JSDocComment> | undefined): string {
  if (comment === undefined) return '';
  if (typeof comment === 'string') return comment;
  return comment.map((part) => part.text ?? '').join('');
}

function tagsOf(node: ts.Node): readonly ts.JSDocTag[] {
  return docsOf(node).flatMap((d) => d.tags ?? []);
}

function isInternal(node: ts.Node): boolean {
  return tagsOf(node).some((t) => t.tagName.text === 'internal');
}

function hasSummary(node: ts.Node): boolean {
  return docsOf(node).some((d) => commentText(d.comment).trim().length > 0);
}

/** Results that need no `@returns`: nothing comes back, or only a promise of nothing. */
function returnsNothing(type: ts.Type): boolean {
  if (type.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined | ts.TypeFlags.Never)) return true;
  if (type.isUnion()) return type.types.every(returnsNothing);
  const symbol = type.getSymbol();
  if (symbol?.getName() === 'Promise') {
    const [inner] = checker.getTypeArguments(type as ts.TypeReference);
    return inner !== undefined && returnsNothing(inner);
  }
  return false;
}

function checkThrows(node: ts.Node, name: string): void {
  for (const tag of tagsOf(node)) {
    if (tag.tagName.text !== 'throws') continue;
    const text = commentText(tag.comment);
    const named = text.match(/\bERR_[A-Z0-9_]+\b/g) ?? [];
    if (named.length === 0) report(tag, name, '@throws names no error code (ERR_…)');
    for (const code of named) if (!codes.has(code)) report(tag, name, `@throws names ${code}, which is not a code`);
  }
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.MethodSignature
  | ts.ConstructorDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction;

/** Checks one callable: summary (on `docNode`), a `@param` per parameter, `@returns` unless nothing comes back. */
function checkCallable(fn: FunctionLike, docNode: ts.Node, name: string): void {
  checkedSignatures++;
  if (!hasSummary(docNode)) report(docNode, name, 'summary');
  const tags = tagsOf(docNode);
  const documented = new Set(
    tags.filter(ts.isJSDocParameterTag).map((t) => (ts.isIdentifier(t.name) ? t.name.text : t.name.getText())),
  );
  const paramTags = tags.filter(ts.isJSDocParameterTag).length;
  fn.parameters.forEach((p, i) => {
    if (ts.isIdentifier(p.name)) {
      if (p.name.text === 'this') return;
      if (!documented.has(p.name.text)) report(p, name, `@param ${p.name.text}`);
    } else if (paramTags <= i) {
      // A destructured parameter has no name of its own: any @param at its position documents it.
      report(p, name, `@param for parameter ${i + 1} (destructured)`);
    }
  });
  if (!ts.isConstructorDeclaration(fn)) {
    const signature = checker.getSignatureFromDeclaration(fn);
    const result = signature && checker.getReturnTypeOfSignature(signature);
    const hasReturns = tags.some((t) => t.tagName.text === 'returns' || t.tagName.text === 'return');
    if (result && !returnsNothing(result) && !hasReturns) report(docNode, name, '@returns');
  }
  checkThrows(docNode, name);
}

/** Overloads are documented per signature; the implementation signature is invisible to callers. */
function isOverloadImplementation(decl: ts.FunctionDeclaration | ts.MethodDeclaration): boolean {
  if (!decl.body) return false;
  const symbol = decl.name && checker.getSymbolAtLocation(decl.name);
  return (symbol?.declarations?.filter((d) => d.kind === decl.kind).length ?? 0) > 1;
}

function isPublicMember(member: ts.ClassElement | ts.TypeElement): boolean {
  if (member.name && ts.isPrivateIdentifier(member.name)) return false;
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
  return !(flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected));
}

function memberName(owner: string, member: ts.ClassElement | ts.TypeElement): string {
  if (ts.isConstructorDeclaration(member)) return `${owner} constructor`;
  const text = member.name ? member.name.getText() : '?';
  const isStatic =
    ts.canHaveModifiers(member) && ts.getModifiers(member)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
  return `${owner}${isStatic ? '.' : '#'}${text}`;
}

function checkMembers(owner: string, members: ts.NodeArray<ts.ClassElement> | ts.NodeArray<ts.TypeElement>): void {
  for (const member of members) {
    if (!isPublicMember(member) || isInternal(member)) continue;
    const name = memberName(owner, member);
    if (ts.isConstructorDeclaration(member)) {
      if (member.body && member.parent.members.filter(ts.isConstructorDeclaration).length > 1) continue;
      checkCallable(member, member, name);
    } else if (ts.isMethodDeclaration(member)) {
      if (isOverloadImplementation(member)) continue;
      checkCallable(member, member, name);
    } else if (ts.isMethodSignature(member)) {
      checkCallable(member, member, name);
    }
  }
}

/** Every export points somewhere: a reader who lands on it finds the spec, the vendor page or its neighbours. */
function checkSee(decl: ts.Declaration, name: string): void {
  if (!tagsOf(decl).some((t) => t.tagName.text === 'see')) report(decl, name, '@see');
}

function checkDeclaration(decl: ts.Declaration, name: string): void {
  if (seen.has(decl)) return;
  seen.add(decl);
  if (decl.getSourceFile().fileName.includes('/node_modules/')) return;
  if (isInternal(decl)) return;
  checkedDeclarations++;
  if (
    ts.isFunctionDeclaration(decl) ||
    ts.isClassDeclaration(decl) ||
    ts.isInterfaceDeclaration(decl) ||
    ts.isVariableDeclaration(decl) ||
    ts.isTypeAliasDeclaration(decl) ||
    ts.isEnumDeclaration(decl) ||
    ts.isModuleDeclaration(decl)
  ) {
    if (!(ts.isFunctionDeclaration(decl) && isOverloadImplementation(decl))) checkSee(decl, name);
  }
  if (ts.isFunctionDeclaration(decl)) {
    if (!isOverloadImplementation(decl)) checkCallable(decl, decl, name);
  } else if (ts.isClassDeclaration(decl)) {
    if (!hasSummary(decl)) report(decl, name, 'summary');
    checkMembers(name, decl.members);
  } else if (ts.isInterfaceDeclaration(decl)) {
    if (!hasSummary(decl)) report(decl, name, 'summary');
    checkMembers(name, decl.members);
  } else if (ts.isVariableDeclaration(decl)) {
    const init = decl.initializer;
    if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) checkCallable(init, decl, name);
    else if (!hasSummary(decl)) report(decl, name, 'summary');
  } else if (ts.isTypeAliasDeclaration(decl) || ts.isEnumDeclaration(decl) || ts.isModuleDeclaration(decl)) {
    if (!hasSummary(decl)) report(decl, name, 'summary');
  }
}

let exported = 0;
for (const file of entries) {
  const sf = program.getSourceFile(file);
  const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
  if (!moduleSymbol) throw new Error(`${relative(root, file)} is not a module the program could read`);
  for (const exportSymbol of checker.getExportsOfModule(moduleSymbol)) {
    exported++;
    const symbol = exportSymbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exportSymbol) : exportSymbol;
    for (const decl of symbol.declarations ?? []) checkDeclaration(decl, exportSymbol.getName());
  }
}

gaps.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(gaps, null, 2));
} else {
  for (const g of gaps) console.log(`${g.file}:${g.line}  ${g.name}: missing ${g.missing}`);
}
console.log(
  `check-tsdoc: ${entries.length} entry points, ${exported} exports, ${checkedDeclarations} declarations, ` +
    `${checkedSignatures} signatures checked; ${gaps.length} gap${gaps.length === 1 ? '' : 's'}`,
);
process.exitCode = gaps.length === 0 ? 0 : 1;
