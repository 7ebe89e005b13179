import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { Document, isMap, isScalar, isSeq, parseDocument, type Pair } from 'yaml';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, parseConfig } from '../config/load-config.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { parseRoute, routesCollide, type ResolvedRoute } from '../config/routes.js';
import { configSchema } from '../config/schema.js';
import { CONFIG_HEADER } from './project-files.js';
import { replaceFile } from './replace-file.js';

const USAGE = `Usage: fngate new NAME [--route "METHOD /path"]... [--config FILE]

Creates functions/NAME.ts (next to config.yaml) from a template and adds NAME to config.yaml,
keeping the file's comments and formatting. Changes nothing when NAME or functions/NAME.ts
already exists or a route is invalid or taken. A running fngate dev serves the new function
at once (hot reload).

Options:
  --route R       A route like "GET /items/:id" (repeatable)   (default: "GET /NAME")
  --config FILE   Config file                                   (default: ./config.yaml)
  -h, --help      Show this help

Example: fngate new thumbnail --route "POST /thumbnail" --route "GET /thumbnail/:id"`;

/** `fngate new NAME`: writes functions/NAME.ts and adds NAME to config.yaml, or changes nothing. */
export async function run(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        route: { type: 'string', multiple: true },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (positionals.length !== 1) {
    return fail(`${positionals.length === 0 ? 'which name? fngate new NAME' : `unexpected argument "${positionals[1]}"`}\n\n${USAGE}`);
  }
  const name = positionals[0]!;
  // The very check config.yaml's function names go through.
  const nameCheck = configSchema.shape.functions.keyType.safeParse(name);
  if (!nameCheck.success) return fail(`invalid function name "${name}": ${nameCheck.error.issues[0]?.message}`);

  const configFile = resolve(values.config ?? 'config.yaml');
  // A new project: the first `fngate new` writes config.yaml too.
  const creating = !existsSync(configFile);
  let text: string;
  try {
    text = creating ? NEW_CONFIG : await readFile(configFile, 'utf8');
  } catch (error) {
    return fail((error as Error).message);
  }
  // A config without functions yet (a fresh file, `functions: {}`) is valid once this one is in.
  const first = hasNoFunctions(text);
  let current: ResolvedConfig | undefined;
  if (!first) {
    try {
      current = parseConfig(text, configFile);
    } catch (error) {
      if (error instanceof ConfigError) return fail(`${shown(configFile)} must be valid before adding to it; ${error.message}`);
      throw error;
    }
    if (Object.hasOwn(current.functions, name)) return fail(`a function "${name}" already exists in ${shown(configFile)}`);
  }
  const routes = checkRoutes(values.route ?? [`GET /${name}`], current);
  if (typeof routes === 'string') return fail(routes);
  const file = join(current?.root ?? dirname(configFile), 'functions', `${name}.ts`);
  if (existsSync(file)) return fail(`${shown(file)} already exists; not overwriting it`);
  const updated = first ? withFirstFunction(text, name, `functions/${name}.ts`, routes) : withFunction(text, name, `functions/${name}.ts`, routes);
  if (typeof updated !== 'string') return fail(updated.error);

  let config: ResolvedConfig;
  let wroteFile = false;
  let wroteConfig = false;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, template(routes), { flag: 'wx' });
    wroteFile = true;
    parseConfig(updated, configFile); // so config.yaml is never left invalid, not even for a moment
    if (creating) await writeFile(configFile, updated, { flag: 'wx' });
    else await replaceFile(configFile, updated);
    wroteConfig = true;
    config = loadConfig(configFile); // the file as fngate dev and start will read it
  } catch (error) {
    if (wroteConfig) await (creating ? rm(configFile, { force: true }) : replaceFile(configFile, text));
    if (wroteFile) await rm(file, { force: true });
    const reason = error instanceof ConfigError ? error.message : (error as Error).message;
    return fail(`could not add ${name}, nothing was changed: ${reason}`);
  }
  process.stdout.write(
    `created ${shown(file)}, ${creating ? `created ${shown(configFile)} with` : 'added'} ${name}${creating ? '' : ` to ${shown(configFile)}`} (${routes.map((r) => r.source).join(', ')})\n` +
      howToCall(name, routes, config),
  );
}

/**
 * The routes, parsed, or why they cannot be added: malformed, a duplicate, or one that could
 * match requests another function's route matches (the rule config.yaml is checked by).
 */
