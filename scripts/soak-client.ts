/**
 * The soak's load generator, run as a child process of scripts/soak.ts so its memory never
 * counts as the gateway's. Keeps CONCURRENCY request loops busy for DURATION seconds with a
 * weighted mix of normal and faulty requests, then prints one JSON summary line on stdout.
 */
import { connect } from 'node:net';

const url = process.argv[2]!;
const durationMs = Number(process.argv[3]) * 1000;
const concurrency = Number(process.argv[4] ?? 16);

/** How a request ended when it had no status to show: the server cut a client that stopped reading. */
type Outcome = number | 'aborted' | 'cut';

interface Kind {
  readonly name: string;
  readonly weight: number;
  readonly send: () => Promise<Outcome>;
  /** The outcomes this kind may get; anything else is reported as unexpected and fails the soak. */
  readonly expect: readonly (number | 'cut')[];
  /** Counts as heavy: light requests are timed apart while one is in flight. */
  readonly heavy?: boolean;
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

/** Opens a raw connection to the gateway. */
function rawSocket() {
  const { hostname, port } = new URL(url);
  return connect(Number(port), hostname);
}

/** Size of the large results, in MiB: well over the socket buffers, light enough for 2 cores beside the rest. */
const BIG_MB = 16;

/** A large string result, read to its end: the gateway must send exactly its bytes. */
async function bigString(): Promise<number> {
  const response = await fetch(`${url}/big?mb=${BIG_MB}`);
  const length = (await response.arrayBuffer()).byteLength;
  if (response.status === 200 && length !== BIG_MB * 2 ** 20) throw new Error(`got ${length} bytes of ${BIG_MB} MiB`);
  return response.status;
}

/**
 * Asks for a large result and stops reading after the head for longer than server.sendTimeout
 * (2 s here), then reads what is left: a cut connection ends short of it (a paused socket cannot
 * see the cut, and any read would count as progress).
 */
function stalledReader(): Promise<number | 'cut'> {
  return new Promise((resolve, reject) => {
    const socket = rawSocket();
    let received = 0;
    socket.on('error', () => {}); // the cut: a reset
    socket.on('data', (chunk: Buffer) => (received += chunk.byteLength));
    socket.on('close', () => {
      if (received === 0) reject(new Error('closed without an answer'));
      else resolve(received < BIG_MB * 2 ** 20 ? 'cut' : 200);
    });
    socket.once('data', () => {
      socket.pause();
      setTimeout(() => socket.resume(), 3500);
    });
    socket.write(`GET /big?mb=${BIG_MB}&as=bytes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
}

/**
 * A response Node refuses to write (a trailer header on a buffered body), with a request
 * pipelined behind it: the first must be a JSON 500, and the second must still be answered.
 */
function trailerPipelined(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = rawSocket();
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
      if (statuses.length !== 2 || statuses[1] !== 200) return reject(new Error(`pipelined request lost: got ${statuses.join(', ') || 'nothing'}`));
      if (!text.includes('"code":"FNGATE_FUNCTION_ERROR"')) return reject(new Error('the refused response was not an FNGATE answer'));
      resolve(statuses[0]!);
    });
    socket.write('GET /trailer HTTP/1.1\r\nHost: localhost\r\n\r\nGET /hello/pipelined HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
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
  { name: 'big-string', weight: 1, send: bigString, expect: [200], heavy: true },
  { name: 'stalled-reader', weight: 1, send: stalledReader, expect: ['cut'], heavy: true },
  { name: 'trailer-pipelined', weight: 3, send: trailerPipelined, expect: [500], heavy: true },
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

/** Light requests (hello) are timed, apart while a heavy kind is in flight. */
let heavyInFlight = 0;
const lightDuring: number[] = [];
const lightOtherwise: number[] = [];

function p99(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! * 100) / 100;
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
    if (kind.heavy) heavyInFlight++;
    const heavyAtStart = heavyInFlight > 0;
    const started = performance.now();
    try {
      const outcome = await kind.send();
      if (kind.name === 'hello') (heavyAtStart || heavyInFlight > 0 ? lightDuring : lightOtherwise).push(performance.now() - started);
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
    } finally {
      if (kind.heavy) heavyInFlight--;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, loop));
const lightP99 = { during: p99(lightDuring), otherwise: p99(lightOtherwise), samplesDuring: lightDuring.length };
process.stdout.write(`${JSON.stringify({ sent, byStatus, byKind, disconnected, lost, unexpected, lightP99 })}\n`);
