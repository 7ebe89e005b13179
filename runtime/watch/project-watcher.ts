import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface ProjectWatcherOptions {
  /** Called with each debounced batch of changed files (added, changed or deleted). */
  readonly onChange: (files: ReadonlySet<string>) => void;
  /**
   * Quiet period that ends a burst of saves (a formatter, `git checkout`). Short: a burst that
   * spans it only splits into two batches, and reload work runs one batch after another anyway.
   * @default 5
   */
  readonly debounceMs?: number;
}

/** Never part of a function's sources: dependencies, VCS data, fngate's own bundles. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.fngate']);

/**
 * chokidar drops a `change` that comes within 50 ms of the previous one for the same file and
 * never emits a final event (paulmillr/chokidar#1455, open): a save right after a fast rebuild,
 * or a formatter rewriting a file just saved, would be lost. So after that window we stat every
 * reported file again and report it once more if it changed since we reported it.
 */
const CHOKIDAR_THROTTLE_MS = 50;
const VERIFY_AFTER_MS = CHOKIDAR_THROTTLE_MS + 15;

/** Events on files nobody watches are remembered this long (see setFiles' `changedSince`). */
const UNWATCHED_MEMORY_MS = 60_000;

export interface WatchedFiles {
  /**
   * Files that join the watched set and changed at or after this time (Date.now()) are reported
   * at once: a build that started then may have read them before that change.
   */
  readonly changedSince?: number;
  /** Also report files created anywhere in the project (something waits for a file to appear). */
  readonly reportAdditions?: boolean;
}

/**
 * Watches the project directory and reports changes to the files that matter: config.yaml and
 * every project file some bundle includes. Watching the whole tree (as vite does) rather than
 * single files means a file that an editor replaces (write temp + rename), that is deleted and
 * created again, or that an edit newly imports is seen without re-arming anything; chokidar's
 * `atomic` option turns an editor's unlink+add into one change.
 */
export class ProjectWatcher {
  readonly #watcher: FSWatcher;
  readonly #onChange: ProjectWatcherOptions['onChange'];
  readonly #debounceMs: number;
  #files: ReadonlySet<string> = new Set();
  #reportAdditions = false;
  /** File nobody watches -> when its last event came (Date.now()). */
  readonly #unwatched = new Map<string, number>();
  #changed = new Set<string>();
  #debounce: NodeJS.Timeout | undefined;
  /** File -> stat signature when it was last reported. */
  readonly #reported = new Map<string, string>();
  #toVerify = new Set<string>();
  #verify: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(watcher: FSWatcher, options: ProjectWatcherOptions) {
    this.#watcher = watcher;
    this.#onChange = options.onChange;
    this.#debounceMs = options.debounceMs ?? 5;
    watcher.on('all', (event, path) => {
      if (event !== 'add' && event !== 'change' && event !== 'unlink') return;
      if (this.#files.has(path) || (event === 'add' && this.#reportAdditions)) this.#record(path);
      else this.#noteUnwatched(path);
    });
  }

  /** Resolves once the initial scan is done, so an edit right after it is never missed. */
  static async create(root: string, options: ProjectWatcherOptions): Promise<ProjectWatcher> {
    const watcher = watch(root, {
      ignoreInitial: true,
      ignored: (path) => SKIPPED_DIRS.has(basename(path)),
    });
    const projectWatcher = new ProjectWatcher(watcher, options);
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', resolve);
      watcher.once('error', reject);
    });
    return projectWatcher;
  }

  /** The files whose changes are reported (absolute paths). */
  setFiles(files: Iterable<string>, options: WatchedFiles = {}): void {
    const previous = this.#files;
    this.#files = new Set(files);
    this.#reportAdditions = options.reportAdditions ?? false;
    for (const file of this.#files) {
      if (previous.has(file)) continue;
      const changedAt = this.#unwatched.get(file);
      this.#unwatched.delete(file);
      if (changedAt !== undefined && options.changedSince !== undefined && changedAt >= options.changedSince) this.#record(file);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearTimeout(this.#verify);
    await this.#watcher.close();
  }

  #noteUnwatched(path: string): void {
    const now = Date.now();
    this.#unwatched.delete(path); // re-inserted last: the map stays in time order
    this.#unwatched.set(path, now);
    for (const [file, at] of this.#unwatched) {
      if (now - at < UNWATCHED_MEMORY_MS) break;
      this.#unwatched.delete(file);
    }
  }

  #record(path: string): void {
    if (this.#closed) return;
    this.#changed.add(path);
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#flush(), this.#debounceMs);
    this.#toVerify.add(path);
    clearTimeout(this.#verify);
    this.#verify = setTimeout(() => void this.#verifyReported(), VERIFY_AFTER_MS);
  }

  async #flush(): Promise<void> {
    if (this.#closed || this.#changed.size === 0) return;
    const batch = this.#changed;
    this.#changed = new Set();
    await Promise.all([...batch].map(async (file) => this.#reported.set(file, await signature(file))));
    if (!this.#closed) this.#onChange(batch);
  }

  async #verifyReported(): Promise<void> {
    const files = this.#toVerify;
    this.#toVerify = new Set();
    for (const file of files) {
      if (this.#closed) return;
      if (this.#changed.has(file)) continue; // about to be reported anyway
      if ((await signature(file)) !== this.#reported.get(file)) this.#record(file);
    }
  }
}

async function signature(file: string): Promise<string> {
  try {
    const stats = await stat(file);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
