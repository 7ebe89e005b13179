import type { TaskFailure } from '../protocol/failure.js';
import type { FunctionWorkerData } from '../protocol/worker-data.js';
import type { PoolSettings } from './settings.js';

/** What a FunctionPool is made from: one function version's settings, env and callbacks. */
export interface FunctionPoolOptions {
  readonly name: string;
  /**
   * Absolute path of the version's bundle. Without it the pool is a standby: its threads start
   * now and load the bundle given to adopt() later (a hot reload then skips their start-up).
   */
  readonly bundleFile?: string;
  readonly settings: PoolSettings;
  /** The env declared in config. */
  readonly env: Readonly<Record<string, string>>;
  /** How the module is called (config `type`). @default "auto" */
  readonly type?: FunctionWorkerData['type'];
  /** The function's shared memory, the same buffer for every version; null without. */
  readonly shared?: SharedArrayBuffer | null;
  /** NODE_ENV inside the function: `development` in dev, `production` in start. */
  readonly nodeEnv: string;
  /** For `fngate invoke` (see FunctionWorkerData.invoke). @default false */
  readonly invoke?: boolean;
  /** Something worth telling the user that no request will report (a crash outside a request, a back-off). */
  readonly onIncident?: (message: string) => void;
  /** A thread answered that the module failed to load (a pool that went live without a probe finds out this way). */
  readonly onLoadFailure?: (failure: TaskFailure) => void;
  /** How to fix a failure the handler threw, when the runtime can tell (a package to leave unbundled). */
  readonly explain?: (failure: TaskFailure) => string | undefined;
}
