import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createProject } from '../../helpers/project.js';
import { startRuntime, type StartedRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

async function server(serverConfig: string): Promise<StartedRuntime> {
  const project = await createProject({
    'config.yaml': `server:\n${serverConfig}functions:\n  big:\n    routes: GET /big\n  light:\n    routes: GET /light\n`,
    'functions/big.ts': 'export default (req: Request) => new Uint8Array(Number(new URL(req.url).searchParams.get("mb")) * 2 ** 20);\n',
    'functions/light.ts': 'export default () => "light";\n',
  });
  return startRuntime({ cwd: project.dir });
}

/**
 * Asks for `mb` MB and reads only the first bytes of the answer: a client that stopped reading.
 * `closed()` reads again and resolves once the connection turns out closed (a paused socket
 * cannot notice).
 */
async function stalledClient(url: string, mb: number): Promise<{ socket: Socket; closed: () => Promise<true> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {}); // the server resets it
  let isClosed = false;
  socket.once('close', () => (isClosed = true));
  const closed = () => {
    socket.resume();
    return waitFor(() => isClosed, { what: `the connection of GET /big?mb=${mb} to turn out closed` });
  };
  const head = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write(`GET /big?mb=${mb} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  await head;
  socket.pause();
  return { socket, closed };
}

const closedLines = (started: StartedRuntime) => started.logs.lines.filter((line) => line.includes('closed the connection of GET /big'));

describe('fault: a client that stops reading its response', () => {
  it('closes its connection once it took nothing for server.sendTimeout, logs that once, and keeps serving', async () => {
    const started = await server('  sendTimeout: 500ms\n');
    const client = await stalledClient(started.url, 16);
    await waitFor(() => closedLines(started).length > 0, { what: 'the server to close it' });
    await client.closed();
    expect(closedLines(started)).toHaveLength(1);
    expect(closedLines(started)[0]).toMatch(/^✘ closed the connection of GET \/big\?mb=16 \(big\): its client took none of the response for .+, which held .+ \(server\.sendTimeout\)$/);
    expect(await (await started.fetch('/light')).text()).toBe('light');
    // A client that reads gets all of it, however long that takes.
    expect((await (await started.fetch('/big?mb=16')).arrayBuffer()).byteLength).toBe(16 * 2 ** 20);
    expect(closedLines(started)).toHaveLength(1);
  });

  it('closes the clients that stopped reading longest ago once together they hold more than server.sendBufferLimit', async () => {
    const started = await server('  sendBufferLimit: 20mb\n');
    const first = await stalledClient(started.url, 12);
    const second = await stalledClient(started.url, 12);
    await waitFor(() => closedLines(started).length > 0, { what: 'the server to close one' });
    await first.closed();
    expect(closedLines(started)).toEqual([expect.stringMatching(/^✘ closed the connection of GET \/big\?mb=12 \(big\): .* \(server\.sendBufferLimit: clients that stopped reading held more\)$/)]);
    expect(await (await started.fetch('/light')).text()).toBe('light');
    second.socket.destroy();
  });
});
