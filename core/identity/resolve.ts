import { normaliseEmail, type ContactRecord, type Identifiers, type SourceRecord } from '../../plugins/model/index.js';
import type { Queryable } from '../store/store.js';
import { isRoleAddress, type ResolvedIdentityOptions } from './options.js';
import { contactTraits, sortedJson } from './traits.js';
import { UnionFind } from './union-find.js';

/**
 * Identity resolution over one page, inside the caller's transaction.
 *
 * The store keeps one identity row per thing a tool knows a person by: a tool record (source, external id), an id it
 * links to (linked ids), or, for events that name a person by email only, (source, email). Two identities belong to
 * one contact when they share a usable email or one links the other; a contact is exactly one connected component of
 * that graph. Because the components depend only on the identities' final state (latest record wins per identity,
 * linked ids accumulate), the partition does not depend on the order records arrive in: each page recomputes the
 * components of the contacts it touches, merging contacts a new link joins and splitting those an email stops joining
 * (when it becomes shared by more than the limit).
 */

interface IdentityRow {
  id: number;
  contact_id: number | null;
  source: string;
  external_id: string | null;
  email: string | null;
  linked_ids: string;
  /** null until loaded (see `full`). */
  traits: string | null;
  raw: string | null;
  record_updated_ms: number | null;
  seen: number;
  deleted: number;
}

/** Where a contact record went. */
export type ContactOutcome = 'inserted' | 'updated' | 'unchanged';

/** Without traits and raw, which only a re-read record or a trait merge needs (loaded then by `full`). */
const LIGHT_COLUMNS =
  'id, contact_id, source, external_id, email, linked_ids, NULL AS traits, NULL AS raw, record_updated_ms, seen, deleted';
const IDENTITY_COLUMNS =
  'id, contact_id, source, external_id, email, linked_ids, traits, raw, record_updated_ms, seen, deleted';

function externalKey(source: string, externalId: string): string {
  return `x\u0000${source}\u0000${externalId}`;
}
function emailKey(source: string, email: string): string {
  return `e\u0000${source}\u0000${email}`;
}
function rowKey(r: Pick<IdentityRow, 'source' | 'external_id' | 'email'>): string {
  return r.external_id !== null ? externalKey(r.source, r.external_id) : emailKey(r.source, r.email ?? '');
}

