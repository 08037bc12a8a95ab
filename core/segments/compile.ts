import { EVENT_TYPES } from '../../plugins/model/index.js';
import { ACCOUNT_FEATURE_NAMES } from '../accounts/features.js';
import { FEATURE_COLUMNS, FEATURE_NAMES, SCORE_NAMES } from '../features/catalog.js';
import { VOICE_FEATURE_NAMES, VOICE_FEATURES } from '../text/migrations.js';
import {
  before,
  binder,
  compileEventFilter,
  compileOperators,
  eventOfContact,
  isFieldName,
  jsonOperand,
  type Binder,
  type Operand,
} from '../features/filters.js';
import {
  ACCOUNT_CONDITION_KEYS,
  ACCOUNT_SUBJECTS,
  CONDITION_KEYS,
  COUNT_OPERATORS,
  countIssue,
  EVENT_CONDITION_KEYS,
  RULE_GROUPS,
  RULE_LIMITS,
  RULE_OPERATORS,
  RULE_SUBJECTS,
  operandIssue,
  windowIssue,
  type AccountCondition,
  type HoldoutOutcomeName,
  type RuleCondition,
  type RuleOperators,
  type RuleSubject,
} from './grammar.js';
import type { Dialect, SqlValue } from '../store/dialect.js';
import { sqliteDialect } from '../store/sqlite/dialect.js';

/** Where a segment or a node of its rule was written. */
export interface RuleLocation {
  file: string;
  line: number;
  column: number;
}

/**
 * A rule segment as the engine needs it; the config loader's `Segment` has this shape, with `locations` keyed by
 * paths like `rule.all[0].feature`.
 */
export interface SegmentDefinition {
  key: string;
  name?: string;
  description?: string;
  rule: RuleCondition;
  /** Share kept as a never-pushed control group (0 to below 1). */
  holdout?: number;
  /** What the holdout report compares between treated and control (default revenue over 30 days). */
  holdout_outcome?: { outcome: HoldoutOutcomeName; days: number };
  /** Protected attributes this segment may use, each with the reason. */
  allow_protected_attributes?: Record<string, string>;
  origin?: RuleLocation;
  locations?: Record<string, RuleLocation>;
}

/** What rules may refer to besides built-in features and any trait. */
export interface CompileOptions {
  /** The moment relative times are measured from. */
  now?: Date;
  /** Names of expression features defined in config. */
  customFeatures?: readonly string[];
  /** Trait names rules may not use unless a segment allows them with a reason. */
  protectedAttributes?: readonly string[];
  /** Known model names; when given, `model:` names outside it are errors. */
  models?: readonly string[];
  /**
   * `in_segment` reads the named segment's stored membership (members and control group) instead of inlining its
   * rule: for an evaluation that has just stored the segments referred to (evaluateSegments, in dependency order).
   */
  storedMembership?: boolean;
}

/** One mistake in a segment rule. */
export interface RuleIssue {
  segment: string;
  /** Key path inside the segment, e.g. `rule.all[1].feature`. */
  path: string;
  /** `file:line:col` when the loader gave locations, else `segment <key>, <path>`. */
  where: string;
  message: string;
}

/** Segment rules that cannot be compiled; `issues` names every mistake with where it was written. */
export class SegmentRuleError extends Error {
  readonly code = 'segment_rule';
  readonly issues: RuleIssue[];
  constructor(issues: RuleIssue[]) {
    super(issues.map((i) => `${i.where}: ${i.message}`).join('\n'));
    this.name = 'SegmentRuleError';
    this.issues = issues;
  }
}

/** A segment compiled to one parameterised query returning `contact_id`. */
export interface CompiledSegment {
  key: string;
  sql: string;
  params: SqlValue[];
  definition: SegmentDefinition;
}

const CONTACT_COLUMNS: Record<string, string> = { email: 'c.email', email_consent: 'c.email_consent' };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const appendPath = (path: string, part: string | number): string =>
  typeof part === 'number' ? `${path}[${part}]` : `${path}.${part}`;

