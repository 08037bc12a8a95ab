import { normaliseEmail } from '../../plugins/model/index.js';
import type { Store } from '../store/store.js';

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
export function addSuppression(store: Store, s: Suppression, now = new Date().toISOString()): void {
  const email = s.email === undefined ? null : (normaliseEmail(s.email) ?? s.email.trim().toLowerCase());
  const hasExternal = s.source !== undefined && s.externalId !== undefined;
  if (email === null && !hasExternal) throw new Error('a suppression needs an email, or a source and an externalId');
  store
    .statement(
      'INSERT INTO suppressions (email, source, external_id, reason, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    )
    .run(email, hasExternal ? (s.source ?? null) : null, hasExternal ? (s.externalId ?? null) : null, s.reason, now);
}

/** Every suppression, oldest first. */
export function listSuppressions(store: Store): Suppression[] {
  const rows = store.statement('SELECT email, source, external_id, reason FROM suppressions ORDER BY id').all() as {
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

/** Answers "is this identity suppressed?" quickly for a whole page; empty when nothing is suppressed. */
export interface SuppressionCheck {
  readonly empty: boolean;
  email(email: string | null): boolean;
  external(source: string, externalId: string | null | undefined): boolean;
}

/** A suppression check bound to the store's current suppressions. */
export function suppressionCheck(store: Store): SuppressionCheck {
  const any = store.statement('SELECT 1 FROM suppressions LIMIT 1').get() !== undefined;
  if (!any) return { empty: true, email: () => false, external: () => false };
  const byEmail = store.statement('SELECT 1 FROM suppressions WHERE email = ?');
  const byExternal = store.statement('SELECT 1 FROM suppressions WHERE source = ? AND external_id = ?');
  return {
    empty: false,
    email: (email) => email !== null && byEmail.get(email) !== undefined,
    external: (source, externalId) =>
      externalId !== null && externalId !== undefined && byExternal.get(source, externalId) !== undefined,
  };
}
