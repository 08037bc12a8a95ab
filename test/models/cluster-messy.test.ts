import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../../bin/segflow.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'segflow-cluster-messy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cluster(text: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, `rfm${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, text);
  try {
    const { stdout, stderr } = await run('node', [BIN, 'cluster', file, '--id', 'id', '--features', 'r,f', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const rows = (n: number): string =>
  Array.from({ length: n }, (_, i) => `c${i},${(i * 7) % 13},${(i * 5) % 11}`).join('\n');

describe('segflow cluster on messy rows', () => {
  it.each([
    ['an empty cell', 'bad,,3', /:3, column "r": the cell is empty/],
    ['NaN', 'bad,NaN,3', /:3, column "r": "NaN" is not a decimal number/],
    ['hexadecimal', 'bad,0x10,3', /:3, column "r": "0x10" is not a decimal number/],
    ['an empty id', ',4,3', /:3, column "id": the id is empty/],
    ['a duplicated id', 'first,4,3', /:3, column "id": the id "first" is already on line 2; one row per id/],
  ])('refuses %s with its file, line and column', async (_, line, message) => {
    const { code, stderr } = await cluster(`id,r,f\nfirst,1,2\n${line}\n${rows(20)}\n`);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('refuses negatives before --log1p, a fractional --min-samples, and says when there are too few rows', async () => {
    const negative = await cluster(`id,r,f\n${rows(10)}\nx,-3,1\n`, '--log1p', 'r');
    expect(negative.code).toBe(1);
    expect(negative.stderr).toMatch(/:12, column "r": -3 is negative, and --log1p takes ln\(1 \+ x\)/);
    const fraction = await cluster(`id,r,f\n${rows(10)}\n`, '--algorithm', 'dbscan', '--min-samples', '2.5');
    expect(fraction.code).toBe(2);
    expect(fraction.stderr).toMatch(/--min-samples expects a whole number/);
    for (const [text, said] of [
      ['id,r,f\n', /no rows under its header: clustering needs at least 2 rows/],
      ['id,r,f\na,1,2\n', /one row under its header/],
    ] as const) {
      const { code, stderr } = await cluster(text);
      expect(code).toBe(1);
      expect(stderr).toMatch(said);
    }
  });

  it('stops k at the number of distinct points instead of printing empty clusters', async () => {
    const text = `id,r,f\n${Array.from({ length: 12 }, (_, i) => `c${i},${i % 3},${i % 3}`).join('\n')}\n`;
    const range = await cluster(text, '--json');
    expect(range.code).toBe(0);
    const report = JSON.parse(range.stdout) as { k: number; profiles: { size: number }[] };
    expect(report.k).toBeLessThanOrEqual(3);
    for (const p of report.profiles) expect(p.size).toBeGreaterThan(0);
    const one = await cluster(text, '--k', '5');
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/--k asks for 5 clusters, but the 12 rows have only 3 distinct points/);
  });
});
