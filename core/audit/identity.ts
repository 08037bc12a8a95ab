import { isRoleAddress, resolveIdentityOptions } from '../identity/options.js';
import type { Queryable } from '../store/store.js';
import { plural, type AuditFinding } from './findings.js';
import type { AuditOptions } from './options.js';
import { toolOverlap, type ToolOverlap } from './overlap.js';

/** Why identity resolution joined records into one contact. */
export interface JoinedRecords {
  /** Contacts made of more than one tool record. */
  contacts: number;
  /** Contacts whose records carry the same email, written identically. */
  sameEmail: number;
  /** Contacts whose records carry the same email written differently (case, spaces). */
  sameEmailOtherCase: number;
  /** Contacts joined because one record links another's tool id (a converted lead, a merged record). */
  linkedId: number;
}

export interface IdentityAudit {
  /** Contacts first created apart and merged later, by the identifier kind that joined them (`shared email`, `linked id`). */
  merges: { total: number; byReason: Record<string, number> };
  joined: JoinedRecords;
  /** Identifiers resolution refused to merge on. */
  heldBack: {
    roleAddresses: { address: string; records: number }[];
    /** Emails carried by more records than the limit (a family or team inbox). */
    sharedEmails: { address: string; records: number }[];
    sharedEmailLimit: number;
  };
  /** Contacts left apart that share first name, last name and phone. */
  likelyDuplicates: { groups: number; contacts: number; examples: number[][] };
  overlap: ToolOverlap;
}

interface IdentityRecord {
  contact: number;
  source: string;
  externalId: string | null;
  email: string | null;
  written: unknown;
  links: string;
}

const EXAMPLES = 5;
/** Names a finding lists at most (the section holds them all). */
const NAMES = 20;

/** Digits of a phone number, the last ten (so `+1 555…` and `555…` agree); null when too short to be one. */
function phoneKey(phone: unknown): string | null {
  if (typeof phone !== 'string' && typeof phone !== 'number') return null;
  const digits = String(phone).replace(/\D/g, '');
  return digits.length >= 7 ? digits.slice(-10) : null;
}

function nameKey(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const key = value.trim().toLowerCase().replace(/\s+/g, ' ');
  return key === '' ? null : key;
}

