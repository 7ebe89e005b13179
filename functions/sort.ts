import type { Handler } from 'fngate';

const MAX_SIZE = 50_000_000;

/**
 * The CPU-heavy example: sorts `?size=` random numbers (default from env DEFAULT_SIZE).
 * On the gateway's thread this would freeze every other route for its whole run; here it only
 * occupies one of this function's threads.
 */
const sort: Handler<{ DEFAULT_SIZE: string }> = (req, ctx) => {
  const size = Number(new URL(req.url).searchParams.get('size') ?? ctx.env.DEFAULT_SIZE ?? 1_000_000);
  if (!Number.isInteger(size) || size < 0 || size > MAX_SIZE) {
    return Response.json({ error: `size must be an integer from 0 to ${MAX_SIZE}` }, { status: 400 });
  }
  const started = performance.now();
  const numbers = new Float64Array(size);
  for (let i = 0; i < size; i++) numbers[i] = Math.random();
  numbers.sort();
  return { length: numbers.length, ms: Math.round(performance.now() - started), min: numbers[0] ?? null, max: numbers[size - 1] ?? null };
};

export default sort;
