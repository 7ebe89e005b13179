import type { FngateError } from '../errors.js';
import type { Reply } from './function-pool.js';
import type { TaskEnvelope } from './protocol.js';

export const QUEUED = 0;
export const RUNNING = 1;
/** The client has its answer (reply, error, timeout or cancel); a thread may still hold the task. */
export const ANSWERED = 2;
export type CallState = typeof QUEUED | typeof RUNNING | typeof ANSWERED;

/** What the pool does with a call; timer callbacks go through it without a closure per call. */
export interface CallOwner {
  cancel(call: Call): void;
  onTimeout(call: Call): void;
  onKillGraceOver(call: Call): void;
}

/** One request's journey through a function's pool. */
export class Call {
  readonly owner: CallOwner;
  readonly envelope: TaskEnvelope;
  readonly promise: Promise<Reply>;
  readonly submittedAt = performance.now();
  state: CallState = QUEUED;
  /** The thread running the task, once piscina placed it; -1 before. */
  threadId = -1;
  /** The thread pool the task was handed to (pools are replaced after a crash loop). */
  threads: object | undefined;
  timer: NodeJS.Timeout | undefined;
  resolve!: (reply: Reply) => void;
  reject!: (error: FngateError) => void;

  constructor(owner: CallOwner, envelope: TaskEnvelope) {
    this.owner = owner;
    this.envelope = envelope;
    this.promise = new Promise<Reply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The client went away: a queued call never runs; a running one sees ctx.signal abort. */
  cancel(): void {
    this.owner.cancel(this);
  }
}

export function onCallTimeout(call: Call): void {
  call.owner.onTimeout(call);
}

export function onKillGraceOver(call: Call): void {
  call.owner.onKillGraceOver(call);
}
