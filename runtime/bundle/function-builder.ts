import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type * as esbuild from 'esbuild';
import { RUNTIME_DIR, TASK_HANDLER } from '../common/runtime-files.js';
import { codeFrame } from '../common/code-frame.js';
import type { BuildCache } from './build-cache.js';
import type { BuildOutcome, BundleSource } from './bundle-source.js';
import { sourceLocationPlugin } from './source-location-plugin.js';
import { isInside } from '../common/is-inside.js';

export interface FunctionBuilderOptions {
  readonly name: string;
  /** Absolute path of the user's module. */
  readonly entry: string;
  /** Project directory: imports must resolve inside it (or to node_modules). */
  readonly root: string;
  /** Where this runtime writes its bundles. */
  readonly outDir: string;
  /** Bundles from earlier runs, for the first build of this builder. */
  readonly cache?: BuildCache | undefined;
}

/** Bump when the bundle's shape changes: cached bundles of another format are not reused. */
const BUILD_FORMAT = 1;

// Bundled CommonJS dependencies call require() for Node built-ins; ESM output has no require.
const BANNER = "import { createRequire as __fngateCreateRequire } from 'node:module'; const require = __fngateCreateRequire(import.meta.url);";

/** Function code imports `fngate` only for types; a value import would drag the runtime into the bundle. */
const typesOnlyPlugin: esbuild.Plugin = {
  name: 'fngate-types-only',
  setup(build) {
    build.onResolve({ filter: /^fngate$/ }, () => ({ path: 'fngate', namespace: 'fngate-types' }));
    build.onLoad({ filter: /.*/, namespace: 'fngate-types' }, () => ({
      contents: '// fngate exports only types to functions: use `import type { ... } from "fngate"`.\nexport {};',
      loader: 'js',
    }));
  },
};

/** Bundles written by this process so far: every bundle file gets a name of its own. */
let bundleSerial = 0;

/**
 * Owns one function's esbuild context. Each successful build is written to a new file, so a
 * pool still serving the previous version keeps its bundle; `removeBundle` deletes old ones.
 */
export class FunctionBuilder implements BundleSource {
  readonly #options: FunctionBuilderOptions;
  readonly #buildOptions: esbuild.BuildOptions & { write: false; metafile: true };
  /** What, besides the input files, decides the output: a cached bundle must match it. */
  readonly #optionsKey: string;
  /** Created on the first real build: a start served from the cache never loads esbuild. */
  #context: Promise<esbuild.BuildContext<{ write: false; metafile: true }>> | undefined;
  /** Bundles this builder wrote: the cache is consulted only for the first. */
  #written = 0;

