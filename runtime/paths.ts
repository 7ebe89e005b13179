import { fileURLToPath } from 'node:url';

/**
 * Files of the runtime that are loaded by path rather than imported: the worker entry (a
 * thread's first module) and the worker-side task handler (bundled into every function). This
 * module sits at the runtime's root in every layout: runtime/ (sources, under tests), dist/
 * (one file per module) and the bundled CLI in dist/, so paths relative to it hold in all three.
 */
const fromSource = import.meta.url.endsWith('.ts');

/** The plain-JS file every function worker thread starts from. */
export const WORKER_ENTRY = fileURLToPath(new URL('./pool/worker-entry.mjs', import.meta.url));

/** The worker-side task handler: TypeScript from source, JavaScript once compiled. */
export const TASK_HANDLER = fileURLToPath(new URL(`./worker/task-handler.${fromSource ? 'ts' : 'js'}`, import.meta.url));

/** The runtime's own directory: its files are never a function's "imports outside the project". */
export const RUNTIME_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Where fngate's own code lives in every layout (sources, compiled), for trimming stack traces. */
export const OWN_CODE_DIRS = [fileURLToPath(new URL('../runtime/', import.meta.url)), fileURLToPath(new URL('../dist/', import.meta.url))];

/** The live dashboard served at /_fngate/: one static page. */
export const DASHBOARD_PAGE = fileURLToPath(new URL('./admin/dashboard.html', import.meta.url));
