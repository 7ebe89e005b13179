import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

const created: string[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export interface TempProject {
  readonly dir: string;
  /** Absolute path of a file in the project. */
  path(relative: string): string;
  /** Writes (or overwrites) a file, creating directories. */
  write(relative: string, contents: string): Promise<void>;
}

/** A throwaway project directory (config.yaml, functions/, node_modules/...), removed after the test. */
export async function createProject(files: Record<string, string>): Promise<TempProject> {
  const dir = await mkdtemp(join(tmpdir(), 'fngate-test-'));
  created.push(dir);
  const project: TempProject = {
    dir,
    path: (relative) => join(dir, relative),
    async write(relative, contents) {
      const file = join(dir, relative);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, contents);
    },
  };
  for (const [relative, contents] of Object.entries(files)) await project.write(relative, contents);
  return project;
}
