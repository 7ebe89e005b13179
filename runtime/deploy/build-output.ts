import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { FunctionBuilder } from '../bundle/function-builder.js';
import { formatBundleWarning } from '../bundle/unbundlable.js';
import { bundleServer } from '../bundle/server-bundle.js';
import { DASHBOARD_PAGE, WORKER_ENTRY } from '../common/runtime-files.js';
import { builtConfigText, functionsWithout, referencedVariables, yamlDocuments } from '../config/built-config.js';
import { parseConfig } from '../config/load-config.js';
import { groupsOf, withGroup } from '../config/deploy-groups.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { cronJob, horizontalPodAutoscaler, kedaScaledObject, knativeService, kubernetesManifests, type ManifestOptions } from './manifests.js';
import { copyPackages } from './copy-packages.js';
import { clusterWarnings, GATEWAY_MEMORY, sizeReplica, type Sizing } from './sizing.js';

export type Target = 'kubernetes' | 'knative';

export interface BuildOutputOptions {
  readonly configFile: string;
  /** The output directory; replaced as a whole when the build succeeds. */
  readonly out: string;
  readonly target?: Target | undefined;
  readonly image: string;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly targetSaturation: number;
  readonly prometheusUrl: string;
}

export type BuildOutputResult =
  | { readonly ok: true; readonly functions: number; readonly bytes: number; readonly warnings: readonly string[]; readonly files: readonly string[] }
  | { readonly ok: false; readonly reports: readonly string[] };

/** In the output: the traffic port the image listens on, and the metrics port a target sets. */
export const IMAGE_PORT = 8080;
export const IMAGE_METRICS_PORT = 9090;
/** server.drainDelay a cluster target sets when config.yaml does not. */
const CLUSTER_DRAIN_DELAY = '5s';
/** Marks a directory as fngate build's: only such a directory is ever replaced. */
const MARKER = '.fngate-build';

/**
 * `fngate build`: a directory that runs anywhere with `node server.mjs`: the functions'
 * prebuilt bundles with source maps, the start-only runtime in one file, the worker entry, a
 * copy of piscina, config.yaml pointing at the bundles (its `${VAR}` references kept), a minimal
 * package.json, a Dockerfile and a .dockerignore, and with a target the manifests in deploy/.
 * Written into a temporary directory beside the output and renamed at the end: a failed build
 * leaves the previous output as it was.
 */
