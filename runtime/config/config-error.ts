/** One problem in a config file, located to a line. */
export interface ConfigProblem {
  /** The config file as shown to the user (relative to the working directory when inside it). */
  readonly file: string;
  /** 1-based; 0 when the problem is not tied to a place in the file (e.g. it cannot be read). */
  readonly line: number;
  readonly column: number;
  /** Dotted key path, e.g. `functions.sort.maxThreads` or `functions.sort.routes[1]`. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}` : problem.file;
  return problem.path ? `${where} ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** Every problem found in a config file, reported together. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'FNGATE_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid config (${count}):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
  }
}
