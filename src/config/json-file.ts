/**
 * Reading appsettings-style JSON: comments (`//`, `/* *\/`) and trailing commas are allowed as .NET allows them,
 * and a syntax error names the file, line and column.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';

/** Blanks out comments and trailing commas, keeping every other character at its offset. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += next ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i += 1;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i += 1;
    } else if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') {
        out += ' ';
        i += 1;
      }
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      for (; i < stop; i++) out += text[i] === '\n' ? '\n' : ' ';
    } else if (c === ',') {
      // A comma followed (after whitespace) by a closing bracket is a trailing comma.
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j += 1;
      out += text[j] === '}' || text[j] === ']' ? ' ' : ',';
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Parses appsettings JSON text; `file` names it in errors. */
export function parseJsonText(text: string, file: string): unknown {
  const cleaned = stripJsonComments(text.replace(/^\uFEFF/, ''));
  try {
    return JSON.parse(cleaned);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    const where = pos ? lineAndColumn(cleaned, Number(pos[1])) : undefined;
    const detail = message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON Parse error: /, '');
    throw new ConfigError(
      `${file} is not valid JSON${where ? ` (line ${where.line}, column ${where.column})` : ''}: ${detail.split('\n')[0]}`,
    );
  }
}

/** Reads and parses a JSON file; undefined when it does not exist. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file}: ${code ?? String(err)}`, { cause: err });
  }
  return parseJsonText(text, file);
}
