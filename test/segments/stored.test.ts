import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import {
  archiveStoredSegment,
  compileSegments,
  createStoredSegment,
  getStoredSegment,
  listStoredSegments,
  saveStoredSegment,
  SegmentKeyTakenError,
  segmentsFromYaml,
  segmentsYaml,
  StaleSegmentVersionError,
  storedSegmentsNamed,
  storedSegmentVersions,
  type RuleCondition,
} from '../../core/index.js';
import { createRegistry } from '../../plugins/index.js';
import { engines } from '../support/engines.js';
import { tempDir } from '../support/temp.js';

const boughtTwiceAtRisk: RuleCondition = {
  all: [
    { event: 'purchase', count: { gte: 2 }, within: '90d' },
    { feature: 'monetary_365d', gt: 50 },
  ],
};

for (const engine of engines) {
  describe(`console segments in the store (${engine.name})`, () => {
    it('keeps every version with who saved it and when', async () => {
      const { store, close } = await engine.open();
      try {
        const created = await createStoredSegment(
          store,
          { key: 'repeat_buyers', name: 'Repeat buyers', rule: boughtTwiceAtRisk, tags: ['crm'] },
          'admin',
          { now: '2026-12-06T07:00:00.000Z' },
        );
        expect(created).toMatchObject({ key: 'repeat_buyers', version: 1, savedBy: 'admin', archived: false });
        const saved = await saveStoredSegment(
          store,
          'repeat_buyers',
          1,
          { name: 'Repeat buyers (90 days)', rule: boughtTwiceAtRisk, tags: ['crm', 'retention'] },
          'admin',
          { now: '2026-12-06T07:05:00.000Z' },
        );
        expect(saved).toMatchObject({ version: 2, name: 'Repeat buyers (90 days)', tags: ['crm', 'retention'] });
        const versions = await storedSegmentVersions(store, 'repeat_buyers');
        expect(versions.map((v) => [v.version, v.savedBy, v.savedAt])).toEqual([
          [2, 'admin', '2026-12-06T07:05:00.000Z'],
          [1, 'admin', '2026-12-06T07:00:00.000Z'],
        ]);
        expect(versions[1]!.rule).toEqual(boughtTwiceAtRisk);
      } finally {
        await close();
      }
    });

    it('refuses a save started from a stale version and shows the other change', async () => {
      const { store, close } = await engine.open();
      try {
        await createStoredSegment(
          store,
          { key: 'vip', name: 'VIP', rule: { feature: 'monetary_365d', gt: 100 } },
          'admin',
        );
        // two editors opened version 1; the first saves
        await saveStoredSegment(store, 'vip', 1, { name: 'VIP', rule: { feature: 'monetary_365d', gt: 500 } }, 'admin');
        const second = saveStoredSegment(
          store,
          'vip',
          1,
          { name: 'VIP', rule: { feature: 'monetary_365d', gt: 200 } },
          'admin',
        );
        await expect(second).rejects.toBeInstanceOf(StaleSegmentVersionError);
        const error = (await second.catch((e: unknown) => e)) as StaleSegmentVersionError;
        expect(error.current.version).toBe(2);
        expect(error.current.rule).toEqual({ feature: 'monetary_365d', gt: 500 });
        expect((await getStoredSegment(store, 'vip'))!.rule).toEqual({ feature: 'monetary_365d', gt: 500 });
      } finally {
        await close();
      }
    });

    it('keeps keys unique across config and console segments', async () => {
      const { store, close } = await engine.open();
      try {
        const rule = { trait: 'country', eq: 'FR' };
        await expect(
          createStoredSegment(store, { key: 'churned', name: 'x', rule }, 'admin', { reservedKeys: ['churned'] }),
        ).rejects.toBeInstanceOf(SegmentKeyTakenError);
        await createStoredSegment(store, { key: 'french', name: 'French', rule }, 'admin');
        await expect(createStoredSegment(store, { key: 'french', name: 'again', rule }, 'admin')).rejects.toThrow(
          'already used by a console segment',
        );
      } finally {
        await close();
      }
    });

    it('archiving leaves the segment out of lists and of the pushes that name it or its tag', async () => {
      const { store, close } = await engine.open();
      try {
        const rule = { trait: 'country', eq: 'FR' };
        await createStoredSegment(store, { key: 'french', name: 'French', rule, tags: ['eu'] }, 'admin');
        await createStoredSegment(store, { key: 'german', name: 'German', rule, tags: ['eu'] }, 'admin');
        expect(storedSegmentsNamed(await listStoredSegments(store), ['tag:eu']).map((s) => s.key)).toEqual([
          'french',
          'german',
        ]);
        await archiveStoredSegment(store, 'french', 1, 'admin');
        const live = await listStoredSegments(store);
        expect(live.map((s) => s.key)).toEqual(['german']);
        expect(storedSegmentsNamed(live, ['tag:eu', 'french']).map((s) => s.key)).toEqual(['german']);
        const all = await listStoredSegments(store, { archived: true });
        expect(all.find((s) => s.key === 'french')).toMatchObject({ archived: true, version: 2 });
      } finally {
        await close();
      }
    });
  });
}

describe('console segments as YAML', () => {
  it('an export loads as a config segments file and compiles to the same SQL', async () => {
    const { store, close } = await engines[0]!.open();
    try {
      await createStoredSegment(
        store,
        {
          key: 'repeat_buyers',
          name: 'Repeat buyers',
          description: 'two orders',
          rule: boughtTwiceAtRisk,
          tags: ['crm'],
        },
        'admin',
      );
      const stored = await listStoredSegments(store);
      const dir = tempDir('segflow-export-');
      writeFileSync(join(dir, 'console.yaml'), segmentsYaml(stored));
      writeFileSync(join(dir, 'segflow.yaml'), 'segments:\n  - include: console.yaml\n');
      const config = await loadConfig(join(dir, 'segflow.yaml'), { registry: createRegistry(), env: {} });
      expect(config.segments.map((s) => [s.key, s.name])).toEqual([['repeat_buyers', 'Repeat buyers']]);
      expect(config.segments[0]!.origin.file).toContain('console.yaml');
      const now = new Date('2026-12-06T07:00:00Z');
      const fromConfig = compileSegments(config.segments, { now });
      const fromStore = compileSegments(stored, { now });
      expect(fromConfig[0]!.sql).toBe(fromStore[0]!.sql);
      expect(fromConfig[0]!.params).toEqual(fromStore[0]!.params);
      // and it reads back as it was written
      expect(segmentsFromYaml(segmentsYaml(stored))).toEqual([
        {
          key: 'repeat_buyers',
          name: 'Repeat buyers',
          description: 'two orders',
          tags: ['crm'],
          rule: boughtTwiceAtRisk,
        },
      ]);
    } finally {
      await close();
    }
  });

  it('reads a segments map keyed by segment key, and says what is wrong with other text', () => {
    expect(segmentsFromYaml('segments:\n  vip:\n    rule: { feature: monetary_365d, gt: 1 }\n')).toEqual([
      { key: 'vip', rule: { feature: 'monetary_365d', gt: 1 } },
    ]);
    expect(() => segmentsFromYaml('jobs: {}')).toThrow('expected a segments: section');
    expect(() => segmentsFromYaml('segments: [')).toThrow('not YAML');
  });
});
