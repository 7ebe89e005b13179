/**
 * Runs on a function's worker threads, bundled together with the user's module: this is the
 * only runtime code that touches user code. It rebuilds a Request from the envelope, calls the
 * handler and turns whatever it returns into a TaskReply.
 */
import { performance } from 'node:perf_hooks';
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { Envelope, isBatch, PROBE_ID, type ScheduledTask, type Task, type TaskEnvelope } from '../protocol/envelope.js';
import type { TaskFailure, TaskOutcome } from '../protocol/failure.js';
import { HEAP_SAMPLE_MS, Reply, type TaskReply } from '../protocol/reply.js';
import { isTransfer, kTransferable, kValue, transfer, type MarkMovable, type Transfer } from '../protocol/transfer.js';
import type { AbortMessage, ExitNotice, FunctionWorkerData } from '../protocol/worker-data.js';
import type { Context, FunctionEnv, ScheduledController, ScheduledHandler } from '../types/handler.js';
import { createLambdaInvoker, createLambdaScheduledInvoker } from './lambda-adapter.js';
import { createEnvelopeRequest } from './envelope-request.js';
import { installBufferedResponse } from './buffered-response.js';
import { deferWebApis } from './web-globals.js';
import { HEAVY_TASK_MS, ThreadPriority } from './thread-priority.js';
import type { Continuation } from './continuation.js';
import { replyFromResult } from './reply-from-result.js';
import { TaskContext } from './task-context.js';

/**
 * Heavy threads lower their priority (see ThreadPriority). Two measures, neither counting time
 * spent awaiting: the synchronous part of a handler call, and the event-loop busy time of a
 * request that had the thread to itself from start to finish (with several requests
 * interleaved, busy time cannot be told apart, and many short requests in a row are exactly
 * what must keep normal priority).
 */
const priority = new ThreadPriority();

type Invoke = (req: Request, ctx: Context) => unknown;

const PROBE_REPLY: TaskReply = [200, [], null, 0, 0, 0, 0];
const EXPIRED: TaskFailure = {
  failure: 'expired',
  name: 'TimeoutError',
  message: 'the request reached a thread after its deadline and was not run',
  stack: undefined,
  runMs: 0,
};

// Before any user module runs (the bundle imports this file first): undici and the web streams
// load only when something on the thread uses them, and then `Response` is a BufferedResponse.
deferWebApis();
installBufferedResponse();

/** Requests the handler is running on this thread now; set once the module has loaded. */
let requestsRunning: (() => number) | undefined;
{
  // Wrapped before the module loads, so even a process.exit it kept a reference to is reported.
  // (The 'exit' event would not do: an uncaught error fires it too, and that one piscina reports.)
  const exit = process.exit.bind(process);
  // While the module loads, the warm-up reports the exit as a load failure instead. Node's own
  // handler of an uncaught error ends the thread through process.exit() too, once it has set
  // _exiting: that death piscina reports as an error.
  process.exit = ((code?: number | string | null) => {
    if (requestsRunning !== undefined && !(process as { _exiting?: boolean })._exiting) {
      const notice: ExitNotice = { exited: Number(code ?? process.exitCode ?? 0), duringRequest: requestsRunning() > 0 };
      const channel = new BroadcastChannel((workerData as FunctionWorkerData).controlChannel);
      channel.postMessage(notice);
      channel.close();
    }
    return exit(code);
  }) as typeof process.exit;
}

/** What a function's bundle exports by default: given the worker entry's way to mark a transfer, the thread's task runner. */
export type StartTasks = (markMovable: MarkMovable) => (task: Task) => unknown;

/**
 * Called once per thread when the bundle loads. Throws (making the function unavailable with
 * that message) when the module does not export something fngate can call.
 */
