import { createProject, type TempProject } from './project.js';
import { startRuntime, type StartedRuntime } from './runtime.js';
import { waitFor } from './wait.js';

/** A function whose body is `text`. */
export const returning = (text: string) => `export default () => ${JSON.stringify(text)};\n`;

/** A function that counts calls in module scope: its state survives only if its pool does. */
export const COUNTER = 'let calls = 0;\nexport default () => `count ${++calls}`;\n';

/** A temp project served by `fngate dev` (watching), closed after the test. */
export async function devProject(files: Record<string, string>): Promise<{ project: TempProject; server: StartedRuntime }> {
  const project = await createProject(files);
  const server = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
  return { project, server };
}

export async function text(server: StartedRuntime, path: string): Promise<string> {
  return (await server.fetch(path)).text();
}

/** Polls until `path` answers `expected` (the new version is serving). */
export function servesEventually(server: StartedRuntime, path: string, expected: string): Promise<true> {
  return waitFor(async () => (await text(server, path)) === expected || undefined, { what: `${path} to answer "${expected}"` });
}
