import { open, readFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Loader, Plugin } from 'esbuild';
import { escapeRegExp, segmentOtherThan } from './path-filters.js';

const LOADERS: Record<string, Loader> = {
  '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx',
  '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx',
};

/**
 * Inside a bundle, `import.meta.url` would be the bundle's location under .fngate/, so a
 * function reading a file next to its source (`new URL('./data.json', import.meta.url)`) would
 * look in the wrong place. This plugin gives every project file (never node_modules) its own
 * `import.meta.url`, `import.meta.dirname` and `import.meta.filename`, and CommonJS project
 * files their own `__dirname` and `__filename`.
 */
export function sourceLocationPlugin(root: string): Plugin {
  // esbuild filters are Go regexps (no lookahead): spell out "any segment but node_modules" so
  // dependency files never cost a round trip into JavaScript.
  const segment = segmentOtherThan('node_modules');
  const filter = new RegExp(`^${escapeRegExp(root)}/(?:${segment}/)*[^/]+\\.(?:[mc]?[jt]s|[jt]sx)$`);
  return {
    name: 'fngate-source-location',
    setup(build) {
      build.onLoad({ filter }, async (args) => {
        const loader = LOADERS[extname(args.path)];
        if (loader === undefined) return undefined;
        // Searched as bytes, a read at a time, and handed back only when rewritten: a 50 MB
        // generated module would otherwise be read whole, decoded, scanned and sent back to
        // esbuild by the gateway thread.
        const cjs = /\.c[jt]s$/.test(args.path);
        if (!(await fileContains(args.path, cjs ? ['import.meta.', '__dirname', '__filename'] : ['import.meta.']))) return undefined;
        let contents = await readFile(args.path, 'utf8');
        if (contents.includes('import.meta.')) {
          contents = contents
            .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
            .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
            .replaceAll('import.meta.filename', JSON.stringify(args.path));
        }
        if (cjs && /\b__(dirname|filename)\b/.test(contents)) {
          // Same first line, so line numbers (and source maps) stay right.
          contents = `var __dirname = ${JSON.stringify(dirname(args.path))}, __filename = ${JSON.stringify(args.path)}; ${contents}`;
        }
        return { contents, loader };
      });
    },
  };
}

/** Bytes read and searched at a time: a whole 50 MB module at once took 60 ms of the gateway thread here. */
const SEARCH_CHUNK = 1024 * 1024;

/** Whether the file contains one of the (ASCII) `needles`, read and searched a chunk at a time. */
async function fileContains(path: string, needles: readonly string[]): Promise<boolean> {
  const overlap = Math.max(...needles.map((needle) => needle.length)) - 1;
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.allocUnsafe(Math.min(size, SEARCH_CHUNK) + overlap);
    // Each read keeps the last `overlap` bytes of the previous one, so no needle is cut in two.
    let kept = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, kept, buffer.byteLength - kept, null);
      if (bytesRead === 0) return false;
      const filled = kept + bytesRead;
      const window = buffer.subarray(0, filled);
      if (needles.some((needle) => window.includes(needle))) return true;
      kept = Math.min(overlap, filled);
      buffer.copy(buffer, 0, filled - kept, filled);
    }
  } finally {
    await handle.close();
  }
}
