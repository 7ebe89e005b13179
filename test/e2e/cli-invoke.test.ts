import { readdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

async function project(): Promise<TempProject> {
  return createProject({
    'config.yaml': `functions:
  hello:
    routes: [GET /hello, GET /hello/:name]
  echo:
    routes: POST /echo
  missing:
    routes: GET /missing
  throws:
    routes: GET /throws
  users:
    routes: GET /users/:id
  chatty:
    routes: GET /chatty
  ticker:
    routes: GET /ticker
`,
    'functions/hello.ts': 'export default (req: Request, ctx: { params: Record<string, string> }) => `hello ${ctx.params.name ?? "world"}`;\n',
    'functions/echo.ts':
      'export default async (req: Request) => ({ type: req.headers.get("content-type"), custom: req.headers.get("x-custom"), body: await req.json() });\n',
    'functions/missing.ts': 'export default () => new Response("no such thing", { status: 404 });\n',
    'functions/throws.ts': 'export default () => {\n  throw new Error("invoke failure");\n};\n',
    'functions/chatty.ts': 'export default () => {\n  console.log("line one\\nline two");\n  process.stdout.write("no newline at the end");\n  return "the body";\n};\n',
    // Streams "first", then waits for a file the test creates before it streams "second".
    'functions/ticker.ts': `import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default async function* (req: Request) {
  const flag = new URL(req.url).searchParams.get('until')!;
  yield 'first\\n';
  while (!existsSync(flag)) await sleep(10);
  yield 'second\\n';
}
`,
    'functions/users.ts': 'export default (req: Request, ctx: { params: Record<string, string> }) => ({ id: ctx.params.id });\n',
  });
}

describe('fngate invoke', () => {
  it('runs a function once: body on stdout, status and headers on stderr, exit 0', async () => {
    const dir = await project();
    const cli = runCli(['invoke', 'hello'], { cwd: dir.dir });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe('hello world');
    expect(cli.stderr()).toMatch(/^HTTP 200 OK\ncontent-type: text\/plain; charset=utf-8\n/);
    expect(cli.stdout() + cli.stderr()).not.toContain('fngate ready');
    // Nothing left behind in the project.
    expect((await readdir(dir.path('.fngate'))).filter((name) => name.startsWith('run-'))).toEqual([]);
  });

  it("keeps the function's console output off stdout, which carries only the body, and prints its last partial line", async () => {
    const dir = await project();
    const cli = runCli(['invoke', 'chatty'], { cwd: dir.dir });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe('the body');
    expect(cli.stderr()).toContain('[chatty] line one\n[chatty] line two\n[chatty] no newline at the end\n');
  });

  it('prints a streamed body as it arrives and exits when it ends', async () => {
    const dir = await project();
    const flag = dir.path('go');
    const cli = runCli(['invoke', 'ticker', '--path', `/ticker?until=${encodeURIComponent(flag)}`], { cwd: dir.dir });
    // The function cannot end before the file exists: "first" is printed while it still runs.
    await waitFor(() => cli.stdout() === 'first\n', { what: 'the first chunk' });
    expect(cli.child.exitCode).toBeNull();
    await writeFile(flag, '');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe('first\nsecond\n');
    expect(cli.stderr()).toMatch(/^HTTP 200 OK\ncontent-type: text\/plain; charset=utf-8\n/);
  });

  it('fills route parameters from --path', async () => {
    const dir = await project();
    const cli = runCli(['invoke', 'hello', '--path', '/hello/J%C3%BCrgen'], { cwd: dir.dir });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe('hello Jürgen');
  });

  it('sends --data as a JSON body (inline or from a file) with headers from -H', async () => {
    const dir = await project();
    const inline = runCli(['invoke', 'echo', '--data', '{"a":1}', '-H', 'x-custom: yes'], { cwd: dir.dir });
    expect(await inline.exited).toBe(0);
    expect(JSON.parse(inline.stdout())).toEqual({ type: 'application/json', custom: 'yes', body: { a: 1 } });
    await writeFile(dir.path('body.json'), '[1,2,3]');
    const fromFile = runCli(['invoke', 'echo', '--data', '@body.json'], { cwd: dir.dir });
    expect(await fromFile.exited).toBe(0);
    expect(JSON.parse(fromFile.stdout())).toMatchObject({ body: [1, 2, 3] });
  });

  it('exits 1 for a 4xx response, still printing its body', async () => {
    const dir = await project();
    const cli = runCli(['invoke', 'missing'], { cwd: dir.dir });
    expect(await cli.exited).toBe(1);
    expect(cli.stdout()).toBe('no such thing');
    expect(cli.stderr()).toMatch(/^HTTP 404 Not Found/);
  });

  it('exits 1 with the code and the source-mapped stack when the handler throws', async () => {
    const dir = await project();
    const cli = runCli(['invoke', 'throws'], { cwd: dir.dir });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('HTTP 500 FNGATE_FUNCTION_ERROR');
    expect(cli.stderr()).toContain('invoke failure');
    expect(cli.stderr()).toMatch(/functions\/throws\.ts:2/);
    // The message once, and only the user's frames: none of fngate's or piscina's.
    expect(cli.stderr().split('invoke failure').length - 1).toBe(1);
    expect(cli.stderr()).not.toMatch(/task-handler|worker-entry|piscina/);
  });

  it('exits 1 for an unknown function, listing the known ones, and 2 for a route with parameters but no --path', async () => {
    const dir = await project();
    const unknown = runCli(['invoke', 'nope'], { cwd: dir.dir });
    expect(await unknown.exited).toBe(1);
    expect(unknown.stderr()).toContain('no function "nope"');
    expect(unknown.stderr()).toContain('there are: hello, echo, missing, throws, users, chatty, ticker');
    const noPath = runCli(['invoke', 'users'], { cwd: dir.dir });
    expect(await noPath.exited).toBe(2);
    expect(noPath.stderr()).toContain('the route "GET /users/:id" has parameters: pass the request path with --path');
  });
});
