import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { killAfterTest, READY_LINE, runCli } from './cli.js';
import { waitFor } from './wait.js';

/** `fngate build ARGS` for a config file; throws with its output when it fails. */
export async function build(config: string, args: readonly string[]): Promise<string> {
  const cli = runCli(['build', '--config', config, ...args]);
  const code = await cli.exited;
  if (code !== 0) throw new Error(`fngate build failed (${code}):\n${cli.stdout()}\n${cli.stderr()}`);
  return cli.stdout();
}

export interface BuiltServer {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | string>;
}

/**
 * `node DIR/server.mjs` with exactly `env` as its environment (what `env -i` gives), from DIR,
 * killed after the test if still running. Resolves once it prints its ready line.
 */
export async function startBuilt(dir: string, env: Record<string, string>, args: readonly string[] = []): Promise<BuiltServer> {
  const child = spawn(process.execPath, [join(dir, 'server.mjs'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  killAfterTest(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the built server exited early:\n${out}`);
      return READY_LINE.exec(out)?.[1];
    },
    { what: 'the built server to be ready', timeoutMs: 30_000 },
  );
  return { url, child, output: () => out, exited };
}

/** Every file under dir with its size and modification time. */
export async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const lines = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const file = join(entry.parentPath, entry.name);
        const info = await stat(file);
        return `${file}:${info.size}:${info.mtimeMs}`;
      }),
  );
  return lines.sort();
}
