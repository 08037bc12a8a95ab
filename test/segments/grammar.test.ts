import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCondition } from '../../config/schema.js';
import {
  compileSegments,
  COUNT_OPERATORS,
  RULE_OPERATORS,
  RULE_SUBJECTS,
  type RuleCondition,
  type RuleOperators,
} from '../../core/segments/index.js';

const NOW = new Date('2026-03-01T00:00:00Z');

/** A well-formed operand for each operator. */
const OPERAND: Record<keyof RuleOperators, RuleOperators[keyof RuleOperators]> = {
  eq: 'FR',
  ne: 'FR',
  gt: 10,
  gte: 10,
  lt: 10,
  lte: 10,
  in: ['FR', 'DE'],
  contains: 'acme',
  exists: true,
  between: [10, 100],
  within: '30d',
  before: '90d',
};

/** The same for a subject held as a number (a feature, a score, an event's value): compared with numbers only. */
const NUMBER_OPERAND = { ...OPERAND, eq: 10, ne: 10, in: [1, 2] } as typeof OPERAND;

function configIssues(rule: unknown): string[] {
  const issues: string[] = [];
  checkCondition(rule, ['rule'], (path, message) => issues.push(`${path.join('.')}: ${message}`));
  return issues;
}

const compiles = (rule: RuleCondition) => compileSegments([{ key: 'under_test', rule }], { now: NOW });

describe('the rule grammar, shared by the config schema and the segment compiler', () => {
  it('is one module that imports nothing, so config/ may import it', () => {
    const source = readFileSync(new URL('../../core/segments/grammar.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^\s*(import|export\s.*\sfrom)\s/m);
  });

  it('lets every operator it lists through the config check and the compiler, on every subject', () => {
    for (const op of RULE_OPERATORS) {
      for (const subject of RULE_SUBJECTS) {
        const name = subject === 'score' ? 'rfm_score' : subject === 'feature' ? 'monetary_365d' : 'country';
        const operand = subject === 'score' || subject === 'feature' ? NUMBER_OPERAND[op] : OPERAND[op];
        const rule = { [subject]: name, [op]: operand } as RuleCondition;
        expect(configIssues(rule), `${subject} ${op}`).toEqual([]);
        expect(() => compiles(rule), `${subject} ${op}`).not.toThrow();
      }
      const where = { event: 'purchase', where: { value: { [op]: NUMBER_OPERAND[op] } } } as RuleCondition;
      expect(configIssues(where), `where ${op}`).toEqual([]);
      expect(() => compiles(where), `where ${op}`).not.toThrow();
    }
  });

  it('accepts exactly the count operators it lists in an event count, in both places', () => {
    for (const op of RULE_OPERATORS) {
      // counts are whole numbers: eq and ne compare with one
      const operand = op === 'eq' || op === 'ne' ? 2 : OPERAND[op];
      const rule = { event: 'email_open', count: { [op]: operand } } as RuleCondition;
      const counted = (COUNT_OPERATORS as readonly string[]).includes(op);
      expect(configIssues(rule).length === 0, `count ${op}`).toBe(counted);
      if (counted) expect(() => compiles(rule), `count ${op}`).not.toThrow();
      else expect(() => compiles(rule), `count ${op}`).toThrow(/unknown count operator/);
    }
  });

  it('refuses a count that is not a whole number of events, in both places', () => {
    for (const count of [2.5, -1, 'FR', { gte: 'FR' }, { between: [1, 2.5] }] as unknown[]) {
      const rule = { event: 'email_open', count } as RuleCondition;
      expect(configIssues(rule).join('\n'), JSON.stringify(count)).toMatch(/whole number|number or a comparison/);
      expect(() => compiles(rule), JSON.stringify(count)).toThrow(/whole number|number or a comparison/);
    }
  });
});
