import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { command } from '../../cli/commands/predict.js';
import { parseCsv } from '../../core/models/index.js';

const dir = mkdtempSync(join(tmpdir(), 'segflow-predict-property-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `segflow predict` in this process with TZ set, and returns its exit code, output and --out file. */
async function predict(
  args: string[],
  tz: string,
): Promise<{ code: number; stdout: string; stderr: string; out: string }> {
  const out = join(dir, 'out.csv');
  rmSync(out, { force: true });
  const saved = process.env.TZ;
  process.env.TZ = tz;
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await command.run([...args, '--out', out]);
    let written = '';
    try {
      written = readFileSync(out, 'utf8');
    } catch {
      written = '';
    }
    return { code, stdout, stderr, out: written };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.env.TZ = saved;
  }
}

const line = fc.record({
  customer: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', ''),
  day: fc.integer({ min: 0, max: 420 }),
  minute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
  form: fc.constantFrom('naive', 'date', 'offset', 'z'),
  value: fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 50_000 }).map((c) => (c / 100).toFixed(2)), weight: 30 },
    { arbitrary: fc.constant('10.00'), weight: 10 },
    { arbitrary: fc.integer({ min: 1, max: 5_000 }).map((c) => (-c / 100).toFixed(2)), weight: 4 },
    { arbitrary: fc.constantFrom('', '0', 'NaN', '0x10'), weight: 1 },
  ),
  cancelled: fc.boolean(),
});

function date(day: number, minute: number, form: string): string {
  const t = new Date(Date.UTC(2011, 0, 1) + day * 86_400_000 + minute * 60_000).toISOString();
  const naive = `${t.slice(0, 10)} ${t.slice(11, 19)}`;
  return form === 'date' ? t.slice(0, 10) : form === 'naive' ? naive : form === 'z' ? t : `${t.slice(0, 19)}+02:00`;
}

describe('segflow predict on random customer tables (fast-check)', () => {
  it('gives finite, in-range scores, identical under any TZ, or a clear error', async () => {
    let scored = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 0, maxLength: 40 }),
        fc.constantFrom('1d', '90d', '52w', '10y', '100y'),
        fc.constantFrom('exclude', 'net'),
        fc.integer({ min: 60, max: 400 }),
        async (lines, horizon, returns, end) => {
          const file = join(dir, 'table.csv');
          const rows = lines.map(
            (l, i) => `${l.cancelled ? 'C' : ''}${1000 + i},${l.customer},${date(l.day, l.minute, l.form)},${l.value}`,
          );
          writeFileSync(file, `invoice,customer,date,value\n${rows.join('\n')}\n`);
          const args = [
            file,
            ...['--customer', 'customer', '--date', 'date', '--value', 'value', '--invoice', 'invoice'],
            ...['--calibration-end', date(end, 0, 'date'), '--horizon', horizon, '--returns', returns],
            '--missing-customer',
            'skip',
            '--json',
          ];
          const utc = await predict(args, 'UTC');
          const tokyo = await predict(args, 'Asia/Tokyo');
          expect(tokyo).toEqual(utc);
          if (utc.code !== 0) {
            expect(utc.code).toBe(1);
            expect(utc.stderr).toMatch(/^segflow predict: \S/);
            expect(utc.stderr).not.toMatch(/TypeError|RangeError|\n\s+at /);
            return;
          }
          const report = JSON.parse(utc.stdout) as { purchaseModel: Record<string, unknown> };
          for (const v of Object.values(report.purchaseModel))
            if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          scored++;
          const table = parseCsv(utc.out);
          const col = (name: string): number => table.header.indexOf(name);
          for (const row of table.rows) {
            if (row[col('note')] !== '') continue;
            const pAlive = Number(row[col('p_alive')]);
            const expected = Number(row[col('expected_purchases')]);
            const value = Number(row[col('expected_average_value')]);
            const clv = Number(row[col('clv')]);
            expect(pAlive).toBeGreaterThanOrEqual(0);
            expect(pAlive).toBeLessThanOrEqual(1);
            expect(expected).toBeGreaterThanOrEqual(0);
            expect(Number.isFinite(expected)).toBe(true);
            expect(value).toBeGreaterThan(0);
            expect(Number.isFinite(clv) && clv >= 0).toBe(true);
          }
        },
      ),
      { numRuns: 150, seed: 20261206 },
    );
    // Both branches are exercised: tables that fit, and tables refused with a sentence.
    expect(scored).toBeGreaterThanOrEqual(5);
  }, 120_000);
});
