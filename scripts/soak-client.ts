/**
 * The soak's load generator, run as a child process of scripts/soak.ts so its memory never
 * counts as the gateway's. Keeps CONCURRENCY request loops busy for DURATION seconds with a
 * weighted mix of normal and faulty requests, then prints one JSON summary line on stdout.
 */
import { connect } from 'node:net';

const url = process.argv[2]!;
const durationMs = Number(process.argv[3]) * 1000;
const concurrency = Number(process.argv[4] ?? 16);

interface Kind {
  readonly name: string;
  readonly weight: number;
  readonly send: () => Promise<number | 'aborted'>;
  /** The statuses this kind may get; anything else is reported as unexpected and fails the soak. */
  readonly expect: readonly number[];
}

async function get(path: string, init?: RequestInit): Promise<number> {
  const response = await fetch(`${url}${path}`, init);
  await response.arrayBuffer();
  return response.status;
}

/** Declares a 20 MiB body and sends 1 KiB of it: the gateway must answer 413 without reading on. */
function oversized(): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let head = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      head += chunk;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed without an answer')));
    socket.write(`POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n${'x'.repeat(1024)}`);
  });
}

/** A client that gives up after 50 ms on a request that takes 2 s. */
async function disconnect(): Promise<'aborted'> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 50);
  try {
    await get('/busy?ms=2000', { signal: controller.signal });
    throw new Error('the slow request answered before the client left');
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
    return 'aborted';
  } finally {
    clearTimeout(timer);
  }
}

const body1k = 'x'.repeat(1024);
const kinds: Kind[] = [
  { name: 'hello', weight: 30, send: () => get('/hello/soak'), expect: [200] },
  { name: 'sort', weight: 6, send: () => get('/sort?size=200000'), expect: [200] },
  { name: 'echo', weight: 10, send: () => get('/echo', { method: 'POST', body: body1k }), expect: [200] },
  { name: 'hash', weight: 6, send: () => get('/hash?rounds=2000', { method: 'POST', body: body1k }), expect: [200] },
  { name: 'api', weight: 8, send: () => get('/api/users/1'), expect: [200] },
  { name: 'validate', weight: 6, send: () => get('/validate', { method: 'POST', body: '{"email":"a@b.co","name":"A"}' }), expect: [200] },
  { name: 'throws', weight: 6, send: () => get('/throws?mode=throw'), expect: [500] },
  { name: 'garbage', weight: 3, send: () => get('/throws?mode=garbage'), expect: [500] },
  // A runaway that blocks its thread takes a request sharing it down too (502, naming the runaway).
  { name: 'timeout-cooperative', weight: 2, send: () => get('/timeout?mode=cooperative'), expect: [504, 502] },
  { name: 'timeout-spin', weight: 2, send: () => get('/timeout?mode=spin'), expect: [504, 502] },
  { name: 'crash-exit', weight: 2, send: () => get('/crash?mode=exit'), expect: [502] },
  { name: 'crash-timer', weight: 2, send: () => get('/crash?mode=timer'), expect: [502] },
  { name: 'crash-rejection', weight: 2, send: () => get('/crash?mode=rejection'), expect: [502] },
  { name: 'oom', weight: 1, send: () => get('/oom?mode=leak'), expect: [502] },
  { name: 'oversized', weight: 4, send: oversized, expect: [413] },
  { name: 'disconnect', weight: 4, send: disconnect, expect: [] },
  { name: 'malformed-json', weight: 3, send: () => get('/throws/json', { method: 'POST', body: '{"broken": ' }), expect: [500] },
];
const totalWeight = kinds.reduce((sum, kind) => sum + kind.weight, 0);

function pick(): Kind {
  let roll = Math.random() * totalWeight;
  for (const kind of kinds) {
    roll -= kind.weight;
    if (roll < 0) return kind;
  }
  return kinds[0]!;
}

const byStatus: Record<string, number> = {};
const byKind: Record<string, Record<string, number>> = {};
const lost: string[] = [];
const unexpected: string[] = [];
let sent = 0;
let disconnected = 0;
const deadline = Date.now() + durationMs;

async function loop(): Promise<void> {
  while (Date.now() < deadline) {
    const kind = pick();
    sent++;
    try {
      const outcome = await kind.send();
      if (outcome === 'aborted') {
        disconnected++;
        continue;
      }
      byStatus[outcome] = (byStatus[outcome] ?? 0) + 1;
      const counts = (byKind[kind.name] ??= {});
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      if (!kind.expect.includes(outcome)) unexpected.push(`${kind.name}: ${outcome}`);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      lost.push(`${kind.name}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, loop));
process.stdout.write(`${JSON.stringify({ sent, byStatus, byKind, disconnected, lost, unexpected })}\n`);
