import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError } from './configuration';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGNMENT = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*(.*)$/;

/**
 * Lines that are neither `NAME=value`, a comment nor blank (the continuation lines of a quoted
 * value that spans several lines excepted). Node's parser handles them differently by version:
 * Node 20 reads such a line as the start of the next line's name, silently dropping that variable
 * (`PORT`, or `DATABASE_URL`, which would then fall back to the embedded database); later versions
 * skip it. Either way it is a typo the start should name.
 */
function strayLines(text: string): string[] {
  const stray: string[] = [];
  let openQuote: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (openQuote) {
      if (line.includes(openQuote)) openQuote = undefined;
      continue;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const value = ASSIGNMENT.exec(trimmed)?.[1];
    if (value === undefined) stray.push(trimmed);
    else if (/^["'`]/.test(value) && !value.includes(value[0], 1)) openQuote = value[0];
  }
  return stray;
}

/**
 * The variables of a local `.env` file (a development convenience), read with Node's own parser. A
 * line that is not `NAME=value` (see strayLines) is refused, naming it, as is a file that cannot be
 * read. Undefined when there is no file.
 */
export function readDotEnv(path: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError([`${path} cannot be read: ${(err as Error).message}`]);
  }
  const stray = strayLines(text);
  if (stray.length) throw new ConfigError(stray.map((line) => `${path}: "${line.slice(0, 60)}" is not a NAME=value line (a typo could hide or drop a variable)`));
  const vars = parseEnv(text) as Record<string, string>;
  // Whatever the line scan missed, a name that is not one means a line was misread.
  const bad = Object.keys(vars).filter((name) => !NAME.test(name));
  if (bad.length) throw new ConfigError(bad.map((name) => `${path}: "${name.split('\n')[0].slice(0, 60)}" is not a NAME=value line`));
  return vars;
}

/** Sets the variables of `.env` that the environment does not set already (real variables win). */
export function applyDotEnv(vars: Record<string, string>, env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(vars)) if (env[name] === undefined) env[name] = value;
}
