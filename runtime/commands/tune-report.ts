import type { StepFigures } from '../tuning/ladder.js';
import { megabytes, milliseconds, type Recommendation } from '../tuning/recommendation.js';

/** A measured step as the table shows it. */
export interface ReportedStep extends StepFigures {
  readonly connections: number;
}

const COLUMNS: readonly { readonly title: string; readonly cell: (step: ReportedStep) => string }[] = [
  { title: 'threads', cell: (s) => String(s.threads) },
  { title: 'concurrency', cell: (s) => String(s.concurrency) },
  { title: 'conns', cell: (s) => String(s.connections) },
  { title: 'req/s', cell: (s) => (s.requestsPerSecond >= 100 ? Math.round(s.requestsPerSecond).toLocaleString('en-US') : s.requestsPerSecond.toFixed(1)) },
  { title: 'p50', cell: (s) => `${Math.round(s.p50Ms)} ms` },
  { title: 'p99', cell: (s) => `${Math.round(s.p99Ms)} ms` },
  { title: 'CPU/req', cell: (s) => milliseconds(s.cpuMsPerRequest) },
  { title: 'run/req', cell: (s) => milliseconds(s.runMsPerRequest) },
  { title: 'heap/thread', cell: (s) => (s.peakHeapBytes === null ? '-' : megabytes(s.peakHeapBytes)) },
  { title: 'machine', cell: (s) => percent(s.machineBusy) },
  { title: 'gateway', cell: (s) => percent(s.gatewayBusy) },
  { title: 'load gen', cell: (s) => percent(s.loadBusy) },
];

/** The steps as a right-aligned table, a row each. */
export function stepTable(steps: readonly ReportedStep[]): string {
  const rows = [COLUMNS.map((column) => column.title), ...steps.map((step) => COLUMNS.map((column) => column.cell(step)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padStart(widths[i]!)).join('  ')).join('\n') + '\n';
}

/** What the columns measure and how: the figures only mean something with this. */
export const TABLE_NOTES = `conns: connections the load generator kept busy (2 per request slot: one running, one waiting)
req/s, p50, p99: as the load generator saw them, through fngate's gateway (whole milliseconds)
CPU/req: the function threads' busy time per answered request (event-loop utilization: it counts
  time the OS gave the core to another thread); run/req: time on the thread, waits included
heap/thread: the most V8 heap one thread had in use, read by the threads after their replies (at
  most every 10 ms); ArrayBuffer contents are outside it, as they are outside memoryLimit
machine, gateway, load gen: how busy all cores were (every process on the machine counts), the
  gateway's thread, and the load generator's thread (autocannon, in this process: about that
  share of one core)
`;

/** The recommendation: each setting with its reason, then the warnings. */
export function recommendationText(advice: Recommendation): string {
  const entries = Object.entries(advice.settings).map(([key, value]) => [`${key}: ${value}`, advice.reasons[key as keyof Recommendation['reasons']] ?? ''] as const);
  const width = Math.max(...entries.map(([setting]) => setting.length));
  const lines = entries.map(([setting, reason]) => `  ${setting.padEnd(width)}  ${reason}`);
  const kind = advice.kind === 'cpu' ? 'CPU-bound' : advice.kind === 'io' ? 'I/O-bound' : 'light';
  let text = `recommended (${kind}):\n${lines.join('\n')}\n`;
  if (advice.warnings.length > 0) text += `\nwarnings:\n${advice.warnings.map((warning) => `  ! ${warning}`).join('\n')}\n`;
  return text;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
