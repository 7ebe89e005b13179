import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, sep } from 'node:path';

/**
 * npm packages as Node finds them: by name, from a directory up through the `node_modules` of
 * every directory above it. Used for `external` packages, which the function loads at run time.
 */

/** A bare specifier's package part: `pino`, `@prisma/client` (esbuild's own `<runtime>` is none). */
const BARE = /^(?:@[\w.~-]+\/)?[\w.~-]+/;

/** `pino/file` -> `pino`, `@prisma/client/edge` -> `@prisma/client`; undefined for a path or a Node built-in. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || isBuiltin(specifier)) return undefined;
  return BARE.exec(specifier)?.[0];
}

/** The package a file lies in: the name after its last `node_modules/`; undefined outside node_modules. */
export function packageOfFile(file: string): string | undefined {
  const marker = `node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at === -1) return undefined;
  const parts = file.slice(at + marker.length).split(sep);
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** The directory of package `name` as Node would find it from `from` (not following its symlink), or undefined. */
export function findPackageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

export interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

export function readPackageJson(dir: string): PackageJson {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return {};
  }
}

export function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
