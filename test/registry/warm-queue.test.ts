import { describe, expect, it } from 'vitest';
import { WarmQueue } from '../../runtime/registry/warm-queue.js';

/** A task that finishes when the test says so, recording when it started. */
function gate(started: string[], key: string) {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { task: () => (started.push(key), done.then(() => key)), open };
}

describe('WarmQueue', () => {
  it('runs at most `slots` tasks at once, the rest in order as slots free up', async () => {
    const queue = new WarmQueue(2);
    const started: string[] = [];
    const gates = ['a', 'b', 'c', 'd'].map((key) => ({ key, ...gate(started, key) }));
    const results = gates.map(({ key, task }) => queue.run(key, task));
    expect(started).toEqual(['a', 'b']);
    expect(queue.queued).toBe(2);
    gates[1]!.open();
    await results[1];
    await Promise.resolve();
    expect(started).toEqual(['a', 'b', 'c']);
    gates[0]!.open();
    gates[2]!.open();
    gates[3]!.open();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('starts a prioritized task at once, beyond the slots, and the rest only when running tasks are below the slots again', async () => {
    const queue = new WarmQueue(1);
    const started: string[] = [];
    const gates = ['a', 'b', 'c', 'd'].map((key) => ({ key, ...gate(started, key) }));
    const results = gates.map(({ key, task }) => queue.run(key, task));
    queue.prioritize('d');
    queue.prioritize('a'); // already running: nothing to do
    expect(started).toEqual(['a', 'd']);
    gates[0]!.open();
    await results[0];
    await Promise.resolve();
    expect(started).toEqual(['a', 'd']); // d still holds the one slot
    gates[3]!.open();
    await results[3];
    await Promise.resolve();
    expect(started).toEqual(['a', 'd', 'b']);
    for (const g of gates) g.open();
    await Promise.all(results);
    expect(started).toEqual(['a', 'd', 'b', 'c']);
  });

  it('starts prioritized tasks beyond the slots only up to twice the slots, then queues them first', async () => {
    const queue = new WarmQueue(1);
    const started: string[] = [];
    const gates = ['a', 'b', 'c', 'd'].map((key) => ({ key, ...gate(started, key) }));
    const results = gates.map(({ key, task }) => queue.run(key, task));
    queue.prioritize('c');
    queue.prioritize('d');
    expect(started).toEqual(['a', 'c']);
    gates[0]!.open();
    gates[2]!.open();
    await Promise.all([results[0], results[2]]);
    await Promise.resolve();
    expect(started).toEqual(['a', 'c', 'd']);
    for (const g of gates) g.open();
    await Promise.all(results);
    expect(started).toEqual(['a', 'c', 'd', 'b']);
  });

  it('frees the slot of a task that fails', async () => {
    const queue = new WarmQueue(1);
    await expect(queue.run('a', () => Promise.reject(new Error('load failed')))).rejects.toThrow('load failed');
    expect(await queue.run('b', () => Promise.resolve('b'))).toBe('b');
  });
});
