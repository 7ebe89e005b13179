import * as z from 'zod';
import { DURATION_PATTERN, SIZE_PATTERN } from './units.js';

/**
 * The shape of config.yaml as a user writes it. Validation only: conversion to milliseconds,
 * bytes and absolute paths happens in resolve-config.ts, so this schema can also be exported
 * as JSON Schema for editors.
 */

const POSITIVE_INT = 'expected a positive integer';
const NON_NEGATIVE_INT = 'expected a non-negative integer';
const DURATION = 'expected a duration like 250ms, 30s, 2m or a number of milliseconds';
const SIZE = 'expected a size like 512kb, 10mb, 1gb or a number of bytes';

const positiveInt = () =>
  z.int({ error: POSITIVE_INT }).min(1, { error: POSITIVE_INT }).max(1_000_000, { error: POSITIVE_INT });
const nonNegativeInt = () =>
  z.int({ error: NON_NEGATIVE_INT }).min(0, { error: NON_NEGATIVE_INT }).max(1_000_000, { error: NON_NEGATIVE_INT });
const duration = () =>
  z.union(
    [
      z.number({ error: DURATION }).nonnegative({ error: DURATION }),
      z.string({ error: DURATION }).regex(DURATION_PATTERN, { error: DURATION }),
    ],
    { error: DURATION },
  );
