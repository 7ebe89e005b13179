#!/usr/bin/env node
// The `fngate` command. Plain JavaScript so it runs without a build step. In a clone of the
// repository it first compiles runtime/ to dist/ when the sources changed (a few tens of
// milliseconds, only then); an installed package ships dist/ already built and never writes
// into its own directory.
import { existsSync } from 'node:fs';

const builder = new URL('../scripts/build-runtime.js', import.meta.url);
if (existsSync(builder)) {
  const { ensureRuntimeBuilt } = await import(builder.href);
  await ensureRuntimeBuilt();
}
const { main } = await import('../dist/cli.bundle.js');
await main(process.argv.slice(2));
