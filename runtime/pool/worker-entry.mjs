// The file every function worker thread starts from. Plain JavaScript on purpose: worker
// threads cannot load TypeScript, and this file must work unbuilt. It imports the function's
// bundle once per thread (piscina marks the thread ready only after this top-level await),
// and turns a module that throws while loading into an answer for every task instead of a
// crash: no respawn loop, and the gateway reports the load error as 503 FNGATE_UNAVAILABLE.
import { workerData } from 'node:worker_threads';
import { move } from 'piscina';

const kTransferable = Symbol.for('Piscina.transferable');

let runTask;
try {
  runTask = (await import(workerData.bundle)).default;
  if (typeof runTask !== 'function') throw new TypeError('the bundle has no task handler');
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

function transfer(outcome) {
  return outcome !== null && typeof outcome === 'object' && kTransferable in outcome ? move(outcome) : outcome;
}

export default function run(task) {
  const outcome = runTask(task);
  return typeof outcome?.then === 'function' ? outcome.then(transfer) : outcome;
}