function checkRoutes(sources: readonly string[], config: ResolvedConfig | undefined): ResolvedRoute[] | string {
  const others = Object.values(config?.functions ?? {}).flatMap((fn) => fn.routes.map((route) => ({ fn: fn.name, route })));
  const routes: ResolvedRoute[] = [];
  for (const source of sources) {
    const route = parseRoute(source);
    if ('error' in route) return `invalid route ${JSON.stringify(source)}: ${route.error}`;
    const taken = others.find((other) => routesCollide(other.route, route, false));
    if (taken !== undefined) return `route "${route.source}" is already claimed by function "${taken.fn}" (${taken.route.source})`;
    const twice = routes.find((other) => routesCollide(other, route, true));
    if (twice !== undefined) return `route "${route.source}" is already claimed by another --route (${twice.source})`;
    routes.push(route);
  }
  return routes;
}

/** What a new project's config.yaml starts with. */
const NEW_CONFIG = `${CONFIG_HEADER}functions:
`;

/** config.yaml says nothing about functions yet: no \`functions\` key, an empty one, or \`{}\`. */
function hasNoFunctions(text: string): boolean {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return false;
  const functions = doc.get('functions', true);
  return functions === undefined || functions === null || (isScalar(functions) && functions.value === null) || (isMap(functions) && functions.items.length === 0);
}

