import { normaliseEmail, type ContactRecord, type Identifiers, type SourceRecord } from '../../plugins/model/index.js';
import { eventOfContact } from '../features/filters.js';
import type { SqlValue } from '../store/dialect.js';
import type { Queryable } from '../store/store.js';
import { identityKey } from './key.js';
import { isRoleAddress, type ResolvedIdentityOptions } from './options.js';
import { powerOfTwoChunks, valueRows } from './rows.js';
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
 *
 * The work is set-based: the page's identities are read in a few statements (`prefetch`), the records are applied to
 * them in memory (`upsertContact`, `identityOfEvent`: no statements), and `resolve` writes the result with a constant
 * number of multi-row statements per table, whatever the page's size. On PostgreSQL a statement is a network round
 * trip, so a per-record statement would cap the load rate at a few thousand records a second.
 */

interface IdentityRow {
  /** For an identity this page creates, a negative stand-in until `resolve` inserts it. */
  id: number;
  contact_id: number | null;
  source: string;
  external_id: string | null;
  email: string | null;
  linked_ids: string;
  /** null until loaded (see `loadTraits`). */
  traits: string | null;
  raw: string | null;
  record_updated_ms: number | null;
  seen: number;
  deleted: number;
}

/** Where a contact record went. */
export type ContactOutcome = 'inserted' | 'updated' | 'unchanged';

/** An identity of the page, as `identityOfEvent` gives it: its ids are known once `resolve` has run. */
export interface PageIdentity {
  readonly id: number;
  readonly contact_id: number | null;
  readonly source: string;
  readonly external_id: string | null;
  readonly email: string | null;
}

/** Without traits and raw, which only a re-read record or a trait merge needs (loaded then by `loadTraits`). */
const LIGHT_COLUMNS =
  'id, contact_id, source, external_id, email, linked_ids, NULL AS traits, NULL AS raw, record_updated_ms, seen, deleted';
const IDENTITY_COLUMNS =
  'id, contact_id, source, external_id, email, linked_ids, traits, raw, record_updated_ms, seen, deleted';

function qualified(columns: string): string {
  return columns
    .split(', ')
    .map((c) => (c.startsWith('NULL') ? c : `i.${c}`))
    .join(', ');
}

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

function byKeyOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One column of a `VALUES` table: its name and which of the dialect's column types it has. */
type ValuesColumn = readonly [name: string, type: 'reference' | 'text' | 'integer' | 'real' | 'json' | 'timestamp'];

