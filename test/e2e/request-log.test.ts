import { describe, expect, it } from 'vitest';
import { runCli, waitForReady } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

const LINE = 'x'.repeat(2000);

async function project(): Promise<TempProject> {
  return createProject({
    'config.yaml': `functions:
  hello:
    routes: GET /hello/:name
  slow:
    routes: GET /slow
    timeout: 200ms
  chatty:
    routes: GET /chatty
    minThreads: 2
    maxThreads: 2
    concurrency: 1
`,
    'functions/hello.ts': 'export default (req: Request, ctx: { params: { name: string } }) => { console.log(`greeting ${ctx.params.name}`); return "hi"; };\n',
    'functions/slow.ts': 'export default () => new Promise(() => {});\n',
    // Many long lines per request, written whole and in pieces, from two threads at once.
    'functions/chatty.ts': `import { threadId } from 'node:worker_threads';
export default () => {
  for (let i = 0; i < 200; i++) {
    if (i % 2 === 0) console.log(\`line \${threadId}:\${i}:${LINE}:end\`);
    else {
      process.stdout.write(\`line \${threadId}:\${i}:\`);
      process.stdout.write('${LINE}');
      process.stdout.write(':end\\n');
    }
  }
  return 'done';
};
`,
  });
}

describe('request log and function output', () => {
  it('prints one line per request in dev, with status, function, queue and run time, and the error code', async () => {
    const dir = await project();
    const cli = runCli(['dev', '--port', '0'], { cwd: dir.dir });
    const url = await waitForReady(cli);
    await fetch(`${url}/hello/ada`);
    expect((await fetch(`${url}/slow`)).status).toBe(504);
    await waitFor(() => /^GET \/hello\/ada 200 hello {2}queue \d+(\.\d)? ms {2}run \d+(\.\d)? ms$/m.test(cli.stdout()), { what: 'the 200 log line' });
    await waitFor(() => /^GET \/slow 504 slow FNGATE_TIMEOUT {2}after \d+ ms$/m.test(cli.stdout()), { what: 'the 504 log line' });
    expect((await fetch(`${url}/nowhere?x=1`)).status).toBe(404);
    await waitFor(() => /^GET \/nowhere\?x=1 404 FNGATE_NOT_FOUND$/m.test(cli.stdout()), { what: 'the 404 log line' });
    expect(cli.stdout()).toMatch(/^\[hello\] greeting ada$/m);
  });

  it('prints no request lines with --quiet, nor in start, but still the function output', async () => {
    const dir = await project();
    for (const args of [['dev', '--quiet'], ['start']]) {
      const cli = runCli([...args, '--port', '0'], { cwd: dir.dir });
      const url = await waitForReady(cli);
      await fetch(`${url}/hello/bob`);
      await waitFor(() => cli.stdout().includes('[hello] greeting bob'), { what: 'the function output' });
      expect(cli.stdout()).not.toMatch(/^GET \/hello/m);
      cli.child.kill('SIGKILL');
    }
  });

  it('prefixes function output per line and never mixes lines of two threads', async () => {
    const dir = await project();
    const cli = runCli(['start', '--port', '0'], { cwd: dir.dir });
    const url = await waitForReady(cli);
    const answers = await Promise.all(Array.from({ length: 4 }, () => fetch(`${url}/chatty`).then((r) => r.text())));
    expect(answers).toEqual(['done', 'done', 'done', 'done']);
    const lines = await waitFor(
      () => {
        const found = cli.stdout().split('\n').filter((line) => line.startsWith('[chatty] '));
        return found.length >= 800 ? found : undefined;
      },
      { what: '800 lines of output' },
    );
    const whole = new RegExp(`^\\[chatty\\] line \\d+:\\d+:${LINE}:end$`);
    expect(lines.filter((line) => !whole.test(line))).toEqual([]);
    // Both threads wrote.
    expect(new Set(lines.map((line) => line.split(':')[0])).size).toBe(2);
  });
});
