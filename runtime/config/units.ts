/** `250ms`, `30s`, `2m`, `1h`, `1.5s`; a bare number in config means milliseconds. */
export const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i;
/** `512kb`, `10mb`, `1gb`, `100b` (binary multiples: 1kb = 1024 bytes); a bare number means bytes. */
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses a duration that already passed schema validation; returns whole milliseconds. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return Math.round(value);
  const match = DURATION_PATTERN.exec(value);
  if (!match) throw new TypeError(`not a duration: ${value}`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!);
}

/** Parses a size that already passed schema validation; returns whole bytes. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return Math.round(value);
  const match = SIZE_PATTERN.exec(value);
  if (!match) throw new TypeError(`not a size: ${value}`);
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
}

/** Human form of a byte count for messages and tables: `10 MB`, `512 KB`, `300 B`. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (bytes >= factor && bytes % (factor / 1024) === 0) {
      const n = bytes / factor;
      return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} B`;
}

/** Human form of milliseconds: `250 ms`, `30 s`, `2 min`. */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
