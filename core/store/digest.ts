import { createHash } from 'node:crypto';
import type { Store } from './store.js';

/** JSON text with its object keys sorted and no spacing, so that two engines' spellings of one document agree. */
function canonicalJson(text: string | null): string | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => compare(a, b)))
      : v,
  );
}

/** A timestamp as ISO-8601 UTC with milliseconds (`2026-01-01T10:00:00.000Z`), whatever its spelling. */
function canonicalTime(text: string | null): string | null {
  if (text === null) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/** A number as JSON writes it, with -0 as 0. */
const canonicalNumber = (n: number | null): number | null => (n === null ? null : n === 0 ? 0 : n);

/** Code-unit order, the same in every engine and locale. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The sections of a {@link storeDump}, in the order it gives them. */
export type DumpSection = 'contacts' | 'identities' | 'events' | 'checkpoints' | 'memberships' | 'delivered';

/** One row of a {@link storeDump}: its section and its canonical values (ids replaced by identity keys). */
export type DumpLine = readonly [section: DumpSection, row: readonly unknown[] | Readonly<Record<string, unknown>>];

/**
 * A sha256 over {@link storeDump}: equal for two stores that hold the same records in any order, on either engine.
 *
 * @example
 * expect(storeDigest(resumed)).toBe(storeDigest(uninterrupted));
 */
export async function storeDigest(store: Store): Promise<string> {
  const hash = createHash('sha256');
  for await (const line of storeDump(store)) {
    hash.update(JSON.stringify(line));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/**
 * A canonical dump of what a store holds, row by row: the partition of identities into contacts and each contact's
 * traits, every identity, every event, every stream checkpoint, segment membership, and the delivered state of every
 * destination. Row ids, insertion order, load and delivery timestamps do not enter it, so two stores that loaded the
 * same records (in any order, with any crashes and resumes) dump equal. It is engine-neutral: JSON is compared as
 * canonical JSON (keys sorted), timestamps as ISO-8601 UTC, numbers as JSON numbers, and rows are ordered in
 * JavaScript (events, too many to hold, by the engines' byte-order text comparison), so a store copied from SQLite to
 * PostgreSQL dumps equal to its source. Queues and engine-only indexes are not in it (the real-time inbox, and
 * PostgreSQL's ring of its message ids, which a copy rebuilds from the inbox). A test that must tell two stores apart
 * line by line (or leave out what it knows differs) reads this; most compare {@link storeDigest}.
 *
 * @example
 * for await (const [section, row] of storeDump(store)) if (section === 'memberships') console.log(row);
 */
export async function* storeDump(store: Store): AsyncGenerator<DumpLine> {
  const identities =
    (await store.all(`SELECT id, contact_id, source, external_id, email, linked_ids, traits, raw, record_updated_ms, seen, deleted
       FROM identities`)) as {
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
    }[];
  // Source, then external id (identities known by email alone last), then email.
  identities.sort(
    (a, b) =>
      compare(a.source, b.source) ||
      (a.external_id === null ? 1 : 0) - (b.external_id === null ? 1 : 0) ||
      compare(a.external_id ?? '', b.external_id ?? '') ||
      compare(a.email ?? '', b.email ?? ''),
  );
  const keyOf = new Map<number, string>();
  const label = new Map<number, string>();
  const members = new Map<string, string[]>();
  for (const r of identities) {
    const key = JSON.stringify([r.source, r.external_id, r.external_id === null ? r.email : null]);
    keyOf.set(r.id, key);
    // Identities come sorted, so a contact's first identity is its smallest: the contact's label.
    if (r.contact_id !== null && !label.has(r.contact_id)) label.set(r.contact_id, key);
  }
  for (const r of identities) {
    const owner = r.contact_id === null ? 'none' : (label.get(r.contact_id) ?? 'none');
    const list = members.get(owner);
    if (list) list.push(keyOf.get(r.id) as string);
    else members.set(owner, [keyOf.get(r.id) as string]);
  }

  const contacts = (await store.all('SELECT id, email, email_consent, traits, deleted FROM contacts')) as {
    id: number;
    email: string | null;
    email_consent: string;
    traits: string;
    deleted: number;
  }[];
  const described = contacts.map((c) => {
    const l = label.get(c.id) ?? `no identities`;
    return [l, members.get(l) ?? [], c.email, c.email_consent, canonicalJson(c.traits), c.deleted] as const;
  });
  described.sort((a, b) => compare(a[0], b[0]));
  for (const c of described) yield ['contacts', c];

  for (const r of identities) {
    yield [
      'identities',
      [
        keyOf.get(r.id),
        r.email,
        canonicalJson(r.linked_ids),
        canonicalJson(r.traits),
        canonicalJson(r.raw),
        canonicalNumber(r.record_updated_ms),
        r.seen,
        r.deleted,
      ],
    ];
  }

  for await (const batch of store.iterate(`SELECT source, source_event_id, contact_id, identity_id, type, occurred_at, value, properties
       FROM events ORDER BY source, source_event_id`))
    for (const e of batch as {
      source: string;
      source_event_id: string;
      contact_id: number;
      identity_id: number;
      type: string;
      occurred_at: string;
      value: number | null;
      properties: string;
    }[]) {
      yield [
        'events',
        [
          e.source,
          e.source_event_id,
          label.get(e.contact_id),
          keyOf.get(e.identity_id),
          e.type,
          canonicalTime(e.occurred_at),
          canonicalNumber(e.value),
          canonicalJson(e.properties),
        ],
      ];
    }

  const checkpoints = (
    (await store.all('SELECT connection, stream, state FROM stream_checkpoints')) as {
      connection: string;
      stream: string;
      state: string;
    }[]
  ).map((c) => ({ connection: c.connection, stream: c.stream, state: canonicalJson(c.state) }));
  checkpoints.sort((a, b) => compare(a.connection, b.connection) || compare(a.stream, b.stream));
  for (const c of checkpoints) yield ['checkpoints', c];

  const memberships = (
    (await store.all('SELECT segment_key, contact_id, entered_at FROM memberships')) as {
      segment_key: string;
      contact_id: number;
      entered_at: string;
    }[]
  ).map((m) => [m.segment_key, label.get(m.contact_id) ?? 'no identities', canonicalTime(m.entered_at)] as const);
  const byKey = (m: (typeof memberships)[number]) => JSON.stringify(m.slice(0, 2));
  memberships.sort((a, b) => compare(byKey(a), byKey(b)));
  for (const m of memberships) yield ['memberships', m];

  const delivered = (
    (await store.all(
      'SELECT destination, segment_key, contact_id, destination_record_id, status, attempts, last_error, mapped_traits FROM delivered_state',
    )) as {
      destination: string;
      segment_key: string;
      contact_id: number;
      destination_record_id: string | null;
      status: string;
      attempts: number;
      last_error: string | null;
      mapped_traits: string | null;
    }[]
  ).map(
    (d) =>
      [
        d.destination,
        d.segment_key,
        label.get(d.contact_id) ?? 'no identities',
        d.destination_record_id,
        d.status,
        d.attempts,
        d.last_error,
        canonicalJson(d.mapped_traits),
      ] as const,
  );
  const order = (d: (typeof delivered)[number]) => JSON.stringify(d.slice(0, 3));
  delivered.sort((a, b) => compare(order(a), order(b)));
  for (const d of delivered) yield ['delivered', d];
}
