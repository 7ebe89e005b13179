import { Worker } from 'node:worker_threads';

/**
 * What this machine gives two threads at once: the B5 hash loop (SHA-256 chained `rounds` times,
 * as functions/hash.ts does) in bare worker threads, with no HTTP, gateway or pool. On a shared
 * VM two "cores" are rarely two whole cores (hyperthread siblings, neighbours' load), so the
 * rate of 2 such threads over 1 is the ceiling B5 can reach.
 */
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const deadline = performance.now() + workerData.seconds * 1000;
let done = 0;
while (performance.now() < deadline) {
  let digest = createHash('sha256').update('x').digest();
  for (let i = 1; i < workerData.rounds; i++) digest = createHash('sha256').update(digest).digest();
  done++;
}
parentPort.postMessage(done);
`;

/** Hash chains per second completed by `threads` bare workers together, over `seconds`. */
export async function bareHashRate(threads: number, options: { seconds: number; rounds: number }): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: threads }, async () => {
      const worker = new Worker(LOOP, { eval: true, workerData: options });
      try {
        return await new Promise<number>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
      } finally {
        await worker.terminate();
      }
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0) / options.seconds;
}
