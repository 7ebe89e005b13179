import type { BundleWarning } from './unbundlable.js';

/** Where a function version's bundle comes from: esbuild (dev, start) or a prebuilt file (fngate build's output). */
export interface BundleSource {
  /** The next version's bundle, or why there is none. Never throws for the user's mistakes. */
  build(): Promise<BuildOutcome>;
  /**
   * A file the current build may have read changed (the watcher saw it): whatever that build is
   * still remembering for later (its build cache entry) must not be kept.
   */
  changed?(): void;
  dispose(): Promise<void>;
}

/** Makes the BundleSource of one function. */
export interface BundleSources {
  create(config: { readonly name: string; readonly file: string; readonly external: 'all' | readonly string[] }): Promise<BundleSource>;
}

export interface BuildSuccess {
  readonly ok: true;
  /** Absolute path of this version's bundle; never overwritten by a later build. */
  readonly bundleFile: string;
  /** The bundle was written for this version: delete it once the version no longer runs. */
  readonly owned: boolean;
  /** Absolute paths of the project files the bundle includes (not node_modules). */
  readonly inputs: readonly string[];
  readonly ms: number;
  /** Reused from an earlier run's build cache rather than bundled now. */
  readonly cached: boolean;
  /** Packages the bundle imports from node_modules at run time (config `external`), by name. */
  readonly externals: readonly string[];
  /** Bundled packages that will likely break inside the bundle (see unbundlable.ts). */
  readonly warnings: readonly BundleWarning[];
}

export interface BuildFailure {
  readonly ok: false;
  /** One line: `functions/x.ts:3:10: Expected ";" but found "y"`. */
  readonly message: string;
  /** Every error with its code frame, for the terminal. */
  readonly report: string;
  /** The entry and the files with errors: the watcher must keep following them. */
  readonly inputs: readonly string[];
  /** An import did not resolve: creating the missing file may fix the build. */
  readonly unresolved: boolean;
  readonly ms: number;
}

export type BuildOutcome = BuildSuccess | BuildFailure;

