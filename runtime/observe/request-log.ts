import type { Logger } from '../common/logger.js';

/**
 * One line per request in `fngate dev`: method, target, status, function, queue and run time.
 * Lines are collected and written once per turn of the event loop, so a burst of requests costs
 * one write, and a line is never split by a function's own output.
 */
export class RequestLog {
  readonly #logger: Logger;
  #lines: string[] = [];
  #flush: NodeJS.Immediate | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  answered(method: string, target: string, fn: string, status: number, queueMs: number, runMs: number): void {
    this.#add(`${method} ${target} ${status} ${fn}  queue ${ms(queueMs)}  run ${ms(runMs)}`);
  }

  failed(method: string, target: string, fn: string, status: number, code: string, totalMs: number): void {
    this.#add(`${method} ${target} ${status} ${fn} ${code}  after ${ms(totalMs)}`);
  }

  /** A request no function got: no route (404), another method (405), a malformed path (400). */
  unrouted(method: string, target: string, status: number, code: string): void {
    this.#add(`${method} ${target} ${status} ${code}`);
  }

  /** Writes what is buffered now (at shutdown). */
  flush(): void {
    clearImmediate(this.#flush);
    this.#flush = undefined;
    if (this.#lines.length === 0) return;
    const lines = this.#lines;
    this.#lines = [];
    this.#logger.info(lines.join('\n'));
  }

  #add(line: string): void {
    this.#lines.push(line);
    this.#flush ??= setImmediate(flushLog, this);
  }
}

function flushLog(log: RequestLog): void {
  log.flush();
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}
