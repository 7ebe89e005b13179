/**
 * Request ids, unique per process across everything that starts work on a pool (the gateway's
 * requests, the scheduler's runs): a thread aborts a request by its id. 0 is the warm-up probe.
 */
let next = 1;

export function newRequestId(): number {
  return next++;
}
