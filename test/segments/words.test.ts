import { describe, expect, it } from 'vitest';
import { ruleInWords } from '../../core/index.js';

describe('a rule in words (segflow segments show and the console’s segment page)', () => {
  it('reads a nested rule one condition a line, groups indented under their heading', () => {
    expect(
      ruleInWords({
        all: [
          { event: 'purchase', count: { gte: 2 }, within: '90d' },
          { model: 'churn.risk', gt: 0.5 },
          { not: { any: [{ trait: 'country', in: ['FR', 'DE'] }, { in_segment: 'churned' }] } },
        ],
      }),
    ).toEqual([
      'all of:',
      '  at least 2 purchase events in the last 90d',
      '  model output churn.risk is above 0.5',
      '  not:',
      '    any of:',
      '      trait country is one of FR, DE',
      '      member of segment churned',
    ]);
  });

  it('says what an event count, a window, a filter and an account condition mean', () => {
    expect(ruleInWords({ event: 'email_open', count: 0, within: '30d' })).toEqual([
      'no email_open events in the last 30d',
    ]);
    expect(ruleInWords({ event: 'purchase', where: { category: 'shoes', value: { gte: 100 } } })).toEqual([
      'at least 1 purchase event where category is shoes and value is at least 100',
    ]);
    expect(ruleInWords({ feature: 'monetary_365d', between: [100, 500] })).toEqual([
      'feature monetary_365d is between 100 and 500',
    ]);
    expect(ruleInWords({ trait: 'job_title', contains: 'head of' })).toEqual(['trait job_title contains "head of"']);
    expect(ruleInWords({ account: { trait: 'industry', eq: 'retail' } })).toEqual([
      'one of its accounts matches:',
      '  account trait industry is retail',
    ]);
  });
});
