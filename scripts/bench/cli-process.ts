import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../runtime/bin.js', import.meta.url));

export interface CliServer {
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the ready line. */
  readonly readyMs: number;
  stop(): Promise<void>;
}

/** Spawns `fngate ARGS` and resolves when it prints its ready line. */
export function startCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliServer> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^fngate ready on (\S+) /m.exec(output);
      if (!match) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({
        url: match[1]!,
        pid: child.pid!,
        readyMs: performance.now() - started,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`fngate exited with ${code} before it was ready:\n${output}`)));
  });
}
