import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { build, startBuilt, type BuiltServer } from '../helpers/built-server.js';
import { createProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

/**
 * What a cluster's load balancer does, in a few lines: round-robin over the backends it
 * believes ready, and a backend drops out once its /_fngate/ready says 503 (polled every 50 ms,
 * as endpoint controllers do, slower). Each request goes on a new connection.
 */
class Balancer {
  readonly #ready = new Set<string>();
  readonly #server: Server;
  #next = 0;
  #poll: NodeJS.Timeout;
  readonly backends = new Set<string>();

  constructor() {
    this.#server = createServer((req, res) => {
      const ready = [...this.#ready];
      if (ready.length === 0) return void res.writeHead(502).end('no backend');
      const target = ready[this.#next++ % ready.length]!;
      const upstream = request(`${target}${req.url}`, { method: req.method, agent: false }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (error) => res.writeHead(502).end(`proxy: ${error.message}`));
      req.pipe(upstream);
    });
    this.#poll = setInterval(() => void this.#check(), 50);
  }

  listen(): Promise<string> {
    return new Promise((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`)));
  }

  async #check(): Promise<void> {
    await Promise.all(
      [...this.backends].map(async (backend) => {
        const ok = await fetch(`${backend}/_fngate/ready`).then((r) => r.status === 200, () => false);
        if (ok) this.#ready.add(backend);
        else this.#ready.delete(backend);
      }),
    );
  }

  isReady(backend: string): boolean {
    return this.#ready.has(backend);
  }

  close(): Promise<void> {
    clearInterval(this.#poll);
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const balancers: Balancer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(balancers.splice(0).map((balancer) => balancer.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('rolling update of the built server', () => {
  it('loses no request while one replica after another is stopped with SIGTERM and replaced', { timeout: 120_000 }, async () => {
    const project = await createProject({
      'config.yaml': 'server:\n  drainDelay: 1s\n  shutdownTimeout: 5s\nfunctions:\n  work:\n    routes: GET /work\n    maxThreads: 2\n',
      'functions/work.ts':
        'import { setTimeout as sleep } from "node:timers/promises";\nexport default async (req: Request) => { await sleep(Number(new URL(req.url).searchParams.get("ms") ?? 20)); return "done"; };\n',
    });
    const dir = await mkdtemp(join(tmpdir(), 'fngate-rolling-'));
    dirs.push(dir);
    await build(project.path('config.yaml'), ['--out', join(dir, 'app')]);
    const start = () => startBuilt(join(dir, 'app'), { PORT: '0' });

    const balancer = new Balancer();
    balancers.push(balancer);
    const front = await balancer.listen();
    const join_ = async (server: BuiltServer) => {
      balancer.backends.add(server.url);
      await waitFor(() => balancer.isReady(server.url), { what: `${server.url} to be taken into the rotation` });
    };
    const a = await start();
    const b = await start();
    await join_(a);
    await join_(b);

    // Steady load: 8 clients, each request waiting 20-80 ms in the function.
    let stop = false;
    let sent = 0;
    const answers = new Map<string, number>();
    const client = async (id: number) => {
      for (let i = 0; !stop; i++) {
        sent++;
        const response = await fetch(`${front}/work?ms=${20 + ((id * 7 + i) % 4) * 20}`).catch((error: Error) => ({ status: `error ${error.message}`, text: async () => '' }));
        const key = `${response.status} ${await response.text()}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
    };
    const clients = Array.from({ length: 8 }, (_, id) => client(id));
    const answered = () => [...answers.values()].reduce((sum, n) => sum + n, 0);
    const atLeast = (n: number) => waitFor(() => answered() >= n, { what: `${n} answers` });

    await atLeast(50);
    a.child.kill('SIGTERM');
    const c = await start();
    await join_(c);
    expect(await a.exited).toBe(0);
    balancer.backends.delete(a.url);
    await atLeast(answered() + 50);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    balancer.backends.delete(b.url);
    await atLeast(answered() + 50);
    stop = true;
    await Promise.all(clients);

    expect(answers).toEqual(new Map([['200 done', sent]]));
    expect(sent).toBeGreaterThan(150);
  });
});
