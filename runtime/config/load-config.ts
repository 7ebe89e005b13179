import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { resolveConfig, type ConfigIssue, type ResolvedConfig } from './resolve-config.js';
import { configSchema, defaultsSchema, functionSchema, serverSchema, type UserConfig } from './schema.js';

export interface LoadConfigOptions {
  /** Environment for `${VAR}` references. Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory file names in messages are shown relative to. Default: `process.cwd()`. */
  cwd?: string;
}

/**
 * Reads, validates and resolves a config file. Throws a ConfigError listing every problem,
 * each with its line and key path; returns a deeply frozen ResolvedConfig.
 */
export function loadConfig(file: string, options: LoadConfigOptions = {}): ResolvedConfig {
  const absolute = resolve(file);
  const shown = displayPath(absolute, options.cwd ?? process.cwd());
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError([{ file: shown, line: 0, column: 0, path: '', message: `cannot read config: ${reason}` }]);
  }
  return parseConfig(text, absolute, { ...options, shownAs: shown });
}

/** Like loadConfig, for text already in memory (`file` is used for paths and messages). */
export function parseConfig(
  text: string,
  file: string,
  options: LoadConfigOptions & { shownAs?: string } = {},
): ResolvedConfig {
  const absolute = resolve(file);
  const shown = options.shownAs ?? displayPath(absolute, options.cwd ?? process.cwd());
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const pos = lineCounter.linePos(error.pos[0]);
        return {
          file: shown,
          line: pos.line,
          column: pos.col,
          path: '',
          message: `YAML syntax error: ${firstLine(error.message)}`,
        };
      }),
    );
  }

  const locate = createLocator(doc, lineCounter, shown);
  const raw: unknown = doc.toJS() ?? {};
  const parsed = configSchema.safeParse(raw);
  const problems = parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => schemaIssueToProblems(issue, raw, locate));

  // Semantic checks (files, routes, limits) run on every part that passed the schema, so one
  // bad value does not hide the other problems.
  const checkable = parsed.success ? parsed.data : withoutInvalidParts(raw, parsed.error.issues);
  if (checkable) {
    const resolved = resolveConfig(checkable, { file: absolute, env: options.env ?? process.env });
    if (resolved.config && problems.length === 0) return resolved.config;
    for (const issue of resolved.issues ?? []) problems.push(locate(issue.path, issue.message));
  }
  throw new ConfigError(sortProblems(problems));
}

/**
 * The config minus what the schema rejected: bad keys are left out (so their defaults apply),
 * and a function whose `routes` or `file` is bad is left out whole. Undefined if no function is
 * left to check.
 */
function withoutInvalidParts(raw: unknown, issues: readonly z.core.$ZodIssue[]): UserConfig | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  /** 'server', 'defaults' or 'functions\0NAME' -> its rejected keys ('*': all of it). */
  const rejected = new Map<string, Set<string>>();
  for (const issue of issues) {
    const path = issue.path.map(String);
    for (const extra of issue.code === 'unrecognized_keys' ? issue.keys : [undefined]) {
      const full = extra === undefined ? path : [...path, extra];
      if (full.length === 0) return undefined;
      const depth = full[0] === 'functions' ? 2 : 1;
      const owner = full.slice(0, depth).join('\0');
      if (!rejected.has(owner)) rejected.set(owner, new Set());
      rejected.get(owner)!.add(full.length > depth ? full[depth]! : '*');
    }
  }
  if (rejected.has('functions')) return undefined;
  const keep = (owner: string, value: unknown): unknown => {
    const bad = rejected.get(owner);
    if (bad === undefined) return value;
    if (bad.has('*') || value === null || typeof value !== 'object') return undefined;
    return Object.fromEntries(Object.entries(value).filter(([key]) => !bad.has(key)));
  };
  const { server, defaults, functions } = raw as Record<string, unknown>;
  const kept = Object.entries((functions ?? {}) as Record<string, unknown>).flatMap(([name, fn]) => {
    const bad = rejected.get(`functions\0${name}`);
    if (bad?.has('routes') || bad?.has('file')) return [];
    const value = keep(`functions\0${name}`, fn);
    return value === undefined ? [] : [[name, value] as const];
  });
  if (kept.length === 0) return undefined;
  const candidate = { server: keep('server', server) ?? {}, defaults: keep('defaults', defaults) ?? {}, functions: Object.fromEntries(kept) };
  const reparsed = configSchema.safeParse(candidate);
  return reparsed.success ? reparsed.data : undefined;
}

type Locator = (path: readonly PropertyKey[], message: string) => ConfigProblem;

function createLocator(doc: Document, lineCounter: LineCounter, shown: string): Locator {
  return (path, message) => {
    const offset = findOffset(doc, path);
    const pos = offset === undefined ? { line: 0, col: 0 } : lineCounter.linePos(offset);
    return { file: shown, line: pos.line, column: pos.col, path: formatPath(path), message };
  };
}

/** The offset of the key (or sequence item) at `path`, or of its closest existing ancestor. */
function findOffset(doc: Document, path: readonly PropertyKey[]): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const parentPath = path.slice(0, depth - 1);
    const key = path[depth - 1];
    const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath as unknown[], true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      const node = (pair?.key ?? pair?.value) as { range?: [number, number, number] } | undefined;
      if (node?.range) return node.range[0];
    } else if (isSeq(parent) && typeof key === 'number') {
      const item = parent.items[key] as { range?: [number, number, number] } | undefined;
      if (item?.range) return item.range[0];
    }
  }
  return (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
}

function schemaIssueToProblems(issue: z.core.$ZodIssue, raw: unknown, locate: Locator): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path);
    return issue.keys.map((key) => {
      const suggestion = closest(key, known);
      const hint = suggestion ? ` (did you mean "${suggestion}"?)` : known.length ? `; expected one of ${known.join(', ')}` : '';
      return locate([...issue.path, key], `unknown key${hint}`);
    });
  }
  if (issue.code === 'invalid_key' && issue.issues.length > 0) {
    // A map key that is not a valid name: the key's own problem, not the map's.
    const key = issue.path[issue.path.length - 1];
    return [locate(issue.path, `${issue.issues[0]!.message}, got ${JSON.stringify(String(key))}`)];
  }
  if (issue.code === 'invalid_union') {
    // When exactly one alternative matched the shape (e.g. a list) and failed inside it,
    // report that alternative's own problems, at their own paths.
    const inner = issue.errors.filter((branch) => branch.length > 0 && branch.every((e) => e.path.length > 0));
    if (inner.length === 1) {
      return inner[0]!.flatMap((e) => schemaIssueToProblems({ ...e, path: [...issue.path, ...e.path] } as z.core.$ZodIssue, raw, locate));
    }
  }
  const value = valueAt(raw, issue.path);
  const message = value === undefined ? `missing; ${issue.message}` : `${issue.message}, got ${describeValue(value)}`;
  return [locate(issue.path, message)];
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  const schema =
    path.length === 0 ? configSchema
    : path.length === 1 && path[0] === 'server' ? serverSchema
    : path.length === 1 && path[0] === 'defaults' ? defaultsSchema
    : path.length === 2 && path[0] === 'functions' ? functionSchema
    : undefined;
  return schema ? Object.keys(schema.shape) : [];
}

function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** In file order, each distinct problem once (a bad default is reported once, not per function). */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = `${p.line}:${p.path}:${p.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith('..') ? rel : absolute;
}

export type { ConfigIssue };