export function createTaskHandler(mod: Record<string, unknown>, source: string): StartTasks {
  const data = workerData as FunctionWorkerData;
  // A scheduled run goes to `scheduled()` (or the Lambda handler); without one, to `invoke`.
  const runScheduled = resolveScheduled(mod, data.type, data.name);
  let invoke: Invoke;
  try {
    invoke = resolveEntry(mod, source, data.type, data.name);
  } catch (error) {
    // A module with only scheduled() loads: only a request (it has no routes, or they are new) finds out.
    if (runScheduled === undefined) throw error;
    invoke = () => {
      throw error;
    };
  }
  const env: FunctionEnv = Object.freeze({ ...data.env });
  const shared = data.shared;
  const running = new Map<number, TaskContext>();
  /** Requests that go on after their reply, by id, for their keep-busy tasks. */
  const continuations = new Map<number, Continuation>();

  requestsRunning = () => running.size;
  const control = new BroadcastChannel(data.controlChannel);
  control.onmessage = (event) => {
    const message = (event as { data: AbortMessage }).data;
    running.get(message.abort)?.abort(message.reason);
  };
  control.unref();

  /** Requests started on this thread so far: a request had it to itself if none started after it. */
  let starts = 0;

  const finish = (id: number, ctx: TaskContext) => {
    running.delete(id);
    ctx.dispose();
    if (priority.lowered) return;
    const alone = ctx.busySince !== undefined && ctx.startIndex === starts;
    if (alone && performance.eventLoopUtilization(ctx.busySince).active >= HEAVY_TASK_MS) priority.looksHeavy(ctx.cpuStart);
    else priority.looksLight(ctx.cpuStart);
  };
  const fail = (id: number, ctx: TaskContext, error: unknown, start: number) => {
    finish(id, ctx);
    // No reply carries it: its waitUntil work runs on unheld, its stream is dropped.
    ctx.replied()?.abandon();
    return describeFailure('function', error, start);
  };
  let busyAtLastAnswer = performance.eventLoopUtilization().active;
  // The heap as of the last sample: sampled right after a request's work, it includes that
  // request's garbage not yet collected, which is what the heap limit has to hold too. node:v8
  // is loaded by the first sample, not with the thread: loading it costs about 1 ms, which a
  // thread's start (a hot reload waits for it) should not pay.
  let heapBytes = 0;
  let heapSampledAt = -Infinity;
  let v8: typeof import('node:v8') | undefined;
  const done = (id: number, ctx: TaskContext, reply: TaskReply) => {
    finish(id, ctx);
    const continuation = ctx.replied();
    if (continuation !== undefined) {
      reply[Reply.continuation] = continuation.remote;
      continuations.set(id, continuation);
      void continuation.finished.then(() => continuations.delete(id));
      continuation.replied();
    }
    const busy = performance.eventLoopUtilization().active;
    reply[Reply.cpuMs] = busy - busyAtLastAnswer;
    busyAtLastAnswer = busy;
    const now = performance.now();
    if (now - heapSampledAt >= HEAP_SAMPLE_MS) {
      heapBytes = (v8 ??= process.getBuiltinModule('node:v8')).getHeapStatistics().used_heap_size;
      heapSampledAt = now;
    }
    reply[Reply.heapBytes] = heapBytes;
    return transferable(reply);
  };

  // Synchronous all the way for a handler that returns a plain value: every promise layer here
  // costs allocations per request.
  const runOne = (task: TaskEnvelope): Answer | Promise<Answer> => {
    const id = task[Envelope.id];
    if (id === PROBE_ID) {
      // Loading the module is not the first request's cost: its cpuMs starts from here.
      busyAtLastAnswer = performance.eventLoopUtilization().active;
      return PROBE_REPLY;
    }
    if (id < 0) return continuations.get(-id)?.finished.then(() => null) ?? null;
    // A task that reached a thread after its deadline was already answered with 504: running it
    // would only occupy the thread (forever, for a handler that never yields).
    if (Date.now() >= task[Envelope.deadline]) return EXPIRED;
    const start = performance.now();
    const ctx = new TaskContext(task, data.name, env, shared);
    ctx.startIndex = ++starts;
    if (!priority.lowered) {
      if (running.size === 0) ctx.busySince = performance.eventLoopUtilization();
      ctx.cpuStart = priority.sample();
    }
    running.set(id, ctx);
    try {
      const scheduled = task[Envelope.scheduled];
      const result = scheduled !== undefined && runScheduled !== undefined ? runScheduled(scheduled, ctx) : invoke(createEnvelopeRequest(task, ctx), ctx);
      if (!priority.lowered && performance.now() - start >= HEAVY_TASK_MS) {
        priority.looksHeavy(ctx.cpuStart);
        ctx.cpuStart = undefined; // measured
      }
      if (result instanceof Promise || (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function')) {
        return Promise.resolve(result)
          .then((value) => replyFromResult(value, start, ctx.continuation))
          .then(
            (reply) => done(id, ctx, reply),
            (error: unknown) => fail(id, ctx, error, start),
          );
      }
      const reply = replyFromResult(result, start, ctx.continuation);
      if (reply instanceof Promise) {
        return reply.then(
          (value) => done(id, ctx, value),
          (error: unknown) => fail(id, ctx, error, start),
        );
      }
      return done(id, ctx, reply);
    } catch (error) {
      return fail(id, ctx, error, start);
    }
  };

  return (markMovable) => {
    const move = (answer: Answer): Answer => {
      if (isTransfer(answer)) markMovable(answer);
      return answer;
    };
    /** A batch answers with one outcome per request; what they transfer travels in one list. */
    const moveBatch = (answers: readonly Answer[]): unknown => {
      const list: Transfer<unknown>[typeof kTransferable][number][] = [];
      const values = answers.map((answer) => {
        if (!isTransfer(answer)) return answer;
        list.push(...answer[kTransferable]);
        return answer[kValue];
      });
      if (list.length === 0) return values;
      const moved = transfer(values, list);
      markMovable(moved);
      return moved;
    };
    return (task) => {
      if (isBatch(task)) {
        const answers = task.map(runOne);
        return answers.some(isThenable) ? Promise.all(answers).then(moveBatch) : moveBatch(answers as Answer[]);
      }
      const answer = runOne(task);
      return isThenable(answer) ? answer.then(move) : move(answer);
    };
  };
}

/** What one task answers on this thread: an outcome, the same to be moved, or nothing (a keep-busy task). */
type Answer = TaskOutcome | Transfer<TaskOutcome> | null;

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A reply with a binary body or a continuation port moves those instead of copying them. */
function transferable(reply: TaskReply): TaskReply | Transfer<TaskReply> {
  const body = reply[Reply.body];
  const port = reply[Reply.continuation];
  if (port !== undefined) return transfer(reply, body instanceof ArrayBuffer ? [body, port] : [port]);
  return body instanceof ArrayBuffer ? transfer(reply, [body]) : reply;
}

/**
 * What to call, by config `type`: `handler` a default-exported (req, ctx) function, `fetch` a
 * default-exported { fetch }, `lambda` an exported AWS Lambda `handler`; `auto` the default
 * export if there is one, else `handler`.
 */
function resolveEntry(mod: Record<string, unknown>, source: string, type: FunctionWorkerData['type'], name: string): Invoke {
  const entry = mod.default;
  // A CommonJS module's `exports.handler` arrives on its default export (module.exports).
  const lambda = mod.handler ?? (entry !== null && typeof entry === 'object' ? (entry as { handler?: unknown }).handler : undefined);
  const defaultCallable = typeof entry === 'function' || (entry !== null && typeof entry === 'object' && typeof (entry as { fetch?: unknown }).fetch === 'function');
  const wantsLambda = type === 'lambda' || (type === 'auto' && !defaultCallable && typeof lambda === 'function');
  if (wantsLambda) {
    if (typeof lambda === 'function') return createLambdaInvoker(lambda as (...args: unknown[]) => unknown, name);
    const found = lambda === undefined ? 'no `handler` export' : `a \`handler\` export of type ${typeof lambda}`;
    throw new TypeError(`${source} must export a Lambda handler: export const handler = async (event, context) => ...; found ${found}`);
  }
  if (typeof entry === 'function' && type !== 'fetch') {
    return entry as Invoke;
  }
  if (entry !== null && typeof entry === 'object' && typeof (entry as { fetch?: unknown }).fetch === 'function' && type !== 'handler') {
    const target = entry as { fetch(req: Request, env: FunctionEnv, ctx: Context): unknown };
    return (req, ctx) => target.fetch(req, ctx.env, ctx);
  }
  const found = entry === undefined ? 'no default export' : `a default export of type ${typeof entry}`;
  const expected =
    type === 'handler' ? 'a handler function (req, ctx) => ... (type: handler)'
    : type === 'fetch' ? 'an object with fetch(req, env, ctx) (type: fetch)'
    : 'a handler function (req, ctx) => ... or an object with fetch(req, env, ctx), or export a Lambda `handler`';
  throw new TypeError(`${source} must export default ${expected}; found ${found}`);
}

/**
 * What a scheduled run calls, when the module has it: a `scheduled(controller, env, ctx)` export
 * (a method of the default export, as in Workers, or a named export), or the Lambda handler
 * (an EventBridge event). Its result is ignored (the run answers 204); a throw fails the run.
 */
function resolveScheduled(mod: Record<string, unknown>, type: FunctionWorkerData['type'], name: string): ((task: ScheduledTask, ctx: TaskContext) => unknown) | undefined {
  const entry = mod.default;
  if (type !== 'lambda') {
    const holder =
      entry !== null && typeof entry === 'object' && typeof (entry as { scheduled?: unknown }).scheduled === 'function' ? (entry as { scheduled: ScheduledHandler })
      : typeof mod.scheduled === 'function' ? (mod as { scheduled: ScheduledHandler })
      : undefined;
    if (holder !== undefined) {
      return (_task, ctx) => {
        const returned = holder.scheduled(ctx.scheduled!, ctx.env, ctx);
        return isThenable(returned) ? returned.then(() => undefined) : undefined;
      };
    }
  }
  const lambda = mod.handler ?? (entry !== null && typeof entry === 'object' ? (entry as { handler?: unknown }).handler : undefined);
  const defaultCallable = typeof entry === 'function' || (entry !== null && typeof entry === 'object' && typeof (entry as { fetch?: unknown }).fetch === 'function');
  if (typeof lambda === 'function' && (type === 'lambda' || (type === 'auto' && !defaultCallable))) {
    return createLambdaScheduledInvoker(lambda as (...args: unknown[]) => unknown, name);
  }
  return undefined;
}

export function describeFailure(kind: TaskFailure['failure'], error: unknown, start: number): TaskFailure {
  const runMs = Math.round((performance.now() - start) * 100) / 100;
  if (error instanceof Error) {
    return { failure: kind, name: error.name, message: error.message, stack: error.stack, runMs };
  }
  let shown: string;
  try {
    shown = typeof error === 'string' ? JSON.stringify(error) : String(error);
  } catch {
    shown = Object.prototype.toString.call(error);
  }
  return { failure: kind, name: 'Error', message: `a non-Error value was thrown: ${shown}`, stack: undefined, runMs };
}
