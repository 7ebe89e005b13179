import type { Sizing } from './sizing.js';

export interface ManifestOptions {
  /** Name of every object, and the `app` label. */
  readonly name: string;
  readonly image: string;
  /** Replicas before the autoscaler acts. */
  readonly replicas: number;
  readonly maxReplicas: number;
  /** The traffic port inside the container. */
  readonly port: number;
  /** server.metricsPort inside the container. */
  readonly metricsPort: number;
  /** Environment variables config.yaml reads with ${VAR}: they come from a Secret named `<name>-env`. */
  readonly envNames: readonly string[];
  /** Arguments of server.mjs: `--only GROUP` for a deployment group, `--forward GROUP=URL` for the gateway. */
  readonly args: readonly string[];
  /** Saturation ((running + queued) / capacity) the autoscaler keeps replicas at. */
  readonly targetSaturation: number;
  /** Where KEDA's Prometheus trigger asks. */
  readonly prometheusUrl: string;
  /** Some function has a schedule: its CronJob runs it, the replicas must not (FNGATE_SCHEDULES=off). */
  readonly schedulesOff?: boolean;
}

/** A scheduled function, as its CronJob runs it. */
export interface CronJobOptions {
  /** The CronJob's name (a DNS label, at most 52 characters). */
  readonly name: string;
  /** The app label: the name of the gateway Deployment. */
  readonly app: string;
  readonly function: string;
  /** Five fields: Kubernetes has no seconds. */
  readonly schedule: string;
  readonly timezone: string;
  readonly image: string;
  readonly envNames: readonly string[];
  /** Seconds a run may take before Kubernetes stops its Job: the function's timeout plus start-up. */
  readonly deadlineS: number;
  /** Bytes: the function's memoryLimit plus the runtime around it. */
  readonly memory: number;
}

type Manifest = Record<string, unknown>;

const LIVE = '/_fngate/live';
const READY = '/_fngate/ready';

function mebibytes(bytes: number): string {
  return `${Math.ceil(bytes / 1024 ** 2)}Mi`;
}

/** The container, the same for Kubernetes and Knative. */
function container(sizing: Sizing, options: ManifestOptions, withProbes: 'kubernetes' | 'knative'): Manifest {
  const probe = (path: string, extra: Manifest = {}) => ({ httpGet: { path, port: withProbes === 'knative' ? undefined : 'http' }, ...extra });
  const base: Manifest = {
    name: 'fngate',
    image: options.image,
    // A command, not args: the node image's entrypoint would run `node --only ...` from bare flags.
    ...(options.args.length > 0 && { command: ['node', 'server.mjs', ...options.args] }),
    ports: withProbes === 'knative' ? [{ name: 'http1', containerPort: options.port }] : [
      { name: 'http', containerPort: options.port },
      { name: 'metrics', containerPort: options.metricsPort },
    ],
    env: [
      { name: 'HOST', value: '0.0.0.0' },
      ...(withProbes === 'kubernetes' ? [{ name: 'PORT', value: String(options.port) }] : []),
      // Replicas never run schedules by the clock: each would run them; a CronJob runs each once.
      ...(options.schedulesOff === true ? [{ name: 'FNGATE_SCHEDULES', value: 'off' }] : []),
    ],
    ...(options.envNames.length > 0 && { envFrom: [{ secretRef: { name: `${options.name}-env`, optional: true } }] }),
    resources: {
      // Each thread may fill a core; no CPU limit: throttling a CPU-bound thread only slows it down.
      // A gateway whose functions all run in groups only routes: a quarter of a core.
      requests: { cpu: sizing.cpu > 0 ? String(sizing.cpu) : '250m', memory: mebibytes(sizing.memory) },
      limits: { memory: mebibytes(sizing.memory) },
    },
    readinessProbe: probe(READY, { periodSeconds: 2, failureThreshold: 1 }),
    livenessProbe: probe(LIVE, { periodSeconds: 10, failureThreshold: 3 }),
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
  if (withProbes === 'kubernetes') {
    // Until every function is warm: up to 2 minutes (first builds are done; this is loading).
    base.startupProbe = probe(READY, { periodSeconds: 1, failureThreshold: 120 });
  }
  return JSON.parse(JSON.stringify(base)) as Manifest; // drops the undefined ports of Knative's probes
}

/** Deployment, Service and PodDisruptionBudget: what `kubectl apply -f deploy/kubernetes.yaml` runs. */
export function kubernetesManifests(sizing: Sizing, options: ManifestOptions): Manifest[] {
  const labels = { app: options.name };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: options.name, labels },
      spec: {
        replicas: options.replicas,
        selector: { matchLabels: labels },
        // A new replica must be ready before an old one stops: no capacity is lost mid-update.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: {
            labels,
            annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(options.metricsPort), 'prometheus.io/path': '/metrics' },
          },
          spec: {
            // drainDelay (still serving while endpoints update) + shutdownTimeout (in-flight requests), and a margin.
            terminationGracePeriodSeconds: sizing.stopS + 5,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
            containers: [container(sizing, options, 'kubernetes')],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: options.name, labels },
      // Only the traffic port: metrics are scraped from the pods, the admin routes stay private.
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: options.name, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
  ];
}

