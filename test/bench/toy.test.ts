import { describe, expect, it } from 'vitest';
import { benchmarkNames, runBenchmark } from '../../bench/run.js';

// CI runs every benchmark at toy scale so none rots; figures are not asserted (tests never assert wall-clock times).
describe('benchmarks at toy scale', () => {
  for (const name of benchmarkNames()) {
    it(`${name} runs and reports figures`, { timeout: 300_000 }, async () => {
      const figures = await runBenchmark(name, true, () => {});
      expect(figures).toMatch(/\|/);
    });
  }
});
