/**
 * The builder's form speaks the whole rule grammar: every rule the config accepts, of people or of accounts, loads
 * into form rows (not the JSON fallback) and comes back from them equal to the original. Walked over every starter
 * segment of the library, over a catalogue of every condition kind and operator, and over random rules of the grammar.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkAccountCondition, checkCondition } from '../../../config/schema.js';
import {
  ACCOUNT_CONDITION_KEYS,
  CONDITION_KEYS,
  COUNT_OPERATORS,
  RULE_GROUPS,
  RULE_OPERATORS,
} from '../../../core/segments/grammar.js';

const ROOT = resolve(import.meta.dirname, '../../..');

type Scope = 'contacts' | 'accounts';
interface RuleForm {
  OPERATORS: string[];
  COUNT_OPERATORS: string[];
  SUBJECTS: Record<Scope, string[]>;
  formOf(rule: unknown, scope: Scope): object | undefined;
  newGroup(scope: Scope): object;
  incomplete(node: object): boolean;
  conditionOf(node: object): unknown;
  valueOf(text: string): unknown;
  textOf(value: unknown, inList?: boolean): string;
  listOf(text: string): unknown[];
  listText(values: unknown[]): string;
}
const formModule = resolve(ROOT, 'server/console/assets/rule-form.js');
const form = (await import(formModule)) as RuleForm;

/** What the config's shape check says of a rule: nothing, for every rule these tests give the form. */
function issuesOf(rule: unknown, scope: Scope): string[] {
  const issues: string[] = [];
  const report = (path: (string | number)[], message: string) => issues.push(`${path.join('.')}: ${message}`);
  if (scope === 'accounts') checkAccountCondition(rule, [], report);
  else checkCondition(rule, [], report);
  return issues;
}

/** The rule after load → form → rule, or the reason it fell back to JSON. */
function roundTrip(rule: unknown, scope: Scope): unknown {
  const root = form.formOf(rule, scope);
  if (root === undefined) return { fellBackToJson: rule };
  return form.conditionOf(root);
}

