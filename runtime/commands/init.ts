import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_JSON } from '../common/runtime-files.js';
import { CONFIG_HEADER } from './project-files.js';

const USAGE = `Usage: fngate init [DIR]

Starts a fngate project in DIR (default: the current directory): package.json ("type":
"module", scripts dev/start/test/typecheck, fngate as a dependency), tsconfig.json,
.gitignore, config.yaml with one function, functions/hello.ts and test/hello.test.ts (vitest,
through fngate/testing). Existing files are never overwritten: package.json gets only what it
lacks, .gitignore only the lines it lacks, and every other file that exists is left as it is.
Then: npm install, npm run dev, npm test.

Options:
  -h, --help   Show this help`;

/** What `fngate init` writes into a new project besides package.json: path -> contents. */
function projectFiles(): Record<string, string> {
  return {
    'tsconfig.json': `${JSON.stringify(TSCONFIG, null, 2)}\n`,
    'config.yaml': `${CONFIG_HEADER}functions:
  hello:                      # GET /hello/ada -> "hello ada"
    routes: [GET /hello, GET /hello/:name]
`,
    'functions/hello.ts': `import type { Handler } from 'fngate';

// Runs on this function's own worker threads, never on the gateway's: it may compute for as long
// as its \`timeout\` allows without slowing other functions down. Routes and settings live in
// config.yaml; what it returns becomes the response (string: text/plain, object: JSON, ...).
const hello: Handler = (req, ctx) => \`hello \${ctx.params.name ?? 'world'}\`;

export default hello;
`,
    'test/hello.test.ts': `import { afterEach, describe, expect, it } from 'vitest';
import { startFunctions, type TestServer } from 'fngate/testing';

// Each test starts the project's functions on a free port: real worker threads, real HTTP.
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('hello', () => {
  it('greets by name', async () => {
    server = await startFunctions();
    const response = await server.fetch('/hello/ada');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello ada');
  });

  it('greets the world without a name', async () => {
    server = await startFunctions();
    expect(await (await server.fetch('/hello')).text()).toBe('hello world');
  });
});
`,
  };
}

/** Strict, ESM, type-checks functions and tests against fngate's types; emits nothing (fngate bundles). */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['functions', 'test'],
};

/** The test script `npm init` writes: a placeholder, not the user's. */
const NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1';

/** .gitignore lines a project needs: dependencies, fngate's bundles and cache, fngate build's output, a developer's own env values. */
const IGNORED = ['node_modules/', '.fngate/', 'dist/', '.env.local'];

/** `fngate init [DIR]`. */
export async function run(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (parsed.values.help) return void process.stdout.write(`${USAGE}\n`);
  if (parsed.positionals.length > 1) return fail(`unexpected argument "${parsed.positionals[1]}"\n\n${USAGE}`);
  const dir = resolve(parsed.positionals[0] ?? '.');

  const pkgFile = join(dir, 'package.json');
  let existing: Record<string, unknown> | undefined;
  if (existsSync(pkgFile)) {
    try {
      existing = JSON.parse(await readFile(pkgFile, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      return fail(`${shown(pkgFile)} is not valid JSON (${(error as Error).message}); fix it and run fngate init again`);
    }
  }

  const done: string[] = [];
  await mkdir(dir, { recursive: true });
  const pkg = mergePackage(existing, basename(dir));
  if (pkg.added.length > 0 || existing === undefined) {
    await writeFile(pkgFile, `${JSON.stringify(pkg.json, null, 2)}\n`);
    done.push(existing === undefined ? `created ${shown(pkgFile)}` : `updated ${shown(pkgFile)}: added ${pkg.added.join(', ')}`);
  } else {
    done.push(`kept ${shown(pkgFile)}: it has everything`);
  }

  const hadConfig = existsSync(join(dir, 'config.yaml'));
  for (const [path, contents] of Object.entries(projectFiles())) {
    const file = join(dir, path);
    // The example function and its test belong to the example config.yaml only.
    if (hadConfig && (path === 'functions/hello.ts' || path === 'test/hello.test.ts')) continue;
    if (existsSync(file)) {
      done.push(`kept ${shown(file)}: it exists`);
      continue;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, contents, { flag: 'wx' });
    done.push(`created ${shown(file)}`);
  }

  const gitignore = join(dir, '.gitignore');
  const current = existsSync(gitignore) ? await readFile(gitignore, 'utf8') : undefined;
  const lines = new Set((current ?? '').split(/\r?\n/).map((line) => line.trim()));
  const missing = IGNORED.filter((line) => !lines.has(line) && !lines.has(line.replace(/\/$/, '')));
  if (missing.length > 0) {
    const prefix = current === undefined || current === '' || current.endsWith('\n') ? (current ?? '') : `${current}\n`;
    await writeFile(gitignore, `${prefix}${missing.join('\n')}\n`);
    done.push(current === undefined ? `created ${shown(gitignore)}` : `updated ${shown(gitignore)}: added ${missing.join(' ')}`);
  }

  const cd = relative(process.cwd(), dir);
  process.stdout.write(
    `${done.map((line) => `  ${line}`).join('\n')}\n\nnext:\n${cd ? `  cd ${cd}\n` : ''}  npm install\n  npm run dev      # serves config.yaml's functions on http://127.0.0.1:3000, reloads on save\n  npm test         # the tests in test/, against the real runtime\n`,
  );
}

interface FngatePackage {
  version: string;
  devDependencies: Record<string, string>;
}

/** package.json with what a fngate project needs; `added` names what was missing from `existing`. */
function mergePackage(existing: Record<string, unknown> | undefined, dirName: string): { json: Record<string, unknown>; added: string[] } {
  const own = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as FngatePackage;
  const json: Record<string, unknown> = existing ?? {
    name: dirName.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'fngate-app',
    version: '0.1.0',
    private: true,
  };
  const added: string[] = [];
  if (json.type !== 'module') {
    // npm init -y writes "commonjs"; a fngate project's functions and tests are ES modules
    // (import/export, import.meta), and tsc refuses import.meta in a CommonJS package.
    added.push(json.type === undefined ? '"type": "module"' : `"type": "module" (was ${JSON.stringify(json.type)}: rename CommonJS files of yours to .cjs)`);
    json.type = 'module';
  }
  const section = (key: string, wanted: Record<string, string>) => {
    const current = (json[key] ?? {}) as Record<string, string>;
    for (const [name, value] of Object.entries(wanted)) {
      if (current[name] !== undefined && !(key === 'scripts' && current[name] === NPM_PLACEHOLDER_TEST)) continue;
      current[name] = value;
      added.push(`${key}.${name}`);
    }
    json[key] = current;
  };
  section('scripts', { dev: 'fngate dev', start: 'fngate start', test: 'vitest run', typecheck: 'tsc --noEmit' });
  section('dependencies', { fngate: `^${own.version}` });
  const devRange = (name: string) => own.devDependencies[name] ?? 'latest';
  section('devDependencies', { '@types/node': devRange('@types/node'), typescript: devRange('typescript'), vitest: devRange('vitest') });
  return { json, added };
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function fail(message: string): void {
  process.stderr.write(`fngate init: ${message}\n`);
  process.exitCode = 1;
}
