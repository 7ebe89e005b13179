import { cp } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { findPackageDir, readPackageJson, realDir } from '../bundle/packages.js';

export interface CopiedPackages {
  /** The packages asked for, with the versions copied (for the output's package.json). */
  readonly versions: Readonly<Record<string, string>>;
  /** Required packages that are not installed: the output would fail to load them. */
  readonly missing: readonly string[];
}

/**
 * Copies packages the bundles import at run time (config `external`) into `out/node_modules`,
 * with everything they depend on, so that Node resolves each of them from the output exactly as
 * from the project: a package is copied whole (its own nested node_modules included) to
 * `node_modules/NAME`, or, when another version already holds that place, inside the package
 * that needs it. Optional dependencies that are not installed (another platform's binaries) are
 * left out, as npm left them out.
 */
export async function copyPackages(root: string, names: readonly string[], out: string): Promise<CopiedPackages> {
  /** Layout path in the output -> the real directory copied there. */
  const placed = new Map<string, string>();
  /** Real directory -> where it was copied (its nested node_modules came along). */
  const copied = new Map<string, string>();
  const versions: Record<string, string> = {};
  const missing: string[] = [];
  /** Decided first, copied at once after: one package at a time took 9 s for pino, pdfkit and sharp. */
  const copies: { from: string; to: string }[] = [];
  const queue = names.map((name) => ({ name, from: root, parent: undefined as string | undefined, optional: false, top: true }));
  for (let i = 0; i < queue.length; i++) {
    const { name, from, parent, optional, top } = queue[i]!;
    const dir = findPackageDir(name, from);
    if (dir === undefined) {
      if (!optional) missing.push(parent === undefined ? name : `${name} (a dependency of ${parent.split('node_modules/').at(-1)})`);
      continue;
    }
    const real = realDir(dir);
    if (top) versions[name] = readPackageJson(real).version ?? '*';
    // Copied once. Not handled: the same version needed again where another version shadows its
    // first place (npm nests it then; here the dependent would find the other one).
    if (copied.has(real)) continue;
    // Inside a package copied whole (its nested node_modules): already in place.
    const container = [...copied].find(([source]) => real.startsWith(source + sep));
    let layout: string;
    if (container !== undefined) {
      layout = container[1] + real.slice(container[0].length).split(sep).join('/');
    } else {
      const hoisted = `node_modules/${name}`;
      const taken = placed.get(hoisted);
      layout = taken === undefined || taken === real || parent === undefined ? hoisted : `${parent}/node_modules/${name}`;
      if (placed.get(layout) !== real) {
        copies.push({ from: real, to: join(out, layout) });
        placed.set(layout, real);
      }
    }
    copied.set(real, layout);
    const pkg = readPackageJson(real);
    const next = (deps: Readonly<Record<string, string>> | undefined, isOptional: boolean) =>
      Object.keys(deps ?? {}).map((dep) => ({ name: dep, from: real, parent: layout, optional: isOptional, top: false }));
    // Peer dependencies are the user's to install; copied when they are.
    queue.push(...next(pkg.dependencies, false), ...next(pkg.optionalDependencies, true), ...next(pkg.peerDependencies, true));
  }
  // Never two copies into one another: a package copied whole is never copied again inside.
  await Promise.all(copies.map(({ from, to }) => cp(from, to, { recursive: true, dereference: true })));
  return { versions, missing };
}