const size = () =>
  z.union(
    [
      z.number({ error: SIZE }).nonnegative({ error: SIZE }),
      z.string({ error: SIZE }).regex(SIZE_PATTERN, { error: SIZE }),
    ],
    { error: SIZE },
  );

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An npm package name (npm's own rule for new packages): `pino`, `@prisma/client`. */
const PACKAGE_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const PACKAGE = 'expected an npm package name like pino or @prisma/client (a package, not a path inside it)';
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Keys a function may override; their defaults come from the `defaults` section. */
const poolSettings = {
  minThreads: nonNegativeInt().describe('Threads kept warm even when idle. Default: 1.'),
  maxThreads: positiveInt().describe('Hard cap on threads for this function. Default: the number of CPU cores.'),
  idleTimeout: duration().describe('How long a thread above minThreads may sit idle before it exits. Default: 30s.'),
  maxQueue: nonNegativeInt().describe(
    'Requests that may wait for a free thread; the next one gets 503 FNGATE_QUEUE_FULL. 0 = no queue. Default: 64.',
  ),
  timeout: duration().describe('Queue wait plus run time before 504 FNGATE_TIMEOUT. Default: 30s.'),
  memoryLimit: size().describe('Heap limit of each worker thread (V8 old generation). Default: 512mb.'),
  concurrency: z
    .union([positiveInt(), z.literal('auto')], { error: 'expected a positive integer or "auto"' })
    .describe(
      'Requests one thread may run at once (interleaved at await points). "auto": up to 16 while requests cost little CPU (under about 2 ms each, however long they wait on I/O), 1 once they compute for more than about 5 ms. Default: auto.',
    ),
};

/** Keys a function may override that decide how its bundle is built. */
const bundleSettings = {
  external: z
    .union(
      [
        z.literal('all'),
        z.array(z.string({ error: PACKAGE }).regex(PACKAGE_NAME, { error: PACKAGE }), { error: 'expected a list of package names, or "all"' }),
      ],
      { error: 'expected a list of package names like [pino, pdfkit], or "all"' },
    )
    .describe(
      'npm packages left out of the bundle and loaded from the project\'s node_modules at run time (fngate build copies them, with their dependencies, into its output): packages with native addons, or that read files or start workers from their own directory. "all": every package. A function\'s list replaces the one under defaults. Default: [] (everything is bundled).',
    ),
};

export const serverSchema = z
  .strictObject({
    host: z
      .string({ error: 'expected a host name or IP address' })
      .min(1, { error: 'expected a host name or IP address' })
      .describe('Interface to bind. Default: 127.0.0.1 (this machine only). 0.0.0.0 exposes every function to the network.'),
    port: z
      .int({ error: 'expected a port number from 0 to 65535' })
      .min(0, { error: 'expected a port number from 0 to 65535' })
      .max(65535, { error: 'expected a port number from 0 to 65535' })
      .describe('TCP port. Default: 3000. PORT and --port override it; 0 picks a free port.'),
    bodyLimit: size().describe('Largest request body accepted; larger bodies get 413. Default: 10mb.'),
    shutdownTimeout: duration().describe(
      'On SIGINT/SIGTERM, how long in-flight requests may take to finish before connections are closed. Default: 10s.',
    ),
    drainDelay: duration().describe(
      'On SIGTERM, how long fngate keeps accepting new requests after /_fngate/ready turns 503, so that a load balancer or Kubernetes removes it from its endpoints first; then shutdownTimeout applies. Default: 0 (generated Kubernetes manifests set 5s).',
    ),
    metricsPort: z
      .int({ error: 'expected a port number from 1 to 65535' })
      .min(1, { error: 'expected a port number from 1 to 65535' })
      .max(65535, { error: 'expected a port number from 1 to 65535' })
      .describe('Serve Prometheus metrics at GET /metrics on this port too (same host, no token), apart from the admin endpoints: for a cluster\'s scraper. Default: off.'),
    headersTimeout: duration().describe('A client must send its request headers within this time, or it gets 408 and the connection is closed (slow-header attacks). Default: 10s.'),
    requestTimeout: duration().describe(
      'A client must send its whole request (headers and body) within this time, or it gets 408. Default: 60s.',
    ),
    sendTimeout: duration().describe(
      'A connection whose client takes none of the response it is sent for this long is closed, freeing the response; logged. Default: 60s.',
    ),
    sendBufferLimit: size().describe(
      'Most response data fngate holds for clients that stopped reading (took nothing for 5 s); past it, the connections that stopped longest ago are closed. Default: 256mb.',
    ),
    allowedHosts: z
      .union(
        [
          z.literal(true),
          z.array(
            z
              .string({ error: 'expected a host name like myapp.test (a leading dot allows its subdomains too)' })
              .min(1, { error: 'expected a host name like myapp.test (a leading dot allows its subdomains too)' }),
            { error: 'expected a list of host names, or true' },
          ),
        ],
        { error: 'expected a list of host names, or true' },
      )
      .describe(
        'Host names (besides localhost and loopback IPs) that requests may name in their Host header while fngate listens on a loopback address; others get 403 FNGATE_HOST_NOT_ALLOWED (DNS rebinding protection). ".example.test" allows example.test and its subdomains; true allows any Host. Default: [].',
      ),
    admin: z
      .union(
        [
          z.boolean(),
          z.strictObject({
            token: z
              .string({ error: 'expected a token string (${VAR} reads it from the environment)' })
              .min(1, { error: 'expected a non-empty token' })
              .describe('Required as "Authorization: Bearer TOKEN" (or ?token= for the dashboard). ${VAR} reads it from the environment.'),
          }),
        ],
        { error: 'expected true, false or { token: "..." }' },
      )
      .describe(
        'The /_fngate/ endpoints: dashboard, status JSON, Prometheus metrics. true: on; false: off; { token }: on, behind a bearer token. Default: on in fngate dev, off in fngate start.',
      ),
  })
  .partial();

export const defaultsSchema = z.strictObject({ ...poolSettings, ...bundleSettings }).partial();

export const functionSchema = z
  .strictObject({
    file: z
      .string({ error: 'expected a path to the function file, relative to config.yaml' })
      .min(1, { error: 'expected a path to the function file, relative to config.yaml' })
      .describe('The function module, relative to config.yaml. Default: functions/NAME.ts.'),
    routes: z
      .union([z.string(), z.array(z.string({ error: 'expected a route string like "GET /hello" (quote it if it ends with ":")' }))], {
        error: 'expected a route like "GET /hello" or a list of them',
      })
      .describe('"METHOD /path" strings in Hono path syntax (:param, :param?, *). ANY matches every method. A function with a schedule may have none.'),
    schedule: z
      .string({ error: 'expected a cron expression like "*/5 * * * *"' })
      .min(1, { error: 'expected a cron expression like "*/5 * * * *"' })
      .describe(
        'Run the function on this cron schedule: 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), e.g. "*/5 * * * *". It gets a scheduled event (see README "Scheduled functions"); a run still going when the next is due makes that one skip. Default: none.',
      ),
    timezone: z
      .string({ error: 'expected an IANA time zone like Europe/Berlin' })
      .min(1, { error: 'expected an IANA time zone like Europe/Berlin' })
      .describe('The time zone the schedule\'s fields are read in (IANA name, e.g. Europe/Berlin). Default: UTC.'),
    env: z
      .record(
        z.string().regex(ENV_NAME, { error: 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)' }),
        z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' }),
        { error: 'expected a map of NAME: value' },
      )
      .describe('The only environment variables the function sees (plus NODE_ENV). ${VAR} copies VAR from the parent.'),
    type: z
      .enum(['auto', 'handler', 'fetch', 'lambda'], { error: 'expected auto, handler, fetch or lambda' })
      .describe(
        'How the module is called. handler: default export (req, ctx). fetch: default export { fetch(req, env, ctx) }. lambda: an AWS Lambda handler export (event, context) fed API Gateway HTTP API v2 events. auto: whichever the module exports (a default export first, else `handler`). Default: auto.',
      ),
    deploy: z
      .strictObject({
        group: z
          .string({ error: 'expected a group name' })
          .regex(/^[a-z][a-z0-9-]{0,30}$/, { error: 'expected a group name: a lower-case letter, then lower-case letters, digits or "-" (at most 31)' })
          .describe('Deploy this function in its own Deployment (Knative Service) with the other functions of the group, scaled on its own; the gateway forwards its routes there. Locally nothing changes.'),
      })
      .partial()
      .describe('How fngate build --target splits the deployment. Default: every function in the gateway.'),
    sharedMemory: size().describe(
      'A SharedArrayBuffer of this size that every thread of the function sees as ctx.shared, kept across hot reloads and thread replacement (use Atomics). 0 = none. Default: 0.',
    ),
    ...poolSettings,
    ...bundleSettings,
  })
  // routes, schedule or both: checked when resolving, with a message that says so.
  .partial();

export const configSchema = z.strictObject({
  $schema: z.string().optional().describe('JSON Schema reference for editors.'),
  server: serverSchema.optional().describe('The HTTP gateway.'),
  defaults: defaultsSchema.optional().describe('Pool settings every function inherits unless it overrides them.'),
  functions: z
    .record(
      z.string().regex(FUNCTION_NAME, {
        error: 'expected a function name: a letter, then letters, digits, "-" or "_"',
      }),
      functionSchema,
      { error: 'expected a map of function name -> settings' },
    )
    .describe('Function name -> file, routes and settings.'),
});

export type UserConfig = z.input<typeof configSchema>;
export type UserFunctionConfig = z.input<typeof functionSchema>;
