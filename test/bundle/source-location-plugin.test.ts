import { describe, expect, it } from 'vitest';
import { segmentOtherThan } from '../../runtime/bundle/source-location-plugin.js';

describe('segmentOtherThan', () => {
  it('matches every path segment except exactly the excluded name', () => {
    const segment = new RegExp(`^${segmentOtherThan('node_modules')}$`);
    expect(segment.test('node_modules')).toBe(false);
    for (const name of ['n', 'node', 'node_module', 'node_modulesx', 'xnode_modules', 'Node_modules', 'functions', 'lib', '.hidden']) {
      expect(segment.test(name), name).toBe(true);
    }
    expect(segment.test('a/b')).toBe(false);
  });
});