/** Merges and their reasons, identifiers held back, likely duplicates left apart, and the tools' overlap. */
export async function auditIdentity(
  store: Queryable,
  options: AuditOptions,
): Promise<{ identity: IdentityAudit; findings: AuditFinding[] }> {
  const resolved = resolveIdentityOptions({
    ...(options.identity?.roleAddresses ? { roleAddresses: options.identity.roleAddresses } : {}),
    ...(options.identity?.sharedEmailLimit !== undefined
      ? { sharedEmailLimit: options.identity.sharedEmailLimit }
      : {}),
  });

  const mergeRows = (await store.all(
    'SELECT reason, COUNT(*) AS n FROM contact_merges GROUP BY reason ORDER BY reason',
  )) as { reason: string; n: number }[];
  const merges = {
    total: mergeRows.reduce((sum, r) => sum + r.n, 0),
    byReason: Object.fromEntries(mergeRows.map((r) => [r.reason, r.n])),
  };

  const joined: JoinedRecords = { contacts: 0, sameEmail: 0, sameEmailOtherCase: 0, linkedId: 0 };
  // Table order, grouped here: walking the contact index costs a random read per identity.
  const deletedContacts = new Set(
    ((await store.all('SELECT id FROM contacts WHERE deleted = 1')) as { id: number }[]).map((r) => r.id),
  );
  const byContact = new Map<number, IdentityRecord[]>();
  for await (const batch of store.iterate(`SELECT contact_id AS contact, source, external_id AS "externalId", email,
              CASE WHEN email IS NOT NULL THEN ${store.dialect.jsonField('traits', 'email')} END AS written, linked_ids AS links
         FROM identities WHERE contact_id IS NOT NULL`))
    for (const r of batch as IdentityRecord[]) {
      if (deletedContacts.has(r.contact)) continue;
      const list = byContact.get(r.contact);
      if (list) list.push(r);
      else byContact.set(r.contact, [r]);
    }
  for (const records of byContact.values()) {
    if (records.length < 2) continue;
    joined.contacts++;
    const written = new Map<string, Set<string>>();
    const holders = new Map<string, number>();
    for (const r of records) {
      if (r.email === null || isRoleAddress(r.email, resolved)) continue;
      holders.set(r.email, (holders.get(r.email) ?? 0) + 1);
      const set = written.get(r.email) ?? new Set<string>();
      // An email-only identity (an event naming someone by email) has no written form of its own.
      if (typeof r.written === 'string') set.add(r.written.trim());
      else if (r.externalId === null) set.add(r.email);
      written.set(r.email, set);
    }
    const shared = [...written.entries()].filter(([email]) => (holders.get(email) ?? 0) > 1);
    if (shared.some(([, forms]) => forms.size > 1)) joined.sameEmailOtherCase++;
    else if (shared.length > 0) joined.sameEmail++;
    const ids = new Set(records.map((r) => `${r.source}\u0000${r.externalId ?? ''}`));
    if (
      records.some(
        (r) => r.links !== '[]' && (JSON.parse(r.links) as string[]).some((l) => ids.has(`${r.source}\u0000${l}`)),
      )
    )
      joined.linkedId++;
  }

  const emails = (await store.all(
    'SELECT email, COUNT(*) AS n FROM identities WHERE email IS NOT NULL AND deleted = 0 GROUP BY email',
  )) as { email: string; n: number }[];
  const byCount = (a: { address: string; records: number }, b: { address: string; records: number }) =>
    b.records - a.records || a.address.localeCompare(b.address);
  const roleAddresses = emails
    .filter((e) => isRoleAddress(e.email, resolved))
    .map((e) => ({ address: e.email, records: e.n }))
    .sort(byCount);
  const sharedEmails = emails
    .filter((e) => !isRoleAddress(e.email, resolved) && e.n > resolved.sharedEmailLimit)
    .map((e) => ({ address: e.email, records: e.n }))
    .sort(byCount);

  const trait = (name: string): string => store.dialect.jsonField('traits', name);
  const people =
    (await store.all(`SELECT id, ${trait('first_name')} AS first, ${trait('last_name')} AS last, ${trait('phone')} AS phone
         FROM contacts WHERE deleted = 0 AND ${trait('phone')} IS NOT NULL ORDER BY id`)) as {
      id: number;
      first: unknown;
      last: unknown;
      phone: unknown;
    }[];
  const groups = new Map<string, number[]>();
  for (const p of people) {
    const first = nameKey(p.first);
    const last = nameKey(p.last);
    const phone = phoneKey(p.phone);
    if (first === null || last === null || phone === null) continue;
    const key = `${first}\u0000${last}\u0000${phone}`;
    const list = groups.get(key);
    if (list) list.push(p.id);
    else groups.set(key, [p.id]);
  }
  const duplicates = [...groups.values()].filter((g) => g.length > 1);
  const likelyDuplicates = {
    groups: duplicates.length,
    contacts: duplicates.reduce((sum, g) => sum + g.length, 0),
    examples: duplicates.slice(0, EXAMPLES),
  };

  const findings: AuditFinding[] = [];
  const heldRecords = (list: { records: number }[]) => list.reduce((sum, e) => sum + e.records, 0);
  const listed = (list: { address: string; records: number }[]) =>
    list
      .slice(0, EXAMPLES)
      .map((e) => `${e.address} (${e.records})`)
      .join(', ') + (list.length > EXAMPLES ? ', …' : '');
  if (roleAddresses.length > 0) {
    findings.push({
      section: 'identity',
      code: 'role_address_held_back',
      severity: 'notice',
      message: `${plural(roleAddresses.length, 'role address', 'role addresses')} on ${plural(heldRecords(roleAddresses), 'record')} kept from merging people: ${listed(roleAddresses)}`,
      count: heldRecords(roleAddresses),
      names: roleAddresses.slice(0, NAMES).map((e) => e.address),
    });
  }
  if (sharedEmails.length > 0) {
    findings.push({
      section: 'identity',
      code: 'shared_email_held_back',
      severity: 'notice',
      message: `${plural(sharedEmails.length, 'email')} carried by more than ${resolved.sharedEmailLimit} records each kept from merging people: ${listed(sharedEmails)}`,
      count: heldRecords(sharedEmails),
      names: sharedEmails.slice(0, NAMES).map((e) => e.address),
    });
  }
  if (likelyDuplicates.groups > 0) {
    findings.push({
      section: 'identity',
      code: 'likely_duplicates',
      severity: 'warning',
      message: `${plural(likelyDuplicates.contacts, 'contact')} in ${plural(likelyDuplicates.groups, 'group')} share first name, last name and phone but were not merged (e.g. contacts ${likelyDuplicates.examples
        .map((g) => g.join(' and '))
        .slice(0, 3)
        .join('; ')})`,
      count: likelyDuplicates.contacts,
      names: likelyDuplicates.examples.flat().map(String),
    });
  }
  return {
    identity: {
      merges,
      joined,
      heldBack: { roleAddresses, sharedEmails, sharedEmailLimit: resolved.sharedEmailLimit },
      likelyDuplicates,
      overlap: await toolOverlap(store),
    },
    findings,
  };
}