export async function buildOutput(options: BuildOutputOptions): Promise<BuildOutputResult> {
  const text = await readFile(options.configFile, 'utf8');
  // ${VAR} references are validated for form but not resolved: no secret enters the build.
  const placeholders = new Proxy({} as Record<string, string>, { get: (_, name) => `\${${String(name)}}` });
  const config = parseConfig(text, options.configFile, { env: placeholders });
  const temp = `${options.out}.building-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(join(temp, 'functions'), { recursive: true });
  try {
    const built = await bundleFunctions(config, join(temp, 'functions'));
    if (!built.ok) return built;
    // Packages the bundles import at run time (config `external`), with their dependencies.
    const packages = await copyPackages(config.root, built.externals, temp);
    if (packages.missing.length > 0) {
      return { ok: false, reports: [`✘ not installed, so it cannot be copied into the output: ${packages.missing.join(', ')} (npm install in ${config.root})`] };
    }

    const clusterServer: Record<string, string | number> = options.target === undefined ? {} : { drainDelay: CLUSTER_DRAIN_DELAY, metricsPort: IMAGE_METRICS_PORT };
    const outputConfigText = builtConfigText(text, built.bundles, clusterServer);
    await writeFile(join(temp, 'config.yaml'), outputConfigText);
    await copyRuntime(temp);
    await writeFile(join(temp, 'package.json'), `${JSON.stringify(packageJson(config, packages.versions), null, 2)}\n`);
    await writeFile(join(temp, 'Dockerfile'), dockerfile());
    await writeFile(join(temp, '.dockerignore'), 'Dockerfile\n.dockerignore\ndeploy/\n');
    await writeFile(join(temp, MARKER), 'This directory is fngate build output; fngate build replaces it as a whole.\n');

    let warnings: string[] = [...built.warnings];
    if (options.target !== undefined) {
      // The output's own config, as the server will read it: with the cluster settings added.
      const served = parseConfig(outputConfigText, join(temp, 'config.yaml'), { env: placeholders });
      const units = deploymentUnits(served, appName(config));
      warnings.push(...units.flatMap((unit) => clusterWarnings(unit.config, unit.sizing, { target: options.target!, coresDetected: functionsWithout(text, 'maxThreads') })));
      warnings = [...new Set(warnings)];
      const schedules = scheduledJobs(served, appName(config), options.image, referencedVariables(text));
      if ('problems' in schedules) return { ok: false, reports: schedules.problems };
      await writeManifests(join(temp, 'deploy'), options.target, units, schedules.jobs, {
        image: options.image,
        replicas: options.replicas,
        maxReplicas: options.maxReplicas,
        port: IMAGE_PORT,
        metricsPort: IMAGE_METRICS_PORT,
        envNames: referencedVariables(text),
        targetSaturation: options.targetSaturation,
        prometheusUrl: options.prometheusUrl,
        schedulesOff: schedules.jobs.length > 0,
      });
    }
    await replaceOutput(temp, options.out);
    return { ok: true, functions: Object.keys(config.functions).length, bytes: await sizeOf(options.out), warnings, files: built.files };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Every function's bundle as functions/NAME.mjs (+ .map), or every build problem. */
async function bundleFunctions(
  config: ResolvedConfig,
  dir: string,
): Promise<{ ok: true; bundles: Record<string, string>; files: string[]; externals: string[]; warnings: string[] } | { ok: false; reports: string[] }> {
  const functions = Object.values(config.functions);
  const builders = await Promise.all(
    functions.map((fn) => FunctionBuilder.create({ name: fn.name, entry: fn.file, root: config.root, outDir: dir, external: fn.external })),
  );
  try {
    // One esbuild service builds them all, in parallel.
    const outcomes = await Promise.all(builders.map((builder) => builder.build()));
    const reports = outcomes.flatMap((outcome, i) => (outcome.ok ? [] : [`✘ ${functions[i]!.name} failed to build: ${outcome.message}\n${indent(outcome.report)}`]));
    if (reports.length > 0) return { ok: false, reports };
    const bundles: Record<string, string> = {};
    const files: string[] = [];
    const externals = new Set<string>();
    const warnings: string[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      if (!outcome.ok) continue;
      const name = functions[i]!.name;
      const target = join(dir, `${name}.mjs`);
      // Stable names (a build writes NAME.SERIAL.mjs), and the source map link to match.
      const code = (await readFile(outcome.bundleFile, 'utf8')).replace(/\/\/# sourceMappingURL=[^\n]*\n?$/, `//# sourceMappingURL=${name}.mjs.map\n`);
      await writeFile(target, code);
      await rename(`${outcome.bundleFile}.map`, `${target}.map`);
      await rm(outcome.bundleFile);
      bundles[name] = `functions/${name}.mjs`;
      files.push(...outcome.inputs.map((file) => relative(config.root, file)));
      for (const pkg of outcome.externals) externals.add(pkg);
      warnings.push(...outcome.warnings.map((warning) => formatBundleWarning(name, warning, functions[i]!.external)));
    }
    return { ok: true, bundles, files: [...new Set(files)], externals: [...externals], warnings };
  } finally {
    await Promise.all(builders.map((builder) => builder.dispose()));
  }
}

/** The start-only runtime (one file), the worker entry, the dashboard page, and piscina (which resolves its worker file next to itself). */
async function copyRuntime(dir: string): Promise<void> {
  await mkdir(join(dir, 'worker'));
  await mkdir(join(dir, 'gateway'));
  await bundleServer(join(dir, 'server.mjs'));
  // The worker entry and the plain-JS modules it imports beside it.
  const workerDir = dirname(WORKER_ENTRY);
  for (const file of await readdir(workerDir)) if (file.endsWith('.mjs')) await cp(join(workerDir, file), join(dir, 'worker', file));
  await cp(DASHBOARD_PAGE, join(dir, 'gateway', basename(DASHBOARD_PAGE)));
  const piscina = packageRoot(createRequire(import.meta.url).resolve('piscina'), 'piscina');
  await cp(piscina, join(dir, 'node_modules', 'piscina'), { recursive: true, filter: (source) => !/\.(md|map)$/.test(source) });
}

/** The directory of package `name` that holds `file` (its exports map hides package.json). */
function packageRoot(file: string, name: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (basename(dir) === name && existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`cannot find the ${name} package around ${file}`);
}

function appName(config: ResolvedConfig): string {
  const name = basename(config.root).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return /^[a-z]/.test(name) ? name.slice(0, 50) : `fngate-${name}`.slice(0, 50);
}

/** `dependencies`: the external packages copied into node_modules, for the record (nothing needs installing). */
function packageJson(config: ResolvedConfig, dependencies: Readonly<Record<string, string>>): Record<string, unknown> {
  return {
    name: appName(config),
    private: true,
    description: 'Built by fngate build: node server.mjs serves the functions of config.yaml.',
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: { start: 'node server.mjs' },
    ...(Object.keys(dependencies).length > 0 && { dependencies }),
  };
}

/** Pinned to the Node.js version that built and tested the output. */
function dockerfile(): string {
  return `# Built by fngate build.  docker build -t IMAGE .   (in this directory)
FROM node:${process.versions.node}-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=${IMAGE_PORT}
WORKDIR /app
COPY --chown=node:node . .
USER node
EXPOSE ${IMAGE_PORT}
CMD ["node", "server.mjs"]
`;
}

type Manifest = Record<string, unknown>;