/** config.yaml with `functions:` holding only `name`: the key's value (empty, null or {}) replaced by the entry. */
function withFirstFunction(text: string, name: string, file: string, routes: readonly ResolvedRoute[]): string | { error: string } {
  const doc = parseDocument(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const block = entryLines(name, file, routes, 2)
    .map((line) => `  ${line}`)
    .join(eol);
  const pair = isMap(doc.contents) ? (doc.contents.items as Pair[]).find((item) => isScalar(item.key) && item.key.value === 'functions') : undefined;
  let updated: string;
  if (pair === undefined) {
    updated = `${text}${text === '' || text.endsWith('\n') ? '' : eol}functions:${eol}${block}${eol}`;
  } else {
    const keyRange = (pair.key as { range?: [number, number, number] }).range!;
    const valueRange = (pair.value as { range?: [number, number, number] } | null)?.range;
    // Keep a comment after `functions:` (it ends the line), drop an empty `{}` / `null`.
    const lineEnd = text.indexOf('\n', keyRange[1]);
    const head = text.slice(0, keyRange[1]) + ':';
    const rest = lineEnd === -1 ? '' : text.slice(lineEnd + 1);
    const comment = /#.*$/.exec(text.slice(valueRange?.[1] ?? keyRange[1], lineEnd === -1 ? undefined : lineEnd).replace(/\r$/, ''))?.[0];
    updated = `${head}${comment ? ` ${comment}` : ''}${eol}${block}${eol}${rest}`;
  }
  const expected = (doc.toJS() ?? {}) as Record<string, unknown>;
  expected.functions = { [name]: { file, routes: routes.length === 1 ? routes[0]!.source : routes.map((r) => r.source) } };
  const check = parseDocument(updated);
  if (check.errors.length > 0 || !isDeepStrictEqual(check.toJS(), expected)) {
    return { error: `cannot add "${name}" without changing the rest of config.yaml; add it by hand` };
  }
  return updated;
}

/** The YAML lines of one function's entry (`name:` and its keys), indented by `step`. */
function entryLines(name: string, file: string, routes: readonly ResolvedRoute[], step: number): string[] {
  const entry = new Document({ [name]: { file, routes: routes.length === 1 ? routes[0]!.source : routes.map((r) => r.source) } });
  const list = entry.getIn([name, 'routes'], true);
  if (isSeq(list)) list.flow = true;
  return entry.toString({ indent: step, lineWidth: 0, flowCollectionPadding: false }).trimEnd().split('\n');
}

/**
 * config.yaml with the entry for `name` inserted as text after the last function, at the same
 * indentation: re-printing the whole document would re-align every trailing comment. The Document
 * API finds the place, renders the entry (quoting whatever YAML needs quoted) and checks the
 * result: it must read as the old config plus exactly this function.
 */
function withFunction(text: string, name: string, file: string, routes: readonly ResolvedRoute[]): string | { error: string } {
  const layout = { error: `cannot find where to add "${name}" in config.yaml's functions (block style expected); add it by hand` };
  const doc = parseDocument(text);
  const functions = doc.get('functions', true);
  if (!isMap(functions) || functions.flow) return layout;
  const items = functions.items as Pair[];
  const first = items[0];
  const last = items.at(-1);
  const keyAt = (pair: Pair | undefined) => (isScalar(pair?.key) ? pair.key.range?.[0] : undefined);
  const endOf = (pair: Pair | undefined) => (pair?.value as { range?: [number, number, number] } | null | undefined)?.range?.[2];
  const firstKey = keyAt(first);
  const lastEnd = endOf(last);
  if (firstKey === undefined || lastEnd === undefined) return layout;

  const column = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  const indent = column(firstKey);
  // The file's own indentation step, read from the first function's keys (file:, routes:).
  const inner = isMap(first?.value) && !first.value.flow ? keyAt(first.value.items[0] as Pair) : undefined;
  const step = inner !== undefined && column(inner) > indent ? column(inner) - indent : 2;
  // A blank line before the new entry when the last two functions are separated by one.
  const previousEnd = endOf(items.at(-2));
  const lastKey = keyAt(last);
  const blank = previousEnd !== undefined && lastKey !== undefined && /\n[ \t]*\r?\n/.test(text.slice(previousEnd - 1, lastKey));

  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = entryLines(name, file, routes, step);
  const block = `${blank ? eol : ''}${lines.map((line) => ' '.repeat(indent) + line).join(eol)}${eol}`;

  // After the rest of the last function's last line (it may end in a comment).
  const lineEnd = text.indexOf('\n', Math.max(lastEnd - 1, 0));
  const at = lineEnd === -1 ? text.length : lineEnd + 1;
  const before = text.slice(0, at);
  const updated = `${before}${before.endsWith('\n') ? '' : eol}${block}${text.slice(at)}`;

  const expected = doc.toJS() as { functions: Record<string, unknown> };
  expected.functions[name] = { file, routes: routes.length === 1 ? routes[0]!.source : routes.map((r) => r.source) };
  const check = parseDocument(updated);
  if (check.errors.length > 0 || !isDeepStrictEqual(check.toJS(), expected)) {
    return { error: `cannot add "${name}" without changing the rest of config.yaml; add it by hand` };
  }
  return updated;
}

function template(routes: readonly ResolvedRoute[]): string {
  return `import type { Handler } from 'fngate';

// ${routes.map((r) => r.source).join(', ')} (routes and settings live in config.yaml)
//
// Runs on this function's own worker threads, never on the gateway's, so it may compute for as
// long as its \`timeout\` allows without slowing other functions down. What it returns becomes
// the response: a string (text/plain), an object or array (JSON), a Uint8Array (bytes), a
// Response (sent as is) or null (204). ctx.env holds the env declared for it in config.yaml;
// ctx.signal aborts when the request times out or the client leaves.
const handler: Handler = (req, ctx) => {
  const url = new URL(req.url);
  return {
    function: ctx.name, // its name in config.yaml
    method: req.method,
    path: url.pathname,
    params: ctx.params, // route parameters: /items/:id -> { id }
    query: Object.fromEntries(url.searchParams), // ?q=1 -> { q: '1' }
  };
};

export default handler;
`;
}

/** Two lines on calling the new function: once with fngate invoke, and over HTTP in fngate dev. */
function howToCall(name: string, routes: readonly ResolvedRoute[], config: ResolvedConfig): string {
  const route = routes.find((r) => !/[:*]/.test(r.path)) ?? routes[0]!;
  // `/items/:id{[0-9]+}` -> `/items/<id>`, `/files/*` -> `/files/<any>`: placeholders to fill in.
  const path = route.path.replace(/:([A-Za-z_]\w*)(\{[^{}]*\})?\??/g, '<$1>').replace(/\*/g, '<any>');
  const arg = (value: string) => (/^[\w/.:@%+=,-]+$/.test(value) ? value : `'${value}'`);
  const method = route.method === 'GET' || route.method === 'ANY' ? '' : ` --method ${route.method}`;
  const pathFlag = route === routes[0] && path === route.path ? '' : ` --path ${arg(path)}`;
  const { host, port } = config.server;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const curl = `curl${method ? ` -X ${route.method}` : ''} ${arg(`http://${shownHost}:${port === 0 ? '<port>' : port}${path}`)}`;
  return `call it: fngate invoke ${name}${method}${pathFlag}\n  or, while fngate dev runs (it picks ${name} up live): ${curl}\n`;
}

/** A path as the user should see it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function fail(message: string): void {
  process.stderr.write(`fngate: ${message}\n`);
  process.exitCode = 1;
}
