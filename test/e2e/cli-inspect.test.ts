import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../runtime/observe/status-report.js';
import { runCli, waitForReady } from '../helpers/cli.js';
import { createProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Connects to the inspector as a debugger would and lists the worker threads it can attach to. */
function attachableWorkers(wsUrl: string): Promise<number> {
  const script = `
    const ws = new WebSocket(${JSON.stringify(wsUrl)});
    let workers = 0;
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.method === 'NodeWorker.attachedToWorker') workers++;
      if (m.id === 1) setTimeout(() => { console.log(workers); ws.close(); }, 300);
    };
    ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'NodeWorker.enable', params: { waitForDebuggerOnStart: false } }));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`debugger client exited ${code}`))));
  });
}

describe('fngate dev --inspect', () => {
  it('opens the debugger, runs every function on one thread with no timeout, and its threads can be attached to', async () => {
    const project = await createProject({
      'config.yaml': 'defaults:\n  maxThreads: 4\n  timeout: 2s\nfunctions:\n  a:\n    routes: GET /a\n  b:\n    routes: GET /b\n    concurrency: 8\n',
      'functions/a.ts': 'export default () => "a";\n',
      'functions/b.ts': 'export default () => "b";\n',
    });
    const port = await freePort();
    const cli = runCli(['dev', '--port', '0', `--inspect=127.0.0.1:${port}`], { cwd: project.dir });
    const url = await waitForReady(cli);
    // The debugger line follows the ready line in a later write: wait for it rather than read once.
    const wsUrl = await waitFor(() => /^debugger listening on (ws:\/\/\S+)$/m.exec(cli.stdout())?.[1], { what: 'the debugger line' });
    expect(wsUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${port}/`));

    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
    expect(targets[0]!.webSocketDebuggerUrl).toBe(wsUrl);

    const status = (await (await fetch(`${url}/_fngate/status`)).json()) as StatusReport;
    for (const fn of status.functions) {
      expect(fn.threads).toMatchObject({ min: 1, max: 1 });
      expect(fn.concurrency).toBe(1);
    }
    expect(await (await fetch(`${url}/a`)).text()).toBe('a');
    // One thread per function, each a debugger target of its own.
    expect(await attachableWorkers(wsUrl)).toBe(2);
  });

  it('rejects a malformed address', async () => {
    const cli = runCli(['dev', '--inspect=nope']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('invalid --inspect "nope": expected [HOST:]PORT');
  });
});
