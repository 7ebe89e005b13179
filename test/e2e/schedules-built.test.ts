import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, startBuilt } from '../helpers/built-server.js';
import { createProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

const FILES = {
  // The function sees RUNS_LOG only because it declares it.
  'config.yaml': 'server: { admin: true }\nfunctions:\n  job:\n    schedule: "* * * * * *"\n    env: { RUNS_LOG: "${RUNS_LOG:-/dev/null}" }\n  bad:\n    schedule: "0 3 * * *"\n',
  'functions/job.ts': "import { appendFileSync } from 'node:fs';\nexport const scheduled = (c: { scheduledTime: number }) => appendFileSync(process.env.RUNS_LOG ?? '/dev/null', `${c.scheduledTime}\\n`);\n",
  'functions/bad.ts': 'export const scheduled = () => { throw new Error("nope"); };\n',
};

/** `node server.mjs ARGS` in `dir` with exactly `env`: its exit code and output. */
function runBuilt(dir: string, args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dir, 'server.mjs'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('scheduled functions in fngate build output', () => {
  it('server.mjs --trigger NAME runs the function once and exits 0, or 1 when it fails (what a CronJob runs)', async () => {
    const project = await createProject(FILES);
    await build(project.path('config.yaml'), ['--out', project.path('out')]);
    const log = project.path('runs.log');
    const ok = await runBuilt(project.path('out'), ['--trigger', 'job'], { RUNS_LOG: log });
    expect(ok.code).toBe(0);
    expect(ok.output).toMatch(/✔ job: triggered run done in/);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(1);
    const bad = await runBuilt(project.path('out'), ['--trigger', 'bad'], {});
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/✘ bad: the triggered run failed .*Error: nope/);
  });

  it('the built server runs schedules by the clock, unless FNGATE_SCHEDULES=off (a cluster replica)', async () => {
    const project = await createProject(FILES);
    await build(project.path('config.yaml'), ['--out', project.path('out')]);
    const off = await startBuilt(project.path('out'), { PORT: '0', FNGATE_SCHEDULES: 'off', RUNS_LOG: project.path('off.log') });
    const status = (await (await fetch(`${off.url}/_fngate/status`)).json()) as { functions: { name: string; schedule: { nextRun: string | null; runs: number } }[] };
    expect(status.functions.find((fn) => fn.name === 'job')!.schedule).toMatchObject({ nextRun: null, runs: 0 });
    off.child.kill('SIGTERM');
    await off.exited;
    const on = await startBuilt(project.path('out'), { PORT: '0', RUNS_LOG: project.path('on.log') });
    await waitFor(() => existsSync(project.path('on.log')), { what: 'a run by the clock' });
    on.child.kill('SIGTERM');
    expect(await on.exited).toBe(0);
    expect(existsSync(project.path('off.log'))).toBe(false);
  });
});