function parseMs(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function unionSorted(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

/** The resolution state of one page. */
export class PageResolution {
  private readonly identities = new Map<number, IdentityRow>();
  private readonly byKey = new Map<string, number>();
  private readonly dirty = new Set<number>();
  /** Emails a dirty identity carried before this page changed it. */
  private readonly leftEmails = new Set<string>();
  /** How many identities took each email in this page. */
  private readonly joinedEmails = new Map<string, number>();
  private readonly touchedContacts = new Set<number>();
  private readonly emailDegree = new Map<string, number>();
  /** Keys looked up in bulk and known not to exist (so no per-row lookup is needed). */
  private readonly absent = new Set<string>();
  /** Contacts whose complete identity list is in memory, with their identities. */
  private readonly members = new Map<number, IdentityRow[]>();
  /** Contacts created by this page with their traits already written. */
  private readonly written = new Set<number>();
  merged = 0;

  constructor(
    private readonly store: Queryable,
    private readonly options: ResolvedIdentityOptions,
    private readonly now: string,
  ) {}

  private remember(row: IdentityRow): IdentityRow {
    this.identities.set(row.id, row);
    this.byKey.set(rowKey(row), row.id);
    return row;
  }

  /**
   * Looks up, set-based, every identity a page names (tool ids, linked ids, email-only identities), so that the
   * per-record work below finds them in memory.
   */
  async prefetch(records: readonly SourceRecord[]): Promise<void> {
    const external = new Map<string, Set<string>>();
    const emailOnly = new Map<string, Set<string>>();
    const add = (m: Map<string, Set<string>>, source: string, value: string) => {
      const set = m.get(source);
      if (set) set.add(value);
      else m.set(source, new Set([value]));
    };
    for (const r of records) {
      if (r.kind === 'contact') {
        if (typeof r.externalId !== 'string') continue;
        add(external, r.source, r.externalId);
        for (const l of r.linkedIds ?? []) add(external, r.source, l);
      } else if (r.kind === 'event' && r.contact) {
        if (typeof r.contact.externalId === 'string' && r.contact.externalId !== '')
          add(external, r.source, r.contact.externalId);
        else {
          const email = normaliseEmail(r.contact.email ?? null);
          if (email !== null) add(emailOnly, r.source, email);
        }
        for (const l of r.contact.linkedIds ?? []) add(external, r.source, l);
      }
    }
    const d = this.store.dialect;
    const light = LIGHT_COLUMNS.split(', ')
      .map((c) => (c.startsWith('NULL') ? c : `i.${c}`))
      .join(', ');
    const byExternal = `SELECT ${light} FROM ${d.jsonArrayRows(1)} AS j CROSS JOIN identities i WHERE i.source = ? AND i.external_id = j.value`;
    const byEmail = `SELECT ${light} FROM ${d.jsonArrayRows(1)} AS j CROSS JOIN identities i WHERE i.email = j.value`;
    for (const [source, ids] of external) {
      for (const row of (await this.store.all(byExternal, [JSON.stringify([...ids]), source])) as IdentityRow[]) {
        if (!this.identities.has(row.id)) this.remember(row);
      }
      for (const id of ids) if (!this.byKey.has(externalKey(source, id))) this.absent.add(externalKey(source, id));
    }
    const emails = new Set<string>();
    for (const set of emailOnly.values()) for (const e of set) emails.add(e);
    if (emails.size > 0) {
      for (const row of (await this.store.all(byEmail, [JSON.stringify([...emails])])) as IdentityRow[]) {
        if (row.external_id === null && !this.identities.has(row.id)) this.remember(row);
      }
    }
    for (const [source, set] of emailOnly) {
      for (const e of set) if (!this.byKey.has(emailKey(source, e))) this.absent.add(emailKey(source, e));
    }
  }

  private async findExternal(source: string, externalId: string): Promise<IdentityRow | undefined> {
    const key = externalKey(source, externalId);
    const id = this.byKey.get(key);
    if (id !== undefined) return this.identities.get(id);
    if (this.absent.has(key)) return undefined;
    const row = (await this.store.get(
      `SELECT ${IDENTITY_COLUMNS} FROM identities WHERE source = ? AND external_id = ?`,
      [source, externalId],
    )) as IdentityRow | undefined;
    return row ? this.remember(row) : undefined;
  }

  private async findEmailOnly(source: string, email: string): Promise<IdentityRow | undefined> {
    const key = emailKey(source, email);
    const id = this.byKey.get(key);
    if (id !== undefined) return this.identities.get(id);
    if (this.absent.has(key)) return undefined;
    // By email alone: the planner would otherwise scan every email-only identity of the source via (source, external_id).
    const rows = (await this.store.all(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE email = ?`, [
      email,
    ])) as IdentityRow[];
    const row = rows.find((r) => r.source === source && r.external_id === null);
    return row ? this.remember(row) : undefined;
  }

  /** The row with its traits and raw properties loaded. */
  private async full(row: IdentityRow): Promise<IdentityRow & { traits: string; raw: string }> {
    if (row.traits === null || row.raw === null) {
      const r = (await this.store.get('SELECT traits, raw FROM identities WHERE id = ?', [row.id])) as {
        traits: string;
        raw: string;
      };
      row.traits = r.traits;
      row.raw = r.raw;
    }
    return row as IdentityRow & { traits: string; raw: string };
  }

  private async fullRows(rows: readonly IdentityRow[]): Promise<(IdentityRow & { traits: string; raw: string })[]> {
    const out: (IdentityRow & { traits: string; raw: string })[] = [];
    for (const r of rows) if (r.seen === 1) out.push(await this.full(r));
    return out;
  }

  private async insertIdentity(fields: Omit<IdentityRow, 'id' | 'contact_id'>): Promise<IdentityRow> {
    const r = (await this.store.get(
      `INSERT INTO identities (contact_id, source, external_id, email, linked_ids, traits, raw, record_updated_ms, seen, deleted, created_at, updated_at)
         VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        fields.source,
        fields.external_id,
        fields.email,
        fields.linked_ids,
        fields.traits,
        fields.raw,
        fields.record_updated_ms,
        fields.seen,
        fields.deleted,
        this.now,
        this.now,
      ],
    )) as { id: number };
    const row = this.remember({ id: r.id, contact_id: null, ...fields });
    this.markDirty(row, null);
    return row;
  }

  private markDirty(row: IdentityRow, previousEmail: string | null): void {
    this.dirty.add(row.id);
    if (previousEmail !== row.email) {
      if (previousEmail !== null) this.leftEmails.add(previousEmail);
      if (row.email !== null) this.joinedEmails.set(row.email, (this.joinedEmails.get(row.email) ?? 0) + 1);
    }
  }

  /** The identity of a tool id, created bare (no record seen yet) when unknown. */
  private async ensureExternal(source: string, externalId: string): Promise<IdentityRow> {
    return (
      (await this.findExternal(source, externalId)) ??
      (await this.insertIdentity({
        source,
        external_id: externalId,
        email: null,
        linked_ids: '[]',
        traits: '{}',
        raw: '{}',
        record_updated_ms: null,
        seen: 0,
        deleted: 0,
      }))
    );
  }

  private async addLinks(row: IdentityRow, linkedIds: readonly string[] | undefined): Promise<boolean> {
    const incoming = (linkedIds ?? []).filter((l) => typeof l === 'string' && l !== '' && l !== row.external_id);
    if (incoming.length === 0) return false;
    const current = JSON.parse(row.linked_ids) as string[];
    const next = unionSorted(current, incoming);
    for (const l of incoming) await this.ensureExternal(row.source, l);
    if (next.length === current.length) return false;
    row.linked_ids = JSON.stringify(next);
    await this.store.run('UPDATE identities SET linked_ids = ?, updated_at = ? WHERE id = ?', [
      row.linked_ids,
      this.now,
      row.id,
    ]);
    this.markDirty(row, row.email);
    return true;
  }

  /**
   * Upserts the identity of a contact record. The newest record of an identity wins (by its `updated_at` trait, ties
   * broken by content, so the winner does not depend on arrival order); linked ids accumulate.
   */
  async upsertContact(record: ContactRecord): Promise<ContactOutcome> {
    const email = normaliseEmail(typeof record.traits.email === 'string' ? record.traits.email : null);
    const traits = sortedJson(record.traits);
    const raw = sortedJson(record.raw ?? {});
    const ms = parseMs(record.traits.updated_at);
    const deleted = record.deleted === true ? 1 : 0;
    const existing = await this.findExternal(record.source, record.externalId);
    if (!existing) {
      const row = await this.insertIdentity({
        source: record.source,
        external_id: record.externalId,
        email,
        linked_ids: '[]',
        traits,
        raw,
        record_updated_ms: ms,
        seen: 1,
        deleted,
      });
      await this.addLinks(row, record.linkedIds);
      return 'inserted';
    }
    let changed = false;
    const content = `${traits}\u0000${raw}\u0000${deleted}`;
    const loaded = await this.full(existing);
    const stored = `${loaded.traits}\u0000${loaded.raw}\u0000${existing.deleted}`;
    const inMs = ms ?? -Infinity;
    const storedMs = existing.record_updated_ms ?? -Infinity;
    const wins = existing.seen === 0 || inMs > storedMs || (inMs === storedMs && content > stored);
    if (
      wins &&
      (content !== stored || existing.seen === 0 || existing.email !== email || existing.record_updated_ms !== ms)
    ) {
      const previousEmail = existing.email;
      Object.assign(existing, { email, traits, raw, record_updated_ms: ms, seen: 1, deleted });
      await this.store.run(
        'UPDATE identities SET email = ?, traits = ?, raw = ?, record_updated_ms = ?, seen = 1, deleted = ?, updated_at = ? WHERE id = ?',
        [email, traits, raw, ms, deleted, this.now, existing.id],
      );
      if (previousEmail !== email) this.markDirty(existing, previousEmail);
      if (existing.contact_id !== null) this.touchedContacts.add(existing.contact_id);
      changed = true;
    }
    if (await this.addLinks(existing, record.linkedIds)) changed = true;
    return changed ? 'updated' : 'unchanged';
  }

  /**
   * The identity an event belongs to: the tool id when it has one (a bare identity, whose email is the smallest one
   * events gave it until a contact record is seen), else (source, email). Undefined when it names no usable id.
   */
  async identityOfEvent(source: string, who: Identifiers): Promise<number | undefined> {
    const email = normaliseEmail(who.email ?? null);
    const externalId = typeof who.externalId === 'string' && who.externalId !== '' ? who.externalId : null;
    if (externalId !== null) {
      const row = await this.ensureExternal(source, externalId);
      if (row.seen === 0 && email !== null && (row.email === null || email < row.email)) {
        const previousEmail = row.email;
        row.email = email;
        await this.store.run('UPDATE identities SET email = ?, updated_at = ? WHERE id = ?', [email, this.now, row.id]);
        this.markDirty(row, previousEmail);
      }
      await this.addLinks(row, who.linkedIds);
      return row.id;
    }
    if (email === null) return undefined;
    const row =
      (await this.findEmailOnly(source, email)) ??
      (await this.insertIdentity({
        source,
        external_id: null,
        email,
        linked_ids: '[]',
        traits: '{}',
        raw: '{}',
        record_updated_ms: null,
        seen: 0,
        deleted: 0,
      }));
    return row.id;
  }

  /** The contact an identity belongs to (after `resolve`). */
  contactOf(identityId: number): number {
    const contact = this.identities.get(identityId)?.contact_id;
    if (contact === null || contact === undefined) throw new Error(`identity ${identityId} has no contact`);
    return contact;
  }

  /**
   * How many identities carry an email, counted up to a cap above the limit (beyond it the exact number does not
   * matter), with the contacts of those identities.
   */
  private readonly holders = new Map<string, { degree: number; contacts: number[] }>();

  /** `emailHolders` for many emails in one statement, each counted up to the largest cap among them. */
  private async fetchEmailHolders(emails: string[]): Promise<void> {
    if (emails.length === 0) return;
    let cap = 0;
    for (const e of emails) cap = Math.max(cap, this.options.sharedEmailLimit + (this.joinedEmails.get(e) ?? 0) + 1);
    const rows = (await this.store.all(
      `SELECT email, contact_id FROM (
           SELECT i.email, i.contact_id, ROW_NUMBER() OVER (PARTITION BY i.email) AS n
           FROM ${this.store.dialect.jsonArrayRows(1)} AS j CROSS JOIN identities i WHERE i.email = j.value
         ) AS holders WHERE n <= ?`,
      [JSON.stringify(emails), cap],
    )) as { email: string; contact_id: number | null }[];
    for (const e of emails) this.holders.set(e, { degree: 0, contacts: [] });
    for (const r of rows) {
      const h = this.holders.get(r.email) as { degree: number; contacts: number[] };
      h.degree += 1;
      if (r.contact_id !== null) h.contacts.push(r.contact_id);
    }
    for (const [e, h] of this.holders) this.emailDegree.set(e, h.degree);
  }

  private async emailHolders(email: string): Promise<{ degree: number; contacts: number[] }> {
    const known = this.holders.get(email);
    if (known) return known;
    const cap = this.options.sharedEmailLimit + (this.joinedEmails.get(email) ?? 0) + 1;
    const rows = (await this.store.all('SELECT contact_id FROM identities WHERE email = ? LIMIT ?', [email, cap])) as {
      contact_id: number | null;
    }[];
    this.emailDegree.set(email, rows.length);
    return { degree: rows.length, contacts: rows.map((r) => r.contact_id).filter((c): c is number => c !== null) };
  }

  private async degree(email: string): Promise<number> {
    return this.emailDegree.get(email) ?? (await this.emailHolders(email)).degree;
  }

  private async usable(email: string): Promise<boolean> {
    return !isRoleAddress(email, this.options) && (await this.degree(email)) <= this.options.sharedEmailLimit;
  }

  /**
   * Recomputes the contacts of every identity this page changed: merges contacts a new link joins (recording why in
   * contact_merges), splits contacts an email no longer joins, creates contacts for new people, and recomputes the
   * traits of every contact touched. Returns the number of contacts merged away.
   */
  async resolve(): Promise<void> {
    if (this.dirty.size > 0) await this.recomputeComponents();
    await this.recomputeTraits();
  }

  private async recomputeComponents(): Promise<void> {
    const limit = this.options.sharedEmailLimit;
    const regionContacts = new Set<number>();
    const region = new Set<number>(this.dirty);
    const emails = new Set<string>(this.leftEmails);
    for (const id of this.dirty) {
      const row = this.identities.get(id);
      if (!row) continue;
      if (row.contact_id !== null) regionContacts.add(row.contact_id);
      if (row.email !== null) emails.add(row.email);
      for (const l of JSON.parse(row.linked_ids) as string[]) {
        const linked = await this.findExternal(row.source, l);
        if (linked) {
          region.add(linked.id);
          if (linked.contact_id !== null) regionContacts.add(linked.contact_id);
        }
      }
    }
    await this.fetchEmailHolders([...emails].filter((e) => !isRoleAddress(e, this.options)));
    for (const email of emails) {
      if (isRoleAddress(email, this.options)) continue;
      const holders = await this.emailHolders(email);
      // An email shared by more than the limit both before and after this page joins nobody: nothing to recompute.
      if (holders.degree > limit && holders.degree - (this.joinedEmails.get(email) ?? 0) > limit) continue;
      for (const c of holders.contacts) regionContacts.add(c);
    }
    const identitiesOfContact = `SELECT ${LIGHT_COLUMNS} FROM identities WHERE contact_id = ?`;
    for (const contactId of regionContacts) {
      for (const row of (await this.store.all(identitiesOfContact, [contactId])) as IdentityRow[]) {
        const known = this.identities.get(row.id);
        region.add((known ?? this.remember(row)).id);
      }
    }

    // Union-find over the region, remembering the identifier behind each union.
    const sets = new UnionFind(region);
    const keyOf = new Map<number, string>();
    for (const id of region) keyOf.set(id, rowKey(this.identities.get(id) as IdentityRow));
    const rows = [...region]
      .sort((x, y) => ((keyOf.get(x) as string) < (keyOf.get(y) as string) ? -1 : 1))
      .map((id) => this.identities.get(id) as IdentityRow);
    const firstWithEmail = new Map<string, number>();
    const regionByKey = new Map<string, number>();
    for (const row of rows) regionByKey.set(keyOf.get(row.id) as string, row.id);
    for (const row of rows) {
      if (row.email !== null && (await this.usable(row.email))) {
        const first = firstWithEmail.get(row.email);
        if (first === undefined) firstWithEmail.set(row.email, row.id);
        else sets.union(first, row.id, 'shared email', row.email);
      }
      for (const l of JSON.parse(row.linked_ids) as string[]) {
        const other = regionByKey.get(externalKey(row.source, l));
        if (other !== undefined) sets.union(row.id, other, 'linked id', `${row.source}:${l}`);
      }
    }

    const components = sets.groups(rows, (row) => row.id);
    // rows are sorted by key, so each component's first row is its smallest: order components by it.
    const ordered = [...components.values()].sort((x, y) =>
      (keyOf.get((x[0] as IdentityRow).id) as string) < (keyOf.get((y[0] as IdentityRow).id) as string) ? -1 : 1,
    );
    const taken = new Set<number>();
    const survivorOf = new Map<number, number>();
    const oldContact = new Map<number, number | null>();
    for (const row of rows) oldContact.set(row.id, row.contact_id);
    const setContact = 'UPDATE identities SET contact_id = ? WHERE id = ?';
    const moveEvents = 'UPDATE events SET contact_id = ? WHERE identity_id = ?';
    for (const component of ordered) {
      const old = [...new Set(component.map((r) => r.contact_id).filter((c): c is number => c !== null))].sort(
        (a, b) => a - b,
      );
      let survivor = old.find((c) => !taken.has(c));
      if (survivor === undefined) {
        survivor = await this.createContact(component);
        this.written.add(survivor);
      }
      taken.add(survivor);
      this.touchedContacts.add(survivor);
      this.members.set(survivor, component);
      for (const c of old) if (!survivorOf.has(c)) survivorOf.set(c, survivor);
      for (const row of component) {
        if (row.contact_id === survivor) continue;
        const had = row.contact_id;
        row.contact_id = survivor;
        await this.store.run(setContact, [survivor, row.id]);
        if (had !== null) await this.store.run(moveEvents, [survivor, row.id]);
      }
    }
    for (const [loser, survivor] of survivorOf) {
      if (taken.has(loser)) continue;
      const why = sets.unions.find((l) => (oldContact.get(l.a) === loser) !== (oldContact.get(l.b) === loser));
      await this.mergeContact(loser, survivor, why?.reason ?? 'linked', why?.identifier ?? null);
    }
  }

  private async createContact(identities: readonly IdentityRow[]): Promise<number> {
    const c = contactTraits(await this.fullRows(identities));
    const r = (await this.store.get(
      'INSERT INTO contacts (email, email_consent, traits, deleted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      [c.email, c.consent, c.traits, c.deleted, this.now, this.now],
    )) as { id: number };
    return r.id;
  }

  /** Moves what hangs off `loser` (memberships, history, delivered state) to `survivor` and records the merge. */
  private async mergeContact(
    loser: number,
    survivor: number,
    reason: string,
    identifier: string | null,
  ): Promise<void> {
    const tx = this.store;
    await tx.run('UPDATE events SET contact_id = ? WHERE contact_id = ?', [survivor, loser]);
    await tx.run(
      'DELETE FROM memberships WHERE contact_id = ? AND segment_key IN (SELECT segment_key FROM memberships WHERE contact_id = ?)',
      [loser, survivor],
    );
    await tx.run('UPDATE memberships SET contact_id = ? WHERE contact_id = ?', [survivor, loser]);
    await tx.run('UPDATE membership_history SET contact_id = ? WHERE contact_id = ?', [survivor, loser]);
    // When both contacts were delivered to the same destination and segment, the survivor's row is the one kept.
    await tx.run(
      `DELETE FROM delivered_state WHERE contact_id = ? AND EXISTS (SELECT 1 FROM delivered_state d
         WHERE d.contact_id = ? AND d.destination = delivered_state.destination AND d.segment_key = delivered_state.segment_key)`,
      [loser, survivor],
    );
    await tx.run('UPDATE delivered_state SET contact_id = ? WHERE contact_id = ?', [survivor, loser]);
    await tx.run('UPDATE contact_merges SET survivor_id = ? WHERE survivor_id = ?', [survivor, loser]);
    await tx.run(
      'INSERT INTO contact_merges (survivor_id, merged_id, reason, identifier, merged_at) VALUES (?, ?, ?, ?, ?)',
      [survivor, loser, reason, identifier, this.now],
    );
    await tx.run('DELETE FROM contacts WHERE id = ?', [loser]);
    this.touchedContacts.delete(loser);
    this.merged += 1;
  }

  private async recomputeTraits(): Promise<void> {
    const identitiesOf = `SELECT ${IDENTITY_COLUMNS} FROM identities WHERE contact_id = ?`;
    const update =
      'UPDATE contacts SET email = ?, email_consent = ?, traits = ?, deleted = ?, updated_at = ? WHERE id = ?';
    for (const contactId of this.touchedContacts) {
      if (this.written.has(contactId)) continue;
      const identities =
        this.members.get(contactId) ?? ((await this.store.all(identitiesOf, [contactId])) as IdentityRow[]);
      const c = contactTraits(await this.fullRows(identities));
      await this.store.run(update, [c.email, c.consent, c.traits, c.deleted, this.now, contactId]);
    }
  }
}
