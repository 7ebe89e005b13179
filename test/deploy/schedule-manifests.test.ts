import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildOutput } from '../../runtime/deploy/build-output.js';
import { createProject } from '../helpers/project.js';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'batch/v1 CronJob': CronJob,
  'serving.knative.dev/v1 Service': KnativeService,
};

/** The objects of a manifest file, each validated against its official schema when there is one here. */
async function objects(file: string): Promise<Record<string, any>[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8')).map((doc) => doc.toJS() as Record<string, any>);
  for (const doc of docs) MODELS[`${doc.apiVersion} ${doc.kind}`] && new MODELS[`${doc.apiVersion} ${doc.kind}`]!(doc).validate();
  return docs;
}

const CONFIG = `functions:
  web:
    routes: GET /web
  Nightly_Report:
    schedule: "30 2 * * *"
    timezone: Europe/Berlin
    timeout: 2m
    env: { API_KEY: "\${API_KEY}" }
  cleanup:
    schedule: "0 */5 * * * *"
`;

async function built(target: 'kubernetes' | 'knative', configText = CONFIG) {
  const project = await createProject({
    'config.yaml': configText,
    'functions/web.ts': 'export default () => "web";\n',
    'functions/Nightly_Report.ts': 'export const scheduled = () => {};\n',
    'functions/cleanup.ts': 'export const scheduled = () => {};\n',
  });
  const result = await buildOutput({
    configFile: project.path('config.yaml'),
    out: project.path('out'),
    target,
    image: 'registry.example/app:1',
    replicas: 2,
    maxReplicas: 5,
    targetSaturation: 0.7,
    prometheusUrl: 'http://prom.example',
  });
  return { project, result };
}

describe('schedules in fngate build --target', () => {
  it('emits a CronJob per scheduled function that validates, runs the built server once with --trigger, never overlaps and never retries', async () => {
    const { project, result } = await built('kubernetes');
    expect(result.ok).toBe(true);
    const docs = await objects(project.path('out/deploy/kubernetes.yaml'));
    const jobs = docs.filter((doc) => doc.kind === 'CronJob');
    expect(jobs.map((job) => job.metadata.name)).toEqual([`${project.dir.split('/').pop()!.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}-nightly-report`, expect.stringMatching(/-cleanup$/)]);
    const [nightly, cleanup] = jobs;
    expect(nightly!.spec).toMatchObject({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', jobTemplate: { spec: { backoffLimit: 0, activeDeadlineSeconds: 180 } } });
    // 6 fields starting with 0 seconds: the minute schedule Kubernetes can run.
    expect(cleanup!.spec.schedule).toBe('*/5 * * * *');
    const container = nightly!.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container).toMatchObject({ image: 'registry.example/app:1', command: ['node', 'server.mjs', '--trigger', 'Nightly_Report'] });
    expect(container.envFrom).toEqual([{ secretRef: { name: nightly!.metadata.labels.app + '-env', optional: true } }]);
    expect(nightly!.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('Never');
    // The schema does refuse a malformed CronJob.
    expect(() => new CronJob({ ...nightly, spec: { ...nightly!.spec, jobTemplate: 'every day' } } as never).validate()).toThrow();
  });

  it('keeps every replica from running schedules by the clock (FNGATE_SCHEDULES=off): only the CronJob runs them', async () => {
    for (const target of ['kubernetes', 'knative'] as const) {
      const { project } = await built(target);
      const docs = await objects(project.path(`out/deploy/${target}.yaml`));
      const serving = docs.find((doc) => doc.kind === 'Deployment' || doc.kind === 'Service' && doc.apiVersion.startsWith('serving'))!;
      const container = serving.spec.template.spec.containers[0];
      expect(container.env).toContainEqual({ name: 'FNGATE_SCHEDULES', value: 'off' });
      expect(docs.filter((doc) => doc.kind === 'CronJob')).toHaveLength(2);
    }
  });

  it('refuses a schedule with seconds a CronJob cannot run, and writes nothing', async () => {
    const { project, result } = await built('kubernetes', 'functions:\n  cleanup:\n    schedule: "*/10 * * * * *"\n');
    expect(result).toEqual({
      ok: false,
      reports: ['✘ functions.cleanup.schedule "*/10 * * * * *" runs at seconds other than 0: a Kubernetes CronJob runs at most once a minute; use 5 fields (or 6 starting with 0)'],
    });
    await expect(readFile(join(project.dir, 'out', 'config.yaml'))).rejects.toThrow(/ENOENT/);
  });
});