/** A comparison's operands as text (numbers and booleans written as they read), for a text column. */
function asText(cond: Record<string, unknown>): RuleOperators {
  const text = (v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v);
  const out: Record<string, unknown> = {};
  for (const [op, operand] of Object.entries(cond))
    out[op] = op === 'exists' ? operand : Array.isArray(operand) ? operand.map(text) : text(operand);
  return out as RuleOperators;
}

/** Features, scores and account features held as numbers: PostgreSQL compares them with numbers only. */
const NUMERIC_FEATURES = new Set([
  ...[...FEATURE_COLUMNS, ...VOICE_FEATURES].filter((f) => f.type !== 'text').map((f) => f.name),
  ...SCORE_NAMES.filter((n) => n !== 'rfm_segment'),
]);
const NUMERIC_ACCOUNT_FEATURES = new Set<string>(ACCOUNT_FEATURE_NAMES.filter((n) => n !== 'last_activity_at'));

/** Operators whose operands are compared with the subject's value (`exists` and `contains` are not). */
const COMPARED = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'between'];

/** Whether `v` can stand beside a number: a number, a string that reads as one, or null. */
const numberLike = (v: unknown): boolean =>
  v === null || typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)));

/** `items` joined by `op` in a balanced tree of parentheses, so a group of a thousand nests ten deep, not a thousand. */
function balanced(items: readonly string[], op: string): string {
  if (items.length <= 8) return `(${items.join(op)})`;
  const half = Math.ceil(items.length / 2);
  return `(${balanced(items.slice(0, half), op)}${op}${balanced(items.slice(half), op)})`;
}

class Compiler {
  readonly issues: RuleIssue[] = [];
  /** Conditions compiled for the top-level segment being compiled, counting the segments it refers to. */
  private conditions = 0;
  private readonly byKey: Map<string, SegmentDefinition>;
  private readonly features: Set<string>;
  private readonly custom: Set<string>;
  private readonly protectedNames: Set<string>;

  constructor(
    segments: readonly SegmentDefinition[],
    private readonly options: CompileOptions,
    private readonly now: Date,
  ) {
    this.byKey = new Map(segments.map((s) => [s.key, s]));
    this.features = new Set([...FEATURE_NAMES, ...SCORE_NAMES]);
    this.custom = new Set(options.customFeatures ?? []);
    this.protectedNames = new Set((options.protectedAttributes ?? []).map((a) => a.toLowerCase()));
  }

  issue(segment: SegmentDefinition, path: string, message: string): void {
    const at =
      segment.locations?.[path] ??
      segment.locations?.[path.replace(/(\.[^.[\]]+|\[\d+\])$/, '')] ??
      (path === '' ? segment.origin : undefined);
    const where = at ? `${at.file}:${at.line}:${at.column}` : `segment ${segment.key}, ${path}`;
    this.issues.push({ segment: segment.key, path, where, message: `segment ${segment.key}: ${path}: ${message}` });
  }

  segment(key: string, b: Binder, stack: string[], depth = 0): string {
    const segment = this.byKey.get(key) as SegmentDefinition;
    if (stack.length === 0) this.conditions = 0;
    const sql = `(${this.condition(segment, segment.rule, 'rule', b, [...stack, key], depth)})`;
    if (stack.length === 0 && this.conditions > RULE_LIMITS.conditions) {
      this.issue(
        segment,
        'rule',
        `the rule has ${this.conditions} conditions, counting the segments it refers to, more than the limit of ${RULE_LIMITS.conditions} conditions per rule`,
      );
      return 'FALSE';
    }
    return sql;
  }

  /**
   * Every operator of `ops` among `allowed` has an operand it can take; with `unknown`, any other key is an issue
   * too. Reports each mistake; false when there was one.
   */
  private operatorsOk(
    segment: SegmentDefinition,
    ops: Record<string, unknown>,
    allowed: readonly string[],
    path: string,
    unknown?: string,
  ): boolean {
    let ok = true;
    for (const op of Object.keys(ops)) {
      if (!allowed.includes(op)) {
        if (unknown === undefined) continue;
        this.issue(segment, appendPath(path, op), `unknown ${unknown} "${op}" (expected one of ${allowed.join(', ')})`);
        ok = false;
        continue;
      }
      const issue = operandIssue(op, ops[op]);
      if (issue) {
        this.issue(segment, appendPath(path, op), issue);
        ok = false;
      }
    }
    return ok;
  }

