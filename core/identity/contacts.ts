import type { Queryable } from '../store/store.js';

/** A contact as stored, with every identity it was seen with. */
export interface Contact {
  id: number;
  email: string | null;
  emailConsent: string;
  traits: Record<string, unknown>;
  deleted: boolean;
  identities: ContactIdentity[];
}

/** One thing a tool knows a contact by. */
export interface ContactIdentity {
  source: string;
  /** The tool's own id; null for an identity known by email only (from events). */
  externalId: string | null;
  email: string | null;
  /** The tool's raw properties of its last record. */
  raw: Record<string, unknown>;
}

/** The contact with this id. */
export async function readContact(store: Queryable, contactId: number): Promise<Contact | undefined> {
  const c = (await store.get('SELECT id, email, email_consent, traits, deleted FROM contacts WHERE id = ?', [
    contactId,
  ])) as { id: number; email: string | null; email_consent: string; traits: string; deleted: number } | undefined;
  if (!c) return undefined;
  const identities = (await store.all(
    'SELECT source, external_id, email, raw FROM identities WHERE contact_id = ? ORDER BY source, external_id, email',
    [contactId],
  )) as { source: string; external_id: string | null; email: string | null; raw: string }[];
  return {
    id: c.id,
    email: c.email,
    emailConsent: c.email_consent,
    traits: JSON.parse(c.traits) as Record<string, unknown>,
    deleted: c.deleted === 1,
    identities: identities.map((i) => ({
      source: i.source,
      externalId: i.external_id,
      email: i.email,
      raw: JSON.parse(i.raw) as Record<string, unknown>,
    })),
  };
}

/**
 * The contact a tool id belongs to.
 *
 * @example
 * const ada = findContactByExternalId(store, 'hubspot', '101');
 */
export async function findContactByExternalId(
  store: Queryable,
  source: string,
  externalId: string,
): Promise<Contact | undefined> {
  const row = (await store.get('SELECT contact_id FROM identities WHERE source = ? AND external_id = ?', [
    source,
    externalId,
  ])) as { contact_id: number | null } | undefined;
  return row?.contact_id == null ? undefined : await readContact(store, row.contact_id);
}

/** The contacts whose (normalised) email trait is `email`. */
export async function findContactsByEmail(store: Queryable, email: string): Promise<Contact[]> {
  const rows = (await store.all('SELECT id FROM contacts WHERE email = ? ORDER BY id', [
    email.trim().toLowerCase(),
  ])) as { id: number }[];
  const contacts: Contact[] = [];
  for (const r of rows) {
    const contact = await readContact(store, r.id);
    if (contact !== undefined) contacts.push(contact);
  }
  return contacts;
}

/** One merge: `mergedId` was folded into `survivorId`, because of `reason` (shared email, linked id) on `identifier`. */
export interface ContactMerge {
  survivorId: number;
  mergedId: number;
  reason: string;
  identifier: string | null;
  mergedAt: string;
}

/** Every merge recorded, oldest first. */
export async function listContactMerges(store: Queryable): Promise<ContactMerge[]> {
  const rows = (await store.all(
    'SELECT survivor_id, merged_id, reason, identifier, merged_at FROM contact_merges ORDER BY id',
  )) as {
    survivor_id: number;
    merged_id: number;
    reason: string;
    identifier: string | null;
    merged_at: string;
  }[];
  return rows.map((r) => ({
    survivorId: r.survivor_id,
    mergedId: r.merged_id,
    reason: r.reason,
    identifier: r.identifier,
    mergedAt: r.merged_at,
  }));
}

/**
 * The partition of identities into contacts, as sorted lists of `source:externalId` (or `source:email` for identities
 * known by email only). Independent of contact ids, so two stores can be compared.
 */
export async function contactPartition(store: Queryable): Promise<string[][]> {
  const rows = (await store.all(
    'SELECT contact_id, source, external_id, email FROM identities ORDER BY contact_id',
  )) as { contact_id: number | null; source: string; external_id: string | null; email: string | null }[];
  const groups = new Map<number | null, string[]>();
  for (const r of rows) {
    const key = `${r.source}:${r.external_id ?? `<${r.email ?? ''}>`}`;
    const list = groups.get(r.contact_id);
    if (list) list.push(key);
    else groups.set(r.contact_id, [key]);
  }
  return [...groups.values()].map((g) => g.sort()).sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
}
