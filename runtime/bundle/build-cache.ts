import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { isAlive } from './bundle-dir.js';
import { fileDigest, hashRegularFile, readRegularFile } from './safe-read.js';
import type { BundleWarning } from './unbundlable.js';

/** Names the temporary copies of entries being stored. */
let storeSerial = 0;

/** How long a file every function reads is taken as read (a start-up checks all cache entries within this). */
const SHARED_READ_MS = 1000;

/** Read from esbuild's package.json: importing esbuild would start its service, which a cache hit never needs. */
const esbuildVersion = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;

/**
 * Bundles from earlier runs, reused when nothing they were built from changed: restarting
 * fngate (or starting it for the second time) skips esbuild entirely. Bundling the demo's six
 * functions costs about 100 ms on a 2-core machine, most of a cold start.
 *
 * A bundle is reused only if these are byte-for-byte what they were: every file the build read
 * (its esbuild metafile inputs, node_modules and fngate's own worker code included), the project's
 * package.json, lockfile and tsconfig.json (which change how imports resolve without changing any
 * input), the build options and the esbuild version. Anything else rebuilds.
 *
 * It reads only regular files (a FIFO among the inputs made a lookup wait for a writer
 * forever), copies bundles file to file, and hashes a chunk per turn of the event loop: its work
 * on a 50 MB bundle must not hold up every route.
 */
export class BuildCache {
  readonly #dir: string;
  readonly #root: string;
  readonly #recent = new Map<string, { readonly at: number; readonly digest: Promise<Buffer | undefined> }>();
  /** Function -> entries being written, in order. */
  readonly #pending = new Map<string, Promise<void>>();
  /** Function -> builds begun and changes seen: an entry is written only if none came after its build began. */
  readonly #generations = new Map<string, number>();
  #swept = false;

  constructor(root: string) {
    this.#root = root;
    this.#dir = join(root, '.fngate', 'cache');
  }

