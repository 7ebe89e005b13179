import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /_fngate/metrics', () => {
  it('exposes request counters by status and code, duration histograms and pool gauges in Prometheus format', async () => {
    const server = await startRuntime({ config: fixtureConfig('basics'), mode: 'dev' });
    for (let i = 0; i < 4; i++) expect((await server.fetch('/inspect')).status).toBe(200);
    expect((await server.fetch('/throws')).status).toBe(500);

    const response = await server.fetch('/_fngate/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE fngate_requests_total counter');
    expect(sample(text, 'fngate_requests_total{function="inspect",status="200"}')).toBe(4);
    expect(sample(text, 'fngate_requests_total{function="throws",status="500"}')).toBe(1);
    expect(sample(text, 'fngate_errors_total{function="throws",code="FNGATE_FUNCTION_ERROR"}')).toBe(1);
    expect(text).toContain('# TYPE fngate_run_duration_seconds histogram');
    expect(sample(text, 'fngate_run_duration_seconds_count{function="inspect"}')).toBe(4);
    expect(sample(text, 'fngate_queue_duration_seconds_bucket{le="+Inf",function="inspect"}')).toBe(4);
    // The total, failures included: the throwing request counts there, not in run time.
    expect(sample(text, 'fngate_request_duration_seconds_count{function="inspect"}')).toBe(4);
    expect(sample(text, 'fngate_request_duration_seconds_count{function="throws"}')).toBe(1);
    expect(sample(text, 'fngate_run_duration_seconds_count{function="throws"}')).toBeUndefined();
    expect(sample(text, 'fngate_threads_max{function="limited"}')).toBe(1);
    expect(sample(text, 'fngate_queue_max{function="limited"}')).toBe(1);
    expect(sample(text, 'fngate_threads{function="inspect"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'fngate_queue_length{function="inspect"}')).toBe(0);
    // prom-client's process metrics come along.
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts reloads and the duration of the last one', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  greet:\n    routes: GET /greet\n',
      'functions/greet.ts': 'export default () => "one";\n',
    });
    const server = await startRuntime({ config: project.path('config.yaml'), watch: true });
    await project.write('functions/greet.ts', 'export default () => "two";\n');
    const text = await waitFor(
      async () => {
        const body = await (await server.fetch('/_fngate/metrics')).text();
        return sample(body, 'fngate_reloads_total{function="greet",result="ok"}') === 1 ? body : undefined;
      },
      { what: 'the reload to be counted' },
    );
    expect(sample(text, 'fngate_last_reload_duration_seconds{function="greet"}')).toBeGreaterThan(0);
  });
});
