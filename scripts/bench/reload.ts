/**
 * Hot reload latency: from the moment a save completes to the first response served by the new
 * code, over N edits, for a small function and for one that bundles large npm dependencies
 * (zod + yaml, about 1 MB and 170 modules). `fngate dev` runs as a child process, as it does for
 * a user; this process saves files and polls every 2 ms.
 * Run: npx tsx scripts/bench/reload.ts [--edits N]
 */
import { mkdtemp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFngate } from './processes.js';
import { median, percentile, round } from './stats.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface ReloadFigures {
  readonly function: string;
  /** How the editor saves: writing the file in place, or a temp file renamed over it (vim, JetBrains "safe write"). */
  readonly save: 'in place' | 'rename';
  readonly edits: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly samples: readonly number[];
}

const SOURCES = {
  small: (version: number) => `export default () => "small v${version}";\n`,
  heavy: (version: number) =>
    [
      'import { z } from "zod";',
      'import YAML from "yaml";',
      'const Doc = z.object({ name: z.string() });',
      `export default () => Doc.parse(YAML.parse("name: heavy v${version}")).name;`,
      '',
    ].join('\n'),
};

export async function measureReload(options: { edits: number }): Promise<ReloadFigures[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fngate-bench-reload-'));
  try {
    await mkdir(join(dir, 'functions'));
    // The project resolves npm packages through the repository's node_modules.
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await writeFile(
      join(dir, 'config.yaml'),
      'functions:\n  small:\n    routes: GET /small\n  heavy:\n    routes: GET /heavy\n',
    );
    for (const [name, source] of Object.entries(SOURCES)) await writeFile(join(dir, `functions/${name}.ts`), source(0));
    const server = await startFngate(['dev', '--config', join(dir, 'config.yaml'), '--port', '0']);
    try {
      const figures: ReloadFigures[] = [];
      let version = 0;
      for (const [name, source] of Object.entries(SOURCES)) {
        for (const save of ['in place', 'rename'] as const) {
        const samples: number[] = [];
        // The first save of each function is in the samples: it has no standby thread yet.
        for (let edit = 1; edit <= options.edits; edit++) {
          version++;
          const expected = `${name} v${version}`;
          const file = join(dir, `functions/${name}.ts`);
          if (save === 'in place') await writeFile(file, source(version));
          else {
            await writeFile(`${file}.swp`, source(version));
            await rename(`${file}.swp`, file);
          }
          const saved = performance.now();
          for (;;) {
            const body = await (await fetch(`${server.url}/${name}`)).text();
            if (body === expected) break;
            if (performance.now() - saved > 30_000) throw new Error(`${name} never served "${expected}" (last: ${body})`);
            await sleep(2);
          }
          samples.push(performance.now() - saved);
          // Let the old version drain and the watcher settle before the next edit.
          await sleep(150);
        }
        figures.push({ function: name, save, edits: options.edits, medianMs: round(median(samples)), p95Ms: round(percentile(samples, 95)), samples });
        }
      }
      return figures;
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { edits: { type: 'string', default: '20' } } });
  const figures = await measureReload({ edits: Number(values.edits) });
  console.log('| function | save | edits | save -> new code, median | p95 |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const f of figures) console.log(`| ${f.function} | ${f.save} | ${f.edits} | ${f.medianMs} ms | ${f.p95Ms} ms |`);
}
