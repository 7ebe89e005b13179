import { describe, expect, it } from 'vitest';
import { ANSWERED, Job, QUEUED, type JobOwner } from '../../runtime/pool/job.js';
import { JobQueue } from '../../runtime/pool/job-queue.js';
import type { TaskEnvelope } from '../../runtime/protocol/envelope.js';

const owner: JobOwner = { cancel() {}, onTimeout() {}, onKillGraceOver() {} };
const job = (id: number) => {
  const envelope: TaskEnvelope = [id, 'GET', 'http://x/', [], null, null, 0];
  const created = new Job(owner, envelope);
  created.reply.catch(() => {});
  return created;
};
const idOf = (j: Job | undefined) => j?.envelope[0];

describe('JobQueue', () => {
  it('hands jobs out in the order they came', () => {
    const queue = new JobQueue();
    for (const id of [1, 2, 3]) queue.push(job(id));
    expect([queue.shift(), queue.shift(), queue.shift()].map(idOf)).toEqual([1, 2, 3]);
    expect(queue.shift()).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it('skips a job that left while waiting, and counts it out once', () => {
    const queue = new JobQueue();
    const [a, b, c] = [job(1), job(2), job(3)];
    queue.push(a);
    queue.push(b);
    queue.push(c);
    b.state = ANSWERED;
    queue.left();
    expect(queue.size).toBe(2);
    expect([queue.shift(), queue.shift()].map(idOf)).toEqual([1, 3]);
    expect(queue.size).toBe(0);
  });

  it('drains only the jobs still waiting', () => {
    const queue = new JobQueue();
    const jobs = [job(1), job(2), job(3), job(4)];
    for (const j of jobs) queue.push(j);
    jobs[1]!.state = ANSWERED;
    queue.left();
    expect(queue.shift()).toBe(jobs[0]);
    expect(queue.drain().map(idOf)).toEqual([3, 4]);
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it('keeps its order across compaction after thousands of jobs', () => {
    const queue = new JobQueue();
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 5000; round++) {
      queue.push(job(next++));
      queue.push(job(next++));
      out.push(idOf(queue.shift())!);
    }
    while (queue.size > 0) out.push(idOf(queue.shift())!);
    expect(out).toEqual([...Array(next).keys()]);
    expect(jobsStillQueued(queue)).toBe(0);
  });
});

function jobsStillQueued(queue: JobQueue): number {
  return queue.drain().filter((j) => j.state === QUEUED).length;
}
