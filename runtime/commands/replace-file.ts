import { realpath, rename, writeFile } from 'node:fs/promises';

/**
 * Replaces a file in one step (write a temp file, rename it), so a watcher never reads half of
 * it. A symlinked config.yaml stays a symlink: its target is what gets replaced.
 */
export async function replaceFile(file: string, contents: string): Promise<void> {
  const target = await realpath(file);
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, contents);
  await rename(temp, target);
}
