import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError } from './configuration';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The variables of a local `.env` file (a development convenience), read with Node's own parser.
 * That parser reads a line without `=` as the start of the next line's name, so a typo would
 * silently drop the variable after it (`PORT`, or `DATABASE_URL`, which would then fall back to the
 * embedded database): a name that is not one is refused, naming the line, as is a file that cannot
 * be read. Undefined when there is no file.
 */
export function readDotEnv(path: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError([`${path} cannot be read: ${(err as Error).message}`]);
  }
  const vars = parseEnv(text) as Record<string, string>;
  const bad = Object.keys(vars).filter((name) => !NAME.test(name));
  if (bad.length) {
    throw new ConfigError(bad.map((name) => `${path}: "${name.split('\n')[0].slice(0, 60)}" is not a NAME=value line (it would hide the variable on the line after it)`));
  }
  return vars;
}

/** Sets the variables of `.env` that the environment does not set already (real variables win). */
export function applyDotEnv(vars: Record<string, string>, env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(vars)) if (env[name] === undefined) env[name] = value;
}