/** The resolution state of one page. */
export class PageResolution {
  /** Identities with their store ids (those read, and the page's new ones once inserted). */
  private readonly identities = new Map<number, IdentityRow>();
  private readonly byKey = new Map<string, IdentityRow>();
  /** Identities this page creates, in the order it creates them (their ids follow it). */
  private readonly created: IdentityRow[] = [];
  private readonly fresh = new Set<IdentityRow>();
  /** Stored identities this page changes (written by `resolve` in their final state). */
  private readonly changed = new Set<IdentityRow>();
  private readonly dirty = new Set<IdentityRow>();
  /** Emails a dirty identity carried before this page changed it. */
  private readonly leftEmails = new Set<string>();
  /** How many identities took each email in this page. */
  private readonly joinedEmails = new Map<string, number>();
  private readonly touchedContacts = new Set<number>();
  private readonly emailDegree = new Map<string, number>();
  /** Keys looked up in bulk and known not to exist. */
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
    this.byKey.set(rowKey(row), row);
    return row;
  }

  /** `SELECT columns FROM <the JSON array bound first> AS j CROSS JOIN identities i WHERE <where>`. */
  private byArray(columns: string, where: string, type: 'text' | 'integer' = 'text'): string {
    return `SELECT ${qualified(columns)} FROM ${this.store.dialect.jsonArrayRows(1, type)} AS j CROSS JOIN identities i WHERE ${where}`;
  }

  /** Reads the identities of tool ids not yet known, per source: with traits for `full`, without for the rest. */
  private async fetchExternal(ids: Map<string, Set<string>>, full: Map<string, Set<string>>): Promise<void> {
    const bySource = (columns: string) => this.byArray(columns, 'i.source = ? AND i.external_id = j.value');
    for (const [source, set] of ids) {
      const heavy = full.get(source) ?? new Set<string>();
      const light = [...set].filter((id) => !heavy.has(id) && !this.byKey.has(externalKey(source, id)));
      const wanted = [...heavy].filter((id) => !this.byKey.has(externalKey(source, id)));
      for (const [columns, list] of [
        [IDENTITY_COLUMNS, wanted],
        [LIGHT_COLUMNS, light],
      ] as const) {
        if (list.length === 0) continue;
        for (const row of (await this.store.all(bySource(columns), [JSON.stringify(list), source])) as IdentityRow[])
          if (!this.identities.has(row.id)) this.remember(row);
      }
      for (const id of set) if (!this.byKey.has(externalKey(source, id))) this.absent.add(externalKey(source, id));
    }
  }

  /**
   * Looks up, set-based, every identity a page names (tool ids, linked ids, email-only identities), so that the
   * per-record work below finds them in memory. The identities of contact records come with their traits (a re-read
   * record is compared with what is stored).
   */
  async prefetch(records: readonly SourceRecord[]): Promise<void> {
    const external = new Map<string, Set<string>>();
    const full = new Map<string, Set<string>>();
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
        add(full, r.source, r.externalId);
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
    await this.fetchExternal(external, full);
    const emails = new Set<string>();
    for (const set of emailOnly.values()) for (const e of set) emails.add(e);
    if (emails.size > 0) {
      const byEmail = this.byArray(LIGHT_COLUMNS, 'i.email = j.value');
      for (const row of (await this.store.all(byEmail, [JSON.stringify([...emails])])) as IdentityRow[]) {
        if (row.external_id === null && !this.identities.has(row.id)) this.remember(row);
      }
    }
    for (const [source, set] of emailOnly) {
      for (const e of set) if (!this.byKey.has(emailKey(source, e))) this.absent.add(emailKey(source, e));
    }
  }

  private known(key: string): IdentityRow | undefined {
    const row = this.byKey.get(key);
    if (row !== undefined || this.absent.has(key)) return row;
    throw new Error(`identity ${JSON.stringify(key.slice(2).split('\u0000'))} was not looked up before use`);
  }

  private findExternal(source: string, externalId: string): IdentityRow | undefined {
    return this.known(externalKey(source, externalId));
  }

  /** The row's traits and raw properties, which must have been read (or set by this page). */
  private full(row: IdentityRow): IdentityRow & { traits: string; raw: string } {
    if (row.traits === null || row.raw === null) throw new Error(`identity ${row.id} was read without its traits`);
    return row as IdentityRow & { traits: string; raw: string };
  }

  /** Reads, in one statement, the traits and raw properties of the seen identities among `rows` that lack them. */
  private async loadTraits(rows: Iterable<IdentityRow>): Promise<void> {
    const missing = new Map<number, IdentityRow>();
    for (const r of rows) if (r.seen === 1 && (r.traits === null || r.raw === null)) missing.set(r.id, r);
    if (missing.size === 0) return;
    const sql = this.byArray('id, traits, raw', 'i.id = j.value', 'integer');
    for (const r of (await this.store.all(sql, [JSON.stringify([...missing.keys()])])) as {
      id: number;
      traits: string;
      raw: string;
    }[]) {
      const row = missing.get(r.id) as IdentityRow;
      row.traits = r.traits;
      row.raw = r.raw;
    }
  }

  private seenRows(rows: readonly IdentityRow[]): (IdentityRow & { traits: string; raw: string })[] {
    return rows.filter((r) => r.seen === 1).map((r) => this.full(r));
  }

  private insertIdentity(fields: Omit<IdentityRow, 'id' | 'contact_id'>): IdentityRow {
    const row: IdentityRow = { id: -(this.created.length + 1), contact_id: null, ...fields };
    this.identities.set(row.id, row);
    this.byKey.set(rowKey(row), row);
    this.created.push(row);
    this.fresh.add(row);
    this.markDirty(row, null);
    return row;
  }

  /** Notes that a stored identity's row changes (written once, in its final state, by `resolve`). */
  private update(row: IdentityRow): void {
    if (!this.fresh.has(row)) this.changed.add(row);
  }

  private markDirty(row: IdentityRow, previousEmail: string | null): void {
    this.dirty.add(row);
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
    this.update(row);
    this.markDirty(row, row.email);
    return true;
  }

  /**
   * Applies a contact record to its identity, in memory. The newest record of an identity wins (by its `updated_at`
   * trait, ties broken by content, so the winner does not depend on arrival order); linked ids accumulate.
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
    const loaded = this.full(existing);
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
      this.update(existing);
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
  identityOfEvent(source: string, who: Identifiers): PageIdentity | undefined {
    const email = normaliseEmail(who.email ?? null);
    const externalId = typeof who.externalId === 'string' && who.externalId !== '' ? who.externalId : null;
    if (externalId !== null) {
      const row = this.ensureExternal(source, externalId);
      if (row.seen === 0 && email !== null && (row.email === null || email < row.email)) {
        const previousEmail = row.email;
        row.email = email;
        this.update(row);
        this.markDirty(row, previousEmail);
      }
      this.addLinks(row, who.linkedIds);
      return row;
    }
    if (email === null) return undefined;
    return (
      this.known(emailKey(source, email)) ??
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
      })
    );
  }

  /** The contact an identity belongs to (after `resolve`). */
  contactOf(identity: PageIdentity): number {
    const contact = identity.contact_id;
    if (contact === null) throw new Error(`identity ${identity.id} has no contact`);
    return contact;
  }

  /**
   * `UPDATE table SET ... FROM <rows>`: one statement per chunk of rows, each row its key then the new values, the rows
   * bound as the dialect's multi-row form (a `VALUES` list on SQLite, arrays through `unnest` on PostgreSQL). A
   * `VALUES` list tells PostgreSQL's planner its exact size, and at a few thousand rows it chose a hash join over a full
   * scan of the table, a cost that grows with the store; `unnest` of a parameter is planned as a small input probing
   * the table's key index.
   */
  private async updateRows(
    table: string,
    key: ValuesColumn,
    columns: readonly ValuesColumn[],
    rows: readonly SqlValue[][],
  ): Promise<void> {
    const all = [key, ...columns];
    const types = all.map(([, type]) =>
      type === 'reference' || type === 'integer' ? 'integer' : type === 'real' ? 'real' : 'text',
    );
    const set = columns.map(([c]) => `${c} = v.${c}`).join(', ');
    for (const chunk of powerOfTwoChunks(rows, all.length)) {
      const bound = this.store.dialect.insertRows(types, chunk);
      await this.store.run(
        `WITH v (${all.map(([c]) => c).join(', ')}) AS (${bound.sql}) UPDATE ${table} SET ${set} FROM v WHERE ${table}.${key[0]} = v.${key[0]}`,
        bound.params,
      );
    }
  }

  /**
   * Moves the events of identities that changed contact, given as (identity, old contact, new contact), to the new
   * one. PostgreSQL finds them through the events' identity index. SQLite keeps no such index (each event would write
   * one more page), so it reads them among the old contact's events in `contact_events`, then updates them by id.
   */
  private async moveEvents(moved: readonly SqlValue[][]): Promise<void> {
    if (this.store.dialect.eventsIndexedByContact) {
      const byIdentity = moved.map(([identity, , to]) => [identity, to] as SqlValue[]);
      await this.updateRows('events', ['identity_id', 'reference'], [['contact_id', 'reference']], byIdentity);
      return;
    }
    const events: SqlValue[][] = [];
    for (const chunk of powerOfTwoChunks(moved, 3)) {
      const bound = this.store.dialect.insertRows(['integer', 'integer', 'integer'], chunk);
      const rows = (await this.store.all(
        `WITH v (identity_id, old_contact, contact_id) AS (${bound.sql})
         SELECT e.id, v.contact_id FROM v JOIN contact_events ce ON ce.contact_id = v.old_contact
           JOIN events e ON e.id = ce.event_id AND e.identity_id = v.identity_id`,
        bound.params,
      )) as { id: number; contact_id: number }[];
      for (const r of rows) events.push([r.id, r.contact_id]);
    }
    await this.updateRows('events', ['id', 'reference'], [['contact_id', 'reference']], events);
  }

  /**
   * Inserts the page's new identities, with their contacts (so a new identity is written once, not inserted then
   * updated), in the order the page created them (their ids follow it).
   */
  private async insertCreated(): Promise<void> {
    const insert = (count: number) =>
      `INSERT INTO identities (identity_key, contact_id, source, external_id, email, linked_ids, traits, raw, record_updated_ms, seen, deleted, created_at, updated_at)
         VALUES ${valueRows(count, 13)} RETURNING id, source, external_id, email`;
    for (const chunk of powerOfTwoChunks(this.created, 13)) {
      const params = chunk.flatMap((r) => [
        identityKey(r.source, r.external_id, r.email),
        r.contact_id,
        r.source,
        r.external_id,
        r.email,
        r.linked_ids,
        r.traits,
        r.raw,
        r.record_updated_ms,
        r.seen,
        r.deleted,
        this.now,
        this.now,
      ]);
      for (const inserted of (await this.store.all(insert(chunk.length), params)) as IdentityRow[]) {
        const row = this.byKey.get(rowKey(inserted)) as IdentityRow;
        this.identities.delete(row.id);
        row.id = inserted.id;
        this.identities.set(row.id, row);
      }
    }
    this.created.length = 0;
  }

  /** Writes the stored identities the page changed, in their final state. */
  private async writeChanged(): Promise<void> {
    const withTraits: SqlValue[][] = [];
    const withoutTraits: SqlValue[][] = [];
    for (const r of this.changed) {
      if (r.traits !== null && r.raw !== null)
        withTraits.push([
          r.id,
          r.email,
          r.linked_ids,
          r.traits,
          r.raw,
          r.record_updated_ms,
          r.seen,
          r.deleted,
          this.now,
        ]);
      else withoutTraits.push([r.id, r.email, r.linked_ids, this.now]);
    }
    const id: ValuesColumn = ['id', 'reference'];
    const common: ValuesColumn[] = [
      ['email', 'text'],
      ['linked_ids', 'json'],
    ];
    await this.updateRows('identities', id, [...common, ['updated_at', 'timestamp']], withoutTraits);
    await this.updateRows(
      'identities',
      id,
      [
        ...common,
        ['traits', 'json'],
        ['raw', 'json'],
        ['record_updated_ms', 'real'],
        ['seen', 'integer'],
        ['deleted', 'integer'],
        ['updated_at', 'timestamp'],
      ],
      withTraits,
    );
  }

  /**
   * How many identities carry an email, counted up to a cap above the limit (beyond it the exact number does not
   * matter), with the contacts of those identities.
   */
  private readonly holders = new Map<string, { degree: number; contacts: number[] }>();

  /** Email holders for many emails in one statement, each counted up to the largest cap among them. */
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
    // The page's new identities are not written yet: they count too (they have no contact yet).
    const fresh = new Map<string, number>();
    for (const r of this.created) if (r.email !== null) fresh.set(r.email, (fresh.get(r.email) ?? 0) + 1);
    for (const e of emails) {
      const h = this.holders.get(e) as { degree: number; contacts: number[] };
      h.degree = Math.min(h.degree + (fresh.get(e) ?? 0), cap);
    }
    for (const [e, h] of this.holders) this.emailDegree.set(e, h.degree);
  }

  private usable(email: string): boolean {
    if (isRoleAddress(email, this.options)) return false;
    const degree = this.emailDegree.get(email);
    if (degree === undefined) throw new Error(`the holders of ${email} were not counted before use`);
    return degree <= this.options.sharedEmailLimit;
  }

  /**
   * Writes the page's identities, then recomputes the contacts of every identity it changed: merges contacts a new
   * link joins (recording why in contact_merges), splits contacts an email no longer joins, creates contacts for new
   * people, and recomputes the traits of every contact touched.
   */
  async resolve(): Promise<void> {
    await this.writeChanged();
    if (this.dirty.size > 0) await this.recomputeComponents();
    await this.insertCreated();
    await this.recomputeTraits();
  }

  private async recomputeComponents(): Promise<void> {
    const limit = this.options.sharedEmailLimit;
    const regionContacts = new Set<number>();
    const region = new Set<number>();
    const emails = new Set<string>(this.leftEmails);
    // Linked ids of stored identities may name identities the page did not: read those first, in one go.
    const unknown = new Map<string, Set<string>>();
    for (const row of this.dirty) {
      for (const l of JSON.parse(row.linked_ids) as string[]) {
        const key = externalKey(row.source, l);
        if (this.byKey.has(key) || this.absent.has(key)) continue;
        const set = unknown.get(row.source);
        if (set) set.add(l);
        else unknown.set(row.source, new Set([l]));
      }
    }
    await this.fetchExternal(unknown, new Map());
    for (const row of this.dirty) {
      region.add(row.id);
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
    await this.fetchEmailHolders([...emails].filter((e) => !isRoleAddress(e, this.options)));
    for (const email of emails) {
      if (isRoleAddress(email, this.options)) continue;
      const holders = this.holders.get(email) as { degree: number; contacts: number[] };
      // An email shared by more than the limit both before and after this page joins nobody: nothing to recompute.
      if (holders.degree > limit && holders.degree - (this.joinedEmails.get(email) ?? 0) > limit) continue;
      for (const c of holders.contacts) regionContacts.add(c);
    }
    if (regionContacts.size > 0) {
      const identitiesOfContacts = this.byArray(LIGHT_COLUMNS, 'i.contact_id = j.value', 'integer');
      for (const row of (await this.store.all(identitiesOfContacts, [
        JSON.stringify([...regionContacts]),
      ])) as IdentityRow[]) {
        const known = this.identities.get(row.id);
        region.add((known ?? this.remember(row)).id);
      }
    }

    // Union-find over the region, remembering the identifier behind each union.
    const sets = new UnionFind(region);
    const keyOf = new Map<number, string>();
    for (const id of region) keyOf.set(id, rowKey(this.identities.get(id) as IdentityRow));
    const rows = [...region]
      .sort((x, y) => byKeyOrder(keyOf.get(x) as string, keyOf.get(y) as string))
      .map((id) => this.identities.get(id) as IdentityRow);
    const uncounted = new Set<string>();
    for (const row of rows)
      if (row.email !== null && !this.emailDegree.has(row.email) && !isRoleAddress(row.email, this.options))
        uncounted.add(row.email);
    await this.fetchEmailHolders([...uncounted]);
    const firstWithEmail = new Map<string, number>();
    const regionByKey = new Map<string, number>();
    for (const row of rows) regionByKey.set(keyOf.get(row.id) as string, row.id);
    for (const row of rows) {
      if (row.email !== null && this.usable(row.email)) {
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
      byKeyOrder(keyOf.get((x[0] as IdentityRow).id) as string, keyOf.get((y[0] as IdentityRow).id) as string),
    );
    // Each component keeps its smallest old contact not kept by an earlier component, or gets a new contact.
    const taken = new Set<number>();
    const survivors: (number | undefined)[] = [];
    const olds: number[][] = [];
    for (const component of ordered) {
      const old = [...new Set(component.map((r) => r.contact_id).filter((c): c is number => c !== null))].sort(
        (a, b) => a - b,
      );
      const survivor = old.find((c) => !taken.has(c));
      if (survivor !== undefined) taken.add(survivor);
      survivors.push(survivor);
      olds.push(old);
    }
    const newcomers = ordered.filter((_, i) => survivors[i] === undefined);
    const createdIds = await this.createContacts(newcomers);
    let next = 0;
    const survivorOf = new Map<number, number>();
    const oldContact = new Map<number, number | null>();
    for (const row of rows) oldContact.set(row.id, row.contact_id);
    const assigned: SqlValue[][] = [];
    const moved: SqlValue[][] = [];
    ordered.forEach((component, i) => {
      let survivor = survivors[i];
      if (survivor === undefined) {
        survivor = createdIds[next++] as number;
        this.written.add(survivor);
      }
      this.touchedContacts.add(survivor);
      this.members.set(survivor, component);
      for (const c of olds[i] as number[]) if (!survivorOf.has(c)) survivorOf.set(c, survivor);
      for (const row of component) {
        if (row.contact_id === survivor) continue;
        const had = row.contact_id;
        row.contact_id = survivor;
        if (row.id > 0) assigned.push([row.id, survivor]);
        if (had !== null) moved.push([row.id, had, survivor]);
      }
    });
    await this.insertCreated();
    await this.updateRows('identities', ['id', 'reference'], [['contact_id', 'reference']], assigned);
    await this.moveEvents(moved);
    const merges: Merge[] = [];
    for (const [loser, survivor] of survivorOf) {
      if (taken.has(loser)) continue;
      const why = sets.unions.find((l) => (oldContact.get(l.a) === loser) !== (oldContact.get(l.b) === loser));
      merges.push({ loser, survivor, reason: why?.reason ?? 'linked', identifier: why?.identifier ?? null });
    }
    await this.mergeContacts(merges);
  }

  /** Inserts one contact per component (in order, so their ids follow it), with its traits; returns their ids. */
  private async createContacts(components: readonly IdentityRow[][]): Promise<number[]> {
    if (components.length === 0) return [];
    await this.loadTraits(components.flat());
    const ids: number[] = [];
    const insert = (count: number) =>
      `INSERT INTO contacts (email, email_consent, traits, deleted, created_at, updated_at) VALUES ${valueRows(count, 6)} RETURNING id`;
    for (const chunk of powerOfTwoChunks(components, 6)) {
      const params = chunk.flatMap((component) => {
        const c = contactTraits(this.seenRows(component), this.options.traitRanks);
        return [c.email, c.consent, c.traits, c.deleted, this.now, this.now];
      });
      // Ids grow in the order rows are inserted (SQLite's next rowid, PostgreSQL's sequence), whatever order RETURNING
      // lists them in.
      const returned = ((await this.store.all(insert(chunk.length), params)) as { id: number }[]).map((r) => r.id);
      ids.push(...returned.sort((a, b) => a - b));
    }
    return ids;
  }

  /**
   * Folds each loser into its survivor: moves what hangs off it (events, memberships, history, delivered state, earlier
   * merges), records the merge and deletes it. When a survivor and a loser (or two losers of one survivor) are both in
   * a segment or delivered to one destination and segment, the survivor's row is kept, else the first loser's (in
   * merge order): the same outcome as merging them one after another.
   */
  private async mergeContacts(merges: readonly Merge[]): Promise<void> {
    if (merges.length === 0) return;
    const ref = this.store.dialect.types.reference;
    const pairs = (chunk: readonly Merge[]) =>
      `WITH m (loser, survivor, ord) AS (VALUES ${valueRows(chunk.length, 3, () => `CAST(? AS ${ref})`)})`;
    const moveTo = (table: string, which = 'contact_id IN (SELECT loser FROM m)') =>
      `UPDATE ${table} SET contact_id = (SELECT m.survivor FROM m WHERE m.loser = ${table}.contact_id) WHERE ${which}`;
    // The duplicate a move would make: the survivor, or an earlier loser of the same survivor, has the same key.
    const dropDuplicates = (table: string, key: readonly string[]) =>
      `DELETE FROM ${table} WHERE EXISTS (SELECT 1 FROM m JOIN ${table} s ON ${key.map((k) => `s.${k} = ${table}.${k}`).join(' AND ')}
         WHERE m.loser = ${table}.contact_id
           AND (s.contact_id = m.survivor OR s.contact_id IN (SELECT e.loser FROM m e WHERE e.survivor = m.survivor AND e.ord < m.ord)))`;
    const losersEvents = eventOfContact(this.store.dialect, 'events', (c) => `${c} IN (SELECT loser FROM m)`);
    for (const chunk of powerOfTwoChunks(merges, 5)) {
      const head = pairs(chunk);
      const params = chunk.flatMap((m, i) => [m.loser, m.survivor, i]);
      await this.store.run(`${head} ${moveTo('events', losersEvents)}`, params);
      await this.store.run(`${head} ${dropDuplicates('memberships', ['segment_key'])}`, params);
      await this.store.run(`${head} ${moveTo('memberships')}`, params);
      await this.store.run(`${head} ${moveTo('membership_history')}`, params);
      await this.store.run(`${head} ${dropDuplicates('delivered_state', ['destination', 'segment_key'])}`, params);
      await this.store.run(`${head} ${moveTo('delivered_state')}`, params);
      await this.store.run(
        `${head} UPDATE contact_merges SET survivor_id = (SELECT m.survivor FROM m WHERE m.loser = contact_merges.survivor_id)
           WHERE survivor_id IN (SELECT loser FROM m)`,
        params,
      );
      await this.store.run(
        `INSERT INTO contact_merges (survivor_id, merged_id, reason, identifier, merged_at) VALUES ${valueRows(chunk.length, 5)}`,
        chunk.flatMap((m) => [m.survivor, m.loser, m.reason, m.identifier, this.now]),
      );
      await this.store.run(`${head} DELETE FROM contacts WHERE id IN (SELECT loser FROM m)`, params);
    }
    for (const m of merges) this.touchedContacts.delete(m.loser);
    this.merged += merges.length;
  }

  private async recomputeTraits(): Promise<void> {
    const pending = [...this.touchedContacts].filter((c) => !this.written.has(c));
    if (pending.length === 0) return;
    const unknown = pending.filter((c) => !this.members.has(c));
    const stored = new Map<number, IdentityRow[]>();
    if (unknown.length > 0) {
      const sql = this.byArray(IDENTITY_COLUMNS, 'i.contact_id = j.value', 'integer');
      for (const row of (await this.store.all(sql, [JSON.stringify(unknown)])) as IdentityRow[]) {
        const list = stored.get(row.contact_id as number);
        if (list) list.push(row);
        else stored.set(row.contact_id as number, [row]);
      }
    }
    const identitiesOf = (c: number) => this.members.get(c) ?? stored.get(c) ?? [];
    await this.loadTraits(pending.flatMap(identitiesOf));
    const rows = pending.map((contactId) => {
      const c = contactTraits(this.seenRows(identitiesOf(contactId)), this.options.traitRanks);
      return [contactId, c.email, c.consent, c.traits, c.deleted, this.now];
    });
    await this.updateRows(
      'contacts',
      ['id', 'reference'],
      [
        ['email', 'text'],
        ['email_consent', 'text'],
        ['traits', 'json'],
        ['deleted', 'integer'],
        ['updated_at', 'timestamp'],
      ],
      rows,
    );
  }
}

/** A contact folded into another. */
interface Merge {
  loser: number;
  survivor: number;
  reason: string;
  identifier: string | null;
}
