/** How long each measurement runs. `full` is the published table; `quick` stays under a minute. */
export interface Profile {
  readonly name: 'full' | 'quick' | 'tiny';
  /** Repetitions of each throughput and latency measurement; medians are reported. */
  readonly reps: number;
  /** Seconds per autocannon run. */
  readonly seconds: number;
  /** Seconds per sequential latency sample. */
  readonly latencySeconds: number;
  /** 16 MiB requests per server. */
  readonly bodyRequests: number;
  readonly coldStarts: number;
  readonly reloadEdits: number;
  /** Idle RSS is read this many seconds after the ready line. */
  readonly memoryIdleSeconds: number;
  /** RSS is read after this many seconds of load, then again at the end. */
  readonly memoryEarlySeconds: number;
  readonly memorySeconds: number;
  readonly connections: number;
  /** Hash rounds per B5 request: about 20 ms of CPU at 18,000 here; fewer when the run is too short to finish one. */
  readonly hashRounds: number;
  /** MiB of the large results in B13. */
  readonly bigResultMb: number;
  /** Functions of the largest generated project in B9 and B10 (B9 also starts a tenth and a half of it). */
  readonly manyFunctions: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  full: { name: 'full', reps: 3, seconds: 5, latencySeconds: 3, bodyRequests: 20, coldStarts: 5, reloadEdits: 20, memoryIdleSeconds: 15, memoryEarlySeconds: 10, memorySeconds: 60, connections: 16, hashRounds: 18000, bigResultMb: 300, manyFunctions: 100 },
  quick: { name: 'quick', reps: 3, seconds: 0.7, latencySeconds: 0.7, bodyRequests: 5, coldStarts: 3, reloadEdits: 5, memoryIdleSeconds: 12, memoryEarlySeconds: 3, memorySeconds: 7, connections: 16, hashRounds: 18000, bigResultMb: 300, manyFunctions: 100 },
  // Only for the test that keeps the harness from rotting: every row runs, figures mean nothing.
  tiny: { name: 'tiny', reps: 1, seconds: 0.3, latencySeconds: 0.2, bodyRequests: 2, coldStarts: 1, reloadEdits: 1, memoryIdleSeconds: 1, memoryEarlySeconds: 0.3, memorySeconds: 0.6, connections: 4, hashRounds: 500, bigResultMb: 8, manyFunctions: 10 },
};
