import { readFile, stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { packageOfFile } from './packages.js';

/**
 * What in a bundled dependency breaks once it is inside a bundle, found in the files esbuild
 * bundled: the code runs from `.fngate/` (or fngate build's `functions/`), not from its package
 * directory, as one ES module. The fix is always the same: leave the package unbundled
 * (`external`), so it loads from node_modules as Node would load it.
 */
export interface BundleWarning {
  /** The package to leave unbundled: the first package on the import chain from the function's file. */
  readonly package: string;
  /** Where it happens: `node_modules/pino/lib/transport.js:275`. */
  readonly where: string;
  /** What the code does that breaks inside a bundle. */
  readonly reason: string;
  /** How the function reaches it: `functions/log.ts → pino` (packages by name, project files by path). */
  readonly chain: string;
}

/** A build's metafile inputs, as esbuild reports them (keys relative to the project root). */
export type MetafileInputs = Readonly<Record<string, { readonly imports: readonly { readonly path: string; readonly external?: boolean }[] }>>;

/** First match wins, so the most specific comes first. */
const SIGNALS: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  { pattern: /\.node["'`]/, reason: 'loads a native addon (a .node file), which cannot be bundled' },
  { pattern: /\brequire[\w$]*\s*\(\s*["'`]#/, reason: 'resolves a #imports specifier of its package.json at run time, which only works from inside the package' },
  { pattern: /(?<!typeof\s*)\b__(?:dirname|filename)\b/, reason: 'uses __dirname or __filename, which are not defined inside an ES module bundle' },
  {
    pattern: /\bimport\.meta\.(?:url|dirname|filename|resolve)\b/,
    reason: "reads import.meta.url, which inside a bundle is the bundle's location: files it loads from its own directory are not there",
  },
];

/** Packages whose only job is to find a native addon on disk at run time, next to the package that uses them. */
const ADDON_LOADERS = new Set(['bindings', 'node-gyp-build', 'node-gyp-build-optional-packages', '@mapbox/node-pre-gyp', 'node-pre-gyp', 'prebuild-install', '@neon-rs/load']);

/** One scan per file version: dependencies rarely change between rebuilds. */
const scanned = new Map<string, Promise<Hit | null>>();

/** A signal found in a file; `rank` is its index in SIGNALS (lower: more specific). */
interface Hit {
  readonly line: number;
  readonly reason: string;
  readonly rank: number;
}

/**
 * Every package of the bundle that will likely break inside it, once per package to leave
 * unbundled, in import order. `entry` is the function's file (absolute).
 */
export async function findUnbundlable(inputs: MetafileInputs, root: string, entry: string): Promise<BundleWarning[]> {
  const parents = importParents(inputs, relative(root, entry));
  const warnings = new Map<string, BundleWarning & { rank: number }>();
  const files = [...parents.keys()].filter((key) => key.includes(`node_modules${sep}`) || key.includes('node_modules/'));
  const found = await Promise.all(files.map((key) => scanFile(resolve(root, key))));
  files.forEach((key, index) => {
    const pkg = packageOfFile(resolve(root, key));
    if (pkg === undefined) return;
    const chain = chainTo(parents, key);
    let reason: string;
    let where: string;
    let rank: number;
    if (ADDON_LOADERS.has(pkg)) {
      // The loader is fine; the package that calls it has its addon on disk, next to itself.
      reason = `finds its native addon through ${pkg} at run time, in its own directory`;
      where = shownFile(resolve(root, chain.at(-2) ?? key));
      rank = 0;
    } else {
      const hit = found[index];
      if (hit === null || hit === undefined) return;
      ({ reason, rank } = hit);
      where = `${shownFile(resolve(root, key))}:${hit.line}`;
    }
    const shown = describeChain(chain, root);
    const top = shown.packages[0] ?? pkg;
    // One per package to leave unbundled: its most telling finding (a native addon over __dirname).
    const previous = warnings.get(top);
    if (previous === undefined || rank < previous.rank) warnings.set(top, { package: top, where, reason, chain: shown.text, rank });
  });
  return [...warnings.values()].map(({ rank: _, ...warning }) => warning);
}

/** The warning as printed: what breaks, how the function reaches it, and the config line that fixes it. */
export function formatBundleWarning(fn: string, warning: BundleWarning, external: 'all' | readonly string[]): string {
  const list = external === 'all' ? [warning.package] : [...new Set([...external, warning.package])];
  return (
    `${fn}: ${warning.package} will likely fail inside the bundle: ${warning.where} ${warning.reason}\n` +
    `    imported as ${warning.chain}\n` +
    `    fix: leave it unbundled, in config.yaml under functions.${fn}: external: [${list.join(', ')}]  (or under defaults)`
  );
}

async function scanFile(file: string): Promise<Hit | null> {
  let key: string;
  try {
    const info = await stat(file);
    key = `${file}\0${info.size}\0${info.mtimeMs}`;
  } catch {
    return null;
  }
  let result = scanned.get(key);
  if (result === undefined) {
    result = readFile(file, 'utf8').then(
      (text) => {
        for (const [rank, signal] of SIGNALS.entries()) {
          const match = signal.pattern.exec(text);
          if (match) return { line: text.slice(0, match.index).split('\n').length, reason: signal.reason, rank };
        }
        return null;
      },
      () => null,
    );
    scanned.set(key, result);
  }
  return result;
}

/** Input -> the input that first imported it, walking breadth-first from the function's file (which maps to itself). */
function importParents(inputs: MetafileInputs, entryKey: string): Map<string, string> {
  const parents = new Map<string, string>([[entryKey, entryKey]]);
  const queue = [entryKey];
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i]!;
    for (const imported of inputs[key]?.imports ?? []) {
      if (imported.external || parents.has(imported.path) || inputs[imported.path] === undefined) continue;
      parents.set(imported.path, key);
      queue.push(imported.path);
    }
  }
  return parents;
}

function chainTo(parents: Map<string, string>, key: string): string[] {
  const chain = [key];
  for (let at = key; parents.get(at) !== at; ) {
    at = parents.get(at)!;
    chain.unshift(at);
  }
  return chain;
}

/** Project files by path, packages by name, each package once in a row: `functions/log.ts → lib/log.ts → pino`. */
function describeChain(chain: readonly string[], root: string): { text: string; packages: string[] } {
  const steps: string[] = [];
  const packages: string[] = [];
  for (const key of chain) {
    const pkg = packageOfFile(resolve(root, key));
    const step = pkg ?? key.split(sep).join('/');
    if (pkg !== undefined && !packages.includes(pkg)) packages.push(pkg);
    if (steps.at(-1) !== step) steps.push(step);
  }
  return { text: steps.join(' → '), packages };
}

/** `node_modules/pino/lib/transport.js`, wherever that node_modules lies. */
function shownFile(file: string): string {
  const at = file.lastIndexOf(`node_modules${sep}`);
  return (at === -1 ? file : file.slice(at)).split(sep).join('/');
}
