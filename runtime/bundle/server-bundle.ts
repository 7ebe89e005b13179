import type * as esbuild from 'esbuild';
import { fngateVersion, SERVER_ENTRY } from '../common/runtime-files.js';

/**
 * server.mjs of `fngate build`'s output: the runtime for start mode (runtime/server.ts and what
 * it imports, with hono, yaml, zod and prom-client) in one file, bundled when the output is
 * built rather than shipped in the package. piscina stays a package beside it (it finds its
 * worker file next to itself) and esbuild is never loaded there.
 */
export async function bundleServer(outfile: string): Promise<void> {
  const { build } = (await import('esbuild')) as typeof esbuild;
  await build({
    entryPoints: [SERVER_ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['esbuild', 'piscina'],
    // runtime/common/runtime-files.ts finds the worker entry and the dashboard page relative to
    // the runtime's root: next to server.mjs. The version is read from no package.json there.
    define: { FNGATE_RUNTIME_ROOT: JSON.stringify('./'), FNGATE_VERSION: JSON.stringify(fngateVersion()) },
    // Bundled CommonJS dependencies call require(); ESM output has none.
    banner: { js: "import { createRequire as __fngateCreateRequire } from 'node:module'; const require = __fngateCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
}
