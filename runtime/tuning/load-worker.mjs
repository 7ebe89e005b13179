// The load generator of `fngate tune`, on a thread of its own: on the gateway's thread it would
// take the event loop that every measured request has to cross. Plain JavaScript, loaded by
// path like the function worker entry (see tuning/load-generator.ts), so it needs no build.
// autocannon is loaded here and nowhere else: no other command pays for it.
import { parentPort } from 'node:worker_threads';

const { default: autocannon } = await import('autocannon');
// Ready once autocannon has loaded: a missing dependency fails the start, not the first step.
parentPort.postMessage({ ready: true });

parentPort.on('message', async (load) => {
  try {
    const options = {
      url: load.url,
      method: load.method,
      headers: load.headers,
      ...(load.body !== null && { body: Buffer.from(load.body) }),
      connections: load.connections,
      duration: load.seconds,
      // autocannon stops only at a sample tick: without this a 0.5 s run would last a second.
      sampleInt: Math.min(1000, load.seconds * 1000),
      timeout: load.timeoutSeconds,
    };
    // Off the main thread autocannon hands back its raw histograms (its own worker mode):
    // aggregating them gives the usual summary.
    const result = autocannon.aggregateResult([await autocannon(options)], options);
    const statuses = {};
    for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[status] = count;
    parentPort.postMessage({
      answered: result.requests.total,
      seconds: result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      statuses,
      // Connection errors and client-side timeouts: requests that got no status at all.
      errors: result.errors,
      timeouts: result.timeouts,
    });
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
