import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFeatures } from '../../core/features/index.js';
import {
  compileSegments,
  SegmentRuleError,
  type RuleCondition,
  type SegmentDefinition,
} from '../../core/segments/index.js';
import type { Store } from '../../core/index.js';
import { engines } from '../support/engines.js';
import { CURRENCY, NOW, fixtureRecords, idOf, load, storeOn } from '../features/fixture.js';

describe.each(engines)('on $name', (engine) => {
  const PEOPLE = ['ada', 'bob', 'cy', 'dee', 'eve'];
  let store: Store;
  let names: Map<number, string>;

  beforeAll(async () => {
    store = await storeOn(engine);
    await load(store, fixtureRecords());
    await computeFeatures(store, {
      now: NOW,
      currency: CURRENCY,
      features: { big_orders: { agg: 'count', event: 'purchase', where: { value: { gt: 40 } } } },
    });
    names = new Map(await Promise.all(PEOPLE.map(async (p): Promise<[number, string]> => [await idOf(store, p), p])));
    const insert =
      "INSERT INTO model_outputs (contact_id, model, output, value, label, computed_at) VALUES (?, ?, ?, ?, ?, '2026-03-01')";
    await store.run(insert, [await idOf(store, 'ada'), 'churn', 'risk', 0.8, null]);
    await store.run(insert, [await idOf(store, 'bob'), 'churn', 'risk', 0.1, null]);
    await store.run(insert, [await idOf(store, 'ada'), 'clusters', 'value', null, 'big spenders']);
  });
  afterAll(() => store.close());

  async function members(
    rule: RuleCondition,
    others: SegmentDefinition[] = [],
    extra: Partial<SegmentDefinition> = {},
  ): Promise<string[]> {
    const segments = [{ key: 'under_test', rule, ...extra }, ...others];
    const [compiled] = compileSegments(segments, {
      now: NOW,
      customFeatures: ['big_orders'],
      protectedAttributes: ['gender', 'age'],
      dialect: store.dialect,
    });
    if (!compiled) throw new Error('nothing compiled');
    const rows = (await store.all(compiled.sql, compiled.params)) as { contact_id: number }[];
    return rows.map((r) => names.get(r.contact_id) ?? String(r.contact_id)).sort();
  }

  function issuesOf(segments: SegmentDefinition[], protectedAttributes = ['gender']): string[] {
    try {
      compileSegments(segments, { now: NOW, protectedAttributes, models: ['churn'] });
    } catch (error) {
      if (error instanceof SegmentRuleError) return error.issues.map((i) => `${i.where} ${i.message}`);
      throw error;
    }
    return [];
  }

  describe('comparisons on traits, features, scores and models (fixture at 2026-03-01)', () => {
    it('eq, ne and in on traits; ne keeps contacts without the trait', async () => {
      expect(await members({ trait: 'country', eq: 'FR' })).toEqual(['ada', 'cy']);
      expect(await members({ trait: 'country', ne: 'FR' })).toEqual(['bob', 'dee', 'eve']);
      expect(await members({ trait: 'plan', ne: 'pro' })).toEqual(['ada', 'bob', 'cy', 'eve']);
      expect(await members({ trait: 'country', in: ['DE', 'US'] })).toEqual(['bob', 'dee']);
    });

    it('contains (case-insensitive) and exists', async () => {
      expect(await members({ trait: 'email', contains: 'BO' })).toEqual(['bob']);
      expect(await members({ trait: 'lifecycle_stage', exists: true })).toEqual(['bob']);
      expect(await members({ trait: 'lifecycle_stage', exists: false })).toEqual(['ada', 'cy', 'dee', 'eve']);
    });

    it('gt, gte, lt, lte and between on features', async () => {
      // monetary_all: ada 135, bob 30, cy 0, dee 60, eve 30
      expect(await members({ feature: 'monetary_all', gt: 60 })).toEqual(['ada']);
      expect(await members({ feature: 'monetary_all', gte: 60 })).toEqual(['ada', 'dee']);
      expect(await members({ feature: 'monetary_all', lt: 30 })).toEqual(['cy']);
      expect(await members({ feature: 'monetary_all', lte: 30 })).toEqual(['bob', 'cy', 'eve']);
      expect(await members({ feature: 'frequency_all', between: [1, 2] })).toEqual(['bob', 'dee', 'eve']);
      expect(await members({ feature: 'big_orders', gte: 3 })).toEqual(['ada']);
    });

    it('within and before on a timestamp trait, with the boundary excluded from before', async () => {
      expect(await members({ trait: 'created_at', within: '30d' })).toEqual(['cy']); // 2026-02-15
      expect(await members({ trait: 'created_at', before: '60d' })).toEqual(['ada']); // 2025-12-01
      expect(await members({ trait: 'created_at', before: '90d' })).toEqual([]); // exactly 90 days: not before
    });

    it('scores and model outputs', async () => {
      expect(await members({ score: 'rfm_segment', eq: 'At Risk' })).toEqual(['ada', 'dee']);
      expect(await members({ score: 'rfm_recency', gte: 3 })).toEqual(['bob', 'eve']);
      expect(await members({ model: 'churn.risk', gt: 0.5 })).toEqual(['ada']);
      expect(await members({ model: 'churn.risk', lt: 0.5 })).toEqual(['bob']);
      expect(await members({ model: 'clusters', eq: 'big spenders' })).toEqual(['ada']);
    });
  });

  describe('event conditions', () => {
    it('counts events in a window', async () => {
      expect(await members({ event: 'email_open', count: { gte: 2 }, within: '30d' })).toEqual(['ada']);
      expect(await members({ event: 'email_open', count: { lt: 2 }, within: '30d' })).toEqual([
        'bob',
        'cy',
        'dee',
        'eve',
      ]);
      expect(await members({ event: 'purchase', within: '30d' })).toEqual(['ada', 'bob', 'eve']);
      expect(await members({ event: 'purchase', count: 0, within: '30d' })).toEqual(['cy', 'dee']);
      expect(await members({ event: 'purchase', count: { between: [2, 3] } })).toEqual(['dee']); // ada has 4 up to now
    });

    it('filters on properties and value, and `before`', async () => {
      expect(
        await members({ event: 'email_open', count: 2, within: '7d', where: { campaign: { contains: 'SPRING' } } }),
      ).toEqual(['ada']);
      expect(await members({ event: 'email_open', where: { campaign: 'winter' } })).toEqual(['ada']);
      expect(await members({ event: 'purchase', where: { value: { gt: 40 } }, count: { gte: 3 } })).toEqual(['ada']); // 100, 50, 200; the 1000 is after now
      expect(await members({ event: 'purchase', before: '90d' })).toEqual(['ada', 'dee']);
      expect(await members({ event: 'purchase', where: { discount: { gt: 0 } } })).toEqual(['ada', 'dee']);
    });
  });

  describe('groups and references', () => {
    it('all, any and not', async () => {
      expect(await members({ all: [{ trait: 'country', eq: 'FR' }, { event: 'purchase' }] })).toEqual(['ada']);
      expect(
        await members({
          any: [
            { trait: 'country', eq: 'DE' },
            { feature: 'frequency_all', gte: 4 },
          ],
        }),
      ).toEqual(['ada', 'bob']);
      expect(await members({ not: { trait: 'country', eq: 'FR' } })).toEqual(['bob', 'dee', 'eve']);
      expect(await members({ not: { feature: 'days_since_last_purchase', lt: 10 } })).toEqual(['cy', 'dee']); // cy has none: kept
    });

    it('in_segment inlines the other segment', async () => {
      const buyers: SegmentDefinition = { key: 'buyers', rule: { event: 'purchase' } };
      expect(await members({ all: [{ in_segment: 'buyers' }, { trait: 'country', eq: 'FR' }] }, [buyers])).toEqual([
        'ada',
      ]);
      expect(await members({ not: { in_segment: 'buyers' } }, [buyers])).toEqual(['cy']);
    });
  });

  describe('values never become SQL', () => {
    it('injection attempts in values match literally and change nothing', async () => {
      expect(await members({ trait: 'country', eq: "FR' OR '1'='1" })).toEqual([]);
      expect(await members({ trait: 'country', eq: "FR'; DROP TABLE contacts; --" })).toEqual(['eve']);
      expect(await members({ trait: 'country', in: ["') OR 1=1 --", 'DE'] })).toEqual(['bob']);
      expect(await members({ event: 'email_open', where: { campaign: { contains: "%' OR 1=1 --" } } })).toEqual([]);
      expect(await members({ trait: 'country', contains: '; drop table' })).toEqual(['eve']);
      expect(((await store.get('SELECT COUNT(*) AS n FROM contacts')) as { n: number }).n).toBe(5);
    });

    it('refuses field names that are not plain names', () => {
      expect(issuesOf([{ key: 's', rule: { trait: "x') OR 1=1 --", eq: 1 } }])).toEqual([
        expect.stringContaining('is not a trait name'),
      ]);
      expect(issuesOf([{ key: 's', rule: { event: 'purchase', where: { "a'); DROP": 1 } } }])).toEqual([
        expect.stringContaining('is not a property name'),
      ]);
    });
  });

  describe('mistakes are errors naming where they were written', () => {
    const at = (file: string, line: number) => ({ file, line, column: 7 });

    it('names an unknown feature at its file:line:col', () => {
      const issues = issuesOf([
        {
          key: 'vip',
          rule: { all: [{ feature: 'monetary_356d', gt: 1 }] },
          locations: { 'rule.all[0].feature': at('segments.yaml', 12) },
        },
      ]);
      expect(issues).toEqual([
        expect.stringMatching(
          /^segments\.yaml:12:7 segment vip: rule\.all\[0\]\.feature: unknown feature "monetary_356d"/,
        ),
      ]);
    });

    it('refuses text beside a number (PostgreSQL cannot compare them) and keeps numbers written as text', async () => {
      const issues = issuesOf([
        { key: 'typo', rule: { feature: 'monetary_365d', gte: '1O0' } },
        { key: 'blank', rule: { event: 'purchase', where: { value: { gt: '' } } } },
        { key: 'listed', rule: { score: 'rfm_score', in: [5, 'five'] } },
      ]);
      expect(issues).toEqual([
        'segment typo, rule.gte segment typo: rule.gte: feature monetary_365d is a number: compare it with numbers, like 100',
        "segment blank, rule.where.value.gt segment blank: rule.where.value.gt: an event's value is a number: compare it with numbers, like 100",
        'segment listed, rule.in segment listed: rule.in: feature rfm_score is a number: compare it with numbers, like [1, 2]',
      ]);
      // a number written as text still compares as that number, on both engines
      expect(await members({ feature: 'monetary_all', gte: '60' })).toEqual(['ada', 'dee']);
    });

    it('names unknown event types, scores, models and segments by segment key and path without locations', () => {
      expect(
        issuesOf([
          {
            key: 'a',
            rule: {
              any: [
                { event: 'email_opened' },
                { score: 'rfm', eq: 1 },
                { model: 'clv.value', gt: 1 },
                { in_segment: 'nope' },
              ],
            },
          },
        ]),
      ).toEqual([
        expect.stringContaining(
          'segment a, rule.any[0].event segment a: rule.any[0].event: unknown event type "email_opened"',
        ),
        expect.stringContaining('rule.any[1].score: unknown score "rfm"'),
        expect.stringContaining('rule.any[2].model: unknown model "clv"'),
        expect.stringContaining('rule.any[3].in_segment: unknown segment "nope"'),
      ]);
    });

    it('refuses cycles between segments', () => {
      const issues = issuesOf([
        { key: 'a', rule: { in_segment: 'b' } },
        { key: 'b', rule: { all: [{ event: 'purchase' }, { in_segment: 'a' }] } },
      ]);
      expect(issues).toContainEqual(expect.stringContaining('cycle: a -> b -> a'));
    });

    it('refuses protected attributes unless allowed with a reason', async () => {
      expect(issuesOf([{ key: 'w', rule: { trait: 'Gender', eq: 'f' } }])).toEqual([
        expect.stringContaining('"Gender" is a protected attribute'),
      ]);
      expect(
        issuesOf([
          {
            key: 'w',
            rule: { trait: 'gender', eq: 'f' },
            allow_protected_attributes: { gender: 'women-only health screening, approved by legal' },
          },
        ]),
      ).toEqual([]);
      expect(
        await members({ trait: 'gender', eq: 'f' }, [], { allow_protected_attributes: { gender: 'approved' } }),
      ).toEqual(['ada']);
    });
  });
});
