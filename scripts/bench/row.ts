/** One line of the results table. */
export interface Row {
  readonly id: string;
  readonly what: string;
  /** fngate's figure. */
  readonly fngate: string;
  /** The comparison measured in the same run, and the ratio. */
  readonly compared: string;
  readonly target: string;
  readonly met: boolean;
  /** Raw figures for bench-results.json. */
  readonly data: Record<string, unknown>;
}
