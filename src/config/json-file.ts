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

/**
 * Finds the first syntax error of JSON text: its offset and what is wrong, described without quoting the text
 * (a JSON engine's own message may quote a stretch of the file, and the file may hold a key).
 */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw { offset: at, reason };
  };
  const found = () => (i >= text.length ? 'but the text ends' : `found ${JSON.stringify(text[i])}`);
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i += 1;
  };
  const string = () => {
    const start = i;
    i += 1;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i += 1;
        return;
      }
      if (c === '\\') {
        const next = text[i + 1];
        if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail('invalid escape sequence in a string');
      } else if (c.charCodeAt(0) < 0x20) {
        fail('line break or control character inside a string (a missing closing quote?)');
      } else {
        i += 1;
      }
    }
    fail('unterminated string', start);
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i += 1;
      ws();
      if (text[i] === '}') {
        i += 1;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, ${found()}`);
        string();
        ws();
        if (text[i] !== ':') fail(`expected ':' after the property name, ${found()}`);
        i += 1;
        value();
        ws();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === '}') {
          i += 1;
          return;
        }
        fail(`expected ',' or '}' after a property value, ${found()}`);
      }
    }
    if (c === '[') {
      i += 1;
      ws();
      if (text[i] === ']') {
        i += 1;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === ']') {
          i += 1;
          return;
        }
        fail(`expected ',' or ']' after an array element, ${found()}`);
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (c !== undefined && /[-0-9]/.test(c) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail(`expected a value, ${found()}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the end of the JSON value`);
  } catch (err) {
    if (err instanceof RangeError) return undefined; // nested too deeply to walk; say less
    return err as { offset: number; reason: string };
  }
  return undefined;
}

/** Parses appsettings JSON text; `file` names it in errors, which give line and column but never quote the text. */
export function parseJsonText(text: string, file: string): unknown {
  const cleaned = stripJsonComments(text.replace(/^\uFEFF/, ''));
  try {
    return JSON.parse(cleaned);
  } catch {
    // The engine's own error is not kept, not even as the cause: its message can quote part of the file.
    const located = locateJsonError(cleaned);
    if (!located) throw new ConfigError(`${file} is not valid JSON`);
    const { line, column } = lineAndColumn(cleaned, located.offset);
    throw new ConfigError(`${file} is not valid JSON (line ${line}, column ${column}): ${located.reason}`);
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
