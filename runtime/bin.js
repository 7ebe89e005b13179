#!/usr/bin/env node
// The `fngate` command. Plain JavaScript so it runs without a build step: it compiles runtime/
// to dist/ when the sources changed (a few tens of milliseconds, only then), and starts the CLI.
import { ensureRuntimeBuilt } from '../scripts/build-runtime.js';

await ensureRuntimeBuilt();
const { main } = await import('../dist/cli.bundle.js');
await main(process.argv.slice(2));
