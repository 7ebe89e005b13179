import { stat } from 'node:fs/promises';
import type { BundleSources } from './bundle-source.js';

/**
 * Bundles built ahead of time by `fngate build`: the function's `file` is its bundle. They are
 * served as they are (no esbuild at run time) and never deleted: they belong to the build.
 */
export function createPrebuiltSources(): BundleSources {
  return {
    create: (config) =>
      Promise.resolve({
        async build() {
          const started = performance.now();
          const info = await stat(config.file).catch(() => undefined);
          if (info === undefined || !info.isFile()) {
            const message = `${config.file} is missing: this fngate build output is incomplete; run fngate build again`;
            return { ok: false, message, report: message, inputs: [], unresolved: false, ms: performance.now() - started };
          }
          // Its external packages were copied beside it by fngate build; its warnings were printed then.
          return { ok: true, bundleFile: config.file, owned: false, inputs: [], ms: performance.now() - started, cached: false, externals: [], warnings: [] };
        },
        dispose: () => Promise.resolve(),
      }),
  };
}