describe('the builder form and the rule grammar', () => {
  it('offers every operator, count operator and condition kind of the grammar', () => {
    expect([...form.OPERATORS].sort()).toEqual([...RULE_OPERATORS].sort());
    expect([...form.COUNT_OPERATORS].sort()).toEqual([...COUNT_OPERATORS].sort());
    const notGroups = (keys: readonly string[]) => keys.filter((k) => k !== 'not' && !RULE_GROUPS.includes(k as 'all'));
    expect([...form.SUBJECTS.contacts].sort()).toEqual(notGroups(CONDITION_KEYS).sort());
    expect([...form.SUBJECTS.accounts].sort()).toEqual(notGroups(ACCOUNT_CONDITION_KEYS).sort());
  });

  it('round-trips every starter segment of the library, of people and of accounts', () => {
    const starter = parse(readFileSync(resolve(ROOT, 'config/segments/starter.yaml'), 'utf8')) as {
      segments: { key: string; rule: unknown }[];
      account_segments: { key: string; rule: unknown }[];
    };
    const all = [
      ...starter.segments.map((s) => ({ ...s, scope: 'contacts' as const })),
      ...starter.account_segments.map((s) => ({ ...s, scope: 'accounts' as const })),
    ];
    expect(all.filter((s) => s.scope === 'accounts').length).toBeGreaterThan(0);
    expect(all.some((s) => JSON.stringify(s.rule).includes('"account"'))).toBe(true);
    for (const s of all) expect(roundTrip(s.rule, s.scope), s.key).toEqual(s.rule);
  });

  const catalogue: { name: string; scope: Scope; rule: unknown }[] = [
    ...RULE_OPERATORS.map((op) => ({
      name: `a trait ${op}`,
      scope: 'contacts' as const,
      rule: {
        trait: 'country',
        [op]: {
          eq: 'FR',
          ne: '42',
          gt: 10,
          gte: '2026-01-01',
          lt: 1.5,
          lte: -3,
          in: ['FR', 'DE', 'a, b', 7, true, null, ''],
          contains: ' spring ',
          exists: false,
          between: [10, 100],
          within: '30d',
          before: '1y',
        }[op],
      },
    })),
    { name: 'a feature with two operators', scope: 'contacts', rule: { feature: 'monetary_365d', gte: 2, lt: 10 } },
    { name: 'a score', scope: 'contacts', rule: { score: 'rfm_segment', eq: 'Champions' } },
    { name: 'a model output', scope: 'contacts', rule: { model: 'churn.risk', gt: 0.5 } },
    { name: 'a value that reads as true', scope: 'contacts', rule: { trait: 'vip', eq: 'true' } },
    { name: 'another segment', scope: 'contacts', rule: { in_segment: 'churned' } },
    { name: 'an event at least once', scope: 'contacts', rule: { event: 'email_open' } },
    ...COUNT_OPERATORS.map((op) => ({
      name: `an event count ${op}`,
      scope: 'contacts' as const,
      rule: { event: 'purchase', count: { [op]: op === 'between' ? [2, 5] : 3 }, within: '90d' },
    })),
    { name: 'an exact count written bare', scope: 'contacts', rule: { event: 'purchase', count: 2 } },
    { name: 'an event more than a while ago', scope: 'contacts', rule: { event: 'signup', before: '365d' } },
    {
      name: 'an event with where filters',
      scope: 'contacts',
      rule: {
        event: 'email_open',
        count: { gte: 2, lte: 6 },
        within: '30d',
        before: '1d',
        where: { campaign: { contains: 'spring' }, value: { gt: 100, lt: 500 }, url: 'https://x.test/a', n: '12' },
      },
    },
    { name: 'an empty where', scope: 'contacts', rule: { event: 'purchase', where: {} } },
    { name: 'a negated row', scope: 'contacts', rule: { not: { in_segment: 'churned' } } },
    { name: 'a negated group', scope: 'contacts', rule: { not: { any: [{ trait: 'country', eq: 'FR' }] } } },
    { name: 'a double negation', scope: 'contacts', rule: { not: { not: { feature: 'frequency_365d', gt: 1 } } } },
    {
      name: 'nested groups',
      scope: 'contacts',
      rule: {
        any: [
          { all: [{ event: 'purchase', count: { gte: 2 } }, { not: { all: [{ model: 'churn.risk', gt: 0.5 }] } }] },
          { any: [{ any: [{ trait: 'country', in: ['FR'] }] }] },
        ],
      },
    },
    {
      name: 'account conditions in a contact rule',
      scope: 'contacts',
      rule: {
        all: [
          { account: { trait: 'industry', eq: 'software' } },
          {
            not: { account: { any: [{ feature: 'open_deals', gte: 1 }, { not: { trait: 'domain', exists: true } }] } },
          },
          { account: { members: { event: 'purchase', within: '30d' }, count: { gte: 3 } } },
          { account: { all_members: { not: { in_segment: 'churned' } } } },
        ],
      },
    },
    { name: 'an account feature', scope: 'accounts', rule: { feature: 'members', gte: 2 } },
    { name: 'an account trait between', scope: 'accounts', rule: { trait: 'employees', between: [10, 500] } },
    {
      name: 'an account segment on its members',
      scope: 'accounts',
      rule: {
        any: [
          { members: { all: [{ feature: 'engagement_30d', gt: 0 }, { account: { feature: 'members', gt: 1 } }] } },
          { members: { event: 'deal_won' }, count: 2 },
          { not: { all_members: { trait: 'email_consent', eq: 'unsubscribed' } } },
          { not: { not: { feature: 'revenue_365d', gt: 0 } } },
        ],
      },
    },
  ];

  it.each(catalogue)('round-trips $name without the JSON fallback', ({ rule, scope }) => {
    expect(issuesOf(rule, scope)).toEqual([]);
    expect(roundTrip(rule, scope)).toEqual(rule);
    expect(form.incomplete(form.formOf(rule, scope)!)).toBe(false);
  });

  it('holds back the preview of a rule with a name or value still to fill in', () => {
    expect(form.incomplete(form.newGroup('contacts'))).toBe(true);
    expect(form.incomplete(form.newGroup('accounts'))).toBe(true);
    expect(form.incomplete(form.formOf({ account: { feature: 'members', gte: 2 } }, 'contacts')!)).toBe(false);
  });

  it('round-trips random rules of the grammar, of people and of accounts', () => {
    const name = fc.constantFrom('country', 'monetary_365d', 'churn.risk', 'rfm_segment', 'members', 'a b');
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));
    const text = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('42', 'true', 'null', '', ' FR', 'a, b', '"q"', '2026-01-01', '1e3', 'x"y'),
    );
    const scalar = fc.oneof(text, fc.integer(), finite, fc.boolean(), fc.constant(null));
    const orderable = fc.oneof(text, fc.integer(), finite);
    const duration = fc.constantFrom('30d', '12h', '90d', '1y', '500ms', '2w');
    const operand: Record<string, fc.Arbitrary<unknown>> = {
      eq: scalar,
      ne: scalar,
      contains: scalar,
      gt: orderable,
      gte: orderable,
      lt: orderable,
      lte: orderable,
      in: fc.array(scalar, { minLength: 1, maxLength: 3 }),
      exists: fc.boolean(),
      between: fc.tuple(orderable, orderable),
      within: duration,
      before: duration,
    };
    const operators = (ops: readonly string[], of: (op: string) => fc.Arbitrary<unknown>) =>
      fc
        .subarray([...ops], { minLength: 1, maxLength: 3 })
        .chain((picked) => fc.tuple(...picked.map((op) => of(op).map((v) => [op, v] as const))))
        .map((pairs) => Object.fromEntries(pairs));
    const comparisonOps = operators(RULE_OPERATORS, (op) => operand[op]!);
    const count = fc.oneof(
      fc.nat(9),
      operators(COUNT_OPERATORS, (op) => (op === 'between' ? fc.tuple(fc.nat(9), fc.nat(9)) : fc.nat(9))),
    );
    const comparison = (subjects: string[]) =>
      fc
        .tuple(fc.constantFrom(...subjects), name, comparisonOps)
        .map(([subject, field, ops]) => ({ [subject]: field, ...ops }));
    const event = fc.record(
      {
        event: fc.constantFrom('purchase', 'email_open'),
        count,
        within: duration,
        before: duration,
        where: fc.dictionary(fc.constantFrom('value', 'url', 'campaign', 'n'), fc.oneof(scalar, comparisonOps), {
          maxKeys: 3,
        }),
      },
      { requiredKeys: ['event'] },
    );
    const { contact, account } = fc.letrec((tie) => ({
      contact: fc.oneof(
        { depthSize: 'small', maxDepth: 4 },
        comparison(['trait', 'feature', 'score', 'model']),
        event,
        fc.record({ in_segment: fc.constantFrom('churned', 'vip') }),
        fc.record({ all: fc.array(tie('contact'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ any: fc.array(tie('contact'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ not: tie('contact') }),
        fc.record({ account: tie('account') }),
      ),
      account: fc.oneof(
        { depthSize: 'small', maxDepth: 4 },
        comparison(['trait', 'feature']),
        fc.record({ members: tie('contact'), count }, { requiredKeys: ['members'] }),
        fc.record({ all_members: tie('contact') }),
        fc.record({ all: fc.array(tie('account'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ any: fc.array(tie('account'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ not: tie('account') }),
      ),
    }));
    const cases = fc.oneof(
      contact.map((rule) => ({ scope: 'contacts' as const, rule })),
      account.map((rule) => ({ scope: 'accounts' as const, rule })),
    );
    fc.assert(
      fc.property(cases, ({ scope, rule }) => {
        const json = JSON.parse(JSON.stringify(rule)) as unknown;
        expect(issuesOf(json, scope)).toEqual([]);
        expect(roundTrip(json, scope)).toEqual(json);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
    );
  });

  it('reads values with their type: numbers, true/false/null, and "quoted" text', () => {
    expect(['42', '"42"', 'true', '"true"', 'null', 'FR', ' FR ', '" FR "', '-1.5e3'].map(form.valueOf)).toEqual([
      42,
      '42',
      true,
      'true',
      null,
      'FR',
      'FR',
      ' FR ',
      -1500,
    ]);
    expect(form.listOf('FR, "a, b", 3, "3"')).toEqual(['FR', 'a, b', 3, '3']);
    expect(form.listText(['FR', 'a, b', 3, '3'])).toBe('FR, "a, b", 3, "3"');
  });

  it('falls back to JSON only for what the grammar does not allow', () => {
    for (const rule of [
      { feature: 'x', gt: { a: 1 } },
      { trait: 'x' },
      { all: [], any: [] },
      { event: 'purchase', junk: 1 },
    ])
      expect(form.formOf(rule, 'contacts')).toBeUndefined();
  });
});
