import type { SqlValue } from '../store/dialect.js';
import { durationMs, type RuleOperators, type RuleScalar } from '../segments/grammar.js';

/**
 * Where a compiled fragment's values go: `bind(value)` records the value and returns a marker that may be used any
 * number of times, in fragments built in any order; `finish(sql)` turns markers into the dialect's placeholders, in
 * text order, with the parameters to pass.
 */
export interface Binder {
  bind(value: unknown): string;
  finish(sql: string): { sql: string; params: SqlValue[] };
}

const MARK = /§(\d+)§/g;

/** A binder for a dialect's placeholders. */
export function binder(placeholder: (n: number) => string): Binder {
  const values: SqlValue[] = [];
  return {
    bind(value) {
      values.push(toSql(value));
      return `§${values.length - 1}§`;
    },
    finish(sql) {
      const params: SqlValue[] = [];
      const text = sql.replace(MARK, (_, i: string) => {
        params.push(values[Number(i)] as SqlValue);
        return placeholder(params.length);
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

/**
 * The SQL text of a JSON path literal for a top-level property. Only names of letters, digits, _ and - are accepted,
 * so a name can never carry SQL; values are always bound, never written into SQL.
 */
export function propertyPath(name: string): string {
  if (!FIELD_NAME.test(name))
    throw new RangeError(`"${name}" is not a usable field name (expected letters, digits, _ or -)`);
  return `'$."${name}"'`;
}

/**
 * SQL for `expr` compared by every operator given (ANDed), with every value bound as a parameter. `ne` keeps contacts
 * without a value; `contains` is case-insensitive text containment; `within`/`before` treat the value as a timestamp.
 */
export function compileOperators(expr: string, ops: RuleOperators, b: Binder, now: Date): string[] {
  const parts: string[] = [];
  const nowText = now.toISOString();
  if ('eq' in ops) parts.push(ops.eq === null ? `${expr} IS NULL` : `${expr} = ${b.bind(ops.eq)}`);
  if ('ne' in ops)
    parts.push(ops.ne === null ? `${expr} IS NOT NULL` : `(${expr} IS NULL OR ${expr} <> ${b.bind(ops.ne)})`);
  if (ops.gt !== undefined) parts.push(`${expr} > ${b.bind(ops.gt)}`);
  if (ops.gte !== undefined) parts.push(`${expr} >= ${b.bind(ops.gte)}`);
  if (ops.lt !== undefined) parts.push(`${expr} < ${b.bind(ops.lt)}`);
  if (ops.lte !== undefined) parts.push(`${expr} <= ${b.bind(ops.lte)}`);
  if (ops.in !== undefined) {
    const hasNull = ops.in.includes(null);
    const inList = `${expr} IN (SELECT value FROM json_each(${b.bind(JSON.stringify(ops.in.filter((v) => v !== null).map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))))}))`;
    parts.push(hasNull ? `(${inList} OR ${expr} IS NULL)` : inList);
  }
  if ('contains' in ops) parts.push(`instr(lower(${expr}), lower(${b.bind(ops.contains)})) > 0`);
  if (ops.exists !== undefined) parts.push(ops.exists ? `${expr} IS NOT NULL` : `${expr} IS NULL`);
  if (ops.between !== undefined) parts.push(`${expr} BETWEEN ${b.bind(ops.between[0])} AND ${b.bind(ops.between[1])}`);
  if (ops.within !== undefined) {
    parts.push(
      `julianday(${expr}) >= julianday(${b.bind(before(now, ops.within))}) AND julianday(${expr}) <= julianday(${b.bind(nowText)})`,
    );
  }
  if (ops.before !== undefined) parts.push(`julianday(${expr}) < julianday(${b.bind(before(now, ops.before))})`);
  return parts;
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
    const expr =
      property === 'value'
        ? `${alias}.value`
        : property === 'occurred_at'
          ? `${alias}.occurred_at`
          : `json_extract(${alias}.properties, ${propertyPath(property)})`;
    const ops: RuleOperators =
      filter !== null && typeof filter === 'object' && !Array.isArray(filter)
        ? (filter as RuleOperators)
        : { eq: filter as RuleScalar };
    parts.push(...compileOperators(expr, ops, b, now));
  }
  return parts;
}
