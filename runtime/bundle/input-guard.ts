import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Plugin } from 'esbuild';
import { isInside } from '../common/is-inside.js';
import { RUNTIME_DIR } from '../common/runtime-files.js';
import { notUnder } from './path-filters.js';
import { notRegular } from './safe-read.js';

/** Where a file a function's bundle includes may come from. */
export interface InputPlaces {
  /** The project directory, as given and with its symlinks resolved. */
  readonly roots: readonly string[];
  /**
   * The project's dependency directories: its node_modules and those of the directories above it
   * (where Node's resolution looks, and npm workspaces hoist packages), symlinks resolved (a
   * node_modules may be a link, e.g. to a shared install).
   */
  readonly dependencies: readonly string[];
}

/** Read again for every build: a node_modules may appear (npm install) while fngate runs. */
export function inputPlaces(root: string): InputPlaces {
  const roots = [...new Set([root, safeRealpath(root)])];
  const dependencies = new Set<string>();
  for (let dir = root; ; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules');
    if (existsSync(modules)) dependencies.add(safeRealpath(modules));
    if (dirname(dir) === dir) break;
  }
  return { roots, dependencies: [...dependencies] };
}

export type InputKind = 'project' | 'dependency' | 'runtime' | 'outside';

/** Where `file` (an absolute path, symlinks resolved) lies. */
export function classifyInput(places: InputPlaces, file: string): InputKind {
  if (places.dependencies.some((dir) => isInside(dir, file))) return 'dependency';
  if (isInside(RUNTIME_DIR, file)) return 'runtime';
  const root = places.roots.find((dir) => isInside(dir, file));
  if (root === undefined) return 'outside';
  // A package's own node_modules inside the project (a workspace) is the project's too.
  return relative(root, file).split(sep).includes('node_modules') ? 'dependency' : 'project';
}

/**
 * Refuses what a function may not include before esbuild opens it (esbuild would read it in
 * full, in its own process, with no limit): a file outside the project and its dependency
 * directories (an absolute import, `../..`, or a symlink pointing out: esbuild hands plugins
 * the path with symlinks resolved, so `functions/x.js -> /dev/zero` arrives as /dev/zero), and
 * a project file that is not a regular file (a FIFO would block the build until someone writes
 * to it; a device never ends). Registered first, so no other plugin reads the file before.
 */
export function inputGuardPlugin(root: string, places: () => InputPlaces): Plugin {
  return {
    name: 'fngate-input-guard',
    setup(build) {
      let current = places();
      build.onStart(() => {
        current = places();
      });
      // fngate's worker code and the dependency directories known now never reach JavaScript:
      // a callback per file and build was most of a rebuild (12 ms of a one-line function's 30,
      // hundreds of round trips for a function with packages). A node_modules that appears
      // later is matched, and classified below as any file is.
      const filter = notUnder([RUNTIME_DIR, ...current.dependencies].map((dir) => join(dir, sep)));
      build.onLoad({ filter, namespace: 'file' }, (args) => {
        const kind = classifyInput(current, args.path);
        // Dependency files are not checked one by one: a package runs as code in the function anyway.
        if (kind === 'dependency' || kind === 'runtime') return undefined;
        // esbuild puts the importing file and line in front: `functions/x.ts:1:18: imports ...`.
        if (kind === 'outside') return { errors: [{ text: `imports ${args.path}, which lies outside the project directory ${root}` }] };
        let what: string | undefined;
        try {
          // Synchronous: a stat does not block on a FIFO or device, and costs microseconds.
          what = notRegular(statSync(args.path));
        } catch {
          return undefined; // gone meanwhile: esbuild reports it
        }
        if (what === undefined) return undefined;
        const shown = relative(current.roots.find((dir) => isInside(dir, args.path)) ?? root, args.path);
        return { errors: [{ text: `${shown} is ${what}, not a regular file: fngate reads only regular files` }] };
      });
    },
  };
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
