import { readdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BuildCache } from '../../runtime/bundle/build-cache.js';
import { createProject } from '../helpers/project.js';

const FOUND = { externals: [], warnings: [] };

async function builtProject() {
  const project = await createProject({ 'functions/a.ts': 'export default () => 1;\n', 'out/a.mjs': 'export default 1;\n', 'out/a.mjs.map': '{}' });
  return { project, inputs: [project.path('functions/a.ts')], code: project.path('out/a.mjs'), map: project.path('out/a.mjs.map') };
}

describe('BuildCache', () => {
  it('copies a stored bundle aside at once, so appending to it afterwards does not change the entry', async () => {
    const { project, inputs, code, map } = await builtProject();
    const cache = new BuildCache(project.dir);
    await cache.store('a', 'options', inputs, FOUND, code, map);
    await writeFile(code, 'export default 1;\n//# sourceMappingURL=a.mjs.map\n');
    await cache.settled('a');
    const restored = project.path('out/restored.mjs');
    expect(await cache.restore('a', 'options', restored, `${restored}.map`)).toEqual({ inputs, found: FOUND });
    expect(await readdir(project.path('.fngate/cache'))).toEqual(['a.json', 'a.mjs', 'a.mjs.map']);
  });

  it('drops an entry when another build of the function begins before it is written', async () => {
    const { project, inputs, code, map } = await builtProject();
    const cache = new BuildCache(project.dir);
    cache.building('a');
    await cache.store('a', 'options', inputs, FOUND, code, map);
    cache.building('a'); // an edit: the inputs may no longer be what this bundle was built from
    await cache.settled('a');
    const restored = project.path('out/restored.mjs');
    expect(await cache.restore('a', 'options', restored, `${restored}.map`)).toBeUndefined();
    expect(await readdir(project.path('.fngate/cache')).catch(() => [])).toEqual([]);
  });
});
