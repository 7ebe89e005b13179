import { BuildCache } from './build-cache.js';
import type { BundleSources } from './bundle-source.js';
import { FunctionBuilder } from './function-builder.js';

/** Bundles built by esbuild from the project's sources (fngate dev, start, invoke), with the build cache. */
export function createBuilderSources(options: { readonly root: string; readonly outDir: string }): BundleSources {
  const cache = new BuildCache(options.root);
  return {
    create: (config) => FunctionBuilder.create({ name: config.name, entry: config.file, root: options.root, outDir: options.outDir, external: config.external, cache }),
  };
}