/** One Deployment (or Knative Service): the gateway, or a deployment group, with its own size and arguments. */
interface DeploymentUnit {
  readonly name: string;
  readonly config: ResolvedConfig;
  readonly sizing: Sizing;
  readonly args: readonly string[];
  /** Scaled on its saturation (false for a gateway that runs no function itself). */
  readonly autoscaled: boolean;
}

/**
 * The gateway (every function without deploy.group, and every route) and one unit per group
 * (`--only GROUP`); the gateway forwards each group's routes to the group's Service.
 */
function deploymentUnits(config: ResolvedConfig, app: string): DeploymentUnit[] {
  const groups = groupsOf(config);
  const gateway = withGroup(config, null);
  return [
    {
      name: app,
      config: gateway,
      // It holds forwarded requests too: its timeout covers every function's.
      sizing: { ...sizeReplica(gateway), longestTimeoutS: sizeReplica(config).longestTimeoutS },
      args: groups.flatMap((group) => ['--forward', `${group}=http://${app}-${group}`]),
      autoscaled: Object.keys(gateway.functions).length > 0,
    },
    ...groups.map((group) => ({ name: `${app}-${group}`, config: withGroup(config, group), sizing: sizeReplica(withGroup(config, group)), args: ['--only', group], autoscaled: true })),
  ];
}

/**
 * A CronJob for each scheduled function (they run in the cluster, not in the replicas), or why a
 * schedule cannot be one: Kubernetes schedules have no seconds field.
 */
function scheduledJobs(config: ResolvedConfig, app: string, image: string, envNames: readonly string[]): { jobs: Manifest[] } | { problems: string[] } {
  const jobs: Manifest[] = [];
  const problems: string[] = [];
  for (const fn of Object.values(config.functions)) {
    if (fn.schedule === null) continue;
    const fields = fn.schedule.cron.split(' ');
    if (fields.length === 6 && !/^0+$/.test(fields[0]!)) {
      problems.push(`✘ functions.${fn.name}.schedule "${fn.schedule.cron}" runs at seconds other than 0: a Kubernetes CronJob runs at most once a minute; use 5 fields (or 6 starting with 0)`);
      continue;
    }
    const name = `${app}-${fn.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 52).replace(/-+$/, '');
    jobs.push(
      cronJob({
        name,
        app,
        function: fn.name,
        schedule: (fields.length === 6 ? fields.slice(1) : fields).join(' '),
        timezone: fn.schedule.timezone,
        image,
        envNames,
        deadlineS: Math.ceil(fn.timeout / 1000) + 60,
        memory: fn.memoryLimit + config.server.bodyLimit + GATEWAY_MEMORY,
      }),
    );
  }
  return problems.length > 0 ? { problems } : { jobs };
}

async function writeManifests(dir: string, target: Target, units: readonly DeploymentUnit[], jobs: readonly Manifest[], common: Omit<ManifestOptions, 'name' | 'args'>): Promise<void> {
  await mkdir(dir);
  const optionsOf = (unit: DeploymentUnit): ManifestOptions => ({ ...common, name: unit.name, args: unit.args });
  if (target === 'knative') {
    // CronJobs are plain Kubernetes: a Knative cluster runs them too.
    await writeFile(join(dir, 'knative.yaml'), yamlDocuments([...units.map((unit) => knativeService(unit.sizing, optionsOf(unit))), ...jobs]));
    return;
  }
  await writeFile(join(dir, 'kubernetes.yaml'), yamlDocuments([...units.flatMap((unit) => kubernetesManifests(unit.sizing, optionsOf(unit))), ...jobs]));
  const scaled = units.filter((unit) => unit.autoscaled);
  await writeFile(join(dir, 'autoscale-keda.yaml'), yamlDocuments(scaled.map((unit) => kedaScaledObject(unit.sizing, optionsOf(unit)))));
  await writeFile(join(dir, 'autoscale-hpa.yaml'), yamlDocuments(scaled.map((unit) => horizontalPodAutoscaler(unit.sizing, optionsOf(unit)))));
}

/** Replaces the output directory, but only one fngate build made (or an empty one). */
async function replaceOutput(temp: string, out: string): Promise<void> {
  const existing = await stat(out).catch(() => undefined);
  if (existing !== undefined) {
    const ours = await stat(join(out, MARKER)).catch(() => undefined);
    const empty = existing.isDirectory() && (await readdir(out)).length === 0;
    if (ours === undefined && !empty) throw new OutputInUseError(out);
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(dirname(out), { recursive: true });
  await rename(temp, out);
}

/** The output directory exists and is not fngate build's: it is never deleted. */
export class OutputInUseError extends Error {
  override readonly name = 'OutputInUseError';
  constructor(readonly out: string) {
    super(`${out} exists and was not made by fngate build; choose another --out or remove it`);
  }
}

async function sizeOf(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const sizes = await Promise.all(entries.filter((entry) => entry.isFile()).map(async (entry) => (await stat(join(entry.parentPath, entry.name))).size));
  return sizes.reduce((sum, size) => sum + size, 0);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