  /**
   * Every compared operand of `ops` is a number (or reads as one), as `what` holds numbers: SQLite would compare a
   * number with any text, PostgreSQL refuses, so a typo like `gte: "1O0"` is named here on both engines.
   */
  private numbersOk(segment: SegmentDefinition, ops: Record<string, unknown>, path: string, what: string): boolean {
    let ok = true;
    for (const op of COMPARED) {
      if (!(op in ops)) continue;
      const operand = ops[op];
      if ((Array.isArray(operand) ? operand : [operand]).every(numberLike)) continue;
      this.issue(
        segment,
        appendPath(path, op),
        `${what} is a number: compare it with numbers, like ${op === 'between' ? '[10, 100]' : op === 'in' ? '[1, 2]' : '100'}`,
      );
      ok = false;
    }
    return ok;
  }

  /** Every `within` / `before` window of `ops` is a duration of at most a century. */
  private windowsOk(segment: SegmentDefinition, ops: Record<string, unknown>, path: string): boolean {
    let ok = true;
    for (const op of ['within', 'before'] as const) {
      if (!(op in ops)) continue;
      const issue = windowIssue(ops[op]);
      if (issue) {
        this.issue(segment, appendPath(path, op), issue);
        ok = false;
      }
    }
    return ok;
  }

  private checkProtected(segment: SegmentDefinition, name: string, path: string): void {
    if (!this.protectedNames.has(name.toLowerCase())) return;
    const allowed = Object.entries(segment.allow_protected_attributes ?? {}).find(
      ([k, reason]) => k.toLowerCase() === name.toLowerCase() && reason.trim() !== '',
    );
    if (!allowed) {
      this.issue(
        segment,
        path,
        `"${name}" is a protected attribute (listed in protected_attributes); rules may not use it unless the segment allows it with a reason: allow_protected_attributes: { ${name}: "why it is lawful and fair" }`,
      );
    }
  }

