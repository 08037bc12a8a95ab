import { describe, expect, it } from 'vitest';
import { refersTo, withDependencies } from '../../core/index.js';

const segments = [
  { key: 'buyers', rule: { event: 'purchase', within: '365d' } },
  { key: 'churned', rule: { not: { event: 'purchase', within: '180d' } } },
  { key: 'loyal', rule: { all: [{ in_segment: 'buyers' }, { not: { in_segment: 'churned' } }] } },
  { key: 'vip', rule: { any: [{ in_segment: 'loyal' }, { trait: 'plan', eq: 'gold' }] } },
  { key: 'newsletter', rule: { trait: 'email_consent', eq: 'subscribed' } },
];

describe('segment dependencies', () => {
  it('names the segments a rule refers to under all, any and not', () => {
    expect(refersTo(segments[2]!.rule)).toEqual(['buyers', 'churned']);
    expect(refersTo(segments[0]!.rule)).toEqual([]);
  });

  it('takes the named segments with everything they refer to, through others, in config order', () => {
    expect(withDependencies(segments, ['vip']).map((s) => s.key)).toEqual(['buyers', 'churned', 'loyal', 'vip']);
    expect(withDependencies(segments, new Set(['newsletter', 'nope'])).map((s) => s.key)).toEqual(['newsletter']);
    expect(withDependencies(segments, undefined)).toHaveLength(segments.length);
  });
});
