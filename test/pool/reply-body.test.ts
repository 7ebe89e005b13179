import { afterEach, describe, expect, it } from 'vitest';
import { createBundleDir } from '../../runtime/bundle/bundle-dir.js';
import { FunctionBuilder } from '../../runtime/bundle/function-builder.js';
import { FunctionPool } from '../../runtime/pool/function-pool.js';
import type { TaskEnvelope } from '../../runtime/protocol/envelope.js';
import { Reply } from '../../runtime/protocol/reply.js';
import { createProject } from '../helpers/project.js';

const pools: FunctionPool[] = [];
const builders: FunctionBuilder[] = [];
afterEach(async () => {
  await Promise.all([...pools.splice(0).map((pool) => pool.close({ force: true })), ...builders.splice(0).map((builder) => builder.dispose())]);
});

/** A real bundle on real threads: `?size=N&as=string|json|response` answers a body of about N characters. */
async function bodyPool(): Promise<FunctionPool> {
  const project = await createProject({
    'functions/body.ts': `
export default (req: Request) => {
  const url = new URL(req.url);
  const text = 'x'.repeat(Number(url.searchParams.get('size')));
  const as = url.searchParams.get('as');
  return as === 'json' ? { text } : as === 'response' ? new Response(text) : text;
};
`,
  });
  const builder = await FunctionBuilder.create({ name: 'body', entry: project.path('functions/body.ts'), root: project.dir, outDir: await createBundleDir(project.dir) });
  builders.push(builder);
  const build = await builder.build();
  if (!build.ok) throw new Error(build.report);
  const pool = new FunctionPool({
    name: 'body',
    bundleFile: build.bundleFile,
    settings: { minThreads: 1, maxThreads: 1, idleTimeout: 30_000, maxQueue: 8, timeout: 30_000, memoryLimit: 256 * 2 ** 20, concurrency: 1 },
    env: {},
    nodeEnv: 'production',
  });
  pools.push(pool);
  expect(await pool.warm()).toBeNull();
  return pool;
}

async function replyBody(pool: FunctionPool, query: string) {
  const envelope: TaskEnvelope = [1, 'GET', `http://localhost/body?${query}`, [], null, null, 0];
  const reply = await pool.submit(envelope).reply;
  return reply[Reply.body];
}

describe('reply bodies between worker and gateway', () => {
  it.each(['string', 'json', 'response'])('moves a large %s body as bytes encoded on the worker, which the gateway thread only forwards', async (as) => {
    const pool = await bodyPool();
    const body = await replyBody(pool, `size=${4 * 2 ** 20}&as=${as}`);
    expect(body).toBeInstanceOf(ArrayBuffer);
    const text = new TextDecoder().decode(body as ArrayBuffer);
    expect(text.length).toBe(as === 'json' ? 4 * 2 ** 20 + '{"text":""}'.length : 4 * 2 ** 20);
  });

  it('keeps a small string a string, which costs the gateway less than a transfer', async () => {
    const pool = await bodyPool();
    expect(await replyBody(pool, 'size=100')).toBe('x'.repeat(100));
  });
});
