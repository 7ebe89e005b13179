import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Files of the runtime that are loaded by path rather than imported: the worker entry (a
 * thread's first module), the worker-side task handler (bundled into every function) and the
 * dashboard page. Paths are relative to the runtime's root directory, which is `runtime/`
 * (sources, under tests) or `dist/` (one compiled file per module): this module sits one level
 * below it. A bundle that inlines this module (the CLI bundle) says where the root lies relative
 * to itself through the build-time constant FNGATE_RUNTIME_ROOT.
 */
declare const FNGATE_RUNTIME_ROOT: string | undefined;
/** fngate's version, set by bundles that run without fngate's package.json beside them (fngate build's server). */
declare const FNGATE_VERSION: string | undefined;

const ROOT = new URL(typeof FNGATE_RUNTIME_ROOT === 'string' ? FNGATE_RUNTIME_ROOT : '../', import.meta.url);
const fromSource = import.meta.url.endsWith('.ts');

/** The plain-JS file every function worker thread starts from. */
export const WORKER_ENTRY = fileURLToPath(new URL('worker/worker-entry.mjs', ROOT));

/** The worker-side task handler: TypeScript from source, JavaScript once compiled. */
export const TASK_HANDLER = fileURLToPath(new URL(`worker/task-handler.${fromSource ? 'ts' : 'js'}`, ROOT));

/** The runtime's own directory: its files are never a function's "imports outside the project". */
export const RUNTIME_DIR = fileURLToPath(ROOT);

/** Where fngate's own code lives in every layout (sources, compiled), for trimming stack traces. */
export const OWN_CODE_DIRS = [fileURLToPath(new URL('../runtime/', ROOT)), fileURLToPath(new URL('../dist/', ROOT))];

/** The plain-JS file `fngate tune` runs its load generator (autocannon) from, on a thread of its own. */
export const LOAD_WORKER = fileURLToPath(new URL('tuning/load-worker.mjs', ROOT));

/** The live dashboard served at /_fngate/: one static page. */
export const DASHBOARD_PAGE = fileURLToPath(new URL('gateway/dashboard.html', ROOT));

/** fngate's own package.json (its version, the ranges `fngate init` gives a new project). */
export const PACKAGE_JSON = fileURLToPath(new URL('../package.json', ROOT));

/** The entry of `fngate build`'s server.mjs, which it bundles: TypeScript from source, JavaScript once compiled. */
export const SERVER_ENTRY = fileURLToPath(new URL(`server.${fromSource ? 'ts' : 'js'}`, ROOT));

/** fngate's version. */
export function fngateVersion(): string {
  if (typeof FNGATE_VERSION === 'string') return FNGATE_VERSION;
  return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
}
