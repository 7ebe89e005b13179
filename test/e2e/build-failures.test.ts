import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { errorOf, startRuntime } from '../helpers/runtime.js';

const CONFIG = `
defaults: { minThreads: 0, maxThreads: 1 }
functions:
  good:
    routes: GET /good
  bad:
    routes: GET /bad
`;

async function projectWithBad(badSource: string, extra: Record<string, string> = {}) {
  return createProject({
    'config.yaml': CONFIG,
    'functions/good.ts': 'export default () => "good";',
    'functions/bad.ts': badSource,
    ...extra,
  });
}

describe('functions that fail to build or load', () => {
  it('starts anyway, prints the esbuild error with a code frame, and answers 503 with file:line:column', async () => {
    const project = await projectWithBad('export default () => {\n  const x = ;\n};\n');
    const { fetch, logs } = await startRuntime({ cwd: project.dir });
    const response = await fetch('/bad');
    expect(response.status).toBe(503);
    const error = await errorOf(response);
    expect(error.code).toBe('FNGATE_UNAVAILABLE');
    expect(error.function).toBe('bad');
    expect(error.message).toMatch(/^bad failed to build: functions\/bad\.ts:2:13: Unexpected ";"/);
    expect(logs.text()).toContain('functions/bad.ts:2:13: Unexpected ";"');
    expect(logs.text()).toContain('2 │   const x = ;');
    expect(await (await fetch('/good')).text()).toBe('good');
  });

  it('answers 503 with the error when the module throws while loading, without hanging', async () => {
    const project = await projectWithBad('throw new Error("missing API key");\nexport default () => "never";\n');
    const { fetch, logs } = await startRuntime({ cwd: project.dir });
    const error = await errorOf(await fetch('/bad'));
    expect(error.code).toBe('FNGATE_UNAVAILABLE');
    expect(error.message).toBe('bad failed to load: Error: missing API key');
    expect(logs.text()).toMatch(/bad failed to load: Error: missing API key/);
    expect(await (await fetch('/good')).text()).toBe('good');
  });

  it('explains what a module must export when it exports nothing callable', async () => {
    const project = await projectWithBad('export const handler = 1;\n');
    const { fetch } = await startRuntime({ cwd: project.dir });
    const error = await errorOf(await fetch('/bad'));
    expect(error.message).toMatch(
      /functions\/bad\.ts must export default a handler function \(req, ctx\) => \.\.\. or an object with fetch\(req, env, ctx\), or export a Lambda `handler`; found no default export/,
    );
  });

  it('refuses a function that imports a file outside the project directory', async () => {
    // The project's parent directory is shared (the temp dir): use a name no other test uses.
    const name = `outside-${process.pid}-${Date.now()}.json`;
    const project = await projectWithBad(`import data from "../../${name}";\nexport default () => data;\n`);
    const outside = join(dirname(project.dir), name);
    await writeFile(outside, '{"secret": true}');
    try {
      const { fetch } = await startRuntime({ cwd: project.dir });
      const error = await errorOf(await fetch('/bad'));
      expect(error.code).toBe('FNGATE_UNAVAILABLE');
      expect(error.message).toContain(`imports ${outside}, which lies outside the project directory`);
    } finally {
      await rm(outside, { force: true });
    }
  });

  it('rejects value imports from fngate, which exports only types', async () => {
    const project = await projectWithBad('import { createRuntime } from "fngate";\nexport default () => String(createRuntime);\n');
    const { fetch } = await startRuntime({ cwd: project.dir });
    const error = await errorOf(await fetch('/bad'));
    expect(error.message).toMatch(/No matching export .* for import "createRuntime"/);
  });

  it('bundles an npm dependency written in CommonJS from the project node_modules', async () => {
    const project = await projectWithBad(
      'import pad from "left-pad-cjs";\nimport { platform } from "left-pad-cjs/os-info";\nexport default () => pad("7", 3) + ":" + platform();\n',
      {
        'node_modules/left-pad-cjs/package.json': JSON.stringify({ name: 'left-pad-cjs', version: '1.0.0', main: 'index.js' }),
        'node_modules/left-pad-cjs/index.js': 'module.exports = function pad(s, n) { return String(s).padStart(n, "0"); };\n',
        'node_modules/left-pad-cjs/os-info.js': 'const os = require("os");\nexports.platform = () => os.platform();\n',
      },
    );
    const { fetch } = await startRuntime({ cwd: project.dir });
    const response = await fetch('/bad');
    expect(await response.text()).toBe(`007:${process.platform}`);
  });
});