  private condition(
    segment: SegmentDefinition,
    cond: unknown,
    path: string,
    b: Binder,
    stack: string[],
    depth: number,
  ): string {
    if (depth > RULE_LIMITS.depth) {
      this.issue(
        segment,
        path,
        `the rule is nested more than ${RULE_LIMITS.depth} levels deep, counting the segments it refers to (the limit on rule depth)`,
      );
      return 'FALSE';
    }
    if (!isObject(cond)) {
      this.issue(segment, path, 'expected a condition');
      return 'FALSE';
    }
    // past the limit nothing more is compiled: the rule is refused, and a huge one should not cost a huge query
    if (++this.conditions > RULE_LIMITS.conditions) return 'FALSE';
    const group = RULE_GROUPS.find((g) => Array.isArray(cond[g]));
    if (group !== undefined) {
      const items = cond[group] as unknown[];
      if (items.length === 0) return group === 'all' ? 'TRUE' : 'FALSE';
      const compiled = items.map((item, i) =>
        this.condition(segment, item, appendPath(appendPath(path, group), i), b, stack, depth + 1),
      );
      return balanced(compiled, group === 'all' ? ' AND ' : ' OR ');
    }
    if ('not' in cond)
      return `NOT ${this.wrapNull(this.condition(segment, cond.not, appendPath(path, 'not'), b, stack, depth + 1))}`;
    if ('in_segment' in cond) {
      const key = String(cond.in_segment);
      const at = appendPath(path, 'in_segment');
      if (!this.byKey.has(key)) {
        this.issue(segment, at, `unknown segment "${key}" (known: ${[...this.byKey.keys()].join(', ')})`);
        return 'FALSE';
      }
      if (stack.includes(key)) {
        this.issue(segment, at, `segments refer to each other in a cycle: ${[...stack, key].join(' -> ')}`);
        return 'FALSE';
      }
      const inlined = this.segment(key, b, stack, depth);
      if (!this.options.storedMembership) return inlined;
      const k = b.bind(key);
      return `(EXISTS (SELECT 1 FROM memberships sm WHERE sm.segment_key = ${k} AND sm.contact_id = c.id) OR EXISTS (SELECT 1 FROM segment_holdout_members sh WHERE sh.segment_key = ${k} AND sh.contact_id = c.id))`;
    }
    if ('event' in cond) return this.event(segment, cond, path, b);
    if ('account' in cond)
      return this.ofAccounts(segment, cond.account, appendPath(path, 'account'), b, stack, depth + 1);
    const subjects = RULE_SUBJECTS.filter((s) => s in cond);
    if (subjects.length !== 1) {
      this.issue(
        segment,
        path,
        `expected one of ${CONDITION_KEYS.slice(0, -1).join(', ')} or ${CONDITION_KEYS[CONDITION_KEYS.length - 1]} (got ${Object.keys(cond).join(', ') || 'nothing'})`,
      );
      return 'FALSE';
    }
    const subject = subjects[0] as RuleSubject;
    const name = String(cond[subject]);
    const at = appendPath(path, subject);
    const unknownOps = Object.keys(cond).filter(
      (k) => k !== subject && !(RULE_OPERATORS as readonly string[]).includes(k),
    );
    for (const op of unknownOps)
      this.issue(
        segment,
        appendPath(path, op),
        `unknown operator "${op}" (expected one of ${RULE_OPERATORS.join(', ')})`,
      );
    if (!this.operatorsOk(segment, cond, RULE_OPERATORS, path)) return 'FALSE';
    let expr: Operand;
    if (subject === 'trait') {
      if (!isFieldName(name)) {
        this.issue(segment, at, `"${name}" is not a trait name (letters, digits, _ or -)`);
        return 'FALSE';
      }
      this.checkProtected(segment, name, at);
      expr =
        (Object.hasOwn(CONTACT_COLUMNS, name) ? CONTACT_COLUMNS[name] : undefined) ??
        jsonOperand(b.dialect, 'c.traits', name);
    } else if (subject === 'feature' || subject === 'score') {
      if (subject === 'score' && !(SCORE_NAMES as readonly string[]).includes(name)) {
        this.issue(segment, at, `unknown score "${name}" (expected one of ${SCORE_NAMES.join(', ')})`);
        return 'FALSE';
      }
      if (NUMERIC_FEATURES.has(name) && !this.numbersOk(segment, cond, path, `feature ${name}`)) return 'FALSE';
      if (this.features.has(name)) expr = `f.${name}`;
      else if (VOICE_FEATURE_NAMES.includes(name))
        expr = `(SELECT v.${name} FROM contact_voice v WHERE v.contact_id = c.id)`;
      else if (this.custom.has(name) && isFieldName(name)) {
        this.checkProtected(segment, name, at);
        expr = jsonOperand(b.dialect, 'f.custom', name);
      } else {
        const close = [...this.features, ...VOICE_FEATURE_NAMES, ...this.custom]
          .filter((f) => f.startsWith(name.split('_')[0] ?? name))
          .slice(0, 6);
        this.issue(
          segment,
          at,
          `unknown feature "${name}"${close.length ? ` (similar: ${close.join(', ')})` : ''}; features are the built-in ones and those under features: in config`,
        );
        return 'FALSE';
      }
    } else {
      const [model, output] = name.includes('.')
        ? [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)]
        : [name, 'value'];
      if (this.options.models && !this.options.models.includes(model)) {
        this.issue(
          segment,
          at,
          `unknown model "${model}" (expected one of: ${this.options.models.join(', ') || 'no models are defined'})`,
        );
        return 'FALSE';
      }
      const of = `FROM model_outputs m WHERE m.contact_id = c.id AND m.model = ${b.bind(model)} AND m.output = ${b.bind(output)}`;
      expr = { text: `(SELECT COALESCE(m.label, CAST(m.value AS TEXT)) ${of})`, number: `(SELECT m.value ${of})` };
    }
    // the contact columns hold text: a number or true/false compares as its text (PostgreSQL compares no text to numbers)
    const ops = typeof expr === 'string' && subject === 'trait' ? asText(cond) : (cond as RuleOperators);
    const parts = compileOperators(expr, ops, b, this.now);
    if (parts.length === 0) {
      this.issue(segment, path, `expected an operator beside ${subject} (one of ${RULE_OPERATORS.join(', ')})`);
      return 'FALSE';
    }
    return `(${parts.join(' AND ')})`;
  }

  private aliases = 0;

  /** A contact condition on the contact's accounts: true when one of them (not deleted) meets `cond`. */
  private ofAccounts(
    segment: SegmentDefinition,
    cond: unknown,
    path: string,
    b: Binder,
    stack: string[],
    depth: number,
  ): string {
    const n = ++this.aliases;
    const [am, a, af] = [`am${n}`, `a${n}`, `af${n}`];
    const test = this.accountCondition(segment, cond, path, b, stack, a, af, depth);
    return `EXISTS (SELECT 1 FROM account_members ${am} JOIN accounts ${a} ON ${a}.id = ${am}.account_id LEFT JOIN account_features ${af} ON ${af}.account_id = ${a}.id WHERE ${am}.contact_id = c.id AND ${a}.deleted = 0 AND ${test})`;
  }

  /**
   * An account condition over the account aliased `a` (its features `af`): traits, features, and its members, whose
   * contact conditions are compiled with the contact aliases `c` and `f` of their own subquery.
   */
  accountCondition(
    segment: SegmentDefinition,
    cond: unknown,
    path: string,
    b: Binder,
    stack: string[],
    a: string,
    af: string,
    depth = 0,
  ): string {
    if (!isObject(cond)) {
      this.issue(segment, path, 'expected an account condition');
      return 'FALSE';
    }
    const group = RULE_GROUPS.find((g) => Array.isArray(cond[g]));
    if (group !== undefined) {
      const items = cond[group] as unknown[];
      if (items.length === 0) return group === 'all' ? 'TRUE' : 'FALSE';
      return `(${items.map((item, i) => this.accountCondition(segment, item, appendPath(appendPath(path, group), i), b, stack, a, af, depth + 1)).join(group === 'all' ? ' AND ' : ' OR ')})`;
    }
    if ('not' in cond)
      return `NOT ${this.wrapNull(this.accountCondition(segment, cond.not, appendPath(path, 'not'), b, stack, a, af, depth + 1))}`;
    if ('members' in cond || 'all_members' in cond) {
      const every = 'all_members' in cond;
      const key = every ? 'all_members' : 'members';
      for (const k of Object.keys(cond))
        if (k !== key && !(k === 'count' && !every))
          this.issue(
            segment,
            appendPath(path, k),
            `unknown key "${k}" beside ${key}${every ? '' : ' (expected count)'}`,
          );
      const n = ++this.aliases;
      const of = `FROM account_members am${n} JOIN contacts c ON c.id = am${n}.contact_id LEFT JOIN contact_features f ON f.contact_id = c.id WHERE am${n}.account_id = ${a}.id`;
      const test = this.condition(segment, cond[key], appendPath(path, key), b, stack, depth + 1);
      if (every) return `(EXISTS (SELECT 1 ${of}) AND NOT EXISTS (SELECT 1 ${of} AND NOT ${this.wrapNull(test)}))`;
      const count = cond.count;
      if (count === undefined) return `EXISTS (SELECT 1 ${of} AND ${test})`;
      const ops: RuleOperators =
        typeof count === 'number' ? { eq: count } : isObject(count) ? (count as RuleOperators) : {};
      for (const k of Object.keys(ops))
        if (!(COUNT_OPERATORS as readonly string[]).includes(k))
          this.issue(
            segment,
            appendPath(appendPath(path, 'count'), k),
            `unknown count operator "${k}" (expected one of ${COUNT_OPERATORS.join(', ')})`,
          );
      const parts = compileOperators(`(SELECT COUNT(*) ${of} AND ${test})`, ops, b, this.now);
      return parts.length ? `(${parts.join(' AND ')})` : 'FALSE';
    }
    const subjects = ACCOUNT_SUBJECTS.filter((x) => x in cond);
    if (subjects.length !== 1) {
      this.issue(
        segment,
        path,
        `expected one of ${ACCOUNT_CONDITION_KEYS.join(', ')} in an account condition (got ${Object.keys(cond).join(', ') || 'nothing'})`,
      );
      return 'FALSE';
    }
    const subject = subjects[0] as (typeof ACCOUNT_SUBJECTS)[number];
    const name = String(cond[subject]);
    const at = appendPath(path, subject);
    for (const op of Object.keys(cond).filter(
      (k) => k !== subject && !(RULE_OPERATORS as readonly string[]).includes(k),
    ))
      this.issue(
        segment,
        appendPath(path, op),
        `unknown operator "${op}" (expected one of ${RULE_OPERATORS.join(', ')})`,
      );
    let expr: Operand;
    if (subject === 'trait') {
      if (!isFieldName(name)) {
        this.issue(segment, at, `"${name}" is not a trait name (letters, digits, _ or -)`);
        return 'FALSE';
      }
      expr = name === 'name' || name === 'domain' ? `${a}.${name}` : jsonOperand(b.dialect, `${a}.traits`, name);
    } else {
      if (!(ACCOUNT_FEATURE_NAMES as readonly string[]).includes(name)) {
        this.issue(
          segment,
          at,
          `unknown account feature "${name}" (expected one of ${ACCOUNT_FEATURE_NAMES.join(', ')})`,
        );
        return 'FALSE';
      }
      if (NUMERIC_ACCOUNT_FEATURES.has(name) && !this.numbersOk(segment, cond, path, `account feature ${name}`))
        return 'FALSE';
      expr = `${af}.${name}`;
    }
    const parts = compileOperators(expr, cond as RuleOperators, b, this.now);
    if (parts.length === 0) {
      this.issue(segment, path, `expected an operator beside ${subject} (one of ${RULE_OPERATORS.join(', ')})`);
      return 'FALSE';
    }
    return `(${parts.join(' AND ')})`;
  }

  /** A NULL comparison under NOT would stay NULL and drop the contact; NOT of an unknown is taken as true. */
  wrapNull(sql: string): string {
    return `COALESCE(${sql}, FALSE)`;
  }

  private event(segment: SegmentDefinition, cond: Record<string, unknown>, path: string, b: Binder): string {
    const type = String(cond.event);
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      this.issue(
        segment,
        appendPath(path, 'event'),
        `unknown event type "${type}" (expected one of ${EVENT_TYPES.join(', ')})`,
      );
      return 'FALSE';
    }
    for (const k of Object.keys(cond)) {
      if (!(EVENT_CONDITION_KEYS as readonly string[]).includes(k))
        this.issue(
          segment,
          appendPath(path, k),
          `unknown key "${k}" in an event condition (expected ${EVENT_CONDITION_KEYS.slice(1).join(', ')})`,
        );
    }
    if (!this.windowsOk(segment, cond, path)) return 'FALSE';
    const where = isObject(cond.where) ? cond.where : {};
    for (const property of Object.keys(where)) {
      const filter = where[property];
      const at = appendPath(appendPath(path, 'where'), property);
      if (
        isObject(filter)
          ? !this.operatorsOk(segment, filter, RULE_OPERATORS, at, 'operator')
          : operandIssue('eq', filter)
      ) {
        if (!isObject(filter)) this.issue(segment, at, 'expected a value or a comparison like { gt: 100 }');
        return 'FALSE';
      }
      if (!isFieldName(property)) {
        this.issue(
          segment,
          appendPath(appendPath(path, 'where'), property),
          `"${property}" is not a property name (letters, digits, _ or -)`,
        );
        return 'FALSE';
      }
      this.checkProtected(segment, property, appendPath(appendPath(path, 'where'), property));
      // an event's `value` column is a number; its other properties are JSON, compared as text or number
      if (
        property === 'value' &&
        !this.numbersOk(segment, isObject(filter) ? filter : { eq: filter }, at, "an event's value")
      )
        return 'FALSE';
    }
    // contact_events holds every event in contact order with its value: conditions that filter on nothing else read
    // it (neighbouring pages per contact); property filters need the raw events.
    const table = Object.keys(where).every((p) => p === 'value' || p === 'occurred_at') ? 'contact_events' : 'events';
    const filters = [
      table === 'events'
        ? eventOfContact(
            b.dialect,
            'e',
            (c) => `${c} = c.id`,
            (t) => `${t} = ${b.bind(type)}`,
          )
        : 'e.contact_id = c.id',
      `e.type = ${b.bind(type)}`,
      `e.occurred_at <= ${b.bind(this.now.toISOString())}`,
      ...(typeof cond.within === 'string' ? [`e.occurred_at > ${b.bind(before(this.now, cond.within))}`] : []),
      ...(typeof cond.before === 'string' ? [`e.occurred_at < ${b.bind(before(this.now, cond.before))}`] : []),
      ...compileEventFilter('e', where, b, this.now),
    ].join(' AND ');
    const count = cond.count;
    if (count === undefined || (isObject(count) && Object.keys(count).length === 1 && count.gte === 1))
      return `EXISTS (SELECT 1 FROM ${table} e WHERE ${filters})`;
    if (count === 0 || (isObject(count) && Object.keys(count).length === 1 && count.eq === 0))
      return `NOT EXISTS (SELECT 1 FROM ${table} e WHERE ${filters})`;
    const wrongCount = countIssue(count);
    if (wrongCount) {
      this.issue(segment, appendPath(path, 'count'), wrongCount);
      return 'FALSE';
    }
    const ops: RuleOperators = typeof count === 'number' ? { eq: count } : (count as RuleOperators);
    if (
      !this.operatorsOk(
        segment,
        ops as Record<string, unknown>,
        COUNT_OPERATORS,
        appendPath(path, 'count'),
        'count operator',
      )
    )
      return 'FALSE';
    const parts = compileOperators(`(SELECT COUNT(*) FROM ${table} e WHERE ${filters})`, ops, b, this.now);
    return parts.length ? `(${parts.join(' AND ')})` : 'FALSE';
  }
}

