import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** B13's function: `?mb=N&as=string|json|bytes` returns a result of N MiB of that kind. */
const BIG_RESULT = `
export default (req: Request) => {
  const url = new URL(req.url);
  const size = Number(url.searchParams.get('mb')) * 2 ** 20;
  const as = url.searchParams.get('as');
  if (as === 'json') return { data: 'x'.repeat(size - 11) };
  if (as === 'bytes') return new Uint8Array(size).fill(120);
  return 'x'.repeat(size);
};
`;

/**
 * A temporary project with the repository's demo functions and a bench config: hello, sort and
 * echo as in the demo, the hash function three times with 1, 2 and one-per-core threads, and
 * big-result (B13).
 */
export async function createBenchProject(): Promise<{ config: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fngate-bench-'));
  await cp(join(REPO, 'functions'), join(dir, 'functions'), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await writeFile(join(dir, 'functions', 'big-result.ts'), BIG_RESULT);
  await writeFile(
    join(dir, 'config.yaml'),
    [
      'server: { bodyLimit: 32mb }',
      'defaults: { minThreads: 1, maxThreads: 2, maxQueue: 1024, timeout: 60s }',
      'functions:',
      '  hello: { routes: GET /hello/:name }',
      '  sort: { routes: GET /sort }',
      '  echo: { routes: POST /echo }',
      '  cpu1: { file: functions/hash.ts, routes: POST /cpu1, maxThreads: 1 }',
      '  cpu2: { file: functions/hash.ts, routes: POST /cpu2, maxThreads: 2 }',
      `  cpuN: { file: functions/hash.ts, routes: POST /cpuN, maxThreads: ${availableParallelism()} }`,
      '  big-result: { routes: GET /big-result, memoryLimit: 1gb, maxThreads: 1 }',
    ].join('\n'),
  );
  return { config: join(dir, 'config.yaml'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The repository's own demo config (for cold start and memory: what a user runs). */
export const DEMO_CONFIG = join(REPO, 'config.yaml');

/**
 * A generated project of `count` trivial functions (`export default (req) => ({ fn: i })`, one
 * `GET /fI` route each, maxThreads 2), as real serverless projects have: one function per
 * endpoint. B9-B11 start it.
 */
export async function createManyFunctionsProject(count: number, minThreads: number): Promise<{ dir: string; config: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `fngate-bench-${count}-`));
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await mkdir(join(dir, 'functions'));
  const lines = ['defaults:', `  minThreads: ${minThreads}`, '  maxThreads: 2', 'functions:'];
  for (let i = 0; i < count; i++) {
    await writeFile(join(dir, 'functions', `f${i}.ts`), `export default (req: Request) => ({ fn: ${i}, path: new URL(req.url).pathname });\n`);
    lines.push(`  f${i}:`, `    routes: GET /f${i}`);
  }
  await writeFile(join(dir, 'config.yaml'), `${lines.join('\n')}\n`);
  return { dir, config: join(dir, 'config.yaml'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}
