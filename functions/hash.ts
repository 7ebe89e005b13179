import { createHash } from 'node:crypto';
import type { Handler } from 'fngate';

/**
 * POST /hash?rounds=N: SHA-256 of the body, hashed again N-1 times (a cryptographic loop that
 * keeps a core busy as long as you ask).
 */
const hash: Handler = async (req) => {
  const rounds = Number(new URL(req.url).searchParams.get('rounds') ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10_000_000) {
    return Response.json({ error: 'rounds must be an integer from 1 to 10000000' }, { status: 400 });
  }
  let digest = createHash('sha256').update(new Uint8Array(await req.arrayBuffer())).digest();
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return { algorithm: 'sha256', rounds, hex: digest.toString('hex') };
};

export default hash;
