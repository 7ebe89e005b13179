import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../runtime/bin.js', import.meta.url));
/** The ready line of fngate and of its built server; group 1 is the URL. */
export const READY = /^fngate ready on (\S+) /m;
const SERVERS = new URL('./servers/', import.meta.url);

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the ready line. */
  readonly readyMs: number;
  /** Resident set size of the process (all its threads), in MB. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Spawns `node ARGS` and resolves when stdout matches `ready` (whose group 1 is the URL). */
export function startProcess(args: readonly string[], ready: RegExp, env: Record<string, string> = {}): Promise<ServerProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (!match) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({
        url: match[1]!,
        pid: child.pid!,
        readyMs: performance.now() - started,
        rssMb: () => readRssMb(child.pid!),
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready:\n${output}`)));
  });
}

/**
 * `fngate ARGS` through the real bin, as a user runs it. fngate listens before every function
 * has loaded its first threads; throughput and latency rows measure the warm server, so this
 * waits for /_fngate/ready (cold-start rows pass `warm: false` and time the first answer).
 */
export async function startFngate(args: readonly string[], { warm = true }: { warm?: boolean } = {}): Promise<ServerProcess> {
  const server = await startProcess([BIN, ...args], READY);
  if (warm) {
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${server.url}/_fngate/ready`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline) throw new Error(`fngate ${args.join(' ')} did not warm up within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return server;
}

/** One of the baseline servers in scripts/bench/servers/. */
export function startBaseline(name: 'hono-in-process' | 'worker-per-request' | 'clone-echo' | 'naive-piscina'): Promise<ServerProcess> {
  return startProcess(['--import', 'tsx', fileURLToPath(new URL(`${name}.ts`, SERVERS))], /^listening on (\S+)$/m);
}

function readRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) / 1024;
}

/**
 * Starts several servers at once (start-up is not measured, so no reason to wait for each in
 * turn). If one fails, the ones that started are stopped before the error is thrown.
 */
export async function startAll<T extends readonly Promise<ServerProcess>[]>(starts: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
    throw failed.reason;
  }
  return settled.map((result) => (result as PromiseFulfilledResult<ServerProcess>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
