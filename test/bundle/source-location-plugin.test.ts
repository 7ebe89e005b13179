import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { segmentOtherThan, sourceLocationPlugin } from '../../runtime/bundle/source-location-plugin.js';
import { createProject } from '../helpers/project.js';

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

describe('sourceLocationPlugin', () => {
  it('rewrites import.meta.url in a large file even where it straddles two reads, and leaves a file without it to esbuild', async () => {
    // The first read is 1 MiB: put the expression across that boundary.
    const filler = `// ${'x'.repeat(1024 * 1024 - 10)}\n`;
    const project = await createProject({
      'big.js': `${filler}export const url = import.meta.url;\n`,
      'plain.js': `export const plain = ${JSON.stringify('y'.repeat(2 * 1024 * 1024))}.length;\n`,
    });
    const result = await build({
      stdin: { contents: 'export { url } from "./big.js"; export { plain } from "./plain.js";', resolveDir: project.dir, loader: 'js' },
      bundle: true,
      format: 'esm',
      write: false,
      logLevel: 'silent',
      plugins: [sourceLocationPlugin(project.dir)],
    });
    const code = result.outputFiles[0]!.text;
    expect(code).toContain(JSON.stringify(`file://${project.path('big.js')}`));
    expect(code).not.toContain('import.meta');
  });
});
