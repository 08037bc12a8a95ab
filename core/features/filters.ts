import type { Dialect, SqlValue } from '../store/dialect.js';
import { durationMs, type RuleOperators, type RuleScalar } from '../segments/grammar.js';

/**
 * Where a compiled fragment's values go: `bind(value)` records the value and returns a marker that may be used any
 * number of times, in fragments built in any order; `finish(sql)` turns markers into the dialect's placeholders, in
 * text order, with the parameters to pass.
 */
export interface Binder {
  /** The dialect the fragments are written for. */
  readonly dialect: Dialect;
  bind(value: unknown): string;
  finish(sql: string): { sql: string; params: SqlValue[] };
}

const MARK = /§(\d+)§/g;

/** A binder for a dialect's placeholders. */
export function binder(dialect: Dialect): Binder {
  const values: SqlValue[] = [];
  return {
    dialect,
    bind(value) {
      values.push(toSql(value));
      return `§${values.length - 1}§`;
    },
    finish(sql) {
      const params: SqlValue[] = [];
      const text = sql.replace(MARK, (_, i: string) => {
        params.push(values[Number(i)] as SqlValue);
        return dialect.placeholder(params.length);
      });
      return { sql: text, params };
    },
  };
}

function toSql(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return value;
  return JSON.stringify(value);
}

/** The ISO timestamp `duration` before `now`. */
export function before(now: Date, duration: string): string {
  return new Date(now.getTime() - durationMs(duration)).toISOString();
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Whether a trait, property or feature name can be used in a rule (letters, digits, _ and -). */
export function isFieldName(name: string): boolean {
  return FIELD_NAME.test(name);
}

/** A checked field name (letters, digits, _ and -), so that a name written into SQL can never carry SQL. */
export function fieldName(name: string): string {
  if (!FIELD_NAME.test(name))
    throw new RangeError(`"${name}" is not a usable field name (expected letters, digits, _ or -)`);
  return name;
}

/**
 * A top-level property `name` of the JSON text `doc` as a rule operand: its SQL as text and as a number, so that each
 * comparison reads it as what it is compared with (engines whose JSON reads give text need the difference).
 */
export function jsonOperand(dialect: Dialect, doc: string, name: string): Operand {
  const key = fieldName(name);
  return { text: dialect.jsonField(doc, key, 'text'), number: dialect.jsonField(doc, key, 'real') };
}

/** What a rule compares: an SQL expression, or a JSON property (see {@link jsonOperand}). */
export type Operand = string | { text: string; number: string };

const isNumeric = (v: unknown): boolean => typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';

/**
 * SQL for `operand` compared by every operator given (ANDed), with every value bound as a parameter. `ne` keeps
 * contacts without a value; `contains` is case-insensitive text containment; `within`/`before` treat the value as a
 * timestamp.
 */
export function compileOperators(operand: Operand, ops: RuleOperators, b: Binder, now: Date): string[] {
  const d = b.dialect;
  const as = (value: unknown): string =>
    typeof operand === 'string' ? operand : isNumeric(value) ? operand.number : operand.text;
  const text = as('');
  const parts: string[] = [];
  const nowText = now.toISOString();
  if ('eq' in ops) parts.push(ops.eq === null ? `${text} IS NULL` : `${as(ops.eq)} = ${b.bind(ops.eq)}`);
  if ('ne' in ops)
    parts.push(ops.ne === null ? `${text} IS NOT NULL` : `(${text} IS NULL OR ${as(ops.ne)} <> ${b.bind(ops.ne)})`);
  if (ops.gt !== undefined) parts.push(`${as(ops.gt)} > ${b.bind(ops.gt)}`);
  if (ops.gte !== undefined) parts.push(`${as(ops.gte)} >= ${b.bind(ops.gte)}`);
  if (ops.lt !== undefined) parts.push(`${as(ops.lt)} < ${b.bind(ops.lt)}`);
  if (ops.lte !== undefined) parts.push(`${as(ops.lte)} <= ${b.bind(ops.lte)}`);
  if (ops.in !== undefined) {
    const hasNull = ops.in.includes(null);
    const values = ops.in.filter((v) => v !== null).map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
    const numeric = values.length > 0 && values.every(isNumeric);
    const expr = numeric ? as(0) : text;
    const inList = `${expr} IN (SELECT value FROM ${d.jsonValues(b.bind(JSON.stringify(values)), numeric ? 'number' : 'text')} AS j)`;
    parts.push(hasNull ? `(${inList} OR ${text} IS NULL)` : inList);
  }
  if ('contains' in ops) parts.push(d.contains(text, b.bind(ops.contains)));
  if (ops.exists !== undefined) parts.push(ops.exists ? `${text} IS NOT NULL` : `${text} IS NULL`);
  if (ops.between !== undefined) {
    const [low, high] = ops.between;
    parts.push(
      `${as(typeof low === 'number' && typeof high === 'number' ? 0 : '')} BETWEEN ${b.bind(low)} AND ${b.bind(high)}`,
    );
  }
  if (ops.within !== undefined) {
    parts.push(
      `${d.julianDay(text)} >= ${d.julianDay(b.bind(before(now, ops.within)))} AND ${d.julianDay(text)} <= ${d.julianDay(b.bind(nowText))}`,
    );
  }
  if (ops.before !== undefined) parts.push(`${d.julianDay(text)} < ${d.julianDay(b.bind(before(now, ops.before)))}`);
  return parts;
}

/**
 * The condition that the event row `alias` belongs to the contacts `contact` accepts (given a contact id column), and,
 * with `type`, is of the types it accepts (given a type column): by the events' own contact index where the dialect
 * keeps one, else through `contact_events`, the same events in contact order. The callbacks are called at most once,
 * in that order, so what they bind lines up with the text.
 */
export function eventOfContact(
  d: Dialect,
  alias: string,
  contact: (column: string) => string,
  type?: (column: string) => string,
): string {
  if (d.eventsIndexedByContact) return contact(`${alias}.contact_id`);
  const contactSql = contact('ce.contact_id');
  const typeSql = type ? ` AND ${type('ce.type')}` : '';
  return `${alias}.id IN (SELECT ce.event_id FROM contact_events ce WHERE ${contactSql}${typeSql})`;
}

/** An event property filter (`where:`): a value means eq; `value` is the event's value, other keys its properties. */
export function compileEventFilter(
  alias: string,
  where: Record<string, unknown> | undefined,
  b: Binder,
  now: Date,
): string[] {
  const parts: string[] = [];
  for (const [property, filter] of Object.entries(where ?? {})) {
    const expr: Operand =
      property === 'value'
        ? `${alias}.value`
        : property === 'occurred_at'
          ? `${alias}.occurred_at`
          : jsonOperand(b.dialect, `${alias}.properties`, property);
    const ops: RuleOperators =
      filter !== null && typeof filter === 'object' && !Array.isArray(filter)
        ? (filter as RuleOperators)
        : { eq: filter as RuleScalar };
    parts.push(...compileOperators(expr, ops, b, now));
  }
  return parts;
}
