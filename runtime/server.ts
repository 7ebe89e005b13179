/**
 * The entry point of `fngate build`'s output (DIR/server.mjs, this file bundled with the
 * runtime): serves the prebuilt functions of DIR/config.yaml in start mode, with no esbuild and
 * no watcher, writing nothing. PORT and HOST come from the environment (the generated Dockerfile
 * sets HOST=0.0.0.0); config.yaml's `${VAR}` references are read from it at start.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseForward, serve } from './commands/serve.js';
import { triggerOnce } from './commands/trigger.js';

// `--only GROUP` and `--forward GROUP=URL`: a split deployment (deploy.group), as the
// generated manifests run it. `--trigger NAME`: run scheduled function NAME once and exit (a
// cluster's CronJob). FNGATE_SCHEDULES=off: serve without running schedules by the clock (the
// replicas of a cluster deployment, where the CronJobs run them).
const { values } = parseArgs({ options: { only: { type: 'string' }, forward: { type: 'string', multiple: true }, trigger: { type: 'string' } } });
const forward = parseForward(values.forward ?? []);
const portText = process.env.PORT;
const port = portText === undefined || portText === '' ? undefined : Number(portText);
const config = fileURLToPath(new URL('./config.yaml', import.meta.url));
if (values.trigger !== undefined) {
  await triggerOnce({ config, name: values.trigger, mode: 'start', prebuilt: true });
} else if (typeof forward === 'string') {
  process.stderr.write(`fngate: ${forward}\n`);
  process.exitCode = 1;
} else if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
  process.stderr.write(`fngate: invalid port "${portText}" (PORT): expected 0-65535\n`);
  process.exitCode = 1;
} else {
  await serve({
    ...(values.only !== undefined && { only: values.only }),
    ...(Object.keys(forward).length > 0 && { forward }),
    config,
    mode: 'start',
    prebuilt: true,
    logRequests: false,
    schedules: process.env.FNGATE_SCHEDULES !== 'off',
    ...(port !== undefined && { port }),
    ...(process.env.HOST !== undefined && process.env.HOST !== '' && { host: process.env.HOST }),
  });
}
