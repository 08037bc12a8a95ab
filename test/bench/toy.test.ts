import { describe, expect, it } from 'vitest';
import { benchmarkNames, runBenchmark } from '../../bench/run.js';

// CI runs every benchmark at toy scale so none rots; timings are not asserted (tests never assert wall-clock times),
// only what must hold at any scale.
describe('benchmarks at toy scale', () => {
  for (const name of benchmarkNames()) {
    it(`${name} runs and reports figures`, { timeout: 300_000 }, async () => {
      const figures = await runBenchmark(name, true, () => {});
      expect(figures).toMatch(/\|/);
      if (name === 'realtime') {
        // End to end, even at toy scale: nothing accepted is lost, and every member of the pushed segments is delivered.
        expect(figures).toMatch(/\| events lost \(accepted[^|]*\| 0 \|/);
        expect(figures).toMatch(/\| members of the pushed segments not delivered after the drain \| 0 of [1-9]\d* \|/);
      }
    });
  }
});
