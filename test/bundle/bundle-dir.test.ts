import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBundleDir } from '../../runtime/bundle/bundle-dir.js';
import { createProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

describe('bundle directories', () => {
  it("removes a dead process's run directory and keeps a live one's", async () => {
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const project = await createProject({
      [`.fngate/run-${deadPid}-0000dead/f.js`]: 'export default 1;\n',
      [`.fngate/run-${process.pid}-0000live/f.js`]: 'export default 2;\n',
    });
    const own = await createBundleDir(project.dir);
    expect(basename(own)).toMatch(new RegExp(`^run-${process.pid}-[0-9a-f]{8}$`));
    await waitFor(() => !existsSync(project.path(`.fngate/run-${deadPid}-0000dead`)), { what: "the dead process's directory to go" });
    expect(existsSync(project.path(`.fngate/run-${process.pid}-0000live/f.js`))).toBe(true);
  });
});
