import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * A thread that spends this long computing on one request belongs to a CPU-heavy function: it
 * lowers its own scheduling priority to nice 19, once, so that when the cores are busy the
 * gateway and the threads of light functions get them first (an idle core still runs it at full
 * speed). Linux only: elsewhere the nice value belongs to the whole process.
 */
export const HEAVY_TASK_MS = 20;
const LOW_PRIORITY = 19;

/**
 * Decides when this thread lowers its priority. Wall-clock measures (the synchronous part of a
 * handler call, the busy time of a request alone on the thread) are cheap but count the time
 * the thread was descheduled: on a loaded machine a trivial request can look heavy, and a light
 * function at nice 19 would then starve behind everything else. So a request that looks heavy
 * only arms a check: the next request measures this thread's real CPU time
 * (/proc/thread-self/stat, about 14 µs, read only while armed), and the priority drops only if
 * that request used HEAVY_TASK_MS of CPU.
 */
export class ThreadPriority {
  /** Lowered already, or not possible here. */
  lowered = process.platform !== 'linux';
  #armed = false;

  /** At the start of a request: the thread's CPU time (ms) when a check is armed. */
  sample(): number | undefined {
    return this.#armed && !this.lowered ? threadCpuMs() : undefined;
  }

  /** The request (started with `cpuStart`) took HEAVY_TASK_MS by the wall clock. */
  looksHeavy(cpuStart: number | undefined): void {
    if (this.lowered) return;
    if (cpuStart === undefined) {
      this.#armed = true;
      return;
    }
    const used = threadCpuMs();
    if (used === undefined) return void (this.lowered = true); // cannot measure: leave it alone
    if (used - cpuStart >= HEAVY_TASK_MS) this.#lower();
    else this.#armed = false;
  }

  /** The request (started with `cpuStart`) did not look heavy: a pending check is cleared. */
  looksLight(cpuStart: number | undefined): void {
    if (cpuStart !== undefined) this.#armed = false;
  }

  #lower(): void {
    this.lowered = true;
    try {
      setPriority(0, LOW_PRIORITY); // 0 = the calling thread, on Linux
    } catch {
      // not allowed here: keep the normal priority
    }
  }
}

/** User plus system CPU time of the calling thread, ms (10 ms resolution), or undefined. */
function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
