import { FEATURE_NAMES } from '../features/catalog.js';
import { fieldName, isFieldName } from '../features/filters.js';
import type { Dialect } from '../store/dialect.js';

/**
 * Where a mapped trait's value comes from: a model output (its label, else its value, as rules read it), a feature
 * (built-in, else one from `features:`), or a contact trait (the merged profile's).
 */
export type TraitSource =
  | { kind: 'model'; model: string; output: string }
  | { kind: 'feature'; name: string }
  | { kind: 'trait'; name: string };

const PREFIXES = ['model', 'feature', 'trait'] as const;

/**
 * Reads a push step's trait source: `model:churn.risk` (or `churn.risk`: a dotted name is a model output;
 * `model:churn` is its `value` output), `feature:monetary_365d` (or a bare name: a feature), `trait:country`.
 * Throws a RangeError saying what is expected.
 *
 * @example
 * parseTraitSource('churn.risk'); // { kind: 'model', model: 'churn', output: 'risk' }
 * parseTraitSource('trait:country'); // { kind: 'trait', name: 'country' }
 */
export function parseTraitSource(text: string): TraitSource {
  const source = text.trim();
  const colon = source.indexOf(':');
  const prefix = colon < 0 ? undefined : source.slice(0, colon);
  const rest = colon < 0 ? source : source.slice(colon + 1).trim();
  const bad = (why: string): never => {
    throw new RangeError(
      `trait source "${text}" ${why} (expected model:<model>.<output>, <model>.<output>, feature:<name>, <feature name> or trait:<name>)`,
    );
  };
  if (prefix !== undefined && !(PREFIXES as readonly string[]).includes(prefix))
    bad(`has an unknown prefix "${prefix}:"`);
  if (prefix === 'model' || (prefix === undefined && rest.includes('.'))) {
    const dot = rest.indexOf('.');
    const model = dot < 0 ? rest : rest.slice(0, dot);
    const output = dot < 0 ? 'value' : rest.slice(dot + 1);
    if (!isFieldName(model) || !isFieldName(output)) bad('is not a model output name');
    return { kind: 'model', model, output };
  }
  if (!isFieldName(rest)) bad('is not a field name (letters, digits, _ or -)');
  return prefix === 'trait' ? { kind: 'trait', name: rest } : { kind: 'feature', name: rest };
}

const CONTACT_COLUMNS: Record<string, string> = { email: 'c.email', email_consent: 'c.email_consent' };
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * The SQL expression of a contact's mapped traits as one JSON object (keys in sorted order, a missing value null),
 * for a query with the contact as `c`. Names are checked field names and keys quoted literals, never values.
 * The text it yields is the same for the same values, so delivered state keeps it and compares it as text.
 */
export function mappedTraitsSql(d: Dialect, traits: Readonly<Record<string, string>>): string {
  const keys = Object.keys(traits).sort();
  if (keys.length === 0) return 'NULL';
  return d.jsonObject(
    keys.map((key): [string, string] => [literal(key), sourceSql(d, parseTraitSource(traits[key] as string))]),
  );
}

function sourceSql(d: Dialect, source: TraitSource): string {
  switch (source.kind) {
    case 'model':
      return `(SELECT ${d.jsonEither('o.label', 'o.value')} FROM model_outputs o WHERE o.model = ${literal(source.model)} AND o.output = ${literal(source.output)} AND o.contact_id = c.id)`;
    case 'feature':
      return (FEATURE_NAMES as readonly string[]).includes(source.name)
        ? `(SELECT f.${source.name} FROM contact_features f WHERE f.contact_id = c.id)`
        : `(SELECT ${d.jsonMember('f.custom', fieldName(source.name))} FROM contact_features f WHERE f.contact_id = c.id)`;
    case 'trait':
      return CONTACT_COLUMNS[source.name] ?? d.jsonMember('c.traits', fieldName(source.name));
  }
}
