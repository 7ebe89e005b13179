import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { notUnder, segmentOtherThan } from '../../runtime/bundle/path-filters.js';
import { sourceLocationPlugin } from '../../runtime/bundle/source-location-plugin.js';
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

describe('notUnder', () => {
  it('matches exactly the paths under none of the prefixes, special characters included', () => {
    const filter = notUnder(['/p/node_modules/', '/p/dist/', '/x[1]-(y)+/node_modules/']);
    for (const path of ['/p/node_modules/zod/index.js', '/p/dist/worker/a.js', '/x[1]-(y)+/node_modules/a.js']) expect(filter.test(path), path).toBe(false);
    for (const path of ['/p/functions/a.ts', '/p/node_modules', '/p/node_modulesx/a.js', '/p/dis', '/p/distx/a.js', '/dev/zero', '/other/node_modules/a.js', '/x[1]-(y)+/a.js', '/x[1]-(y)/node_modules/a.js', '']) {
      expect(filter.test(path), path).toBe(true);
    }
  });

  it('matches every path, rather than nesting too deep for Go, when a prefix is longer than 400 characters', async () => {
    const long = `/${'d'.repeat(600)}/node_modules/`;
    const filter = notUnder([long]);
    expect(filter.test(`${long}a.js`)).toBe(true);
    await expect(build({ stdin: { contents: '' }, write: false, logLevel: 'silent', plugins: [{ name: 'long', setup: (b) => b.onLoad({ filter }, () => undefined) }] })).resolves.toBeDefined();
  });

  it('is a filter esbuild accepts: a plugin with it is called for project files only', async () => {
    const project = await createProject({ 'functions/a.js': 'export { b } from "../lib/b.js";\n', 'lib/b.js': 'export { c as b } from "c";\n', 'node_modules/c/index.js': 'export const c = 1;\n' });
    const seen: string[] = [];
    await build({
      entryPoints: [`${project.dir}/functions/a.js`],
      bundle: true,
      write: false,
      logLevel: 'silent',
      plugins: [{ name: 'spy', setup: (b) => b.onLoad({ filter: notUnder([`${project.dir}/node_modules/`]) }, (args) => void seen.push(args.path)) }],
    });
    expect(seen.map((path) => path.slice(project.dir.length)).sort()).toEqual(['/functions/a.js', '/lib/b.js']);
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