/** The SELECT every segment query shares, with a condition and an optional set of contact ids (a JSON array marker). */
export function segmentQuery(condition: string, ids?: string, dialect: Dialect = sqliteDialect): string {
  return `SELECT c.id AS contact_id FROM contacts c LEFT JOIN contact_features f ON f.contact_id = c.id
    WHERE c.deleted = 0 AND ${condition}${ids ? ` AND c.id IN (SELECT value FROM ${dialect.jsonValues(ids, 'integer')} AS j)` : ''}`;
}

/**
 * Compiles every segment to ONE parameterised query (segments referred to by `in_segment` are inlined), checking
 * field names, event types, protected attributes and cycles. Values are always bound parameters, never SQL text.
 * Throws `SegmentRuleError` naming every mistake with its file:line:col (or segment key and path).
 *
 * @example
 * const [vip] = compileSegments([{ key: 'vip', rule: { feature: 'monetary_365d', gt: 1000 } }], { now });
 * store.connection.prepare(vip.sql).all(...vip.params);
 */
export function compileSegments(
  segments: readonly SegmentDefinition[],
  options: CompileOptions & { dialect?: Dialect; contacts?: readonly number[] } = {},
): CompiledSegment[] {
  const now = options.now ?? new Date();
  const compiler = new Compiler(segments, options, now);
  const out: CompiledSegment[] = [];
  const seen = new Set<string>();
  for (const segment of segments) {
    if (seen.has(segment.key)) compiler.issue(segment, '', `segment key "${segment.key}" is defined twice`);
    seen.add(segment.key);
    const b = binder(options.dialect ?? sqliteDialect);
    const condition = compiler.segment(segment.key, b, []);
    const ids = options.contacts ? b.bind(JSON.stringify(options.contacts)) : undefined;
    const { sql, params } = b.finish(segmentQuery(condition, ids, b.dialect));
    out.push({ key: segment.key, sql, params, definition: segment });
  }
  if (compiler.issues.length > 0) throw new SegmentRuleError(dedupe(compiler.issues));
  return out;
}

