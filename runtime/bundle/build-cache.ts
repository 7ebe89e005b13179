import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';

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
 */
export class BuildCache {
  readonly #dir: string;
  readonly #root: string;
  readonly #recent = new Map<string, { readonly at: number; readonly content: Promise<Buffer | 'absent' | undefined> }>();

  constructor(root: string) {
    this.#root = root;
    this.#dir = join(root, '.fngate', 'cache');
  }

  /** The cached bundle and map for this function, if still valid. */
  async lookup(name: string, optionsKey: string): Promise<{ code: string; map: string; inputs: string[] } | undefined> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(this.#file(name, 'json'), 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
    if (manifest.key !== (await this.#key(optionsKey, manifest.inputs))) return undefined;
    try {
      const [code, map] = await Promise.all([readFile(this.#file(name, 'mjs'), 'utf8'), readFile(this.#file(name, 'mjs.map'), 'utf8')]);
      // A bundle edited or truncated on disk is rebuilt, not served.
      return manifest.output === outputHash(code, map) ? { code, map, inputs: manifest.inputs } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remembers a fresh build. Failures to write are ignored: the cache only ever saves time. */
  async store(name: string, optionsKey: string, inputs: string[], code: string, map: string): Promise<void> {
    try {
      const key = await this.#key(optionsKey, inputs);
      if (key === undefined) return;
      await mkdir(this.#dir, { recursive: true });
      await Promise.all([this.#write(this.#file(name, 'mjs'), code), this.#write(this.#file(name, 'mjs.map'), map)]);
      const manifest: Manifest = { key, output: outputHash(code, map), inputs };
      await this.#write(this.#file(name, 'json'), JSON.stringify(manifest));
    } catch {
      // a read-only or full disk costs speed, not correctness
    }
  }

  /** Hash of everything the bundle depends on; undefined when an input is gone. */
  async #key(optionsKey: string, inputs: readonly string[]): Promise<string | undefined> {
    const resolution = ['package.json', 'package-lock.json', 'tsconfig.json'].map((file) => join(this.#root, file));
    // Read all at once: a bundle with its dependencies has a hundred inputs or more.
    const contents = await Promise.all([
      ...resolution.map((file) => this.#readShared(file, 'absent')),
      ...inputs.map((file) => (this.#isShared(file) ? this.#readShared(file, undefined) : readFile(file).catch(() => undefined))),
    ]);
    if (contents.includes(undefined)) return undefined;
    const hash = createHash('sha256').update(`${esbuildVersion}\0${optionsKey}\0`);
    [...resolution, ...inputs].forEach((file, index) => hash.update(`${file}\0`).update(contents[index]!).update('\0'));
    return hash.digest('hex');
  }

  /**
   * Files every function's key reads (package.json and the lockfile, fngate's worker code,
   * dependencies): read once per start-up burst, not once per function (a hundred functions
   * read the lockfile a hundred times). Kept for SHARED_READ_MS, so an edit is seen at once.
   */
  #readShared<T extends 'absent' | undefined>(file: string, missing: T): Promise<Buffer | T> {
    const now = performance.now();
    const recent = this.#recent.get(file);
    if (recent !== undefined && now - recent.at < SHARED_READ_MS) return recent.content as Promise<Buffer | T>;
    const content = readFile(file).catch(() => missing);
    this.#recent.set(file, { at: now, content });
    return content;
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

interface Manifest {
  /** Hash of everything the bundle was built from. */
  readonly key: string;
  /** Hash of the bundle and its map as written. */
  readonly output: string;
  readonly inputs: string[];
}

function outputHash(code: string, map: string): string {
  return createHash('sha256').update(code).update('\0').update(map).digest('hex');
}