  private constructor(options: FunctionBuilderOptions) {
    this.#options = options;
    const source = relative(options.root, options.entry);
    // The task handler is imported first: it sets up the thread (its Response) before user code runs.
    const entryCode = [
      `import { createTaskHandler } from ${JSON.stringify(TASK_HANDLER)};`,
      `import * as userModule from ${JSON.stringify(options.entry)};`,
      `export default createTaskHandler(userModule, ${JSON.stringify(source)});`,
    ].join('\n');
    this.#optionsKey = JSON.stringify({ format: BUILD_FORMAT, entryCode, root: options.root });
    this.#buildOptions = {
      stdin: {
        contents: entryCode,
        resolveDir: options.root,
        sourcefile: `fngate-entry-${options.name}.js`,
        loader: 'js',
      },
      absWorkingDir: options.root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: join(options.outDir, `${options.name}.mjs`),
      write: false,
      metafile: true,
      sourcemap: 'external',
      sourcesContent: false,
      keepNames: true,
      banner: { js: BANNER },
      logLevel: 'silent',
      plugins: [typesOnlyPlugin, sourceLocationPlugin(options.root)],
    };
  }

  static async create(options: FunctionBuilderOptions): Promise<FunctionBuilder> {
    await mkdir(options.outDir, { recursive: true });
    return new FunctionBuilder(options);
  }

  #esbuildContext(): Promise<esbuild.BuildContext<{ write: false; metafile: true }>> {
    this.#context ??= import('esbuild').then((esbuild) => esbuild.context(this.#buildOptions));
    return this.#context;
  }

  get name(): string {
    return this.#options.name;
  }

  async build(): Promise<BuildOutcome> {
    const started = performance.now();
    const { root, cache, name } = this.#options;
    if (this.#written === 0 && cache !== undefined) {
      const cached = await cache.lookup(name, this.#optionsKey);
      if (cached !== undefined) {
        const bundleFile = await this.#write(cached.code, cached.map);
        return { ok: true, bundleFile, owned: true, inputs: this.#projectInputs(cached.inputs).inputs, ms: performance.now() - started, cached: true };
      }
    }
    let result: esbuild.BuildResult<{ write: false; metafile: true }>;
    try {
      result = await (await this.#esbuildContext()).rebuild();
    } catch (error) {
      const failure = error as esbuild.BuildFailure;
      if (!Array.isArray(failure.errors)) throw error;
      if (!existsSync(this.#options.entry)) {
        // esbuild would point at fngate's generated entry, with an absolute path.
        const message = `${relative(root, this.#options.entry)} does not exist (deleted or renamed?)`;
        return { ok: false, message, report: message, inputs: [this.#options.entry], unresolved: true, ms: performance.now() - started };
      }
      // The files the errors are in must stay watched even though the bundle no longer lists them.
      const errorFiles = failure.errors.flatMap((e) => (e.location ? [resolve(root, e.location.file)] : []));
      return {
        ok: false,
        message: oneLine(failure.errors[0]),
        report: formatErrors(failure.errors),
        inputs: [this.#options.entry, ...errorFiles.filter((file) => isInside(root, file))],
        unresolved: failure.errors.some((e) => e.text.startsWith('Could not resolve')),
        ms: performance.now() - started,
      };
    }

    const allInputs = Object.keys(result.metafile.inputs)
      .filter((key) => !key.startsWith('fngate-types:') && !key.startsWith('<stdin>') && !key.startsWith('fngate-entry-'))
      .map((key) => (isAbsolute(key) ? key : resolve(root, key)));
    const { inputs, outside } = this.#projectInputs(allInputs);
    if (outside.length > 0) {
      const message = `${relative(root, this.#options.entry)} imports ${outside[0]}, which lies outside the project directory ${root}`;
      return { ok: false, message, report: message, inputs, unresolved: false, ms: performance.now() - started };
    }

    const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
    const bundleFile = await this.#write(code, map);
    await cache?.store(name, this.#optionsKey, allInputs, code, map);
    return { ok: true, bundleFile, owned: true, inputs, ms: performance.now() - started, cached: false };
  }

  /** Writes the next version's bundle and map to files of their own. */
  async #write(code: string, map: string): Promise<string> {
    this.#written++;
    // Numbered per process, not per builder: a function whose file changed, or that was removed
    // and added again, gets a new builder, and must not overwrite a bundle a draining pool uses.
    const bundleFile = join(this.#options.outDir, `${this.#options.name}.${++bundleSerial}.mjs`);
    const mapFile = `${bundleFile}.map`;
    await Promise.all([writeFile(bundleFile, `${code}//# sourceMappingURL=${basename(mapFile)}\n`), writeFile(mapFile, map)]);
    return bundleFile;
  }

  /** The project files among a build's inputs (to watch), and any that lie outside the project. */
  #projectInputs(files: readonly string[]): { inputs: string[]; outside: string[] } {
    const { root } = this.#options;
    const inputs: string[] = [];
    const outside: string[] = [];
    for (const file of files) {
      if (file.includes(`${sep}node_modules${sep}`) || isInside(RUNTIME_DIR, file)) continue;
      if (!isInside(root, file)) outside.push(file);
      else inputs.push(file);
    }
    return { inputs, outside };
  }

  async dispose(): Promise<void> {
    const context = this.#context;
    this.#context = undefined;
    if (context !== undefined) await (await context).dispose();
  }
}

function oneLine(message: esbuild.Message | undefined): string {
  if (!message) return 'build failed';
  const loc = message.location;
  return loc ? `${loc.file}:${loc.line}:${loc.column + 1}: ${message.text}` : message.text;
}

/** Each error as `file:line:column: text` (1-based, as editors expect) with its code frame. */
function formatErrors(errors: esbuild.Message[]): string {
  return errors
    .slice(0, 5)
    .map((message) => {
      const loc = message.location;
      const head = oneLine(message);
      const notes = message.notes.map((note) => `  note: ${note.location ? `${note.location.file}:${note.location.line}: ` : ''}${note.text}`);
      return [head, ...(loc ? [codeFrame(loc.lineText, loc.line, loc.column + 1, loc.length)] : []), ...notes].join('\n');
    })
    .concat(errors.length > 5 ? [`... and ${errors.length - 5} more errors`] : [])
    .join('\n');
}
