import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAudit, type AuditOptions, type Store } from '../../core/index.js';
import { engines } from '../support/engines.js';
import { storeOn } from '../features/fixture.js';
import { cleanOptions, cleanWorld, contactOf, enter, load, person, range } from './world.js';

describe.each(engines)('on $name', (engine) => {
  let store: Store;
  beforeEach(async () => {
    store = await storeOn(engine);
    await cleanWorld(store);
  });
  afterEach(() => store.close());

  const audit = async (options: Partial<AuditOptions> = {}) =>
    await buildAudit(store, { ...cleanOptions(), ...options });
  const withSegment = (key: string) => ({ segments: [...(cleanOptions().segments ?? []), { key, name: key }] });
  /** People 0-99: even ones are female, odd ones male. */
  const females = (from: number, count: number) => range(0, count).map((i) => from + 2 * i + (from % 2 === 0 ? 0 : 1));
  const males = (from: number, count: number) => range(0, count).map((i) => from + 2 * i + (from % 2 === 0 ? 1 : 0));

  async function labelClusters(model: string, output: string, labels: Map<number, string>): Promise<void> {
    const insert =
      "INSERT INTO model_outputs (contact_id, model, output, value, label, computed_at) VALUES (?, ?, ?, ?, ?, '2026-06-29')";
    for (const [p, label] of labels) await store.run(insert, [await contactOf(store, p), model, output, null, label]);
  }

  describe('fairness (the four-fifths rule)', () => {
    it('flags a rule segment selecting women at half the rate of men, with the rates', async () => {
      // 20 of 50 men (40%) and 10 of 50 women (20%): women at 0.5 of the men's rate
      await enter(store, 'biased', [...males(40, 20), ...females(40, 10)]);
      const { findings, fairness } = await audit(withSegment('biased'));
      expect(findings.map((f) => [f.code, f.names, f.count])).toEqual([
        ['adverse_impact', ['biased', 'gender=female'], 50],
      ]);
      expect(findings[0]?.message).toContain('gender female at 20% (ratio 0.50) against 40% for male');
      expect(fairness.selections.find((s) => s.key === 'biased')?.groups).toEqual([
        { group: 'male', contacts: 50, selected: 20, rate: 0.4, impactRatio: 1, flagged: false },
        { group: 'female', contacts: 50, selected: 10, rate: 0.2, impactRatio: 0.5, flagged: true },
      ]);
    });

    it('does not flag a group selected at exactly four-fifths of the highest rate', async () => {
      // 20 of 50 men (40%), 16 of 50 women (32% = 0.8 × 40%)
      await enter(store, 'edge', [...males(40, 20), ...females(40, 16)]);
      expect((await audit(withSegment('edge'))).findings).toEqual([]);
      await enter(store, 'below', [...males(40, 20), ...females(40, 15)]);
      expect((await audit(withSegment('below'))).findings.map((f) => f.names)).toEqual([['below', 'gender=female']]);
    });

    it('ignores groups too small to judge, and attributes the config does not list', async () => {
      await load(
        store,
        range(100, 105).map((p) => person(p, { gender: 'Non-binary ', religion: 'x' })),
      );
      // nobody of the five is selected, yet the group is under the minimum of 30
      const { findings, fairness } = await audit({ protectedAttributes: ['gender'] });
      expect(findings).toEqual([]);
      expect(fairness.attributes).toEqual([
        {
          attribute: 'gender',
          contacts: 105,
          groups: [
            { group: 'female', contacts: 50, judged: true },
            { group: 'male', contacts: 50, judged: true },
            { group: 'non-binary', contacts: 5, judged: false },
          ],
        },
      ]);
      expect((await audit({ protectedAttributes: ['gender'], minGroupSize: 5 })).findings.map((f) => f.names)).toEqual([
        ['fr_buyers', 'gender=non-binary'],
        ['vip', 'gender=non-binary'],
      ]);
    });

    it('flags clusters that split a protected group even though no rule names it', async () => {
      // Loyal: 30 of 50 men, 15 of 50 women (ratio 0.5); Casual: the other 20 men and 35 women (men at 0.4 / 0.7)
      const labels = new Map<number, string>();
      for (const p of males(0, 30)) labels.set(p, 'Loyal');
      for (const p of females(0, 15)) labels.set(p, 'Loyal');
      for (const p of range(0, 100)) if (!labels.has(p)) labels.set(p, 'Casual');
      await labelClusters('kmeans', 'cluster', labels);
      const { findings, fairness } = await audit();
      expect(findings.map((f) => [f.code, f.names, f.count])).toEqual([
        ['adverse_impact', ['kmeans.cluster:Casual', 'gender=male'], 50],
        ['adverse_impact', ['kmeans.cluster:Loyal', 'gender=female'], 50],
      ]);
      const casual = fairness.selections.find((s) => s.kind === 'cluster' && s.name === 'Casual');
      expect(casual?.groups.map((g) => [g.group, g.rate, g.impactRatio])).toEqual([
        ['female', 0.7, 1],
        ['male', 0.4, 0.4 / 0.7],
      ]);
      expect(casual?.base).toBe(100);
    });

    it('groups ages in years into bands', async () => {
      await load(
        store,
        range(0, 100).map((p) =>
          person(p, { age: p < 50 ? 20 + (p % 10) : 40 + (p % 20), updated_at: '2026-06-15T00:00:00.000Z' }),
        ),
      );
      const { fairness } = await audit({ protectedAttributes: ['age'] });
      // 0-49: ages 20-29 (18-24: 20-24, 25-34: 25-29); 50-99: ages 40-59 (35-44: 10 people, 45-54: 25, 55-64: 15)
      expect(fairness.attributes[0]?.groups).toEqual(
        [
          { group: '45-54', contacts: 25, judged: false },
          { group: '18-24', contacts: 25, judged: false },
          { group: '25-34', contacts: 25, judged: false },
          { group: '55-64', contacts: 15, judged: false },
          { group: '35-44', contacts: 10, judged: false },
        ].sort((a, b) => b.contacts - a.contacts || a.group.localeCompare(b.group)),
      );
    });
  });
});
