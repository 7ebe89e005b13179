import { threadId } from 'node:worker_threads';
import type { Handler } from 'fngate';

/**
 * GET /counter -> {"hits":N,"thread":T}: one count over every thread of the function.
 * `sharedMemory: 1kb` in config.yaml gives all of them the same SharedArrayBuffer as ctx.shared
 * (kept across hot reloads and replaced threads); Atomics.add makes each increment whole, so
 * no hit is lost however many threads run at once.
 */
const counter: Handler = (_req, ctx) => {
  const cells = new Int32Array(ctx.shared!);
  const hits = Atomics.add(cells, 0, 1) + 1;
  return { hits, thread: threadId };
};

export default counter;
