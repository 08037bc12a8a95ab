import { normaliseEmail } from '../../plugins/model/index.js';
import type { Queryable } from '../store/store.js';

/** An identity that must not be loaded back: an email, or a tool's own id, or both. */
export interface Suppression {
  email?: string;
  source?: string;
  externalId?: string;
  reason: string;
}

/**
 * Suppresses an identity so the next sync does not bring it back (after a GDPR erasure, say). Emails are normalised.
 *
 * @example
 * addSuppression(store, { email: 'Ada@Example.com', reason: 'gdpr erasure request #42' });
 */
export async function addSuppression(store: Queryable, s: Suppression, now = new Date().toISOString()): Promise<void> {
  const email = s.email === undefined ? null : (normaliseEmail(s.email) ?? s.email.trim().toLowerCase());
  const hasExternal = s.source !== undefined && s.externalId !== undefined;
  if (email === null && !hasExternal) throw new Error('a suppression needs an email, or a source and an externalId');
  await store.run(
    'INSERT INTO suppressions (email, source, external_id, reason, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    [email, hasExternal ? (s.source ?? null) : null, hasExternal ? (s.externalId ?? null) : null, s.reason, now],
  );
}

/** Every suppression, oldest first. */
export async function listSuppressions(store: Queryable): Promise<Suppression[]> {
  const rows = (await store.all('SELECT email, source, external_id, reason FROM suppressions ORDER BY id')) as {
    email: string | null;
    source: string | null;
    external_id: string | null;
    reason: string;
  }[];
  return rows.map((r) => ({
    ...(r.email !== null ? { email: r.email } : {}),
    ...(r.source !== null ? { source: r.source } : {}),
    ...(r.external_id !== null ? { externalId: r.external_id } : {}),
    reason: r.reason,
  }));
}

/** Answers "is this identity suppressed?" for a whole page, from what was read once; empty when nothing is suppressed. */
export interface SuppressionCheck {
  readonly empty: boolean;
  /** Whether a (trimmed, lower-cased) email is suppressed; it must be among those the check was made for. */
  email(email: string | null): boolean;
  /** Whether a tool id is suppressed; it must be among those the check was made for. */
  external(source: string, externalId: string | null | undefined): boolean;
}

/** The identities a page names, to check against the suppressions in a few statements. */
export interface SuppressionCandidates {
  emails: Iterable<string>;
  /** Tool ids by source. */
  externalIds: ReadonlyMap<string, Iterable<string>>;
}

/**
 * Reads which of a page's identities are suppressed: one statement for its emails and one per source for its tool
 * ids (none when nothing is suppressed at all), instead of a lookup per record.
 *
 * @example
 * const suppressed = await suppressionCheck(tx, { emails: ['ada@example.com'], externalIds: new Map([['hubspot', ['9']]]) });
 * suppressed.email('ada@example.com'); // true when Ada was erased
 */
export async function suppressionCheck(store: Queryable, candidates: SuppressionCandidates): Promise<SuppressionCheck> {
  const any = (await store.get('SELECT 1 FROM suppressions LIMIT 1')) !== undefined;
  if (!any) return { empty: true, email: () => false, external: () => false };
  const rows = store.dialect.jsonArrayRows(1);
  const emails = new Set<string>();
  const wanted = [...new Set(candidates.emails)];
  if (wanted.length > 0) {
    const sql = `SELECT s.email FROM ${rows} AS j CROSS JOIN suppressions s WHERE s.email = j.value`;
    for (const r of (await store.all(sql, [JSON.stringify(wanted)])) as { email: string }[]) emails.add(r.email);
  }
  const external = new Set<string>();
  const key = (source: string, id: string) => `${source}\u0000${id}`;
  for (const [source, ids] of candidates.externalIds) {
    const list = [...new Set(ids)];
    if (list.length === 0) continue;
    const sql = `SELECT s.external_id FROM ${rows} AS j CROSS JOIN suppressions s WHERE s.source = ? AND s.external_id = j.value`;
    for (const r of (await store.all(sql, [JSON.stringify(list), source])) as { external_id: string }[])
      external.add(key(source, r.external_id));
  }
  return {
    empty: false,
    email: (email) => email !== null && emails.has(email),
    external: (source, externalId) =>
      externalId !== null && externalId !== undefined && external.has(key(source, externalId)),
  };
}
