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

/** Answers "is this identity suppressed?" quickly for a whole page; empty when nothing is suppressed. */
export interface SuppressionCheck {
  readonly empty: boolean;
  email(email: string | null): Promise<boolean>;
  external(source: string, externalId: string | null | undefined): Promise<boolean>;
}

/** A suppression check bound to the store's current suppressions. */
export async function suppressionCheck(store: Queryable): Promise<SuppressionCheck> {
  const any = (await store.get('SELECT 1 FROM suppressions LIMIT 1')) !== undefined;
  if (!any) return { empty: true, email: async () => false, external: async () => false };
  const byEmail = 'SELECT 1 FROM suppressions WHERE email = ?';
  const byExternal = 'SELECT 1 FROM suppressions WHERE source = ? AND external_id = ?';
  return {
    empty: false,
    email: async (email) => email !== null && (await store.get(byEmail, [email])) !== undefined,
    external: async (source, externalId) =>
      externalId !== null &&
      externalId !== undefined &&
      (await store.get(byExternal, [source, externalId])) !== undefined,
  };
}
