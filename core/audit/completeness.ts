import { CONTACT_TRAITS } from '../../plugins/model/index.js';
import type { Dialect } from '../store/dialect.js';
import type { Queryable } from '../store/store.js';
import { percent, plural, type AuditFinding } from './findings.js';
import type { FieldUse } from './options.js';

/** Share of contacts (0..1) holding each field. */
export type FieldShares = Record<string, number>;

export interface Completeness {
  /** Canonical traits, then the other traits rules and features use. */
  fields: string[];
  /** Contacts in the store (not deleted): the merged view segments are computed on. */
  contacts: number;
  /** Per field, the share of contacts with a non-empty value. */
  overall: FieldShares;
  /** Per source (tool), its records (not deleted) and the share of them holding each field. */
  bySource: { source: string; records: number; fields: FieldShares }[];
  /** Fields rules or features depend on held by fewer contacts than the threshold. */
  mostlyEmpty: { field: string; share: number; contacts: number; usedBy: string[] }[];
}

const present = (d: Dialect): string => `NULLIF(TRIM(CAST(${d.jsonFieldAt('traits', '?')} AS TEXT)), '') IS NOT NULL`;

/** Completeness of contact traits per source and over the merged contacts. */
export async function auditCompleteness(
  store: Queryable,
  fieldsUsed: readonly FieldUse[],
  mostlyEmptyShare: number,
): Promise<{ completeness: Completeness; findings: AuditFinding[] }> {
  const fields = [...new Set([...CONTACT_TRAITS, ...fieldsUsed.map((f) => f.field)])];
  const sums = fields.map((_, i) => `SUM(CASE WHEN ${present(store.dialect)} THEN 1 ELSE 0 END) AS f${i}`).join(', ');
  const paths = fields.map((f) => store.dialect.jsonKey(f));
  const shares = (row: Record<string, number | null>, total: number): FieldShares =>
    Object.fromEntries(fields.map((f, i) => [f, total === 0 ? 0 : (row[`f${i}`] ?? 0) / total]));

  const whole = (await store.get(`SELECT COUNT(*) AS n, ${sums} FROM contacts WHERE deleted = 0`, paths)) as Record<
    string,
    number | null
  > & { n: number };
  const perSource = (await store.all(
    `SELECT source, COUNT(*) AS n, ${sums} FROM identities WHERE seen = 1 AND deleted = 0 GROUP BY source ORDER BY source`,
    paths,
  )) as (Record<string, number | null> & { source: string; n: number })[];

  const overall = shares(whole, whole.n);
  const holders = (field: string) => whole[`f${fields.indexOf(field)}`] ?? 0;
  const mostlyEmpty = fieldsUsed
    .map((use) => ({
      field: use.field,
      share: overall[use.field] ?? 0,
      contacts: holders(use.field),
      usedBy: [...use.usedBy],
    }))
    .filter((f) => whole.n > 0 && f.share < mostlyEmptyShare)
    .sort((a, b) => a.share - b.share || a.field.localeCompare(b.field));
  const findings: AuditFinding[] = mostlyEmpty.map((f) => ({
    section: 'completeness',
    code: 'field_mostly_empty',
    severity: 'warning',
    message: `${f.field} is empty on ${percent(1 - f.share)} of contacts (${plural(f.contacts, 'contact')} ${f.contacts === 1 ? 'has' : 'have'} it), yet ${f.usedBy.join(', ')} depend${f.usedBy.length === 1 ? 's' : ''} on it`,
    count: whole.n - f.contacts,
    names: [f.field],
  }));
  return {
    completeness: {
      fields,
      contacts: whole.n,
      overall,
      bySource: perSource.map((r) => ({ source: r.source, records: r.n, fields: shares(r, r.n) })),
      mostlyEmpty,
    },
    findings,
  };
}
