/**
 * The rule limits hold in the compiler on both engines: a rule at the limits (a thousand conditions, 32 levels, a
 * century-long window) runs and finds the right contacts, alone and in the one-pass mask query of every segment; one
 * past them is refused with an issue naming the limit, even when the excess comes from segments it refers to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFeatures } from '../../core/features/index.js';
import { compileSegmentMasks } from '../../core/segments/compile.js';
import {
  compileSegments,
  RULE_LIMITS,
  SegmentRuleError,
  type RuleCondition,
  type SegmentDefinition,
} from '../../core/segments/index.js';
import type { Store } from '../../core/index.js';
import { engines } from '../support/engines.js';
import { CURRENCY, NOW, fixtureRecords, idOf, load, storeOn } from '../features/fixture.js';

/** A rule of `n` conditions: an `any` of purchases over ever-longer windows and countries no one lives in, and FR. */
function wide(n: number): RuleCondition {
  const any: RuleCondition[] = Array.from({ length: n - 2 }, (_, i) =>
    i % 2 ? { trait: 'country', eq: `X${i}` } : { event: 'signup', within: `${i + 1}m` },
  );
  return { any: [...any, { trait: 'country', eq: 'FR' }] };
}

/** "Lives in FR" nested `levels` deep: double negations, and an `all` when `levels` is odd. */
function deep(levels: number): RuleCondition {
  let rule: RuleCondition = { trait: 'country', eq: 'FR' };
  for (let i = 0; i + 2 <= levels; i += 2) rule = { not: { not: rule } };
  return levels % 2 ? { all: [rule] } : rule;
}

function issuesOf(segments: SegmentDefinition[]): string[] {
  try {
    compileSegments(segments, { now: NOW });
  } catch (error) {
    if (error instanceof SegmentRuleError) return error.issues.map((i) => i.message);
    throw error;
  }
  return [];
}

describe.each(engines)('on $name', (engine) => {
  let store: Store;
  let french: number[];

  beforeAll(async () => {
    store = await storeOn(engine);
    await load(store, fixtureRecords());
    await computeFeatures(store, { now: NOW, currency: CURRENCY });
    french = [await idOf(store, 'ada'), await idOf(store, 'cy')].sort((a, b) => a - b);
  });
  afterAll(() => store.close());

  async function members(segments: SegmentDefinition[]): Promise<number[]> {
    const [compiled] = compileSegments(segments, { now: NOW, dialect: store.dialect });
    const rows = (await store.all(compiled!.sql, compiled!.params)) as { contact_id: number }[];
    return rows.map((r) => Number(r.contact_id)).sort((a, b) => a - b);
  }

  it('a rule of exactly the limit on conditions runs and finds its members', async () => {
    expect(await members([{ key: 'wide', rule: wide(RULE_LIMITS.conditions) }])).toEqual(french);
  });

  it('a rule nested to the limit on depth runs and finds its members', async () => {
    expect(await members([{ key: 'deep', rule: deep(RULE_LIMITS.depth) }])).toEqual(french);
  });

  it('sixty segments at the limits run in the one-pass mask query', async () => {
    // four at the limit on conditions (sixty would bind more parameters than a query may have)
    const segments = Array.from({ length: 60 }, (_, i) => ({
      key: `s${i}`,
      rule: i % 15 ? deep(RULE_LIMITS.depth) : wide(RULE_LIMITS.conditions),
    }));
    const { sql, params } = compileSegmentMasks(segments, { now: NOW, dialect: store.dialect });
    const everyBit = ((1n << 60n) - 1n).toString();
    const rows = (await store.all(`SELECT x.contact_id FROM (${sql}) AS x WHERE x.m0 = ${everyBit}`, params)) as {
      contact_id: number;
    }[];
    expect(rows.map((r) => Number(r.contact_id)).sort((a, b) => a - b)).toEqual(french);
  });

  it('a contact column compared with numbers compares as text; exists keeps its meaning', async () => {
    const everyone = (await store.all('SELECT id FROM contacts WHERE deleted = 0')) as { id: number }[];
    expect(await members([{ key: 'n', rule: { trait: 'email', in: [0, 1] } }])).toEqual([]);
    expect(await members([{ key: 'n', rule: { trait: 'email', exists: false } }])).toEqual([]);
    expect((await members([{ key: 'n', rule: { trait: 'email', exists: true } }])).length).toBe(everyone.length);
  });

  it('a window of a century runs; one past it is refused naming the limit on windows', async () => {
    expect(await members([{ key: 'old', rule: { trait: 'country', eq: 'FR', within: '100y' } }])).toEqual([]);
    for (const rule of [
      { event: 'purchase', within: '99999999999d' },
      { trait: 'signed_up_at', before: '36501d' },
      { event: 'purchase', where: { occurred_at: { within: '101y' } } },
    ] as RuleCondition[])
      expect(issuesOf([{ key: 'old', rule }]).join('\n')).toContain('the limit on windows');
  });
});

describe('limits counted across the segments a rule refers to', () => {
  it('a rule under the limit that refers to segments over it together is refused naming the limit', () => {
    const half = wide(RULE_LIMITS.conditions / 2 + 10);
    const issues = issuesOf([
      { key: 'both', rule: { all: [{ in_segment: 'a' }, { in_segment: 'b' }] } },
      { key: 'a', rule: half },
      { key: 'b', rule: half },
    ]);
    expect(issues).toEqual([expect.stringContaining(`limit of ${RULE_LIMITS.conditions} conditions per rule`)]);
  });

  it('20,000 conditions are refused without building the query', () => {
    const any = Array.from({ length: 20_000 }, (_, i) => ({ trait: 'country', eq: `C${i}` }));
    expect(issuesOf([{ key: 'huge', rule: { any } }])).toEqual([
      expect.stringContaining(`the rule has 20001 conditions`),
    ]);
  });

  it('depth is counted through in_segment', () => {
    const inner = { key: 'inner', rule: deep(RULE_LIMITS.depth - 1) };
    expect(issuesOf([inner, { key: 'outer', rule: { all: [{ in_segment: 'inner' }] } }])).toEqual([]);
    expect(issuesOf([inner, { key: 'outer', rule: { all: [{ all: [{ in_segment: 'inner' }] }] } }])).toEqual([
      expect.stringContaining('the limit on rule depth'),
    ]);
  });
});
