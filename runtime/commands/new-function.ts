import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { isMap, isPair, isScalar, parseDocument, type YAMLMap } from 'yaml';
import { ConfigError } from '../config/config-error.js';
import { parseConfig } from '../config/load-config.js';
import { claimedMethods, parseRoute, routeShape } from '../config/routes.js';

const USAGE = `Usage: fngate new NAME [--route "METHOD /path"]... [--config FILE]

Creates functions/NAME.ts from a template and adds NAME to config.yaml, keeping the file's
comments and formatting. Refuses to overwrite an existing file or function.

Options:
  --route R       A route for the function (repeatable)   (default: "GET /NAME")
  --config FILE   (default: ./config.yaml)
  -h, --help      Show this help`;

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** `fngate new NAME`: a new function file and its config entry. */
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
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (positionals.length !== 1) return usage(positionals.length === 0 ? 'which name? fngate new NAME' : `unexpected argument "${positionals[1]}"`);
  const name = positionals[0]!;
  if (!NAME.test(name)) return fail(`invalid function name "${name}": a letter, then letters, digits, "-" or "_"`);

  const configFile = resolve(values.config ?? 'config.yaml');
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch {
    return fail(`${relative(process.cwd(), configFile) || configFile} not found; run fngate new in a project directory or pass --config`);
  }
  let current;
  try {
    current = parseConfig(text, configFile);
  } catch (error) {
    if (error instanceof ConfigError) return fail(`fix config.yaml first:\n${error.message}`);
    throw error;
  }
  if (name in current.functions) return fail(`a function "${name}" already exists in ${relative(process.cwd(), configFile)}`);

  const routes = values.route ?? [`GET /${name}`];
  const claimed = new Map<string, string>();
  for (const fn of Object.values(current.functions)) {
    for (const route of fn.routes) for (const method of claimedMethods(route.method)) claimed.set(`${method} ${routeShape(route.path)}`, `${fn.name} (${route.source})`);
  }
  for (const source of routes) {
    const route = parseRoute(source);
    if ('error' in route) return fail(`invalid route ${JSON.stringify(source)}: ${route.error}`);
    for (const method of claimedMethods(route.method)) {
      const owner = claimed.get(`${method} ${routeShape(route.path)}`);
      if (owner !== undefined) return fail(`route "${route.source}" is already claimed by ${owner}`);
    }
  }

  const root = dirname(configFile);
  const file = join(root, 'functions', `${name}.ts`);
  const shownFile = relative(root, file);
  if (existsSync(file)) return fail(`${shownFile} already exists; not overwriting it`);

  const updated = withFunction(text, name, shownFile, routes);
  if (typeof updated !== 'string') return fail(updated.error);
  // The new config must be valid with the new file in place; otherwise nothing is written.
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, template(name, routes), { flag: 'wx' });
  try {
    parseConfig(updated, configFile);
  } catch (error) {
    const { rm } = await import('node:fs/promises');
    await rm(file, { force: true });
    return fail(`could not add ${name}: ${(error as Error).message}`);
  }
  const temp = `${configFile}.${process.pid}.tmp`;
  await writeFile(temp, updated);
  await rename(temp, configFile);
  process.stdout.write(
    `created ${shownFile}, added ${name} to ${relative(process.cwd(), configFile) || configFile} (${routes.join(', ')})\n` +
      `fngate dev picks it up live; or try: fngate invoke ${name}${/[:*]/.test(routes[0]!) ? ' --path /...' : ''}\n`,
  );
}

/**
 * config.yaml with the new function appended to `functions`, as text: the entry is inserted
 * after the last function with the same indentation, so every other byte (comments, aligned
 * columns, blank lines) stays as the user wrote it. yaml's Document API finds the place and
 * checks the result: the new document must equal the old one plus exactly this function.
 */
function withFunction(text: string, name: string, file: string, routes: readonly string[]): string | { error: string } {
  const doc = parseDocument(text);
  const functions = doc.get('functions', true);
  if (!isMap(functions) || functions.items.length === 0 || functions.flow) {
    return { error: 'config.yaml must have a block-style `functions:` map with at least one function to add to' };
  }
  const map = functions as YAMLMap;
  const first = map.items[0]!;
  const last = map.items[map.items.length - 1]!;
  if (!isPair(first) || !isScalar(first.key) || first.key.range == null) return { error: 'cannot read the layout of `functions:`' };
  const lineStart = text.lastIndexOf('\n', first.key.range[0] - 1) + 1;
  const indent = text.slice(lineStart, first.key.range[0]);
  const lastEnd = (last.value as { range?: [number, number, number] } | null)?.range?.[2] ?? map.range?.[2];
  if (lastEnd === undefined || !/^ *$/.test(indent)) return { error: 'cannot read the layout of `functions:`' };

  const inner = `${indent}  `;
  const routeText = routes.length === 1 ? routes[0]! : `[${routes.join(', ')}]`;
  const entry = `\n${indent}${name}:\n${inner}file: ${file}\n${inner}routes: ${routeText}\n`;
  // After the last function's value and the rest of its line (a trailing comment).
  const lineEnd = text.indexOf('\n', Math.max(lastEnd - 1, 0));
  const at = lineEnd === -1 ? text.length : lineEnd + 1;
  const before = text.slice(0, at);
  const updated = `${before.endsWith('\n') ? before : `${before}\n`}${entry}${text.slice(at)}`;

  const expected = doc.toJS() as { functions: Record<string, unknown> };
  expected.functions[name] = { file, routes: routes.length === 1 ? routes[0] : routes };
  if (!isDeepStrictEqual(parseDocument(updated).toJS(), expected)) {
    return { error: 'could not add the function without changing the rest of config.yaml; add it by hand' };
  }
  return updated;
}

function template(name: string, routes: readonly string[]): string {
  return `import type { Handler } from 'fngate';

/**
 * ${routes.join(', ')}
 *
 * Runs on ${name}'s own worker threads, never on the gateway's. Return a string, an object
 * (sent as JSON), a Uint8Array, a Response, or null for 204. ctx.params holds route parameters,
 * ctx.env the env declared for ${name} in config.yaml, ctx.signal aborts on timeout or when the
 * client leaves.
 */
const handler: Handler = (req, ctx) => {
  const url = new URL(req.url);
  return {
    function: ctx.name,
    method: req.method,
    path: url.pathname,
    params: ctx.params,
    query: Object.fromEntries(url.searchParams),
  };
};

export default handler;
`;
}

function usage(message: string): void {
  process.stderr.write(`fngate new: ${message}\n\n${USAGE}\n`);
  process.exitCode = 2;
}

function fail(message: string): void {
  process.stderr.write(`fngate new: ${message}\n`);
  process.exitCode = 1;
}
