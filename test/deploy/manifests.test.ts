import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../runtime/config/load-config.js';
import { buildOutput, IMAGE_METRICS_PORT, IMAGE_PORT } from '../../runtime/deploy/build-output.js';
import { perThreadMax } from '../../runtime/deploy/sizing.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config.yaml', import.meta.url));
const demo = loadConfig(DEMO_CONFIG);

/** Every object of a manifest file, validated against its official schema (throws when invalid). */
async function objects(file: string): Promise<Record<string, any>[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8')).map((doc) => doc.toJS() as Record<string, any>);
  for (const doc of docs) {
    const model = MODELS[`${doc.apiVersion} ${doc.kind}`];
    if (model === undefined) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
    new model(doc).validate();
  }
  return docs;
}

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'serving.knative.dev/v1 Service': KnativeService,
};

const quantityBytes = (quantity: string) => Number(/^(\d+)Mi$/.exec(quantity)![1]) * 1024 ** 2;
const heaps = Object.values(demo.functions).reduce((sum, fn) => sum + fn.maxThreads * fn.memoryLimit, 0);
const capacity = Object.values(demo.functions).reduce((sum, fn) => sum + fn.maxThreads * perThreadMax(fn), 0);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fngate-manifests-'));
  const common = { configFile: DEMO_CONFIG, image: 'registry.example/demo:1.2.3', replicas: 2, maxReplicas: 7, targetSaturation: 0.7, prometheusUrl: 'http://prom.example:9090' };
  for (const target of ['kubernetes', 'knative'] as const) {
    const result = await buildOutput({ ...common, out: join(work, target), target });
    if (!result.ok) throw new Error(result.reports.join('\n'));
  }
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('fngate build --target kubernetes', () => {
  it('is checked against schemas that do refuse a malformed object', () => {
    const broken = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: 'lots' } } }] } } } };
    expect(() => new Deployment(broken).validate()).toThrow(/cpu/);
  });

  it('writes a Deployment, Service and PodDisruptionBudget that validate against the Kubernetes schemas', async () => {
    const docs = await objects(join(work, 'kubernetes', 'deploy', 'kubernetes.yaml'));
    expect(docs.map((doc) => doc.kind)).toEqual(['Deployment', 'Service', 'PodDisruptionBudget']);
  });

  it('sizes the pod from config.yaml: CPU from Σ maxThreads, memory covering every thread heap, no CPU limit', async () => {
    const [deployment] = await objects(join(work, 'kubernetes', 'deploy', 'kubernetes.yaml'));
    const container = deployment!.spec.template.spec.containers[0];
    expect(container.image).toBe('registry.example/demo:1.2.3');
    expect(Number(container.resources.requests.cpu)).toBe(Object.values(demo.functions).reduce((sum, fn) => sum + fn.maxThreads, 0));
    expect(quantityBytes(container.resources.limits.memory)).toBeGreaterThanOrEqual(heaps + 64 * 1024 ** 2);
    expect(container.resources.limits.cpu).toBeUndefined();
  });

  it('stops a pod only after drainDelay and shutdownTimeout, rolls out without losing capacity, and probes the health endpoints', async () => {
    const [deployment] = await objects(join(work, 'kubernetes', 'deploy', 'kubernetes.yaml'));
    const built = loadConfig(join(work, 'kubernetes', 'config.yaml'), { env: {} });
    expect(built.server.drainDelay).toBe(5000);
    expect(built.server.metricsPort).toBe(IMAGE_METRICS_PORT);
    const pod = deployment!.spec.template.spec;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(built.server.drainDelay + built.server.shutdownTimeout);
    expect(deployment!.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    const container = pod.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/_fngate/ready');
    expect(container.startupProbe.httpGet.path).toBe('/_fngate/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/_fngate/live');
    expect(container.ports).toEqual([
      { name: 'http', containerPort: IMAGE_PORT },
      { name: 'metrics', containerPort: IMAGE_METRICS_PORT },
    ]);
    expect(deployment!.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(IMAGE_METRICS_PORT));
  });

  it('exposes only the traffic port in the Service', async () => {
    const [, service] = await objects(join(work, 'kubernetes', 'deploy', 'kubernetes.yaml'));
    expect(service!.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
  });

  it('scales on fngate_saturation: a KEDA ScaledObject with a Prometheus trigger, or an autoscaling/v2 HPA on a Pods metric', async () => {
    const [keda] = await objects(join(work, 'kubernetes', 'deploy', 'autoscale-keda.yaml'));
    expect(keda!.spec.maxReplicaCount).toBe(7);
    expect(keda!.spec.triggers[0]).toMatchObject({ type: 'prometheus', metadata: { serverAddress: 'http://prom.example:9090', threshold: '0.7' } });
    expect(keda!.spec.triggers[0].metadata.query).toContain('fngate_saturation');
    const [hpa] = await objects(join(work, 'kubernetes', 'deploy', 'autoscale-hpa.yaml'));
    expect(hpa!.spec.metrics[0]).toEqual({ type: 'Pods', pods: { metric: { name: 'fngate_saturation' }, target: { type: 'AverageValue', averageValue: '700m' } } });
  });

  it('writes a Dockerfile every COPY source of which exists, running as a non-root user with an exec-form CMD', async () => {
    const dir = join(work, 'kubernetes');
    const lines = (await readFile(join(dir, 'Dockerfile'), 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines[0]).toBe(`FROM node:${process.versions.node}-slim`);
    expect(lines).toContain(`ENV NODE_ENV=production HOST=0.0.0.0 PORT=${IMAGE_PORT}`);
    expect(lines).toContain('USER node');
    expect(lines.at(-1)).toBe('CMD ["node", "server.mjs"]');
    for (const copy of lines.filter((line) => line.startsWith('COPY'))) {
      const sources = copy.split(/\s+/).filter((word) => !word.startsWith('--')).slice(1, -1);
      for (const source of sources) expect(existsSync(join(dir, source)), `COPY ${source}`).toBe(true);
    }
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({ type: 'module', scripts: { start: 'node server.mjs' } });
    expect(existsSync(join(dir, 'server.mjs'))).toBe(true);
  });
});

describe('fngate build --target knative', () => {
  it('writes one Knative Service that validates, with containerConcurrency = capacity and a timeout above every function timeout', async () => {
    const [service] = await objects(join(work, 'knative', 'deploy', 'knative.yaml'));
    const spec = service!.spec.template.spec;
    expect(spec.containerConcurrency).toBe(capacity);
    expect(spec.timeoutSeconds * 1000).toBeGreaterThan(Math.max(...Object.values(demo.functions).map((fn) => fn.timeout)));
    const annotations = service!.spec.template.metadata.annotations;
    expect(annotations['autoscaling.knative.dev/metric']).toBe('concurrency');
    expect(annotations['autoscaling.knative.dev/min-scale']).toBe('1');
    expect(annotations['autoscaling.knative.dev/max-scale']).toBe('7');
    expect(Number(annotations['autoscaling.knative.dev/target'])).toBe(Math.floor(capacity * 0.7));
    expect(quantityBytes(spec.containers[0].resources.limits.memory)).toBeGreaterThanOrEqual(heaps);
  });
});

describe('fngate build --target kubernetes with deployment groups', () => {
  it('writes one Deployment per group running --only GROUP, and a gateway that forwards their routes, each scaled on its own saturation', async () => {
    const { createProject } = await import('../helpers/project.js');
    const project = await createProject({
      'config.yaml': 'functions:\n  light:\n    routes: GET /light\n    maxThreads: 1\n  heavy:\n    routes: GET /heavy\n    maxThreads: 4\n    memoryLimit: 1gb\n    deploy: { group: heavy }\n',
      'functions/light.ts': 'export default () => "light";\n',
      'functions/heavy.ts': 'export default () => "heavy";\n',
    });
    const out = join(work, 'groups');
    const result = await buildOutput({ configFile: project.path('config.yaml'), out, target: 'kubernetes', image: 'app:1', replicas: 2, maxReplicas: 5, targetSaturation: 0.7, prometheusUrl: 'http://prom' });
    if (!result.ok) throw new Error(result.reports.join('\n'));
    const docs = await objects(join(out, 'deploy', 'kubernetes.yaml'));
    const deployments = docs.filter((doc) => doc.kind === 'Deployment');
    const app = deployments[0]!.metadata.name as string;
    expect(deployments.map((doc) => doc.metadata.name)).toEqual([app, `${app}-heavy`]);
    const [gateway, heavy] = deployments.map((doc) => doc.spec.template.spec.containers[0]);
    // A whole command: the node image's entrypoint would turn bare flags into `node --only heavy`.
    expect(gateway.command).toEqual(['node', 'server.mjs', '--forward', `heavy=http://${app}-heavy`]);
    expect(heavy.command).toEqual(['node', 'server.mjs', '--only', 'heavy']);
    expect(heavy.args).toBeUndefined();
    // Each sized from its own functions: the heavy group's 4 threads of 1 GB are not the gateway's.
    expect(Number(gateway.resources.requests.cpu)).toBe(1);
    expect(Number(heavy.resources.requests.cpu)).toBe(4);
    expect(quantityBytes(heavy.resources.limits.memory)).toBeGreaterThanOrEqual(4 * 1024 ** 3);
    expect(docs.filter((doc) => doc.kind === 'Service').map((doc) => doc.metadata.name)).toEqual([app, `${app}-heavy`]);
    const scaled = await objects(join(out, 'deploy', 'autoscale-keda.yaml'));
    expect(scaled.map((doc) => [doc.spec.scaleTargetRef.name, doc.spec.triggers[0].metadata.query])).toEqual([
      [app, `max(avg by (function) (fngate_saturation{pod=~"${app}-[a-z0-9]+-[a-z0-9]+"}))`],
      [`${app}-heavy`, `max(avg by (function) (fngate_saturation{pod=~"${app}-heavy-[a-z0-9]+-[a-z0-9]+"}))`],
    ]);
    // Prometheus anchors the regex: the gateway's selector does not take the group's pods.
    const gatewayPods = new RegExp(`^${app}-[a-z0-9]+-[a-z0-9]+$`);
    expect(gatewayPods.test(`${app}-6d4cf56db6-x7k2p`)).toBe(true);
    expect(gatewayPods.test(`${app}-heavy-6d4cf56db6-x7k2p`)).toBe(false);
  });
});