/**
 * An account segment: a rule over accounts (their traits, features and members). Members' conditions are contact
 * conditions, and may name contact segments with `in_segment`.
 */
export interface AccountSegmentDefinition {
  key: string;
  name?: string;
  description?: string;
  rule: AccountCondition;
  origin?: RuleLocation;
  locations?: Record<string, RuleLocation>;
}

/** An account segment compiled to one parameterised query returning `account_id`. */
export interface CompiledAccountSegment {
  key: string;
  sql: string;
  params: SqlValue[];
  definition: AccountSegmentDefinition;
}

/**
 * Compiles account segments, each to ONE parameterised query over the live accounts (`account_id`). `segments` are
 * the contact segments a members condition may name. Throws `SegmentRuleError` naming every mistake.
 *
 * @example
 * const [quiet] = compileAccountSegments(
 *   [{ key: 'quiet', rule: { all: [{ feature: 'members', gte: 3 }, { feature: 'engaged_members_30d', eq: 0 }] } }],
 *   [], { now },
 * );
 */
export function compileAccountSegments(
  accountSegments: readonly AccountSegmentDefinition[],
  segments: readonly SegmentDefinition[],
  options: CompileOptions & { dialect?: Dialect } = {},
): CompiledAccountSegment[] {
  const now = options.now ?? new Date();
  const compiler = new Compiler(segments, options, now);
  const out: CompiledAccountSegment[] = [];
  const seen = new Set<string>();
  for (const definition of accountSegments) {
    const asSegment = { ...definition, rule: {} } as SegmentDefinition;
    if (seen.has(definition.key))
      compiler.issue(asSegment, '', `account segment key "${definition.key}" is defined twice`);
    seen.add(definition.key);
    const b = binder(options.dialect ?? sqliteDialect);
    const condition = compiler.accountCondition(asSegment, definition.rule, 'rule', b, [], 'a', 'af');
    const { sql, params } = b.finish(
      `SELECT a.id AS account_id FROM accounts a LEFT JOIN account_features af ON af.account_id = a.id WHERE a.deleted = 0 AND ${condition}`,
    );
    out.push({ key: definition.key, sql, params, definition });
  }
  if (compiler.issues.length > 0) throw new SegmentRuleError(dedupe(compiler.issues));
  return out;
}

