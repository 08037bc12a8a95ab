/**
 * The segment rule grammar, in one place: the operators, the condition kinds and their keys, the rule tree's types,
 * durations, holdout outcomes and the aggregates an expression feature may use. The config schema checks YAML against
 * it and the segment compiler compiles it; nothing here knows about zod, SQL or the store, and this module imports
 * nothing, so that `config/` may import it (the architecture allows exactly this module of core).
 *
 * @example
 * import { RULE_OPERATORS, type RuleCondition } from '../core/segments/grammar.js';
 * const vip: RuleCondition = { all: [{ feature: 'monetary_365d', gt: 1000 }, { event: 'email_open', within: '30d' }] };
 * RULE_OPERATORS.includes('gte'); // true
 */

/** A value a rule or a filter compares with. */
export type RuleScalar = string | number | boolean | null;

/** The operators a comparison or a `where` filter may use, in the order they are listed to users. */
export const RULE_OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'contains',
  'exists',
  'between',
  'within',
  'before',
] as const;
/** One of {@link RULE_OPERATORS}. */
export type RuleOperator = (typeof RULE_OPERATORS)[number];

/** The operators of a comparison, in their YAML shape (`{ gte: 2, lt: 10 }`). */
export interface RuleOperators {
  eq?: RuleScalar;
  ne?: RuleScalar;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  in?: RuleScalar[];
  /** Case-insensitive text containment. */
  contains?: RuleScalar;
  exists?: boolean;
  between?: [number | string, number | string];
  /** The value (a timestamp) lies within this long before now. */
  within?: string;
  /** The value (a timestamp) lies more than this long before now. */
  before?: string;
}

/** The operators an event condition's `count` may use. */
export const COUNT_OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
] as const satisfies readonly RuleOperator[];
/** One of {@link COUNT_OPERATORS}. */
export type CountOperator = (typeof COUNT_OPERATORS)[number];
/** An event count's comparison (`count: { gte: 2 }`). */
export type CountOperators = Pick<RuleOperators, CountOperator>;

/** What a comparison compares: a trait, a feature, a score, or a model output (`churn.risk`, `clusters`). */
export const RULE_SUBJECTS = ['trait', 'feature', 'score', 'model'] as const;
/** One of {@link RULE_SUBJECTS}. */
export type RuleSubject = (typeof RULE_SUBJECTS)[number];

/** The groups of conditions: every one holds, or at least one does. */
export const RULE_GROUPS = ['all', 'any'] as const;

/** The keys an event condition may have. */
export const EVENT_CONDITION_KEYS = ['event', 'count', 'within', 'before', 'where'] as const;

/** The key a condition is recognised by, in the order they are tried; a comparison is recognised by its subject. */
export const CONDITION_KEYS = [...RULE_GROUPS, 'not', 'in_segment', 'event', 'account', ...RULE_SUBJECTS] as const;

/** What an account comparison compares: a trait of the account (name, domain, industry, …) or an account feature. */
export const ACCOUNT_SUBJECTS = ['trait', 'feature'] as const;
/**
 * The conditions of an account on its members: `members` (at least one member matches, or `count` of them do) and
 * `all_members` (it has members and every one matches).
 */
export const ACCOUNT_MEMBER_KEYS = ['members', 'all_members'] as const;
/** The keys an account condition is recognised by. */
export const ACCOUNT_CONDITION_KEYS = [...RULE_GROUPS, 'not', ...ACCOUNT_MEMBER_KEYS, ...ACCOUNT_SUBJECTS] as const;

/** A comparison on one trait or one feature of an account. */
export interface AccountComparison extends RuleOperators {
  trait?: string;
  feature?: string;
}

/**
 * A condition on an account: over its traits and features, and over its members (contact conditions). An account
 * segment's rule is one; a contact rule reads its accounts with `{ account: … }` (true when one of them matches).
 */
export type AccountCondition =
  | { all: AccountCondition[] }
  | { any: AccountCondition[] }
  | { not: AccountCondition }
  | { members: RuleCondition; count?: number | CountOperators }
  | { all_members: RuleCondition }
  | AccountComparison;

/** A comparison on exactly one of a trait, a feature, a score, or a model output (`churn.risk`, `clusters`). */
export interface Comparison extends RuleOperators {
  trait?: string;
  feature?: string;
  score?: string;
  model?: string;
}

/** A condition on a contact's events of one type: how many (at least one by default), when, with which properties. */
export interface EventCondition {
  event: string;
  count?: number | CountOperators;
  within?: string;
  before?: string;
  where?: Record<string, RuleScalar | RuleOperators>;
}

/** A rule segment's condition tree, in its YAML shape. */
export type RuleCondition =
  | { all: RuleCondition[] }
  | { any: RuleCondition[] }
  | { not: RuleCondition }
  | { in_segment: string }
  | EventCondition
  | { account: AccountCondition }
  | Comparison;

