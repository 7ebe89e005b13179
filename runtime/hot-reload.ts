import { ConfigError, formatProblem } from './config/config-error.js';
import { diffConfig } from './config/diff-config.js';
import { loadConfig } from './config/load-config.js';
import type { ResolvedConfig } from './config/resolve-config.js';
import type { Logger } from './log.js';
import type { FunctionRegistry } from './registry.js';
import { ProjectWatcher } from './watch/project-watcher.js';

export interface HotReloadOptions {
  readonly configFile: string;
  /** For file names in config error messages. */
  readonly cwd: string;
  readonly registry: FunctionRegistry;
  readonly logger: Logger;
  /** The config being served. */
  readonly currentConfig: () => ResolvedConfig;
  /** Serve `config` from now on: swaps the route table in one step. */
  readonly applyConfig: (config: ResolvedConfig) => void;
  /** Applied to every config.yaml read (e.g. forDebugging under --inspect). */
  readonly adjustConfig?: (config: ResolvedConfig) => ResolvedConfig;
}

/**
 * `fngate dev`'s reload loop. A save rebuilds only the functions whose bundle includes the saved
 * file; a config.yaml save adds, removes, re-routes and re-configures functions. All reload work
 * runs one batch at a time (saves arriving meanwhile form the next batch), so versions never go
 * backwards, and nothing a user writes can stop the loop: failures are printed and the last
 * good version keeps serving.
 */
export class HotReloader {
  readonly #options: HotReloadOptions;
  #watcher!: ProjectWatcher;
  #changedFiles = new Set<string>();
  #configChanged = false;
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: HotReloadOptions) {
    this.#options = options;
  }

  static async start(options: HotReloadOptions): Promise<HotReloader> {
    const reloader = new HotReloader(options);
    reloader.#watcher = await ProjectWatcher.create(options.currentConfig().root, {
      onChange: (files) => reloader.#onChange(files),
    });
    reloader.#watcher.setFiles(reloader.#watchedFiles());
    return reloader;
  }

  /** Number of files being watched (config.yaml and every function's inputs). */
  get watchedFiles(): number {
    return this.#watchedFiles().size;
  }

  /** Resolves when the reloads already triggered are done (tests and tools use this). */
  settled(): Promise<void> {
    return this.#chain;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher.close();
    await this.#chain;
  }

  #onChange(files: ReadonlySet<string>): void {
    for (const file of files) {
      if (file === this.#options.configFile) this.#configChanged = true;
      else this.#changedFiles.add(file);
    }
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    this.#chain = this.#chain
      .then(() => this.#run())
      .catch((error: unknown) => this.#options.logger.error(`reload failed: ${(error as Error).stack ?? String(error)}`));
  }

  async #run(): Promise<void> {
    this.#scheduled = false;
    if (this.#closed) return;
    const files = this.#changedFiles;
    this.#changedFiles = new Set();
    const configChanged = this.#configChanged;
    this.#configChanged = false;

    const { registry, logger } = this.#options;
    const done = new Set<string>();
    if (configChanged) await this.#reloadConfig(done);

    const names = new Set<string>();
    for (const file of files) for (const name of registry.functionsUsing(file)) if (!done.has(name)) names.add(name);
    await Promise.all(
      [...names].map(async (name) => {
        const result = await registry.deploy(name);
        if (result.ok) logger.info(`reloaded ${name} (${result.ms} ms)`);
      }),
    );
    this.#watcher.setFiles(this.#watchedFiles());
  }

  async #reloadConfig(done: Set<string>): Promise<void> {
    const { registry, logger, configFile, cwd } = this.#options;
    let next: ResolvedConfig;
    try {
      next = loadConfig(configFile, { cwd });
      if (this.#options.adjustConfig) next = this.#options.adjustConfig(next);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const lines = error.problems.map((problem) => `    ${formatProblem(problem)}`).join('\n');
      logger.error(`✘ config not applied (still serving the previous config):\n${lines}`);
      return;
    }

    const changes = diffConfig(this.#options.currentConfig(), next);
    if (changes.summary === 'no changes') return;
    // New and re-configured functions are built and warmed before the route table points at them.
    await Promise.all([
      ...changes.added.map((fn) => registry.add(fn)),
      ...changes.changed.filter((change) => change.needsNewVersion).map((change) => registry.update(change.after)),
    ]);
    for (const change of changes.changed) {
      if (!change.needsNewVersion) registry.setConfig(change.after);
      done.add(change.after.name);
    }
    for (const fn of changes.added) done.add(fn.name);
    this.#options.applyConfig(next);
    // Removed functions stop getting requests with the swap above; their in-flight ones finish.
    for (const fn of changes.removed) void registry.remove(fn.name);
    logger.info(`config: ${changes.summary}`);
  }

  #watchedFiles(): Set<string> {
    const files = this.#options.registry.inputs();
    files.add(this.#options.configFile);
    return files;
  }
}
