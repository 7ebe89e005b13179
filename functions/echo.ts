import type { Handler } from 'fngate';

/**
 * POST /echo: returns the request body byte for byte with its content type. The body reached
 * this thread as a transferred ArrayBuffer (moved, not copied) and goes back the same way.
 */
const echo: Handler = async (req) =>
  new Response(await req.arrayBuffer(), {
    headers: { 'content-type': req.headers.get('content-type') ?? 'application/octet-stream' },
  });

export default echo;
