/**
 * `tsc -p <dir>` for many small projects in one process, through the compiler API. Each project is still compiled as
 * tsc compiles it — its own tsconfig.json, its own program, module resolution, diagnostics and emit — but the
 * declaration files they all read (TypeScript's lib files, @types/node, the package's own `dist/*.d.ts`) are parsed
 * and bound once, not once per project: that parsing is most of a small project's compile time (about 2 of its 3 s
 * of CPU), and starting a tsc process for each project repeats it.
 *
 * A parsed declaration file is shared only between programs that would parse it the same way: the same file, the same
 * language version, the same module format (`impliedNodeFormat`, which nodenext/node16 work out from the nearest
 * package.json). A declaration file is a module only by its own imports and exports (`moduleDetection` does not force
 * .d.ts files), and the projects all compile with `strict`, so nothing else of a project's options changes one.
 * Each project's own sources are parsed afresh for its program. The TypeScript language service shares files
 * between programs the same way (its document registry).
 *
 * @see https://github.com/microsoft/TypeScript/wiki/Using-the-Compiler-API
 */
import { join } from 'node:path';
import ts from 'typescript';

/** What `tsc -p` would have said: `ok` when it exits 0, `output` its diagnostics as it prints them. */
export interface Compiled {
  ok: boolean;
  output: string;
}

/** A compiler for projects compiled one after another in this process, sharing their parsed declaration files. */
export function createProjectCompiler(): (dir: string) => Compiled {
  const declarations = new Map<string, ts.SourceFile>();
  return (dir) => {
    const format: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => dir,
      getNewLine: () => '\n',
    };
    const configErrors: ts.Diagnostic[] = [];
    const config = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), undefined, {
      ...ts.sys,
      getCurrentDirectory: () => dir,
      onUnRecoverableConfigFileDiagnostic: (d) => configErrors.push(d),
    });
    if (!config) return { ok: false, output: ts.formatDiagnostics(configErrors, format) };
    const host = ts.createCompilerHost(config.options);
    const parse = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile) => {
      if (shouldCreateNewSourceFile || !fileName.endsWith('.d.ts')) {
        return parse(fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile);
      }
      const options =
        typeof languageVersionOrOptions === 'object'
          ? languageVersionOrOptions
          : { languageVersion: languageVersionOrOptions };
      const key = `${options.languageVersion}\0${options.impliedNodeFormat ?? ''}\0${fileName}`;
      let file = declarations.get(key);
      if (!file) {
        file = parse(fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile);
        if (file) declarations.set(key, file);
      }
      return file;
    };
    const program = ts.createProgram({
      rootNames: config.fileNames,
      options: config.options,
      projectReferences: config.projectReferences ?? [],
      host,
      configFileParsingDiagnostics: config.errors,
    });
    const emitted = program.emit();
    // What tsc reports, in its order: the config's errors, then the program's, then the emit's.
    const diagnostics = ts.sortAndDeduplicateDiagnostics([
      ...config.errors,
      ...ts.getPreEmitDiagnostics(program),
      ...emitted.diagnostics,
    ]);
    const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
    return { ok: errors.length === 0 && !emitted.emitSkipped, output: ts.formatDiagnostics(diagnostics, format) };
  };
}
