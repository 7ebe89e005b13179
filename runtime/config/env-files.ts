import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, type ConfigProblem } from './config-error.js';

/**
 * `.env` files next to config.yaml: values for the `${VAR}` references of config.yaml, never
 * given to a function that did not declare them, never copied by `fngate build`. Parsed by
 * Node's own `util.parseEnv` (the parser of `node --env-file`), so quoting, multi-line values,
 * `export` and comments mean what they mean there.
 */

/** The files `mode` reads, in the order they apply: later ones override earlier ones. */
export function envFileNames(mode: 'dev' | 'start'): readonly string[] {
  // .env.local holds a developer's own values (secrets for their machine): never in production.
  return mode === 'dev' ? ['.env', '.env.local'] : ['.env'];
}

export interface EnvFiles {
  /** Absolute paths of the files `mode` reads, present or not (a watcher follows them all). */
  readonly files: readonly string[];
  /** Their values merged (a later file wins). */
  readonly values: Readonly<Record<string, string>>;
}

/**
 * Reads the env files of the project at `root` for `mode`; a missing file is skipped. Throws a
 * ConfigError naming the file and line of every line that is not `NAME=value` (Node's parser
 * skips such a line without a word, or glues it to the next line's name).
 */
export function loadEnvFiles(root: string, mode: 'dev' | 'start', cwd: string = process.cwd()): EnvFiles {
  const files = envFileNames(mode).map((name) => join(root, name));
  const values: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      problems.push({ file: shown(file, cwd), line: 0, column: 0, path: '', message: `cannot read: ${(error as Error).message}` });
      continue;
    }
    const malformed = malformedLines(text);
    for (const { line, text: content } of malformed) {
      const excerpt = content.length > 60 ? `${content.slice(0, 57)}...` : content;
      problems.push({ file: shown(file, cwd), line, column: 1, path: '', message: `expected NAME=value (or a # comment), got ${JSON.stringify(excerpt)}` });
    }
    if (malformed.length === 0) Object.assign(values, parseEnv(text));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { files, values };
}

/**
 * The environment `${VAR}` references read: the process's own variables win over the files, as
 * with dotenv, Vite and Next.js: a value set for one run (in the shell, by CI, by the container)
 * beats the file's default.
 */
export function withEnvFiles(processEnv: Readonly<Record<string, string | undefined>>, files: EnvFiles): Record<string, string | undefined> {
  return { ...files.values, ...processEnv };
}

const ASSIGNMENT = /^\s*(?:export\s+)?[\w.-]+\s*=\s*(["'`]?)/;

/**
 * Lines that are neither blank, a comment, an assignment, nor inside a quoted value that an
 * assignment opened and a later line closes. Only where each statement starts and ends is
 * decided here, to number the lines; the values are Node's.
 */
function malformedLines(text: string): { line: number; text: string }[] {
  const lines = text.split(/\r?\n/);
  const malformed: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*(?:#|$)/.test(line)) continue;
    const match = ASSIGNMENT.exec(line);
    if (match === null) {
      malformed.push({ line: i + 1, text: line.trim() });
      continue;
    }
    const quote = match[1];
    if (quote === '' || line.slice(match[0].length).includes(quote!)) continue;
    // A quoted value that goes on: up to the line with its closing quote, if there is one.
    const close = lines.findIndex((later, j) => j > i && later.includes(quote!));
    if (close !== -1) i = close;
  }
  return malformed;
}

function shown(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}