/** A duration as rules and settings write it: a number and a unit (`30d`, `12h`, `10s`, `500ms`). */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/;

/** Milliseconds per duration unit: m is minutes, w weeks, y 365 days. */
export const DURATION_UNIT_MS = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
} as const;

/** Milliseconds in a duration such as `30d`, `10s`, `1h`, `500ms` (m is minutes, y is 365 days). */
export function durationMs(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) throw new RangeError(`"${text}" is not a duration like 30d, 12h, 10s`);
  return Number(match[1]) * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
}

/**
 * The limits every rule is held to, so that no rule can build a query the store refuses or a date that cannot exist.
 * The config loader, `segflow validate`, the API's preview and the compiler all check them, each naming the limit.
 *
 * @example
 * RULE_LIMITS.conditions; // 1000: conditions in one segment's rule, counting the segments it refers to
 */
export const RULE_LIMITS = {
  /** Levels of `all` / `any` / `not` nesting. */
  depth: 32,
  /** Conditions in one segment's rule (groups and comparisons alike), counting those of the segments it refers to. */
  conditions: 1000,
  /** The longest `within` / `before` window, in milliseconds: a century (100y). */
  windowMs: 100 * DURATION_UNIT_MS.y,
} as const;

/**
 * Why `text` cannot be a rule's `within` / `before` window (not a duration, or longer than {@link RULE_LIMITS}'
 * century), or undefined when it can.
 *
 * @example
 * windowIssue('30d'); // undefined
 * windowIssue('99999999999d'); // 'a window of at most 100 years (100y or 36500d: the limit on windows), got …'
 */
export function windowIssue(text: unknown): string | undefined {
  if (typeof text !== 'string' || !DURATION_PATTERN.test(text.trim())) return 'expected a duration like 30d or 12h';
  if (!(durationMs(text) <= RULE_LIMITS.windowMs))
    return `expected a window of at most 100 years (100y or 36500d: the limit on windows), got ${text.slice(0, 40)}`;
  return undefined;
}

const isScalar = (value: unknown): value is RuleScalar =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
const isOrderable = (value: unknown): boolean => typeof value === 'number' || typeof value === 'string';

/**
 * Why `operand` cannot be the operand of operator `op` (a list for `in`, two bounds for `between`, a window for
 * `within`…), or undefined when it can. The config loader and the compiler both ask it.
 *
 * @example
 * operandIssue('in', { all: [] }); // 'expected a non-empty list of values, like [FR, DE]'
 */
export function operandIssue(op: string, operand: unknown): string | undefined {
  switch (op) {
    case 'eq':
    case 'ne':
    case 'contains':
      return isScalar(operand) ? undefined : 'expected a single value (text, number, true/false or null)';
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return isOrderable(operand) ? undefined : 'expected a number or a date';
    case 'in':
      return Array.isArray(operand) && operand.length > 0 && operand.every(isScalar)
        ? undefined
        : 'expected a non-empty list of values, like [FR, DE]';
    case 'exists':
      return typeof operand === 'boolean' ? undefined : 'expected true or false';
    case 'between':
      return Array.isArray(operand) && operand.length === 2 && operand.every(isOrderable)
        ? undefined
        : 'expected two bounds, like [10, 100]';
    case 'within':
    case 'before':
      return windowIssue(operand);
    default:
      return undefined;
  }
}

/**
 * Why `count` cannot be an event condition's count (a whole number of events, or a comparison of whole numbers), or
 * undefined when it can. Operators outside {@link COUNT_OPERATORS} are left to the caller.
 *
 * @example
 * countIssue({ gte: 2.5 }); // 'expected a whole number of events, like 2'
 */
export function countIssue(count: unknown): string | undefined {
  const whole = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof count === 'number') return whole(count) ? undefined : 'expected a whole number of events, like 2';
  if (typeof count !== 'object' || count === null || Array.isArray(count))
    return 'expected a number or a comparison like { lt: 2 }';
  for (const [op, operand] of Object.entries(count)) {
    if (!(COUNT_OPERATORS as readonly string[]).includes(op)) continue;
    const values = op === 'between' && Array.isArray(operand) ? operand : [operand];
    if (!values.every(whole)) return 'expected a whole number of events, like 2';
  }
  return undefined;
}

/** What a holdout compares between treated and control members: purchases or revenue per member, or churn. */
export const HOLDOUT_OUTCOMES = ['purchases', 'revenue', 'churn'] as const;
/** One of {@link HOLDOUT_OUTCOMES}. */
export type HoldoutOutcomeName = (typeof HOLDOUT_OUTCOMES)[number];

/** How an expression feature (`features:` in YAML) aggregates its events. */
export const FEATURE_AGGREGATES = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last'] as const;
/** One of {@link FEATURE_AGGREGATES}. */
export type FeatureAggregate = (typeof FEATURE_AGGREGATES)[number];
