import { EMAIL_CONSENT, normaliseEmail, type ContactRecord, type Identifiers } from '../../plugins/model/index.js';
import type { Store } from '../store/store.js';
import { isRoleAddress, type ResolvedIdentityOptions } from './options.js';

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
  traits: string;
  raw: string;
  record_updated_ms: number | null;
  seen: number;
  deleted: number;
}

/** Where a contact record went. */
export type ContactOutcome = 'inserted' | 'updated' | 'unchanged';

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

function sortedJson(value: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = value[k];
  return JSON.stringify(out);
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
  merged = 0;

  constructor(
    private readonly store: Store,
    private readonly options: ResolvedIdentityOptions,
    private readonly now: string,
  ) {}

  private remember(row: IdentityRow): IdentityRow {
    this.identities.set(row.id, row);
    this.byKey.set(rowKey(row), row.id);
    return row;
  }

  private findExternal(source: string, externalId: string): IdentityRow | undefined {
    const id = this.byKey.get(externalKey(source, externalId));
    if (id !== undefined) return this.identities.get(id);
    const row = this.store
      .statement(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE source = ? AND external_id = ?`)
      .get(source, externalId) as IdentityRow | undefined;
    return row ? this.remember(row) : undefined;
  }

  private findEmailOnly(source: string, email: string): IdentityRow | undefined {
    const id = this.byKey.get(emailKey(source, email));
    if (id !== undefined) return this.identities.get(id);
    const row = this.store
      .statement(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE source = ? AND external_id IS NULL AND email = ?`)
      .get(source, email) as IdentityRow | undefined;
    return row ? this.remember(row) : undefined;
  }

  private insertIdentity(fields: Omit<IdentityRow, 'id' | 'contact_id'>): IdentityRow {
    const r = this.store
      .statement(
        `INSERT INTO identities (contact_id, source, external_id, email, linked_ids, traits, raw, record_updated_ms, seen, deleted, created_at, updated_at)
         VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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
      );
    const row = this.remember({ id: Number(r.lastInsertRowid), contact_id: null, ...fields });
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
  private ensureExternal(source: string, externalId: string): IdentityRow {
    return (
      this.findExternal(source, externalId) ??
      this.insertIdentity({
        source,
        external_id: externalId,
        email: null,
        linked_ids: '[]',
        traits: '{}',
        raw: '{}',
        record_updated_ms: null,
        seen: 0,
        deleted: 0,
      })
    );
  }

  private addLinks(row: IdentityRow, linkedIds: readonly string[] | undefined): boolean {
    const incoming = (linkedIds ?? []).filter((l) => typeof l === 'string' && l !== '' && l !== row.external_id);
    if (incoming.length === 0) return false;
    const current = JSON.parse(row.linked_ids) as string[];
    const next = unionSorted(current, incoming);
    for (const l of incoming) this.ensureExternal(row.source, l);
    if (next.length === current.length) return false;
    row.linked_ids = JSON.stringify(next);
    this.store.statement('UPDATE identities SET linked_ids = ?, updated_at = ? WHERE id = ?').run(row.linked_ids, this.now, row.id);
    this.markDirty(row, row.email);
    return true;
  }

  /**
   * Upserts the identity of a contact record. The newest record of an identity wins (by its `updated_at` trait, ties
   * broken by content, so the winner does not depend on arrival order); linked ids accumulate.
   */
  upsertContact(record: ContactRecord): ContactOutcome {
    const email = normaliseEmail(typeof record.traits.email === 'string' ? record.traits.email : null);
    const traits = sortedJson(record.traits);
    const raw = sortedJson(record.raw ?? {});
    const ms = parseMs(record.traits.updated_at);
    const deleted = record.deleted === true ? 1 : 0;
    const existing = this.findExternal(record.source, record.externalId);
    if (!existing) {
      const row = this.insertIdentity({
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
      this.addLinks(row, record.linkedIds);
      return 'inserted';
    }
    let changed = false;
    const content = `${traits}\u0000${raw}\u0000${deleted}`;
    const stored = `${existing.traits}\u0000${existing.raw}\u0000${existing.deleted}`;
    const inMs = ms ?? -Infinity;
    const storedMs = existing.record_updated_ms ?? -Infinity;
    const wins = existing.seen === 0 || inMs > storedMs || (inMs === storedMs && content > stored);
    if (wins && (content !== stored || existing.seen === 0 || existing.email !== email || existing.record_updated_ms !== ms)) {
      const previousEmail = existing.email;
      Object.assign(existing, { email, traits, raw, record_updated_ms: ms, seen: 1, deleted });
      this.store
        .statement(
          'UPDATE identities SET email = ?, traits = ?, raw = ?, record_updated_ms = ?, seen = 1, deleted = ?, updated_at = ? WHERE id = ?',
        )
        .run(email, traits, raw, ms, deleted, this.now, existing.id);
      if (previousEmail !== email) this.markDirty(existing, previousEmail);
      if (existing.contact_id !== null) this.touchedContacts.add(existing.contact_id);
      changed = true;
    }
    if (this.addLinks(existing, record.linkedIds)) changed = true;
    return changed ? 'updated' : 'unchanged';
  }

  /**
   * The identity an event belongs to: the tool id when it has one (a bare identity, whose email is the smallest one
   * events gave it until a contact record is seen), else (source, email). Undefined when it names no usable id.
   */
  identityOfEvent(source: string, who: Identifiers): number | undefined {
    const email = normaliseEmail(who.email ?? null);
    const externalId = typeof who.externalId === 'string' && who.externalId !== '' ? who.externalId : null;
    if (externalId !== null) {
      const row = this.ensureExternal(source, externalId);
      if (row.seen === 0 && email !== null && (row.email === null || email < row.email)) {
        const previousEmail = row.email;
        row.email = email;
        this.store.statement('UPDATE identities SET email = ?, updated_at = ? WHERE id = ?').run(email, this.now, row.id);
        this.markDirty(row, previousEmail);
      }
      this.addLinks(row, who.linkedIds);
      return row.id;
    }
    if (email === null) return undefined;
    const row =
      this.findEmailOnly(source, email) ??
      this.insertIdentity({
        source,
        external_id: null,
        email,
        linked_ids: '[]',
        traits: '{}',
        raw: '{}',
        record_updated_ms: null,
        seen: 0,
        deleted: 0,
      });
    return row.id;
  }

  /** The contact an identity belongs to (after `resolve`). */
  contactOf(identityId: number): number {
    const contact = this.identities.get(identityId)?.contact_id;
    if (contact === null || contact === undefined) throw new Error(`identity ${identityId} has no contact`);
    return contact;
  }

  private degree(email: string): number {
    let n = this.emailDegree.get(email);
    if (n === undefined) {
      n = (this.store.statement('SELECT COUNT(*) AS n FROM identities WHERE email = ?').get(email) as { n: number }).n;
      this.emailDegree.set(email, n);
    }
    return n;
  }

  private usable(email: string | null): email is string {
    return email !== null && !isRoleAddress(email, this.options) && this.degree(email) <= this.options.sharedEmailLimit;
  }

  /**
   * Recomputes the contacts of every identity this page changed: merges contacts a new link joins (recording why in
   * contact_merges), splits contacts an email no longer joins, creates contacts for new people, and recomputes the
   * traits of every contact touched. Returns the number of contacts merged away.
   */
  resolve(): void {
    if (this.dirty.size > 0) this.recomputeComponents();
    this.recomputeTraits();
  }

  private recomputeComponents(): void {
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
        const linked = this.findExternal(row.source, l);
        if (linked) {
          region.add(linked.id);
          if (linked.contact_id !== null) regionContacts.add(linked.contact_id);
        }
      }
    }
    const contactsOfEmail = this.store.statement('SELECT DISTINCT contact_id FROM identities WHERE email = ?');
    for (const email of emails) {
      if (isRoleAddress(email, this.options)) continue;
      const now = this.degree(email);
      // An email shared by more than the limit both before and after this page joins nobody: nothing to recompute.
      if (now > limit && now - (this.joinedEmails.get(email) ?? 0) > limit) continue;
      for (const r of contactsOfEmail.all(email) as { contact_id: number | null }[]) {
        if (r.contact_id !== null) regionContacts.add(r.contact_id);
      }
    }
    const identitiesOfContact = this.store.statement(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE contact_id = ?`);
    for (const contactId of regionContacts) {
      for (const row of identitiesOfContact.all(contactId) as IdentityRow[]) {
        const known = this.identities.get(row.id);
        region.add((known ?? this.remember(row)).id);
      }
    }

    // Union-find over the region, remembering the identifier behind each union.
    const parent = new Map<number, number>();
    for (const id of region) parent.set(id, id);
    const find = (x: number): number => {
      let r = x;
      while (parent.get(r) !== r) r = parent.get(r) as number;
      let y = x;
      while (y !== r) {
        const next = parent.get(y) as number;
        parent.set(y, r);
        y = next;
      }
      return r;
    };
    const links: { a: number; b: number; reason: string; identifier: string }[] = [];
    const union = (a: number, b: number, reason: string, identifier: string): void => {
      links.push({ a, b, reason, identifier });
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
    };
    const rows = [...region].map((id) => this.identities.get(id) as IdentityRow).sort((x, y) => (rowKey(x) < rowKey(y) ? -1 : 1));
    const firstWithEmail = new Map<string, number>();
    const regionByKey = new Map<string, number>();
    for (const row of rows) regionByKey.set(rowKey(row), row.id);
    for (const row of rows) {
      if (this.usable(row.email)) {
        const first = firstWithEmail.get(row.email);
        if (first === undefined) firstWithEmail.set(row.email, row.id);
        else union(first, row.id, 'shared email', row.email);
      }
      for (const l of JSON.parse(row.linked_ids) as string[]) {
        const other = regionByKey.get(externalKey(row.source, l));
        if (other !== undefined) union(row.id, other, 'linked id', `${row.source}:${l}`);
      }
    }

    const components = new Map<number, IdentityRow[]>();
    for (const row of rows) {
      const root = find(row.id);
      const list = components.get(root);
      if (list) list.push(row);
      else components.set(root, [row]);
    }
    // rows are sorted by key, so each component's first row is its smallest: order components by it.
    const ordered = [...components.values()].sort((x, y) => (rowKey(x[0] as IdentityRow) < rowKey(y[0] as IdentityRow) ? -1 : 1));
    const taken = new Set<number>();
    const survivorOf = new Map<number, number>();
    const oldContact = new Map<number, number | null>();
    for (const row of rows) oldContact.set(row.id, row.contact_id);
    const setContact = this.store.statement('UPDATE identities SET contact_id = ? WHERE id = ?');
    const moveEvents = this.store.statement('UPDATE events SET contact_id = ? WHERE identity_id = ?');
    for (const component of ordered) {
      const old = [...new Set(component.map((r) => r.contact_id).filter((c): c is number => c !== null))].sort((a, b) => a - b);
      let survivor = old.find((c) => !taken.has(c));
      if (survivor === undefined) survivor = this.createContact();
      taken.add(survivor);
      this.touchedContacts.add(survivor);
      for (const c of old) if (!survivorOf.has(c)) survivorOf.set(c, survivor);
      for (const row of component) {
        if (row.contact_id === survivor) continue;
        const had = row.contact_id;
        row.contact_id = survivor;
        setContact.run(survivor, row.id);
        if (had !== null) moveEvents.run(survivor, row.id);
      }
    }
    for (const [loser, survivor] of survivorOf) {
      if (taken.has(loser)) continue;
      const why = links.find((l) => (oldContact.get(l.a) === loser) !== (oldContact.get(l.b) === loser));
      this.mergeContact(loser, survivor, why?.reason ?? 'linked', why?.identifier ?? null);
    }
  }

  private createContact(): number {
    const r = this.store
      .statement("INSERT INTO contacts (email, email_consent, traits, deleted, created_at, updated_at) VALUES (NULL, 'unknown', '{}', 0, ?, ?)")
      .run(this.now, this.now);
    return Number(r.lastInsertRowid);
  }

  /** Moves what hangs off `loser` (memberships, history, delivered state) to `survivor` and records the merge. */
  private mergeContact(loser: number, survivor: number, reason: string, identifier: string | null): void {
    const s = (sql: string) => this.store.statement(sql);
    s('UPDATE events SET contact_id = ? WHERE contact_id = ?').run(survivor, loser);
    s(
      'DELETE FROM memberships WHERE contact_id = ? AND segment_key IN (SELECT segment_key FROM memberships WHERE contact_id = ?)',
    ).run(loser, survivor);
    s('UPDATE memberships SET contact_id = ? WHERE contact_id = ?').run(survivor, loser);
    s('UPDATE membership_history SET contact_id = ? WHERE contact_id = ?').run(survivor, loser);
    // When both contacts were delivered to the same destination and segment, the survivor's row is the one kept.
    s(
      `DELETE FROM delivered_state WHERE contact_id = ? AND EXISTS (SELECT 1 FROM delivered_state d
         WHERE d.contact_id = ? AND d.destination = delivered_state.destination AND d.segment_key = delivered_state.segment_key)`,
    ).run(loser, survivor);
    s('UPDATE delivered_state SET contact_id = ? WHERE contact_id = ?').run(survivor, loser);
    s('UPDATE contact_merges SET survivor_id = ? WHERE survivor_id = ?').run(survivor, loser);
    s('INSERT INTO contact_merges (survivor_id, merged_id, reason, identifier, merged_at) VALUES (?, ?, ?, ?, ?)').run(
      survivor,
      loser,
      reason,
      identifier,
      this.now,
    );
    s('DELETE FROM contacts WHERE id = ?').run(loser);
    this.touchedContacts.delete(loser);
    this.merged += 1;
  }

  /**
   * A contact's traits: per trait, the value of its newest record (by `updated_at`), ties broken by source then
   * external id; null values do not blank a trait another record has. Raw tool properties stay on each identity.
   */
  private recomputeTraits(): void {
    const identitiesOf = this.store.statement(
      'SELECT source, external_id, traits, record_updated_ms, deleted FROM identities WHERE contact_id = ? AND seen = 1',
    );
    const update = this.store.statement(
      'UPDATE contacts SET email = ?, email_consent = ?, traits = ?, deleted = ?, updated_at = ? WHERE id = ?',
    );
    for (const contactId of this.touchedContacts) {
      const records = identitiesOf.all(contactId) as {
        source: string;
        external_id: string | null;
        traits: string;
        record_updated_ms: number | null;
        deleted: number;
      }[];
      records.sort(
        (a, b) =>
          (b.record_updated_ms ?? -Infinity) - (a.record_updated_ms ?? -Infinity) ||
          (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) ||
          ((a.external_id ?? '') < (b.external_id ?? '') ? -1 : 1),
      );
      const traits: Record<string, unknown> = {};
      for (const r of records) {
        for (const [k, v] of Object.entries(JSON.parse(r.traits) as Record<string, unknown>)) {
          if (v !== null && v !== undefined && !(k in traits)) traits[k] = v;
        }
      }
      const email = normaliseEmail(typeof traits.email === 'string' ? traits.email : null);
      const consent = (EMAIL_CONSENT as readonly unknown[]).includes(traits.email_consent) ? (traits.email_consent as string) : 'unknown';
      const deleted = records.length > 0 && records.every((r) => r.deleted === 1) ? 1 : 0;
      update.run(email, consent, sortedJson(traits), deleted, this.now, contactId);
    }
  }
}
