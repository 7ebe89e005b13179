import { existsSync } from 'node:fs';
import { appendFile, mkdir, rename, rm } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type * as esbuild from 'esbuild';
import { TASK_HANDLER } from '../common/runtime-files.js';
import { codeFrame } from '../common/code-frame.js';
import type { BuildCache } from './build-cache.js';
import { isServiceDeath, loadEsbuild, restartService, serviceGeneration } from './esbuild-service.js';
import { classifyInput, inputGuardPlugin, inputPlaces, type InputPlaces } from './input-guard.js';
import type { BuildOutcome, BundleSource } from './bundle-source.js';
import { sourceLocationPlugin } from './source-location-plugin.js';
import { isInside } from '../common/is-inside.js';
import { findPackageDir, packageOf, packageOfFile } from './packages.js';
import { findUnbundlable } from './unbundlable.js';

export interface FunctionBuilderOptions {
  readonly name: string;
  /** Absolute path of the user's module. */
  readonly entry: string;
  /** Project directory: imports must resolve inside it (or to node_modules). */
  readonly root: string;
  /** Where this runtime writes its bundles. */
  readonly outDir: string;
  /** Packages loaded from node_modules at run time instead of bundled (config `external`); `all`: every package. @default [] */
  readonly external?: 'all' | readonly string[];
  /** Bundles from earlier runs, for the first build of this builder. */
  readonly cache?: BuildCache | undefined;
}


/** Bump when the bundle's shape changes: cached bundles of another format are not reused. */
const BUILD_FORMAT = 2;

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
/** Builders made by this process so far: each has a staging file of its own. */
let builderSerial = 0;

/**
 * Owns one function's esbuild context. Each successful build is written to a new file, so a
 * pool still serving the previous version keeps its bundle; `removeBundle` deletes old ones.
 */
export class FunctionBuilder implements BundleSource {
  readonly #options: FunctionBuilderOptions;
  readonly #buildOptions: esbuild.BuildOptions & { write: true; metafile: true };
  /** Where esbuild writes each build (and its map); a success is then renamed to a file of its own. */
  readonly #staging: string;
  /** What, besides the input files, decides the output: a cached bundle must match it. */
  readonly #optionsKey: string;
  /** Created on the first real build: a start served from the cache never loads esbuild. */
  #context: Promise<esbuild.BuildContext<{ write: true; metafile: true }>> | undefined;
  /** The esbuild service #context runs on (see esbuild-service.ts). */
  #contextGeneration = -1;
  /** Where the build's inputs may come from, read at the start of each build. */
  #places: InputPlaces;
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
    const external = options.external ?? [];
    this.#optionsKey = JSON.stringify({ format: BUILD_FORMAT, entryCode, root: options.root, external });
    this.#places = inputPlaces(options.root);
    this.#staging = join(options.outDir, `${options.name}.next-${++builderSerial}.mjs`);
    this.#buildOptions = {
      stdin: {
        contents: entryCode,
        resolveDir: options.root,
        sourcefile: `fngate-entry-${options.name}.js`,
        loader: 'js',
      },
      absWorkingDir: options.root,
      bundle: true,
      // An external import stays an import, resolved at run time from the bundle's directory up:
      // bundles live inside the project (.fngate/), so that finds the project's node_modules.
      ...(external === 'all' ? { packages: 'external' as const } : { external: [...external] }),
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: this.#staging,
      // esbuild writes the bundle from its own process: with write: false, a 50 MB bundle and its
      // map came back over its pipe and were decoded by the gateway thread (~150 ms each build).
      // A failed rebuild only ever touches the staging file: every success is renamed away.
      write: true,
      metafile: true,
      sourcemap: 'external',
      sourcesContent: false,
      keepNames: true,
      banner: { js: BANNER },
      logLevel: 'silent',
      // The guard first: it refuses a file before anything reads it.
      plugins: [inputGuardPlugin(options.root, () => (this.#places = inputPlaces(options.root))), typesOnlyPlugin, sourceLocationPlugin(options.root)],
    };
  }

  static async create(options: FunctionBuilderOptions): Promise<FunctionBuilder> {
    await mkdir(options.outDir, { recursive: true });
    return new FunctionBuilder(options);
  }

  #esbuildContext(): Promise<esbuild.BuildContext<{ write: true; metafile: true }>> {
    if (this.#context === undefined || this.#contextGeneration !== serviceGeneration()) {
      // A context of a service that died is dead with it; nothing to dispose.
      this.#contextGeneration = serviceGeneration();
      this.#context = loadEsbuild().then((esbuild) => esbuild.context(this.#buildOptions));
    }
    return this.#context;
  }

