import type { EventLoopUtilization } from 'node:perf_hooks';
import type { FngateError } from '../common/errors.js';
import type { TaskEnvelope } from '../protocol/envelope.js';
import type { Invocation, ResponseSink } from '../protocol/invocation.js';
import type { TaskReply } from '../protocol/reply.js';
import type { Placement } from './balancer.js';

/** Waiting in the pool's queue: every thread slot is taken. */
export const QUEUED = 0;
/** Has a thread slot, and goes out with the next batch (short functions only). */
export const RESERVED = 1;
/** Handed to a thread. */
export const RUNNING = 2;
/** The client has its answer (reply, error, timeout or cancel); a thread may still hold the task. */
export const ANSWERED = 3;
export type JobState = typeof QUEUED | typeof RESERVED | typeof RUNNING | typeof ANSWERED;

/** What the pool does with a job; timer callbacks go through it without a closure per job. */
export interface JobOwner {
  cancel(job: Job): void;
  onTimeout(job: Job): void;
  onKillGraceOver(job: Job): void;
}

/**
 * One request's journey through a function's pool, and the Invocation the gateway holds. A job
 * sent on its own is its own placement.
 */
export class Job implements Invocation, Placement {
  readonly owner: JobOwner;
  readonly envelope: TaskEnvelope;
  /** Where the response goes: cut when a streamed body fails midway. */
  readonly sink: ResponseSink | undefined;
  readonly reply: Promise<TaskReply>;
  readonly submittedAt = performance.now();
  readonly size = 1;
  state: JobState = QUEUED;
  /** The thread running the task, once piscina placed it; -1 before. */
  threadId = -1;
  /** The thread pool the task was handed to (pools are replaced after a crash loop). */
  threads: object | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The thread's event-loop counters when the job timed out (to tell a blocked thread from one awaiting). */
  loopAtTimeout: EventLoopUtilization | undefined;
  /** A streamed response body, set before the reply resolves. */
  body: ReadableStream<Uint8Array> | null = null;
  resolve!: (reply: TaskReply) => void;
  reject!: (error: FngateError) => void;

  constructor(owner: JobOwner, envelope: TaskEnvelope, sink?: ResponseSink) {
    this.owner = owner;
    this.envelope = envelope;
    this.sink = sink;
    this.reply = new Promise<TaskReply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  cancel(): void {
    this.owner.cancel(this);
  }
}

/** The placement of a batch: the thread piscina picks is the thread of every job in it. */
export class BatchPlacement implements Placement {
  readonly #jobs: readonly Job[];

  constructor(jobs: readonly Job[]) {
    this.#jobs = jobs;
  }

  get size(): number {
    return this.#jobs.length;
  }

  get threadId(): number {
    return this.#jobs[0]!.threadId;
  }

  set threadId(id: number) {
    for (const job of this.#jobs) job.threadId = id;
  }
}

export function onJobTimeout(job: Job): void {
  job.owner.onTimeout(job);
}

export function onKillGraceOver(job: Job): void {
  job.owner.onKillGraceOver(job);
}
