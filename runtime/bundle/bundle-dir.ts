import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bundles live inside the project (so a bundle's own imports resolve through its node_modules),
 * in a directory owned by this process: `.fngate/run-PID-RANDOM`. Directories left by processes
 * that died are removed in the background. The caller removes its own when it stops.
 */
export async function createBundleDir(root: string): Promise<string> {
  const base = join(root, '.fngate');
  await mkdir(base, { recursive: true });
  // In the background: a crashed run of a hundred functions left hundreds of files, and removing
  // them is no reason to start later. Nothing else touches a dead process's directory.
  void sweepDeadRuns(base);
  const dir = join(base, `run-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function sweepDeadRuns(base: string): Promise<void> {
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const pid = Number(/^run-(\d+)-/.exec(name)?.[1]);
    if (pid && !isAlive(pid)) await rm(join(base, name), { recursive: true, force: true }).catch(() => {});
  }
}

/** Whether a process with this pid exists (one of another user counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes a bundle and its source map once no pool uses it. */
export async function removeBundle(bundleFile: string): Promise<void> {
  await Promise.allSettled([rm(bundleFile, { force: true }), rm(`${bundleFile}.map`, { force: true })]);
}
