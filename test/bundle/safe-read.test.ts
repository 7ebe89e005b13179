import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileDigest } from '../../runtime/bundle/safe-read.js';

describe('build cache hashing', () => {
  it('hashes a 50 MB input a read at a time, never holding it whole (which cost the gateway a full garbage collection)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fngate-digest-'));
    try {
      const contents = Buffer.alloc(50 * 2 ** 20, 97);
      await writeFile(join(dir, 'rows.js'), contents);
      const baseline = process.memoryUsage().arrayBuffers;
      let peak = 0;
      let hashing = true;
      const sample = () => {
        if (!hashing) return;
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
        setImmediate(sample);
      };
      setImmediate(sample);
      const digest = await fileDigest(join(dir, 'rows.js'));
      hashing = false;
      expect(digest?.toString('hex')).toBe(createHash('sha256').update(contents).digest('hex'));
      expect(peak).toBeLessThan(8 * 2 ** 20);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hashes a small file whole, and a file that reports size 0 (procfs) to its end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fngate-digest-'));
    try {
      await writeFile(join(dir, 'small.ts'), 'export default () => 1;\n');
      expect((await fileDigest(join(dir, 'small.ts')))?.toString('hex')).toBe(createHash('sha256').update('export default () => 1;\n').digest('hex'));
      await writeFile(join(dir, 'empty.ts'), '');
      expect((await fileDigest(join(dir, 'empty.ts')))?.toString('hex')).toBe(createHash('sha256').digest('hex'));
      const status = await fileDigest('/proc/self/status');
      expect(status?.toString('hex')).not.toBe(createHash('sha256').digest('hex'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
