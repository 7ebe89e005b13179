import type { Context } from '../types.js';

/**
 * Calls an AWS Lambda handler `(event, context)` with an API Gateway HTTP API (payload 2.0)
 * event built from the Request, and maps its result back to a Response.
 */
export function createLambdaInvoker(handler: (...args: unknown[]) => unknown, functionName: string): (req: Request, ctx: Context) => Promise<Response> {
  return async () => {
    void handler;
    throw new Error(`${functionName}: Lambda handlers are not supported yet`);
  };
}