  /**
   * Copies the cached bundle and map of this function to `codeFile` and `mapFile` and returns the
   * files it was built from (and what the build found besides), if it is still valid; else
   * undefined (and nothing copied).
   */
  async restore(name: string, optionsKey: string, codeFile: string, mapFile: string): Promise<{ inputs: string[]; found: BuildFindings } | undefined> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse((await readRegularFile(this.#file(name, 'json')))?.toString('utf8') ?? '') as Manifest;
      if (!Array.isArray(manifest.inputs)) return undefined;
    } catch {
      return undefined;
    }
    if (manifest.key !== (await this.#key(optionsKey, manifest.inputs))) return undefined;
    try {
      await Promise.all([copyFile(this.#file(name, 'mjs'), codeFile), copyFile(this.#file(name, 'mjs.map'), mapFile)]);
      // Checked on the copies: a bundle edited or truncated on disk is rebuilt, not served.
      if (manifest.output === (await outputHash(codeFile, mapFile))) return { inputs: manifest.inputs, found: manifest.found ?? { externals: [], warnings: [] } };
    } catch {
      // missing: rebuilt
    }
    await Promise.allSettled([rm(codeFile, { force: true }), rm(mapFile, { force: true })]);
    return undefined;
  }

  /**
   * Remembers a fresh build (its bundle and map files). The files are copied aside before this
   * resolves (the caller then appends to the bundle); hashing every input and writing the entry
   * happen afterwards, off the path of the reload that waits to be served, one entry of a
   * function at a time (`settled` waits for them). The key is hashed from the inputs as they are
   * then, so the entry is dropped when they may no longer be what esbuild read: when another
   * build of the function began, when the watcher reported a change (`invalidate`), or when a
   * project input was modified after the build began. Failures are ignored: the cache only ever
   * saves time.
   */
  async store(name: string, build: BuildStamp, optionsKey: string, inputs: string[], found: BuildFindings, codeFile: string, mapFile: string): Promise<void> {
    this.#sweepOnce();
    const id = `${process.pid}-${++storeSerial}`;
    const copies = { code: `${this.#file(name, 'mjs')}.${id}.tmp`, map: `${this.#file(name, 'mjs.map')}.${id}.tmp` };
    try {
      await mkdir(this.#dir, { recursive: true });
      await Promise.all([copyFile(codeFile, copies.code), copyFile(mapFile, copies.map)]);
    } catch {
      await Promise.allSettled([rm(copies.code, { force: true }), rm(copies.map, { force: true })]);
      return;
    }
    const done = this.settled(name).then(() => this.#commit(name, build, optionsKey, inputs, found, copies));
    this.#pending.set(name, done);
    void done.then(() => {
      if (this.#pending.get(name) === done) this.#pending.delete(name);
    });
  }

  /** A build of `name` begins: returns its generation (for `store`). */
  begin(name: string): number {
    return this.invalidate(name);
  }

  /** The sources of `name` changed: entries of builds begun before are dropped. */
  invalidate(name: string): number {
    const generation = (this.#generations.get(name) ?? 0) + 1;
    this.#generations.set(name, generation);
    return generation;
  }

  /** Resolves once every entry stored for `name` so far is written or dropped. */
  settled(name: string): Promise<void> {
    return this.#pending.get(name) ?? Promise.resolve();
  }

  async #commit(name: string, build: BuildStamp, optionsKey: string, inputs: string[], found: BuildFindings, copies: { code: string; map: string }): Promise<void> {
    const current = () => this.#generations.get(name) === build.generation;
    try {
      const key = current() ? await this.#key(optionsKey, inputs) : undefined;
      const output = key === undefined ? undefined : await outputHash(copies.code, copies.map);
      if (output !== undefined && !(await this.#modifiedSince(inputs, build.builtFrom)) && current()) {
        await Promise.all([rename(copies.code, this.#file(name, 'mjs')), rename(copies.map, this.#file(name, 'mjs.map'))]);
        const manifest: Manifest = { key: key!, output, inputs, found };
        await this.#write(this.#file(name, 'json'), JSON.stringify(manifest));
        return;
      }
    } catch {
      // a read-only or full disk costs speed, not correctness
    }
    await Promise.allSettled([rm(copies.code, { force: true }), rm(copies.map, { force: true })]);
  }

  /** Whether a project input (not node_modules, not fngate's) was modified at or after `time`. */
  async #modifiedSince(inputs: readonly string[], time: number): Promise<boolean> {
    const times = await Promise.all(inputs.filter((file) => !this.#isShared(file)).map((file) => stat(file).then((stats) => stats.mtimeMs, () => Infinity)));
    return times.some((mtime) => mtime >= time);
  }

  /**
   * Removes copies a process that died while storing left in the cache directory (its pid is in
   * their names), once per process, in the background.
   */
  #sweepOnce(): void {
    if (this.#swept) return;
    this.#swept = true;
    void (async () => {
      for (const name of await readdir(this.#dir).catch(() => [] as string[])) {
        const pid = Number(/\.(\d+)(?:-\d+)?\.tmp$/.exec(name)?.[1]);
        if (pid && !isAlive(pid)) await rm(join(this.#dir, name), { force: true }).catch(() => {});
      }
    })();
  }

  /** Hash of everything the bundle depends on; undefined when an input is gone (or no longer a regular file). */
  async #key(optionsKey: string, inputs: readonly string[]): Promise<string | undefined> {
    const resolution = ['package.json', 'package-lock.json', 'tsconfig.json'].map((file) => join(this.#root, file));
    // All at once: a bundle with its dependencies has a hundred inputs or more.
    const digests = await Promise.all([
      ...resolution.map(async (file) => (await this.#digestShared(file)) ?? 'absent'),
      ...inputs.map((file) => (this.#isShared(file) ? this.#digestShared(file) : fileDigest(file))),
    ]);
    if (digests.includes(undefined)) return undefined;
    const hash = createHash('sha256').update(`${esbuildVersion}\0${optionsKey}\0`);
    [...resolution, ...inputs].forEach((file, index) => hash.update(`${file}\0`).update(digests[index]!).update('\0'));
    return hash.digest('hex');
  }

  /**
   * Digests of files every function's key reads (package.json and the lockfile, fngate's worker
   * code, dependencies): read once per start-up burst, not once per function (a hundred
   * functions read the lockfile a hundred times). Kept for SHARED_READ_MS, so an edit is seen.
   */
  #digestShared(file: string): Promise<Buffer | undefined> {
    const now = performance.now();
    const recent = this.#recent.get(file);
    if (recent !== undefined && now - recent.at < SHARED_READ_MS) return recent.digest;
    const digest = fileDigest(file);
    this.#recent.set(file, { at: now, digest });
    return digest;
  }

  /** Outside the project's own sources: node_modules, fngate's worker code. */
  #isShared(file: string): boolean {
    return file.includes(`${sep}node_modules${sep}`) || !file.startsWith(this.#root + sep);
  }

  #file(name: string, extension: string): string {
    return join(this.#dir, `${name}.${extension}`);
  }

  /** Readers never see half a file: write aside, then rename over. */
  async #write(file: string, contents: string): Promise<void> {
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, contents);
    await rename(temporary, file);
  }
}

/** When a build began: its generation (see `begin`) and the time, before esbuild read anything. */
export interface BuildStamp {
  readonly generation: number;
  readonly builtFrom: number;
}

interface Manifest {
  /** Hash of everything the bundle was built from. */
  readonly key: string;
  /** Hash of the bundle and its map as written. */
  readonly output: string;
  readonly inputs: string[];
  readonly found?: BuildFindings;
}

/** What a build found besides its inputs, kept with a cached bundle: a cache hit reports the same. */
export interface BuildFindings {
  /** Packages the bundle imports from node_modules at run time (config `external`). */
  readonly externals: readonly string[];
  readonly warnings: readonly BundleWarning[];
}

/** Hash of a bundle file and its map, read a chunk at a time; undefined when one is missing or not a regular file. */
async function outputHash(codeFile: string, mapFile: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  if (!(await hashRegularFile(hash, codeFile))) return undefined;
  hash.update('\0');
  if (!(await hashRegularFile(hash, mapFile))) return undefined;
  return hash.digest('hex');
}
