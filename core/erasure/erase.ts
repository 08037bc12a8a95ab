import { eraseAccountLinks } from '../accounts/resolve.js';
import { eventOfContact } from '../features/filters.js';
import { addSuppression } from '../suppression/suppressions.js';
import type { Queryable } from '../store/store.js';

/** What a contact is known by: what destinations are asked to erase and what gets suppressed. */
export interface ErasureTarget {
  contactId: number;
  /** Every email the contact or any of its identities carries, normalised. */
  emails: string[];
  identities: { source: string; externalId: string | null; email: string | null }[];
}

/** What `eraseContact` removed: rows per table, and the suppressions added. */
export interface StoreErasure {
  contactId: number;
  removed: Record<string, number>;
  suppressed: { emails: number; ids: number };
}

/**
 * The contact's emails and tool identities, or undefined when there is no such contact.
 *
 * @example
 * const target = erasureTarget(store, 42); // { contactId: 42, emails: ['ada@example.com'], identities: [...] }
 */
export async function erasureTarget(store: Queryable, contactId: number): Promise<ErasureTarget | undefined> {
  const contact = (await store.get('SELECT id, email FROM contacts WHERE id = ?', [contactId])) as
    { id: number; email: string | null } | undefined;
  if (!contact) return undefined;
  const identities = (await store.all(
    'SELECT source, external_id, email FROM identities WHERE contact_id = ? ORDER BY source, external_id',
    [contactId],
  )) as { source: string; external_id: string | null; email: string | null }[];
  const emails = new Set<string>();
  if (contact.email) emails.add(contact.email.trim().toLowerCase());
  for (const i of identities) if (i.email) emails.add(i.email.trim().toLowerCase());
  return {
    contactId,
    emails: [...emails].sort(),
    identities: identities.map((i) => ({ source: i.source, externalId: i.external_id, email: i.email })),
  };
}

// Children before parents: everything references contacts (events go first, above).
const KEYED_BY_CONTACT = [
  'model_outputs',
  'contact_features',
  'segment_holdout_members',
  'memberships',
  'membership_history',
  'delivered_state',
  'identities',
] as const;

/**
 * Removes the contact and every row keyed by it (events, features, model outputs, memberships and their history,
 * holdouts, delivered state, identities, merge records, account links, the rejected rows recorded under its tool ids) and adds its
 * emails and tool ids to the suppression list, all in one transaction. Undefined when there is no such contact.
 *
 * @example
 * const erased = eraseContact(store, 42, { reason: 'erasure request 2026-07-01' });
 * erased?.removed.events; // how many events went with it
 */
export async function eraseContact(
  store: Queryable,
  contactId: number,
  options: { reason: string; now?: Date },
): Promise<StoreErasure | undefined> {
  const now = (options.now ?? new Date()).toISOString();
  return await store.transaction(async (tx) => {
    const target = await erasureTarget(tx, contactId);
    if (!target) return undefined;
    const removed: Record<string, number> = {};
    // Events first: on SQLite they are found through contact_events, which the sweep below would empty.
    const events = eventOfContact(tx.dialect, 'events', (c) => `${c} = ?`);
    removed.events = (await tx.run(`DELETE FROM events WHERE ${events}`, [contactId])).changes;
    for (const table of await otherTablesKeyedByContact(tx)) {
      removed[table] = (await tx.run(`DELETE FROM ${table} WHERE contact_id = ?`, [contactId])).changes;
    }
    const deleteRunErrors = 'DELETE FROM run_errors WHERE record_key = ?';
    let runErrors = 0;
    for (const i of target.identities) {
      if (i.externalId !== null) runErrors += (await tx.run(deleteRunErrors, [`${i.source}:${i.externalId}`])).changes;
    }
    removed.run_errors = runErrors;
    removed.account_links = await eraseAccountLinks(tx, target.identities);
    for (const table of KEYED_BY_CONTACT) {
      removed[table] = (await tx.run(`DELETE FROM ${table} WHERE contact_id = ?`, [contactId])).changes;
    }
    removed.contact_merges = (
      await tx.run('DELETE FROM contact_merges WHERE survivor_id = ? OR merged_id = ?', [contactId, contactId])
    ).changes;
    removed.contacts = (await tx.run('DELETE FROM contacts WHERE id = ?', [contactId])).changes;

    let emails = 0;
    let ids = 0;
    for (const email of target.emails) {
      await addSuppression(tx, { email, reason: options.reason }, now);
      emails++;
    }
    for (const i of target.identities) {
      if (i.externalId === null) continue;
      await addSuppression(tx, { source: i.source, externalId: i.externalId, reason: options.reason }, now);
      ids++;
    }
    return { contactId, removed, suppressed: { emails, ids } };
  });
}

/**
 * Tables added by other modules (real-time queues and the like) that carry a `contact_id`, so an erasure removes their
 * rows too without this module having to learn each one (from the engine's catalogue).
 */
async function otherTablesKeyedByContact(store: Queryable): Promise<string[]> {
  const known = new Set<string>([...KEYED_BY_CONTACT, 'events', 'contacts', 'contact_merges', 'run_errors']);
  const rows = (await store.all(store.dialect.tablesWithColumn('contact_id'))) as {
    name: string;
  }[];
  return rows.map((r) => r.name).filter((name) => !known.has(name) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
}