/**
 * The query KEDA reads: the busiest function's saturation, averaged over the replicas. Pods of a
 * Deployment are named NAME-<replicaset>-<pod>: exactly two parts after NAME, so a group's pods
 * (NAME-GROUP-<replicaset>-<pod>) never count for the gateway.
 */
export function saturationQuery(name: string): string {
  return `max(avg by (function) (fngate_saturation{pod=~"${name}-[a-z0-9]+-[a-z0-9]+"}))`;
}

/** KEDA ScaledObject with a Prometheus trigger on fngate_saturation (deploy/autoscale-keda.yaml). */
export function kedaScaledObject(sizing: Sizing, options: ManifestOptions): Manifest {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: options.name, labels: { app: options.name } },
    spec: {
      scaleTargetRef: { name: options.name },
      minReplicaCount: Math.max(1, sizing.minReplicas),
      maxReplicaCount: options.maxReplicas,
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            serverAddress: options.prometheusUrl,
            query: saturationQuery(options.name),
            threshold: String(options.targetSaturation),
          },
        },
      ],
    },
  };
}

/** autoscaling/v2 HPA on the Pods metric fngate_saturation, for clusters with prometheus-adapter and no KEDA. */
export function horizontalPodAutoscaler(sizing: Sizing, options: ManifestOptions): Manifest {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: options.name, labels: { app: options.name } },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: options.name },
      minReplicas: Math.max(1, sizing.minReplicas),
      maxReplicas: options.maxReplicas,
      metrics: [
        {
          type: 'Pods',
          pods: { metric: { name: 'fngate_saturation' }, target: { type: 'AverageValue', averageValue: `${Math.round(options.targetSaturation * 1000)}m` } },
        },
      ],
    },
  };
}

/** One Knative Service (serving.knative.dev/v1), which Cloud Run also accepts. */
export function knativeService(sizing: Sizing, options: ManifestOptions): Manifest {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: options.name, labels: { app: options.name } },
    spec: {
      template: {
        metadata: {
          annotations: {
            // Knative counts in-flight requests per container; fngate's capacity is exactly that.
            'autoscaling.knative.dev/metric': 'concurrency',
            // A gateway that only forwards has no capacity of its own: 100 in flight per replica.
            'autoscaling.knative.dev/target': String(sizing.capacity === 0 ? 100 : Math.max(1, Math.floor(sizing.capacity * options.targetSaturation))),
            'autoscaling.knative.dev/min-scale': String(sizing.minReplicas),
            'autoscaling.knative.dev/max-scale': String(options.maxReplicas),
          },
        },
        spec: {
          // 0: no limit (a gateway that only forwards).
          containerConcurrency: sizing.capacity,
          timeoutSeconds: sizing.longestTimeoutS + 1,
          containers: [container(sizing, options, 'knative')],
        },
      },
    },
  };
}

/**
 * A CronJob that runs one scheduled function once per due time: `node server.mjs --trigger NAME`
 * in the app's image (the same build, pool and limits as the server), never two at once
 * (concurrencyPolicy: Forbid, as fngate skips a run while the previous one goes on), never
 * retried (backoffLimit 0: a failed run is counted and logged, as locally). The command is
 * given whole: the node image's entrypoint would take bare arguments as node's own.
 */
export function cronJob(options: CronJobOptions): Manifest {
  const labels = { app: options.app, 'fngate.dev/function': options.function };
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: options.name, labels },
    spec: {
      schedule: options.schedule,
      timeZone: options.timezone,
      concurrencyPolicy: 'Forbid',
      // A run the controller could not start within a minute of its time is skipped, not made up.
      startingDeadlineSeconds: 60,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: options.deadlineS,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: 'Never',
              securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
              containers: [
                {
                  name: 'fngate',
                  image: options.image,
                  command: ['node', 'server.mjs', '--trigger', options.function],
                  ...(options.envNames.length > 0 && { envFrom: [{ secretRef: { name: `${options.app}-env`, optional: true } }] }),
                  // One run uses one thread: one core.
                  resources: { requests: { cpu: '1', memory: mebibytes(options.memory) }, limits: { memory: mebibytes(options.memory) } },
                  securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                },
              ],
            },
          },
        },
      },
    },
  };
}
