import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, startBuilt } from '../helpers/built-server.js';
import { REPO } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { errorOf, startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

/** Real packages from npm (pino, pdfkit, sharp: devDependencies of this repository), through a symlinked node_modules. */
async function projectWith(files: Record<string, string>): Promise<TempProject> {
  const project = await createProject(files);
  await symlink(join(REPO, 'node_modules'), project.path('node_modules'), 'dir');
  return project;
}

const PINO = (log: string) => `import pino from 'pino';
const logger = pino({ transport: { target: 'pino/file', options: { destination: ${JSON.stringify(log)} } } });
export default () => { logger.info('hello from a transport'); return 'logged'; };
`;

const PDF = `import PDFDocument from 'pdfkit';
export default async () => {
  const doc = new PDFDocument();
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => doc.on('end', resolve));
  doc.text('hello from pdfkit');
  doc.end();
  await ended;
  return new Response(Buffer.concat(chunks), { headers: { 'content-type': 'application/pdf' } });
};
`;

const SHARP = (version: string) => `import sharp from 'sharp';
import { threadId } from 'node:worker_threads';
export default async () => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#08f' } }).png().toBuffer();
  const { info } = await sharp(png).resize(16).png().toBuffer({ resolveWithObject: true });
  return { version: ${JSON.stringify(version)}, thread: threadId, width: info.width, height: info.height };
};
`;

const config = (fn: string, settings: string) => `functions:\n  ${fn}:\n    routes: GET /${fn}\n    ${settings}\n`;

/** A native addon written the pre-N-API way (NODE_MODULE): not context-aware, so Node loads it on one thread only. */
const LEGACY_ADDON = `#include <node.h>
static void Answer(const v8::FunctionCallbackInfo<v8::Value>& args) { args.GetReturnValue().Set(42); }
static void Init(v8::Local<v8::Object> exports) { NODE_SET_METHOD(exports, "answer", Answer); }
NODE_MODULE(legacy_addon, Init)
`;
const canCompileAddons = existsSync('/usr/include/node/node.h') && (() => {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('packages esbuild cannot or should not bundle', () => {
  it('warns at build time that bundled pino will fail, naming the import chain and the config line, and says so in the load error', async () => {
    const project = await projectWith({ 'config.yaml': config('log', 'minThreads: 1'), 'functions/log.ts': PINO('/dev/null') });
    const { fetch, logs } = await startRuntime({ cwd: project.dir });
    expect(logs.text()).toMatch(/⚠ log: pino will likely fail inside the bundle: node_modules\/pino\/lib\/transport\.js:\d+ uses __dirname/);
    expect(logs.text()).toContain('imported as functions/log.ts → pino');
    expect(logs.text()).toContain('fix: leave it unbundled, in config.yaml under functions.log: external: [pino]');
    const error = await errorOf(await fetch('/log'));
    expect(error.code).toBe('FNGATE_UNAVAILABLE');
    expect(error.message).toMatch(/^log failed to load: ReferenceError: __dirname is not defined.*\n.*external: \[pino\]/s);
  });

  it('repeats the warning when a restart serves the bundle from the build cache', async () => {
    const project = await projectWith({ 'config.yaml': config('log', 'minThreads: 0'), 'functions/log.ts': PINO('/dev/null') });
    const first = await startRuntime({ cwd: project.dir });
    await first.runtime.close();
    const { runtime, logs } = await startRuntime({ cwd: project.dir });
    expect(runtime.functions()[0]!.fromCache).toBe(true);
    expect(logs.text()).toContain('⚠ log: pino will likely fail inside the bundle');
  });

  it('adds the config line to the error of a request that fails inside bundled pdfkit', async () => {
    const project = await projectWith({ 'config.yaml': config('pdf', 'minThreads: 1'), 'functions/pdf.ts': PDF });
    const { fetch, logs } = await startRuntime({ cwd: project.dir });
    expect(logs.text()).toMatch(/⚠ pdf: pdfkit will likely fail inside the bundle: node_modules\/pdfkit\/.*resolves a #imports specifier/);
    const response = await fetch('/pdf');
    expect(response.status).toBe(500);
    const error = await errorOf(response);
    expect(error.message).toMatch(/Cannot find module '#standard-fonts\/Helvetica'.*external: \[pdfkit\]/s);
  });

  it('runs pino with a pino/file transport when pino is external', async () => {
    const project = await projectWith({ 'config.yaml': config('log', 'external: [pino]'), 'functions/log.ts': '' });
    await project.write('functions/log.ts', PINO(project.path('app.log')));
    const { fetch, logs } = await startRuntime({ cwd: project.dir });
    expect(await (await fetch('/log')).text()).toBe('logged');
    const line = await waitFor(async () => (existsSync(project.path('app.log')) ? (await readFile(project.path('app.log'), 'utf8')).trim() || undefined : undefined), { what: 'the transport to write' });
    expect(JSON.parse(line)).toMatchObject({ level: 30, msg: 'hello from a transport' });
    expect(logs.text()).not.toContain('⚠');
  });

  it('writes a PDF with pdfkit when it is external under defaults', async () => {
    const project = await projectWith({ 'config.yaml': `defaults: { external: [pdfkit] }\n${config('pdf', 'minThreads: 1')}`, 'functions/pdf.ts': PDF });
    const { fetch } = await startRuntime({ cwd: project.dir });
    const response = await fetch('/pdf');
    expect(response.status).toBe(200);
    const pdf = Buffer.from(await response.arrayBuffer()).toString('latin1');
    expect(pdf.startsWith('%PDF-')).toBe(true);
    expect(pdf.trimEnd().endsWith('%%EOF')).toBe(true);
  });

  it('leaves every package out of the bundle with external: all', async () => {
    const project = await projectWith({ 'config.yaml': config('pdf', 'external: all'), 'functions/pdf.ts': PDF });
    const { fetch, runtime } = await startRuntime({ cwd: project.dir });
    expect((await fetch('/pdf')).status).toBe(200);
    const dir = join(project.dir, '.fngate', (await readdir(project.path('.fngate'))).find((name) => name.startsWith('run-'))!);
    const map = (await readdir(dir)).find((name) => name.endsWith('.mjs.map'))!;
    const sources = (JSON.parse(await readFile(join(dir, map), 'utf8')) as { sources: string[] }).sources;
    expect(sources.some((source) => source.includes('functions/pdf.ts'))).toBe(true);
    expect(sources.filter((source) => source.includes('node_modules'))).toEqual([]);
    expect(runtime.status().functions[0]!.state).toBe('serving');
  });

  it('reports an external package that is not installed as a build error naming the file that imports it', async () => {
    const project = await projectWith({
      'config.yaml': config('x', 'external: [fngate-not-installed-anywhere]'),
      'functions/x.ts': 'import thing from "fngate-not-installed-anywhere";\nexport default () => String(thing);\n',
    });
    const error = await errorOf(await (await startRuntime({ cwd: project.dir })).fetch('/x'));
    expect(error.message).toBe(
      'x failed to build: functions/x.ts imports fngate-not-installed-anywhere, which is external (config.yaml external:) but is not installed in node_modules: npm install fngate-not-installed-anywhere',
    );
  });

  it('names the package to leave unbundled when esbuild refuses its .node file', async () => {
    const project = await createProject({
      'config.yaml': config('x', 'minThreads: 0'),
      'functions/x.ts': 'import addon from "native-thing";\nexport default () => String(addon);\n',
      'node_modules/native-thing/package.json': JSON.stringify({ name: 'native-thing', version: '1.0.0', main: 'index.js' }),
      'node_modules/native-thing/index.js': 'module.exports = require("./build/Release/thing.node");\n',
      'node_modules/native-thing/build/Release/thing.node': 'not really a shared object',
    });
    const error = await errorOf(await (await startRuntime({ cwd: project.dir })).fetch('/x'));
    expect(error.message).toMatch(/No loader is configured for "\.node" files.*native-thing loads a native addon, which cannot be bundled: .*functions\.x: external: \[native-thing\]/);
  });

  it('names the package that finds its native addon through bindings at run time, not the loader', async () => {
    const project = await createProject({
      'config.yaml': config('db', 'minThreads: 0'),
      'functions/db.ts': 'import { open } from "tiny-sqlite";\nexport default () => String(typeof open);\n',
      'node_modules/tiny-sqlite/package.json': JSON.stringify({ name: 'tiny-sqlite', version: '1.0.0', main: 'lib/index.js' }),
      'node_modules/tiny-sqlite/lib/index.js': 'const addon = require("bindings")("tiny_sqlite");\nexports.open = (file) => addon.open(file);\n',
      'node_modules/bindings/package.json': JSON.stringify({ name: 'bindings', version: '1.5.0', main: 'bindings.js' }),
      'node_modules/bindings/bindings.js': 'module.exports = (name) => require(require("path").join(process.cwd(), "build", name + ".node"));\n',
    });
    const { logs } = await startRuntime({ cwd: project.dir });
    expect(logs.text()).toContain('⚠ db: tiny-sqlite will likely fail inside the bundle: node_modules/tiny-sqlite/lib/index.js finds its native addon through bindings at run time, in its own directory');
    expect(logs.text()).toContain('imported as functions/db.ts → tiny-sqlite → bindings');
    expect(logs.text()).toContain('external: [tiny-sqlite]');
  });

  it('applies a config.yaml edit to external in dev: the function that failed bundled loads unbundled', async () => {
    const project = await projectWith({ 'config.yaml': config('log', 'minThreads: 1'), 'functions/log.ts': PINO('/dev/null') });
    const { fetch, runtime, logs } = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    expect((await fetch('/log')).status).toBe(503);
    await project.write('config.yaml', config('log', 'minThreads: 1\n    external: [pino]'));
    await waitFor(async () => (await fetch('/log')).status === 200, { what: 'the unbundled version' });
    await runtime.reloadsSettled();
    expect(logs.text()).toContain('config: ~log external []->[pino]');
  });

  it('resizes images with sharp (a native addon) on 2 threads, and again on new threads after a hot reload', async () => {
    const project = await projectWith({
      'config.yaml': config('img', 'external: [sharp]\n    minThreads: 2\n    maxThreads: 2\n    concurrency: 1'),
      'functions/img.ts': SHARP('v1'),
    });
    const { fetch, runtime } = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    type Answer = { version: string; thread: number; width: number; height: number };
    const threadsAnswering = async (version: string) => {
      const threads = new Set<number>();
      await waitFor(
        async () => {
          const answers = (await Promise.all([fetch('/img'), fetch('/img'), fetch('/img')].map(async (r) => (await r).json()))) as Answer[];
          for (const answer of answers) {
            expect(answer).toMatchObject({ width: 16, height: 12 });
            if (answer.version === version) threads.add(answer.thread);
          }
          return threads.size === 2;
        },
        { what: `two threads of ${version} to answer` },
      );
      return threads;
    };
    const before = await threadsAnswering('v1');
    await project.write('functions/img.ts', SHARP('v2'));
    const after = await threadsAnswering('v2');
    expect([...after].some((thread) => before.has(thread))).toBe(false);
    await runtime.reloadsSettled();
  });

  it('keeps bundled sharp working (it resolves its binary from the project), with a warning to leave it external', async () => {
    const project = await projectWith({ 'config.yaml': config('img', 'minThreads: 1'), 'functions/img.ts': SHARP('bundled') });
    const { fetch, logs } = await startRuntime({ cwd: project.dir });
    expect(await (await fetch('/img')).json()).toMatchObject({ version: 'bundled', width: 16, height: 12 });
    expect(logs.text()).toMatch(/⚠ img: sharp will likely fail inside the bundle: .*\n.*\n.*external: \[sharp\]/);
  });

  it.skipIf(!canCompileAddons)('fails with a clear message when a native addon that is not context-aware is loaded on a second thread', async () => {
    const project = await createProject({
      'config.yaml': config('addon', 'external: [legacy-addon]\n    minThreads: 2\n    maxThreads: 2\n    concurrency: 1'),
      'functions/addon.ts': 'import addon from "legacy-addon";\nexport default () => String(addon.answer());\n',
      'node_modules/legacy-addon/package.json': JSON.stringify({ name: 'legacy-addon', version: '1.0.0', main: 'index.js' }),
      'node_modules/legacy-addon/index.js': 'module.exports = require("./addon.node");\n',
      'node_modules/legacy-addon/addon.cc': LEGACY_ADDON,
    });
    execFileSync('g++', ['-shared', '-fPIC', '-I/usr/include/node', '-o', project.path('node_modules/legacy-addon/addon.node'), project.path('node_modules/legacy-addon/addon.cc')]);
    const { fetch } = await startRuntime({ cwd: project.dir });
    // One thread loaded it; the other was refused by Node: its requests say why, and what to do.
    const error = await waitFor(
      async () => {
        for (const response of await Promise.all([fetch('/addon'), fetch('/addon'), fetch('/addon')])) {
          if (response.status !== 200) return errorOf(response);
          expect(await response.text()).toBe('42');
        }
        return undefined;
      },
      { what: 'a request on the thread that could not load the addon' },
    );
    expect(error.message).toMatch(/Module did not self-register.*\n.*not context-aware can be loaded only once in a process.*Node-API/s);
  }, 90_000);

  it('fngate build copies external packages with their dependencies: the output runs pino, pdfkit and sharp outside the project', async () => {
    const project = await projectWith({
      'config.yaml': `defaults: { external: [pino, pdfkit, sharp], minThreads: 1 }\nfunctions:\n  log: { routes: GET /log }\n  pdf: { routes: GET /pdf }\n  img: { routes: GET /img }\n`,
      'functions/log.ts': PINO('/dev/null'),
      'functions/pdf.ts': PDF,
      'functions/img.ts': SHARP('built'),
    });
    await build(project.path('config.yaml'), ['--out', project.path('out')]);
    // Not under the project: nothing resolves from its node_modules.
    const copy = join(project.dir, '..', `${project.dir.split('/').pop()}-app`);
    await cp(project.path('out'), copy, { recursive: true });
    try {
      const pkg = JSON.parse(await readFile(join(copy, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      expect(Object.keys(pkg.dependencies).sort()).toEqual(['pdfkit', 'pino', 'sharp']);
      for (const dependency of ['thread-stream', 'fontkit', '@img/sharp-linux-x64']) {
        if (dependency.startsWith('@img/') && process.platform !== 'linux') continue;
        expect(existsSync(join(copy, 'node_modules', dependency, 'package.json'))).toBe(true);
      }
      const server = await startBuilt(copy, { PORT: '0' });
      expect(await (await fetch(`${server.url}/log`)).text()).toBe('logged');
      expect(Buffer.from(await (await fetch(`${server.url}/pdf`)).arrayBuffer()).toString('latin1').startsWith('%PDF-')).toBe(true);
      expect(await (await fetch(`${server.url}/img`)).json()).toMatchObject({ version: 'built', width: 16 });
    } finally {
      execFileSync('rm', ['-rf', copy]);
    }
  });
});
