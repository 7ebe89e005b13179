import type { Handler } from 'fngate';
import { z } from 'zod';

/**
 * POST /validate: checks a JSON body against a schema. Shows an npm dependency (zod) bundled
 * into the function by esbuild: nothing to configure.
 */
const Signup = z.object({
  email: z.email(),
  name: z.string().min(1),
  age: z.int().min(13).optional(),
});

const validate: Handler = async (req) => {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return Response.json({ valid: false, issues: [{ path: '', message: 'body is not valid JSON' }] }, { status: 400 });
  }
  const result = Signup.safeParse(body);
  if (result.success) return { valid: true, value: result.data };
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return Response.json({ valid: false, issues }, { status: 422 });
};

export default validate;
