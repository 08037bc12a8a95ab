import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digestOf,
  referenceRun,
  runChild,
  runHere,
  sandboxDigest,
  segmentSandbox,
  writeConfig,
  type Reference,
} from './crash-fixture.js';
import { engines } from '../support/engines.js';
import { tempDir } from '../support/temp.js';

const dir = tempDir('segflow-job-crash-random-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 20 moments take several minutes (see the note in crash.test.ts); CI runs the first MOMENTS of the same seeded draw.
const MOMENTS = Number(process.env.SEGFLOW_CRASH_MOMENTS ?? 4);

for (const engine of engines)
  describe(`a job killed at seeded random moments resumes to the same store and the same destination state, on ${engine.name}`, () => {
    let reference: Reference;
    beforeAll(async () => {
      reference = await referenceRun(dir, engine);
    }, 60_000);

    it('each kill, then a resume, digests equal to the uninterrupted run', async () => {
      // How long an uninterrupted child takes from `started` to the end: the kills land anywhere in it.
      const sandbox = await segmentSandbox();
      const whole = await writeConfig(dir, `${engine.name}-whole`, sandbox, engine);
      let span: number;
      try {
        const { signal, ranMs } = await runChild(whole.file, { delayMs: 600_000 });
        expect(signal).toBe(null);
        span = ranMs!;
        expect(await digestOf(whole.store)).toBe(reference.store);
        expect(await sandboxDigest(sandbox, whole.store)).toBe(reference.sandbox);
      } finally {
        await sandbox.close();
        await whole.remove();
      }
      let seed = 20261125;
      const random = () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      let killed = 0;
      for (let i = 0; i < MOMENTS; i++) {
        const moment = Math.floor(random() * span);
        const sandbox = await segmentSandbox();
        const scenario = await writeConfig(dir, `${engine.name}-random-${i}`, sandbox, engine);
        try {
          const { signal } = await runChild(scenario.file, { delayMs: moment });
          if (signal === 'SIGKILL') killed++;
          const resumed = await runHere(scenario.file);
          expect(resumed.status, `moment ${i} (${moment} ms)`).toBe('succeeded');
          expect(await digestOf(scenario.store), `moment ${i} (${moment} ms)`).toBe(reference.store);
          expect(await sandboxDigest(sandbox, scenario.store), `moment ${i} (${moment} ms)`).toBe(reference.sandbox);
          expect(sandbox.workspace.messages.length).toBe(reference.messages);
        } finally {
          await sandbox.close();
          await scenario.remove();
        }
      }
      expect(killed).toBeGreaterThanOrEqual(Math.ceil(MOMENTS / 2));
    }, 900_000);
  });