/** Segments per mask column of {@link compileSegmentMasks}: bits 0-59 of a signed 64-bit integer. */
export const MASK_BITS = 60;

/**
 * Every segment in ONE query (one pass over the contacts instead of one per segment): a row per contact (of
 * `contacts` when given) with columns `m0`, `m1`, ...; bit `i % MASK_BITS` of `m{floor(i / MASK_BITS)}` is set when
 * the contact is in `segments[i]`. Checks the rules as {@link compileSegments} does.
 *
 * @example
 * const { sql, params } = compileSegmentMasks(segments, { now });
 * store.connection.prepare(sql).all(...params); // [{ contact_id: 1, m0: 5 }, ...]: contact 1 is in segments 0 and 2
 */
export function compileSegmentMasks(
  segments: readonly SegmentDefinition[],
  options: CompileOptions & { dialect?: Dialect; contacts?: readonly number[]; keys?: readonly string[] } = {},
): { sql: string; params: SqlValue[] } {
  const compiler = new Compiler(segments, options, options.now ?? new Date());
  const b = binder(options.dialect ?? sqliteDialect);
  const columns: string[][] = [];
  // With `keys`, only those segments get a bit (in the order of `keys`); the others are there to be referred to.
  const masked = options.keys
    ? options.keys.map((k) => segments.find((s) => s.key === k)).filter((s) => s !== undefined)
    : segments;
  masked.forEach((segment, i) => {
    const bit = (1n << BigInt(i % MASK_BITS)).toString();
    (columns[Math.floor(i / MASK_BITS)] ??= []).push(
      `(CASE WHEN ${compiler.segment(segment.key, b, [])} THEN ${bit} ELSE 0 END)`,
    );
  });
  if (compiler.issues.length > 0) throw new SegmentRuleError(dedupe(compiler.issues));
  const ids = options.contacts ? b.bind(JSON.stringify(options.contacts)) : undefined;
  const masks = columns.map((c, j) => `${c.join(' | ')} AS m${j}`);
  // A function, not a string: a replacement string would read `$'` in the SQL (PostgreSQL's timestamp pattern) as
  // "the text after the match".
  const query = segmentQuery('TRUE', ids, b.dialect).replace(
    'SELECT c.id AS contact_id',
    () => `SELECT c.id AS contact_id${masks.map((m) => `, ${m}`).join('')}`,
  );
  return b.finish(query);
}

function dedupe(issues: RuleIssue[]): RuleIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.where}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
