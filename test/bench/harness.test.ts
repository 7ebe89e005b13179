import { describe, expect, it } from 'vitest';
import { formatTable, runBench } from '../../scripts/bench/index.js';
import { PROFILES } from '../../scripts/bench/profile.js';

// Keeps `npm run bench` from rotting: every row runs end to end on a tiny profile (a fraction of
// a second each). The figures mean nothing at this size and are not checked, only that each row
// measured something and reports it.
describe('bench harness', () => {
  it('runs every row of npm run bench and reports a finite figure for each', async () => {
    const results = await runBench(PROFILES.tiny);
    expect(results.rows.map((row) => row.id)).toEqual(['B1', 'B2', 'B3', 'B4', 'B5', 'B13', 'B10', 'B6', 'B7', 'B12', 'B9', 'B11', 'B8']);
    for (const row of results.rows) {
      const numbers = JSON.stringify(row.data).match(/-?\d+(\.\d+)?/g) ?? [];
      expect(numbers.length, `${row.id} reports numbers`).toBeGreaterThan(0);
      expect(JSON.stringify(row.data), `${row.id} has no NaN or null figures`).not.toMatch(/null|NaN/);
    }
    const table = formatTable(results);
    for (const row of results.rows) expect(table).toContain(`| ${row.id} | ${row.what} |`);
  }, 180_000);
});
