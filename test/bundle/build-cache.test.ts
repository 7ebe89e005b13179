import { readdir, utimes, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BuildCache } from '../../runtime/bundle/build-cache.js';
import { createProject } from '../helpers/project.js';

const FOUND = { externals: [], warnings: [] };

async function builtProject() {
  const project = await createProject({ 'functions/a.ts': 'export default () => 1;\n', 'out/a.mjs': 'export default 1;\n', 'out/a.mjs.map': '{}' });
  const cache = new BuildCache(project.dir);
  // The build begins after its sources were written, as a real one does.
  const build = { generation: cache.begin('a'), builtFrom: Date.now() + 1 };
  return { project, cache, build, inputs: [project.path('functions/a.ts')], code: project.path('out/a.mjs'), map: project.path('out/a.mjs.map') };
}

async function restored(project: Awaited<ReturnType<typeof builtProject>>['project'], cache: BuildCache) {
  const file = project.path('out/restored.mjs');
  return cache.restore('a', 'options', file, `${file}.map`);
}

describe('BuildCache', () => {
  it('copies a stored bundle aside at once, so appending to it afterwards does not change the entry', async () => {
    const { project, cache, build, inputs, code, map } = await builtProject();
    await cache.store('a', build, 'options', inputs, FOUND, code, map);
    await writeFile(code, 'export default 1;\n//# sourceMappingURL=a.mjs.map\n');
    await cache.settled('a');
    expect(await restored(project, cache)).toEqual({ inputs, found: FOUND });
    expect(await readdir(project.path('.fngate/cache'))).toEqual(['a.json', 'a.mjs', 'a.mjs.map']);
  });

  it('drops an entry when another build of the function begins before it is written', async () => {
    const { project, cache, build, inputs, code, map } = await builtProject();
    await cache.store('a', build, 'options', inputs, FOUND, code, map);
    cache.begin('a');
    await cache.settled('a');
    expect(await restored(project, cache)).toBeUndefined();
    expect(await readdir(project.path('.fngate/cache'))).toEqual([]);
  });

  it('drops an entry whose source was saved after its build began, even when that save never builds', async () => {
    const { project, cache, build, inputs, code, map } = await builtProject();
    // A save (say, with a syntax error: its build fails and stores nothing) lands after esbuild read v1.
    await project.write('functions/a.ts', 'export default () => {;\n');
    await utimes(project.path('functions/a.ts'), new Date(), new Date(build.builtFrom + 1000));
    await cache.store('a', build, 'options', inputs, FOUND, code, map);
    await cache.settled('a');
    expect(await restored(project, cache)).toBeUndefined();
  });

  it('drops an entry when the watcher reports a change before it is written', async () => {
    const { project, cache, build, inputs, code, map } = await builtProject();
    await cache.store('a', build, 'options', inputs, FOUND, code, map);
    cache.invalidate('a');
    await cache.settled('a');
    expect(await restored(project, cache)).toBeUndefined();
  });
});
