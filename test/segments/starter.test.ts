import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../cli/builtins.js';
import { loadConfig, type Config } from '../../config/index.js';
import { computeFeatures, RFM_SEGMENTS } from '../../core/features/index.js';
import { evaluateSegments } from '../../core/segments/index.js';
import type { Store } from '../../core/index.js';
import { engines } from '../support/engines.js';
import { CURRENCY, NOW, fixtureRecords, idOf, load, storeOn } from '../features/fixture.js';
import { tempDir } from '../support/temp.js';

describe.each(engines)('on $name', (engine) => {
  const starter = resolve('config/segments/starter.yaml');
  let dir: string;
  let config: Config;
  let store: Store;

  beforeAll(async () => {
    dir = tempDir('segflow-starter-');
    const file = join(dir, 'segflow.yaml');
    writeFileSync(file, `segments:\n  - include: ${JSON.stringify(starter)}\n`);
    config = await loadConfig(file, { registry: builtinRegistry(), env: {} });
    store = await storeOn(engine);
    await load(store, fixtureRecords());
    await computeFeatures(store, { now: NOW, currency: CURRENCY });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('starter segments', () => {
    it('load through the config loader, each documented, with one segment per RFM name', () => {
      const keys = config.segments.map((s) => s.key);
      expect(keys).toEqual(
        expect.arrayContaining([
          'high_value_at_risk',
          'growth_potential',
          'churned',
          'new_customers',
          'engaged_advocates',
          'frustrated_high_value',
          'detractors_at_risk',
          'price_sensitive',
          'feature_explorers',
          'expansion_ready_accounts',
          'accounts_going_quiet',
        ]),
      );
      for (const s of config.segments) expect(s.description?.length ?? 0).toBeGreaterThan(40);
      const rfmNames = config.segments.flatMap((s) =>
        'score' in s.rule && s.rule.score === 'rfm_segment' ? [s.rule.eq] : [],
      );
      expect(rfmNames.sort()).toEqual(RFM_SEGMENTS.map((s) => s.name).sort());
    });

    it('compile and evaluate on the fixture with the expected members', async () => {
      const report = await evaluateSegments(store, config.segments, {
        now: NOW,
        protectedAttributes: config.protected_attributes,
      });
      const size = (key: string) => report.segments.find((s) => s.key === key)?.size;
      const members = async (key: string) =>
        (
          (await store.all('SELECT contact_id FROM memberships WHERE segment_key = ? ORDER BY contact_id', [key])) as {
            contact_id: number;
          }[]
        ).map((r) => r.contact_id);
      expect(await members('churned')).toEqual([await idOf(store, 'dee')]); // last engaged 180 days ago
      expect(await members('new_customers')).toEqual([await idOf(store, 'cy')]); // created 14 days ago
      expect(await members('price_sensitive')).toEqual([await idOf(store, 'dee')]); // both purchases discounted
      expect(await members('rfm_at_risk')).toEqual(
        [await idOf(store, 'ada'), await idOf(store, 'dee')].sort((a, b) => a - b),
      );
      expect(await members('rfm_about_to_sleep')).toEqual(
        [await idOf(store, 'bob'), await idOf(store, 'eve')].sort((a, b) => a - b),
      );
      expect(size('high_value_at_risk')).toBe(0); // nobody spent 500 in the year
      expect(report.segments).toHaveLength(config.segments.length);
    });
  });
});
