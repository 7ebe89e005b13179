import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../runtime/commands/line-diff.js';

const BEFORE = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n') + '\n';

describe('lineDiff', () => {
  it('shows a replaced line as removed then added, with two lines of context and line numbers', () => {
    expect(lineDiff(BEFORE, BEFORE.replace('e\n', 'E\n'), 'config.yaml')).toBe('--- config.yaml\n+++ config.yaml\n@@ -3,5 +3,5 @@\n c\n d\n-e\n+E\n f\n g\n');
  });

  it('merges changes whose context overlaps into one hunk and keeps distant ones apart', () => {
    const after = BEFORE.replace('b\n', 'b\nb2\n').replace('d\n', 'D\n').replace('j\n', 'J\n');
    expect(lineDiff(BEFORE, after, 'x')).toBe('--- x\n+++ x\n@@ -1,6 +1,7 @@\n a\n b\n+b2\n c\n-d\n+D\n e\n f\n@@ -8,3 +9,3 @@\n h\n i\n-j\n+J\n');
  });

  it('is empty for equal texts, whatever their line endings', () => {
    expect(lineDiff('a\r\nb\r\n', 'a\nb\n', 'x')).toBe('');
  });
});
