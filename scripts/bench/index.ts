/**
 * `npm run bench` (about 4 minutes) or `npm run bench -- --quick` (under a minute).
 * Every figure is measured in this one run, on this machine, side by side with what it is
 * compared to; throughput and latency figures are medians of repeated runs. Prints a markdown
 * table and writes bench-results.json. `--only B1,B4` runs some rows.
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PROFILES, type Profile } from './profile.js';
import { createBenchProject } from './project.js';
import type { Row } from './row.js';
import { bigBodyRow, bigResultRow, heavyLightRow } from './rows-latency.js';
import { builtStartRow, coldStartRow, memoryRow, reloadRow } from './rows-lifecycle.js';
import { coldFunctionRow, idleCostRow, manyFunctionsRow } from './rows-scale.js';
import { helloRows, scalingRow } from './rows-throughput.js';

export interface BenchResults {
  readonly machine: { cpus: number; model: string; memoryGb: number; node: string };
  readonly profile: Profile['name'];
  readonly note: string;
  readonly rows: Row[];
  readonly seconds: number;
}

const NOTE =
  'The load generator (autocannon) runs on the same machine and competes with the servers for its cores; ' +
  'every baseline runs under the same conditions in the same run, so the ratios are comparable, the absolute figures less so.';

export async function runBench(profile: Profile, only?: ReadonlySet<string>, log: (line: string) => void = () => {}): Promise<BenchResults> {
  const started = performance.now();
  const wanted = (...ids: string[]) => !only || ids.some((id) => only.has(id));
  const project = await createBenchProject();
  const rows: Row[] = [];
  let last = performance.now();
  const add = (row: Row) => {
    rows.push(row);
    const seconds = ((performance.now() - last) / 1000).toFixed(1);
    last = performance.now();
    log(`${row.id} ${row.met ? 'met' : 'MISSED'} (${seconds} s): ${row.fngate} | ${row.compared}`);
  };
  try {
    if (wanted('B1', 'B2')) for (const row of await helloRows(profile, project.config)) if (wanted(row.id)) add(row);
    if (wanted('B3')) add(await heavyLightRow(profile, project.config));
    if (wanted('B4')) add(await bigBodyRow(profile, project.config));
    if (wanted('B5')) add(await scalingRow(profile, project.config));
    if (wanted('B13')) add(await bigResultRow(profile, project.config));
    const lifecycle = async () => {
      if (wanted('B6')) add(await coldStartRow(profile));
      if (wanted('B7')) add(await reloadRow(profile));
      if (wanted('B12')) add(await builtStartRow(profile));
      if (wanted('B9')) add(await manyFunctionsRow(profile));
      if (wanted('B11')) add(await coldFunctionRow(profile));
    };
    // B6 and B7 run in B8's idle wait, in their own processes: B8's server only sits there.
    if (wanted('B10')) add(await idleCostRow(profile));
    if (wanted('B8')) {
      const memory = await memoryRow(profile, lifecycle);
      add(memory);
    } else await lifecycle();
  } finally {
    await project.cleanup();
  }
  return {
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 1024 ** 3), node: process.version },
    profile: profile.name,
    note: NOTE,
    rows,
    seconds: Math.round((performance.now() - started) / 1000),
  };
}

export function formatTable(results: BenchResults): string {
  const lines = [
    `fngate bench (${results.profile}), ${results.machine.cpus} cores, ${results.machine.model}, Node ${results.machine.node}, ${results.seconds} s`,
    '',
    '| id | what | fngate | compared with (same run) | target | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.rows.map((r) => `| ${r.id} | ${r.what} | ${r.fngate} | ${r.compared} | ${r.target} | ${r.met ? 'met' : '**missed**'} |`),
    '',
    `Note: ${results.note}`,
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string', default: 'bench-results.json' },
    },
  });
  const profile = PROFILES[values.tiny ? 'tiny' : values.quick ? 'quick' : 'full'];
  console.log(`fngate bench, ${profile.name} profile. ${NOTE}\n`);
  const only = values.only ? new Set(values.only.split(',').map((id) => id.trim().toUpperCase())) : undefined;
  const results = await runBench(profile, only, (line) => console.log(line));
  console.log(`\n${formatTable(results)}`);
  await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to ${values.out}`);
}
