import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { waitFor } from './wait.js';

export const BIN = fileURLToPath(new URL('../../runtime/bin.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

const running: ChildProcess[] = [];

/** Kills the child after the test if it still runs (every process a test starts goes through this). */
export function killAfterTest(child: ChildProcess): void {
  running.push(child);
}

afterEach(async () => {
  await Promise.all(
    running.splice(0).map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }),
  );
});

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

/** Runs `fngate ARGS` as a child process; killed after the test if still running. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killAfterTest(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

export const READY_LINE = /^fngate ready on (http:\/\/\S+) \((\d+) functions? in (\d+) ms(?:, (\d+) from build cache)?(?:, (\d+) warming)?\)$/m;

/** Waits for the ready line and returns the URL it announces. */
export async function waitForReady(cli: CliProcess): Promise<string> {
  const match = await waitFor(
    () => {
      if (cli.child.exitCode !== null) throw new Error(`fngate exited early:\n${cli.stdout()}\n${cli.stderr()}`);
      return READY_LINE.exec(cli.stdout()) ?? undefined;
    },
    { what: 'the ready line', timeoutMs: 30_000 },
  );
  return match[1]!;
}
