import type * as esbuild from 'esbuild';

/**
 * esbuild runs as one service process shared by every build context of this process. When it
 * dies (killed, out of memory), every context on it is dead too, and esbuild's module keeps
 * answering "The service is no longer running" until told to stop(); the next call then starts a
 * new service. This module owns that restart, once per death however many builders notice it.
 */

let module: Promise<typeof esbuild> | undefined;
/** Bumped at each restart: a builder whose context is older has to make a new one. */
let generation = 0;

/** esbuild, loaded on first use: a start served from the build cache never starts the service. */
export function loadEsbuild(): Promise<typeof esbuild> {
  module ??= import('esbuild');
  return module;
}

/** Which service is current: pass it to restartService() when a call on it failed. */
export function serviceGeneration(): number {
  return generation;
}

/** The service died under a call ("The service was stopped"), or had before it ("... no longer running"). */
export function isServiceDeath(error: unknown): boolean {
  return error instanceof Error && /^The service (?:was stopped|is no longer running)/.test(error.message);
}

/** Drops a dead service so that the next call starts a fresh one; a no-op if another builder already did. */
export async function restartService(deadGeneration: number): Promise<void> {
  if (deadGeneration !== generation) return;
  generation++;
  await (await loadEsbuild()).stop();
}
