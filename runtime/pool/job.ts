import type { FngateError } from '../common/errors.js';
import type { TaskEnvelope, TaskReply } from '../protocol/messages.js';

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

/** Where piscina placed a task (the load balancer fills in the thread), and how many requests it carries. */
export interface Placement {
  threadId: number;
  readonly size: number;
  /** Must run on `threadId` (a keep-busy task); counts no load. */
  readonly pinned?: boolean;
}

/** One request's journey through a function's pool. A job sent on its own is its own placement. */
export class Job implements Placement {
  readonly owner: JobOwner;
  readonly envelope: TaskEnvelope;
  readonly promise: Promise<TaskReply>;
  readonly submittedAt = performance.now();
  readonly size = 1;
  state: JobState = QUEUED;
  /** The thread running the task, once piscina placed it; -1 before. */
  threadId = -1;
  /** The thread pool the task was handed to (pools are replaced after a crash loop). */
  threads: object | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The thread's event-loop counters when the job timed out (to tell a blocked thread from one awaiting). */
  loopAtTimeout: object | undefined;
  /** A streamed response body, set before the promise resolves. */
  body: ReadableStream<Uint8Array> | null = null;
  /**
   * Set by the gateway for a streamed body: the stream failed midway, so the connection must be
   * cut (the client sees a truncated response). Without it the body stream errors.
   */
  onBodyFailure: (() => void) | undefined;
  resolve!: (reply: TaskReply) => void;
  reject!: (error: FngateError) => void;

  constructor(owner: JobOwner, envelope: TaskEnvelope) {
    this.owner = owner;
    this.envelope = envelope;
    this.promise = new Promise<TaskReply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The client went away: a waiting job never runs; a running one sees ctx.signal abort. */
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
