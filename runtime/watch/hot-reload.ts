import { basename } from 'node:path';
import { ConfigError, formatProblem } from '../config/config-error.js';
import { diffConfig } from '../config/diff-config.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { Logger } from '../common/logger.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { ProjectWatcher } from './project-watcher.js';

export interface HotReloadOptions {
  readonly configFile: string;
  /** Files whose change is a config change too, present or not: the `.env` files. */
  readonly envFiles?: readonly string[];
  /** Reads config.yaml (with the `.env` files) as the runtime does; throws ConfigError. */
  readonly readConfig: () => ResolvedConfig;
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
  /** The `.env` files that changed since the last config read (for the log line). */
  #envChanged = new Set<string>();
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  /** Source deploys under way (see #deploy). */
  readonly #deploying = new Set<Promise<void>>();
  /** The problems of the last config.yaml read, while it is invalid. */
  #configProblems: string | undefined;
  #closed = false;
  /** What the listening server was started with: host, port and socket timeouts apply only at start. */
  readonly #running: ResolvedConfig['server'];

  private constructor(options: HotReloadOptions) {
    this.#options = options;
    this.#running = options.currentConfig().server;
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
  async settled(): Promise<void> {
    for (;;) {
      await this.#chain;
      if (this.#deploying.size === 0) return;
      await Promise.allSettled([...this.#deploying]);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher.close();
    // Deploys still under way are the registry's to stop (a module that hangs while loading).
    await this.#chain;
  }

  #onChange(files: ReadonlySet<string>): void {
    for (const file of files) {
      if (file === this.#options.configFile) this.#configChanged = true;
      else if (this.#options.envFiles?.includes(file)) this.#envChanged.add(file);
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
    const batchStarted = Date.now();
    const files = this.#changedFiles;
    this.#changedFiles = new Set();
    const configChanged = this.#configChanged || this.#envChanged.size > 0;
    // Named in the log line when config.yaml itself was not edited.
    const envOnly = this.#configChanged ? [] : [...this.#envChanged];
    this.#configChanged = false;
    this.#envChanged = new Set();

    const { registry } = this.#options;
    // Files no bundle includes are reported only while something waits for a file to appear: an
    // import that did not resolve, or a function file config.yaml names that does not exist yet.
    const appeared = [...files].some((file) => registry.functionsUsing(file).length === 0);
    const done = new Set<string>();
    if (configChanged || (appeared && this.#configProblems !== undefined)) await this.#reloadConfig(done, configChanged, envOnly);

    const names = new Set<string>();
    for (const file of files) for (const name of registry.functionsUsing(file)) names.add(name);
    if (appeared) for (const name of registry.waitingForFiles()) names.add(name);
    for (const name of names) if (!done.has(name)) this.#deploy(name, batchStarted);
    this.#updateWatchedFiles(batchStarted);
  }

  /**
   * Rebuilds one function. Not awaited by the batch: the registry runs each function's deploys
   * one after another (versions never go backwards), and a module that hangs while loading holds
   * up only its own reloads.
   */
  #deploy(name: string, batchStarted: number): void {
    const { registry, logger } = this.#options;
    const deploy = registry
      .deploy(name)
      .then((result) => {
        if (result.ok) logger.info(`reloaded ${name} (${result.ms} ms)`);
        if (!this.#closed) this.#updateWatchedFiles(batchStarted);
      })
      .catch((error: unknown) => logger.error(`reload of ${name} failed: ${(error as Error).stack ?? String(error)}`))
      .finally(() => this.#deploying.delete(deploy));
    this.#deploying.add(deploy);
  }

  #updateWatchedFiles(changedSince: number): void {
    const reportAdditions = this.#configProblems !== undefined || this.#options.registry.waitingForFiles().length > 0;
    this.#watcher.setFiles(this.#watchedFiles(), { changedSince, reportAdditions });
  }

  async #reloadConfig(done: Set<string>, edited: boolean, envOnly: readonly string[] = []): Promise<void> {
    const { registry, logger } = this.#options;
    let next: ResolvedConfig;
    try {
      next = this.#options.readConfig();
      if (this.#options.adjustConfig) next = this.#options.adjustConfig(next);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const lines = error.problems.map((problem) => `    ${formatProblem(problem)}`).join('\n');
      // A retry because some file appeared says nothing when nothing changed.
      if (edited || lines !== this.#configProblems) logger.error(`✘ config not applied (still serving the previous config):\n${lines}`);
      this.#configProblems = lines;
      return;
    }
    this.#configProblems = undefined;

    const changes = diffConfig(this.#options.currentConfig(), next, this.#running);
    if (changes.summary === 'no changes') {
      if (envOnly.length > 0) logger.info(`${envNames(envOnly)}: no function uses what changed`);
      return;
    }
    // New and re-configured functions are built and warmed before the route table points at them.
    await Promise.all([
      ...changes.added.map((fn) => registry.add(fn)),
      ...changes.changed.filter((change) => change.needsNewVersion).map((change) => registry.update(change.after)),
    ]);
    for (const change of changes.changed) {
      // A new version was built from the current sources; a routes-only change built nothing,
      // so a source edit in the same batch still needs its deploy.
      if (change.needsNewVersion) done.add(change.after.name);
      else registry.setConfig(change.after);
    }
    for (const fn of changes.added) done.add(fn.name);
    this.#options.applyConfig(next);
    // Removed functions stop getting requests with the swap above; their in-flight ones finish.
    for (const fn of changes.removed) void registry.remove(fn.name);
    logger.info(`${envOnly.length > 0 ? envNames(envOnly) : 'config'}: ${changes.summary}`);
  }

  #watchedFiles(): Set<string> {
    const files = this.#options.registry.inputs();
    files.add(this.#options.configFile);
    for (const file of this.#options.envFiles ?? []) files.add(file);
    return files;
  }
}

/** `.env, .env.local` */
function envNames(files: readonly string[]): string {
  return files.map((file) => basename(file)).join(', ');
}