  /**
   * One rebuild, on a fresh service if the current one died (before or during the call): a build
   * the death cut short is tried once more. Returns { died } when the service died again.
   */
  async #rebuild(): Promise<esbuild.BuildResult<{ write: true; metafile: true }> | { died: Error }> {
    for (let attempt = 1; ; attempt++) {
      const generation = serviceGeneration();
      try {
        return await (await this.#esbuildContext()).rebuild();
      } catch (error) {
        if (!isServiceDeath(error)) throw error;
        await restartService(generation);
        if (attempt === 2) return { died: error as Error };
      }
    }
  }

  get name(): string {
    return this.#options.name;
  }

  async build(): Promise<BuildOutcome> {
    const started = performance.now();
    const { root, cache, name } = this.#options;
    if (this.#written === 0 && cache !== undefined) {
      const bundleFile = this.#nextBundleFile();
      const cached = await cache.restore(name, this.#optionsKey, bundleFile, `${bundleFile}.map`);
      if (cached !== undefined) {
        await this.#linkMap(bundleFile);
        return { ok: true, bundleFile, owned: true, inputs: this.#projectInputs(cached.inputs).inputs, ms: performance.now() - started, cached: true, ...cached.found };
      }
    }
    // Before esbuild reads anything: what the cache may store from this build is judged against it.
    const generation = cache?.begin(name);
    const builtFrom = Date.now();
    let result: esbuild.BuildResult<{ write: true; metafile: true }> | { died: Error };
    try {
      result = await this.#rebuild();
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
      const hint = unbundlableHint(failure.errors, this.#options.name, this.#options.external ?? []);
      return {
        ok: false,
        message: oneLine(failure.errors[0]) + hint,
        report: formatErrors(failure.errors) + hint,
        inputs: [this.#options.entry, ...errorFiles.filter((file) => isInside(root, file))],
        unresolved: failure.errors.some((e) => e.text.startsWith('Could not resolve')),
        ms: performance.now() - started,
      };
    }
    if ('died' in result) {
      const message = `the esbuild service died twice while building ${relative(root, this.#options.entry)} (killed, or out of memory?): ${result.died.message}; the next build starts a new one`;
      return { ok: false, message, report: message, inputs: [this.#options.entry], unresolved: false, ms: performance.now() - started };
    }

    const allInputs = Object.keys(result.metafile.inputs)
      .filter((key) => !key.startsWith('fngate-types:') && !key.startsWith('<stdin>') && !key.startsWith('fngate-entry-'))
      .map((key) => (isAbsolute(key) ? key : resolve(root, key)));
    const { inputs, outside } = this.#projectInputs(allInputs);
    if (outside.length > 0) {
      const message = `${relative(root, this.#options.entry)} imports ${outside[0]}, which lies outside the project directory ${root}`;
      return { ok: false, message, report: message, inputs, unresolved: false, ms: performance.now() - started };
    }

    const externals = externalPackages(result.metafile.inputs);
    // Only imports the user made external: esbuild also leaves out a dependency's optional
    // require() of a package that is not installed (in a try/catch), which is fine as it is.
    const listed = this.#options.external ?? [];
    const missing = externals.find(
      (pkg) => (listed === 'all' ? !pkg.importer.includes('node_modules') : listed.includes(pkg.name)) && findPackageDir(pkg.name, root) === undefined,
    );
    if (missing !== undefined) {
      // Caught now rather than as a load error: nothing resolves an external import before the thread does.
      const message = `${missing.importer} imports ${missing.name}, which is external (config.yaml external:) but is not installed in node_modules: npm install ${missing.name}`;
      return { ok: false, message, report: message, inputs, unresolved: false, ms: performance.now() - started };
    }
    const found = { externals: externals.map((pkg) => pkg.name), warnings: await findUnbundlable(result.metafile.inputs, root, this.#options.entry) };

    const bundleFile = this.#nextBundleFile();
    await Promise.all([rename(this.#staging, bundleFile), rename(`${this.#staging}.map`, `${bundleFile}.map`)]);
    // Stored as esbuild wrote it, before the link to this version's map is added.
    await cache?.store(name, { generation: generation!, builtFrom }, this.#optionsKey, allInputs, found, bundleFile, `${bundleFile}.map`);
    await this.#linkMap(bundleFile);
    return { ok: true, bundleFile, owned: true, inputs, ms: performance.now() - started, cached: false, ...found };
  }

  /**
   * The file of the next version's bundle. Numbered per process, not per builder: a function
   * whose file changed, or that was removed and added again, gets a new builder, and must not
   * overwrite a bundle a draining pool uses.
   */
  #nextBundleFile(): string {
    this.#written++;
    return join(this.#options.outDir, `${this.#options.name}.${++bundleSerial}.mjs`);
  }

  /** Points the bundle at its source map (stack traces map to the .ts lines). */
  async #linkMap(bundleFile: string): Promise<void> {
    await appendFile(bundleFile, `//# sourceMappingURL=${basename(bundleFile)}.map\n`);
  }

  /**
   * The project files among a build's inputs (to watch), and any that lie outside the project
   * and its dependency directories (the input guard refuses those first; this is the backstop).
   * Only the project's own dependency directories are exempt, not any path with a node_modules in
   * it: an absolute import of /elsewhere/node_modules/x.js is outside.
   */
  #projectInputs(files: readonly string[]): { inputs: string[]; outside: string[] } {
    const inputs: string[] = [];
    const outside: string[] = [];
    for (const file of files) {
      const kind = classifyInput(this.#places, file);
      if (kind === 'project') inputs.push(file);
      else if (kind === 'outside') outside.push(file);
    }
    return { inputs, outside };
  }

  changed(): void {
    this.#options.cache?.invalidate(this.#options.name);
  }

  async dispose(): Promise<void> {
    const context = this.#context;
    this.#context = undefined;
    await Promise.allSettled([rm(this.#staging, { force: true }), rm(`${this.#staging}.map`, { force: true })]);
    if (context !== undefined) await (await context).dispose();
    await this.#options.cache?.settled(this.#options.name);
  }
}


/** Packages a bundle imports at run time (its external imports, Node built-ins aside), each with the first file importing it. */
function externalPackages(inputs: esbuild.Metafile['inputs']): { name: string; importer: string }[] {
  const found = new Map<string, string>();
  for (const [file, input] of Object.entries(inputs)) {
    for (const imported of input.imports) {
      const name = imported.external ? packageOf(imported.path) : undefined;
      if (name !== undefined && name !== 'fngate' && !found.has(name)) found.set(name, file);
    }
  }
  return [...found].map(([name, importer]) => ({ name, importer }));
}

/** esbuild refuses a .node file: say which package to leave unbundled. */
function unbundlableHint(errors: readonly esbuild.Message[], fn: string, external: 'all' | readonly string[]): string {
  for (const error of errors) {
    const file = /^No loader is configured for "\.node" files: (.+)$/.exec(error.text)?.[1] ?? (error.location?.file.endsWith('.node') ? error.location.file : undefined);
    const pkg = file === undefined ? undefined : packageOfFile(file) ?? packageOfFile(error.location?.file ?? '');
    if (pkg === undefined) continue;
    const list = external === 'all' ? [pkg] : [...new Set([...external, pkg])];
    return ` (${pkg} loads a native addon, which cannot be bundled: leave it unbundled, in config.yaml under functions.${fn}: external: [${list.join(', ')}])`;
  }
  return '';
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
