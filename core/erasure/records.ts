import { createHash } from 'node:crypto';
import type { Queryable } from '../store/store.js';

/** What stays of an erasure: who asked, when, and what each destination answered; the person's data is gone. */
export interface ErasureRecord {
  contactId: number;
  erasedAt: string;
  /** The role of the token that asked (`admin`), or `cli`. */
  erasedBy: string;
  destinations: { destination: string; status: string; reason?: string }[];
  removed: Record<string, number>;
}

/** A normalised email's digest: erasure records answer "was this address erased?" without holding the address. */
export const emailDigest = (email: string) =>
  createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');

/**
 * Records an erasure that was carried out.
 *
 * @example
 * await recordErasure(store, { contactId: 42, erasedAt: now, erasedBy: 'admin', emails: ['ada@example.com'],
 *   destinations: [{ destination: 'hubspot_lists', status: 'erased' }], removed: { events: 12 } });
 */
export async function recordErasure(
  store: Queryable,
  record: ErasureRecord & { emails: readonly string[] },
): Promise<void> {
  await store.run(
    'INSERT INTO erasure_records (erased_contact_id, erased_at, erased_by, email_digests, destinations, removed) VALUES (?, ?, ?, ?, ?, ?)',
    [
      record.contactId,
      record.erasedAt,
      record.erasedBy,
      JSON.stringify(record.emails.map(emailDigest)),
      JSON.stringify(record.destinations),
      JSON.stringify(record.removed),
    ],
  );
}

interface ErasureRow {
  erased_contact_id: number;
  erased_at: string;
  erased_by: string;
  email_digests: string;
  destinations: string;
  removed: string;
}

const recordOf = (r: ErasureRow): ErasureRecord => ({
  contactId: Number(r.erased_contact_id),
  erasedAt: r.erased_at,
  erasedBy: r.erased_by,
  destinations: JSON.parse(r.destinations) as ErasureRecord['destinations'],
  removed: JSON.parse(r.removed) as Record<string, number>,
});

/**
 * The erasures of a contact id, or of contacts that had this email, newest first.
 *
 * @example
 * const [last] = await erasuresOf(store, { email: 'ada@example.com' }); // last?.erasedAt, last?.erasedBy
 */
export async function erasuresOf(
  store: Queryable,
  who: { contactId: number } | { email: string },
): Promise<ErasureRecord[]> {
  if ('contactId' in who) {
    const rows = (await store.all('SELECT * FROM erasure_records WHERE erased_contact_id = ? ORDER BY id DESC', [
      who.contactId,
    ])) as ErasureRow[];
    return rows.map(recordOf);
  }
  const digest = emailDigest(who.email);
  const rows = (await store.all(`SELECT * FROM erasure_records WHERE email_digests LIKE ? ORDER BY id DESC`, [
    `%"${digest}"%`,
  ])) as ErasureRow[];
  return rows.map(recordOf);
}
