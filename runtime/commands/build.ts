import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { buildOutput, OutputInUseError, type Target } from '../deploy/build-output.js';

const USAGE = `Usage: fngate build [--out DIR] [--target kubernetes|knative] [--image NAME] [--config FILE]

Builds a directory that runs anywhere with \`node DIR/server.mjs\`: every function's bundle
(with source maps), the runtime for start mode in one file (no esbuild, no watcher), the
worker entry, piscina, config.yaml pointing at the bundles (its \${VAR} references kept: no
secret is baked in), package.json, a Dockerfile (node:20 slim, non-root) and .dockerignore.
PORT and HOST are read from the environment. Nothing is left half-written: the previous
output stays until the new one is complete.

Options:
  --out DIR            Output directory, relative to config.yaml's directory (default: dist/fngate)
  --target T           Also write manifests to DIR/deploy/: kubernetes (Deployment, Service,
                       PodDisruptionBudget, KEDA ScaledObject, HPA) or knative (a Service)
  --image NAME         Image the manifests run (default: fngate-app:latest)
  --replicas N         Replicas before autoscaling (default: 2)
  --max-replicas N     Autoscaling ceiling (default: 10)
  --target-saturation X   (running + queued) / capacity the autoscaler keeps (default: 0.7)
  --prometheus URL     Where KEDA's trigger queries (default: http://prometheus-server.monitoring.svc)
  --config FILE        (default: ./config.yaml)
  -h, --help           Show this help`;

/** `fngate build`: exit 0 with the output written, 1 for build problems (nothing changed), 2 for bad usage. */
export async function run(argv: readonly string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        out: { type: 'string' },
        target: { type: 'string' },
        image: { type: 'string' },
        replicas: { type: 'string' },
        'max-replicas': { type: 'string' },
        'target-saturation': { type: 'string' },
        prometheus: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.target !== undefined && values.target !== 'kubernetes' && values.target !== 'knative') {
    return usage(`--target must be kubernetes or knative, got "${values.target}"`);
  }
  const replicas = wholeNumber(values.replicas, 2, '--replicas');
  const maxReplicas = wholeNumber(values['max-replicas'], 10, '--max-replicas');
  const saturation = values['target-saturation'] === undefined ? 0.7 : Number(values['target-saturation']);
  if (typeof replicas === 'string') return usage(replicas);
  if (typeof maxReplicas === 'string') return usage(maxReplicas);
  if (!(saturation > 0 && saturation <= 1)) return usage(`--target-saturation must be above 0 and at most 1, got "${values['target-saturation']}"`);

  const configFile = resolve(values.config ?? 'config.yaml');
  const out = resolve(dirname(configFile), values.out ?? 'dist/fngate');
  const started = performance.now();
  let result;
  try {
    result = await buildOutput({
      configFile,
      out,
      target: values.target as Target | undefined,
      image: values.image ?? 'fngate-app:latest',
      replicas,
      maxReplicas,
      targetSaturation: saturation,
      prometheusUrl: values.prometheus ?? 'http://prometheus-server.monitoring.svc',
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof OutputInUseError) return fail(error.message);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fail(`cannot read config: ${(error as Error).message}`);
    throw error;
  }
  if (!result.ok) {
    process.stderr.write(`${result.reports.join('\n')}\nfngate build: nothing was written\n`);
    process.exitCode = 1;
    return;
  }
  const rel = relative(process.cwd(), out);
  const shown = rel === '' ? '.' : rel.startsWith('..') ? out : rel;
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(
    `built ${result.functions} function${result.functions === 1 ? '' : 's'} into ${shown} (${(result.bytes / 1024 ** 2).toFixed(1)} MB) in ${Math.round(performance.now() - started)} ms\n` +
      `  run it:    PORT=8080 node ${shown}/server.mjs       (copy the directory anywhere; it needs only Node.js ${process.versions.node.split('.')[0]})\n` +
      `  container: docker build -t ${values.image ?? 'fngate-app:latest'} ${shown}\n` +
      (values.target === 'kubernetes'
        ? `  cluster:   kubectl apply -f ${shown}/deploy/kubernetes.yaml, then one of ${shown}/deploy/autoscale-keda.yaml or autoscale-hpa.yaml\n`
        : values.target === 'knative'
          ? `  cluster:   kubectl apply -f ${shown}/deploy/knative.yaml\n`
          : ''),
  );
}

function wholeNumber(text: string | undefined, fallback: number, flag: string): number | string {
  if (text === undefined) return fallback;
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 ? value : `${flag} must be a whole number of at least 1, got "${text}"`;
}

function usage(message: string): void {
  process.stderr.write(`fngate build: ${message}\n\n${USAGE}\n`);
  process.exitCode = 2;
}

function fail(message: string): void {
  process.stderr.write(`fngate build: ${message}\n`);
  process.exitCode = 1;
}
