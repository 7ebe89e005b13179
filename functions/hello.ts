import type { Handler } from 'fngate';

/** GET /hello -> "hello world"; GET /hello/ada -> "hello ada". Route params arrive decoded in ctx.params. */
const hello: Handler = (_req, ctx) => `hello ${ctx.params.name ?? 'world'}`;

export default hello;
