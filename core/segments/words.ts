/**
 * A segment's rule in words, one line per condition and groups indented beneath their heading: what `segflow segments
 * show` prints and what the console's segment page shows. Like the grammar, it imports nothing but the grammar's
 * types, so the console and the CLI render one way.
 *
 * @example
 * ruleInWords({ all: [{ event: 'purchase', count: { gte: 2 }, within: '90d' }, { model: 'churn.risk', gt: 0.5 }] });
 * // ['all of:', '  at least 2 purchase events in the last 90d', '  model output churn.risk is above 0.5']
 */
import type { AccountCondition, RuleCondition } from './grammar.js';

const INDENT = '  ';

function value(v: unknown): string {
  if (typeof v === 'string') return /^[\w.@:/+-]+$/.test(v) ? v : JSON.stringify(v);
  if (v === null) return 'empty';
  return String(v);
}

const list = (v: unknown) => (Array.isArray(v) ? v.map(value).join(', ') : value(v));

/** One operator and its operand, in words: `is at least 2`, `is one of FR, DE`, `is within the last 30d`. */
function operatorWords(op: string, operand: unknown): string {
  switch (op) {
    case 'eq':
      return `is ${value(operand)}`;
    case 'ne':
      return `is not ${value(operand)}`;
    case 'gt':
      return `is above ${value(operand)}`;
    case 'gte':
      return `is at least ${value(operand)}`;
    case 'lt':
      return `is below ${value(operand)}`;
    case 'lte':
      return `is at most ${value(operand)}`;
    case 'in':
      return `is one of ${list(operand)}`;
    case 'contains':
      return `contains ${value(operand)}`;
    case 'exists':
      return operand === false ? 'is not set' : 'is set';
    case 'between':
      return Array.isArray(operand)
        ? `is between ${value(operand[0])} and ${value(operand[1])}`
        : `is between ${list(operand)}`;
    case 'within':
      return `is within the last ${value(operand)}`;
    case 'before':
      return `is more than ${value(operand)} ago`;
    default:
      return `${op} ${value(operand)}`;
  }
}

function operators(ops: Record<string, unknown>, skip: readonly string[]): string {
  const parts = Object.entries(ops)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => operatorWords(k, v));
  return parts.length ? parts.join(' and ') : 'is set';
}

const SUBJECT_WORDS: Record<string, string> = {
  trait: 'trait',
  feature: 'feature',
  score: 'score',
  model: 'model output',
};

function countWords(count: unknown): string {
  if (count === undefined) return 'at least 1';
  if (typeof count === 'number') return count === 0 ? 'no' : `exactly ${count}`;
  if (count && typeof count === 'object') {
    const entries = Object.entries(count as Record<string, unknown>);
    const words: Record<string, string> = {
      eq: 'exactly',
      ne: 'other than',
      gt: 'more than',
      gte: 'at least',
      lt: 'fewer than',
      lte: 'at most',
    };
    return entries
      .map(([op, n]) =>
        op === 'between' && Array.isArray(n)
          ? `between ${value(n[0])} and ${value(n[1])}`
          : `${words[op] ?? op} ${value(n)}`,
      )
      .join(' and ');
  }
  return value(count);
}

function eventWords(cond: Record<string, unknown>): string {
  const counted = countWords(cond.count);
  const parts = [`${counted} ${value(cond.event)} event${/ 1$/.test(counted) ? '' : 's'}`];
  if (typeof cond.within === 'string') parts.push(`in the last ${cond.within}`);
  if (typeof cond.before === 'string') parts.push(`more than ${cond.before} ago`);
  const where = cond.where;
  if (where && typeof where === 'object') {
    const filters = Object.entries(where as Record<string, unknown>).map(([property, test]) =>
      test !== null && typeof test === 'object' && !Array.isArray(test)
        ? `${property} ${operators(test as Record<string, unknown>, [])}`
        : `${property} is ${value(test)}`,
    );
    if (filters.length) parts.push(`where ${filters.join(' and ')}`);
  }
  return parts.join(' ');
}

function groupHeading(group: 'all' | 'any', size: number): string {
  if (size === 0) return group === 'all' ? 'everyone (an empty all of)' : 'no one (an empty any of)';
  return group === 'all' ? 'all of:' : 'any of:';
}

function accountLines(cond: AccountCondition, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const c = cond as Record<string, unknown>;
  for (const group of ['all', 'any'] as const) {
    if (Array.isArray(c[group])) {
      const items = c[group] as AccountCondition[];
      return [`${pad}${groupHeading(group, items.length)}`, ...items.flatMap((i) => accountLines(i, depth + 1))];
    }
  }
  if ('not' in c) return [`${pad}not:`, ...accountLines(c.not as AccountCondition, depth + 1)];
  if ('members' in c)
    return [
      `${pad}${c.count === undefined ? 'at least 1' : countWords(c.count)} of its members match:`,
      ...ruleLines(c.members as RuleCondition, depth + 1),
    ];
  if ('all_members' in c)
    return [`${pad}it has members and every one matches:`, ...ruleLines(c.all_members as RuleCondition, depth + 1)];
  const subject = 'trait' in c ? 'trait' : 'feature';
  return [`${pad}account ${subject} ${value(c[subject])} ${operators(c, [subject])}`];
}

function ruleLines(cond: RuleCondition, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const c = cond as Record<string, unknown>;
  for (const group of ['all', 'any'] as const) {
    if (Array.isArray(c[group])) {
      const items = c[group] as RuleCondition[];
      return [`${pad}${groupHeading(group, items.length)}`, ...items.flatMap((i) => ruleLines(i, depth + 1))];
    }
  }
  if ('not' in c) return [`${pad}not:`, ...ruleLines(c.not as RuleCondition, depth + 1)];
  if ('in_segment' in c) return [`${pad}member of segment ${value(c.in_segment)}`];
  if ('event' in c) return [`${pad}${eventWords(c)}`];
  if ('account' in c)
    return [`${pad}one of its accounts matches:`, ...accountLines(c.account as AccountCondition, depth + 1)];
  for (const subject of Object.keys(SUBJECT_WORDS)) {
    if (subject in c) return [`${pad}${SUBJECT_WORDS[subject]} ${value(c[subject])} ${operators(c, [subject])}`];
  }
  return [`${pad}${JSON.stringify(cond)}`];
}

/**
 * A rule in words, one line per condition; a group's conditions are indented two spaces under "all of:" / "any of:".
 *
 * @example
 * ruleInWords({ not: { in_segment: 'churned' } }); // ['not:', '  member of segment churned']
 */
export function ruleInWords(rule: RuleCondition): string[] {
  return ruleLines(rule, 0);
}

/**
 * An account segment's rule (`account_segments:`) in words, as {@link ruleInWords} renders a contact rule.
 *
 * @example
 * accountRuleInWords({ feature: 'members', gte: 2 }); // ['account feature members is at least 2']
 */
export function accountRuleInWords(rule: AccountCondition): string[] {
  return accountLines(rule, 0);
}
