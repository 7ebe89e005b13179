// The file every function worker thread starts from: the worker-side counterpart of
// pool/thread-pool.ts, and the only thread code that touches piscina. Plain JavaScript on purpose:
// worker threads cannot load TypeScript, and this file must work unbuilt. It imports the
// function's bundle once per thread (piscina marks the thread ready only after this top-level
// await), and turns a module that throws while loading into an answer for every task instead of
// a crash: no respawn loop, and the gateway reports the load error as 503 FNGATE_UNAVAILABLE.
// Everything else (requests, batches, replies, what moves instead of being copied) is the task
// handler's, bundled with the function: see task-handler.ts.
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { closeBypasses } from './close-bypasses.mjs';

// Before any of the function's code exists on this thread.
closeBypasses();

// Piscina moves the parts of an answer that piscina itself marked movable, with a private
// symbol. Importing piscina's main module for move() costs each new thread about 15 ms; its
// worker bootstrap has already loaded dist/common.js, which does the marking, so that is a cache
// hit. Should the layout change, fall back to move().
let markMovable;
try {
  const require = createRequire(import.meta.url);
  ({ markMovable } = require(join(dirname(require.resolve('piscina')), 'common.js')));
  if (typeof markMovable !== 'function') throw new TypeError('piscina layout changed');
} catch {
  const { move } = await import('piscina');
  markMovable = move;
}

// A function's console output, prefixed with its name line by line: `[sort] sorted 1000000`.
// Only whole lines leave the thread, in one write each, so the main thread never prints half a
// line of one thread in the middle of another's (a partial line goes out after 100 ms).
// Under `fngate invoke` stdout carries the response body, so the function's output goes to
// stderr, written straight to the file descriptor: the process exits right after the one task,
// before output sent through the thread's stdio stream would arrive.
const toStderr = (text, callback) => {
  writeSync(2, text);
  if (typeof callback === 'function') queueMicrotask(callback);
  return true;
};
const flushers = workerData.invoke
  ? [prefixLines(process.stdout, `[${workerData.name}] `, toStderr), prefixLines(process.stderr, `[${workerData.name}] `, toStderr)]
  : [prefixLines(process.stdout, `[${workerData.name}] `), prefixLines(process.stderr, `[${workerData.name}] `)];
/** Writes out partial lines now: `fngate invoke` ends the thread right after its one task. */
const flushOutput = workerData.invoke ? () => flushers.forEach((flush) => flush()) : undefined;

/** Replaces `stream.write` with one that writes whole, prefixed lines (by `write`); returns a flush of the partial line. */
function prefixLines(stream, prefix, write = stream.write.bind(stream)) {
  let partial = '';
  let timer;
  const flushPartial = () => {
    timer = undefined;
    if (partial === '') return;
    const line = `${prefix}${partial}\n`;
    partial = '';
    write(line);
  };
  stream.write = (chunk, encoding, callback) => {
    if (typeof encoding === 'function') callback = encoding;
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8'));
    const end = text.lastIndexOf('\n');
    if (end === -1) {
      partial = text;
      timer ??= setTimeout(flushPartial, 100).unref();
      if (typeof callback === 'function') queueMicrotask(callback);
      return true;
    }
    partial = text.slice(end + 1);
    if (partial === '' && timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    return write(`${prefix}${text.slice(0, end).replaceAll('\n', `\n${prefix}`)}\n`, callback);
  };
  return () => {
    clearTimeout(timer);
    flushPartial();
  };
}

/** A standby thread starts before its bundle is built: it asks the main thread, which answers once it is. */
function bundleFromMainThread() {
  return new Promise((resolve) => {
    const channel = new BroadcastChannel(workerData.controlChannel);
    channel.onmessage = ({ data }) => {
      if (typeof data?.bundle !== 'string') return;
      channel.close();
      resolve(data.bundle);
    };
    channel.postMessage({ wantsBundle: true });
  });
}

let runTask;
try {
  const startTasks = (await import(workerData.bundle ?? (await bundleFromMainThread()))).default;
  if (typeof startTasks !== 'function') throw new TypeError('the bundle has no task handler');
  runTask = startTasks(markMovable);
} catch (error) {
  const failure = {
    failure: 'load',
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : `a non-Error value was thrown: ${String(error)}`,
    stack: error instanceof Error ? error.stack : undefined,
    runMs: 0,
  };
  runTask = () => failure;
}

export default function run(task) {
  const answer = runTask(task);
  if (flushOutput === undefined) return answer;
  if (typeof answer?.then !== 'function') return flushOutput(), answer;
  return answer.then((value) => (flushOutput(), value));
}
