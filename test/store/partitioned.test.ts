/**
 * The distribution design of docs/SCALING.md, tested without Citus: PostgreSQL's declarative partitioning on the same
 * keys (core/store/partition.ts). The same loads (merges, links and re-read events included), features and starter
 * segments give the same store on the partitioned layout as on plain PostgreSQL and on SQLite, and an identity merge
 * moves none of the merged contact's events between partitions: only their contact id changes.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { builtinRegistry } from '../../cli/builtins.js';
import { loadConfig } from '../../config/index.js';
import {
  loadPage,
  openStore,
  partitionedTables,
  partitionStore,
  PARTITIONED_TABLES,
  storeDigest,
  type Store,
} from '../../core/index.js';
import { computeFeatures } from '../../core/features/index.js';
import { evaluateSegments, type SegmentDefinition } from '../../core/segments/index.js';
import { partitionedPostgres, postgres, sqlite, type OpenedStore } from '../support/engines.js';
import { freshDatabase } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { contact, event } from './fixtures.js';
import { CONNECTION, PAGES, STREAM, checkpointAfter, generatedPage } from './generated-source.js';

const opened: OpenedStore[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

const NOW = new Date('2026-06-01T00:00:00Z');
const CURRENCY = { reporting: 'EUR', rates: { USD: 0.92 } };

async function starterSegments(): Promise<SegmentDefinition[]> {
  const dir = tempDir('segflow-partitioned-');
  const file = join(dir, 'segflow.yaml');
  writeFileSync(file, `segments:\n  - include: ${JSON.stringify(resolve('config/segments/starter.yaml'))}\n`);
  return (await loadConfig(file, { registry: builtinRegistry(), env: {} })).segments;
}

/** Contacts named by their identities (contact ids follow insertion order, which is the same here, but need not be). */
const WHO = `(SELECT MIN(i.source || ':' || COALESCE(i.external_id, i.email)) FROM identities i WHERE i.contact_id = x.contact_id)`;

/** Every feature row, keyed by who the contact is. */
async function features(store: Store): Promise<string[]> {
  const rows = (await store.all(`SELECT ${WHO} AS who, x.* FROM contact_features x`)) as Record<string, unknown>[];
  return rows.map(({ contact_id: _id, computed_at: _at, ...row }) => JSON.stringify(row)).sort();
}

/** Where each event row lives: event id → partition (table) name. */
async function eventPartitions(store: Store, table: 'events' | 'contact_events'): Promise<Map<number, string>> {
  const id = table === 'events' ? 'id' : 'event_id';
  const rows = (await store.all(`SELECT ${id} AS id, CAST(tableoid AS regclass)::text AS part FROM ${table}`)) as {
    id: number;
    part: string;
  }[];
  return new Map(rows.map((r) => [r.id, r.part]));
}

function movedBetween(before: Map<number, string>, after: Map<number, string>): number {
  let moved = 0;
  for (const [id, part] of before) if (after.get(id) !== undefined && after.get(id) !== part) moved++;
  return moved;
}

describe('the partitioned layout (PostgreSQL declarative partitioning on the distribution keys)', () => {
  it('partitions the per-contact tables on their keys, with every unique key holding its partition key', async () => {
    const o = await partitionedPostgres.open();
    opened.push(o);
    const tables = await partitionedTables(o.store);
    // Other tables may be partitioned for their own reasons (the real-time inbox is): these are the layout's.
    expect(PARTITIONED_TABLES.filter((t) => tables[t.table] !== 4)).toEqual([]);
    const keys = (await o.store.all(
      `SELECT c.relname AS "table", pg_get_partkeydef(c.oid) AS key FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid`,
    )) as { table: string; key: string }[];
    expect(Object.fromEntries(keys.map((k) => [k.table, k.key]))).toMatchObject({
      identities: 'HASH (identity_key)',
      events: 'HASH (identity_key)',
      contacts: 'HASH (id)',
      memberships: 'HASH (contact_id)',
    });
    // Running it again changes nothing; SQLite has no such layout and says so.
    expect((await partitionStore(o.store, { partitions: 4 })).partitioned).toEqual([]);
    const file = await sqlite.open();
    opened.push(file);
    await expect(partitionStore(file.store)).rejects.toThrow(/the partitioned layout needs PostgreSQL/);
  });

  it(
    'gives the same store, features and memberships as plain PostgreSQL and SQLite',
    { timeout: 120_000 },
    async () => {
      const segments = await starterSegments();
      const results: { digest: string; features: string[]; members: number }[] = [];
      for (const engine of [sqlite, postgres, partitionedPostgres]) {
        const o = await engine.open();
        opened.push(o);
        for (let page = 0; page < PAGES; page++)
          await loadPage(o.store, {
            connection: CONNECTION,
            stream: STREAM,
            records: generatedPage(page),
            checkpoint: checkpointAfter(page),
            now: NOW,
          });
        await computeFeatures(o.store, { now: NOW, currency: CURRENCY });
        await evaluateSegments(o.store, segments, { now: NOW });
        const members = ((await o.store.get('SELECT COUNT(*) AS n FROM memberships')) as { n: number }).n;
        results.push({ digest: await storeDigest(o.store), features: await features(o.store), members });
      }
      const [onSqlite, onPostgres, onPartitions] = results as [
        (typeof results)[0],
        (typeof results)[0],
        (typeof results)[0],
      ];
      expect(onSqlite.members).toBeGreaterThan(0);
      expect(onSqlite.features.length).toBeGreaterThan(100);
      expect(onPartitions.features).toEqual(onSqlite.features);
      expect(onPartitions.features).toEqual(onPostgres.features);
      expect(onPartitions.digest).toBe(onPostgres.digest);
      expect(onPartitions.digest).toBe(onSqlite.digest);
    },
  );

  it('moves none of a merged contact’s events between partitions: a merge only changes their contact id', async () => {
    const o = await partitionedPostgres.open();
    opened.push(o);
    const { store } = o;
    const load = (records: Parameters<typeof loadPage>[1]['records'], checkpoint: number) =>
      loadPage(store, { connection: 'crm', stream: 'all', records, checkpoint, now: NOW });
    // Two people as far as the store knows: Ada in the CRM with 40 events, and a Mailchimp member with 40 more.
    const crm = Array.from({ length: 40 }, (_, i) =>
      event(
        'crm',
        `c${i}`,
        { externalId: 'ada' },
        'email_open',
        `2026-03-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
      ),
    );
    const mailchimp = Array.from({ length: 40 }, (_, i) =>
      event(
        'mailchimp',
        `m${i}`,
        { externalId: 'mc-ada' },
        'email_click',
        `2026-04-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
      ),
    );
    await load([contact('crm', 'ada', { email: 'ada@example.com' }), ...crm], 1);
    await load([contact('mailchimp', 'mc-ada', { email: 'ada.l@example.com' }), ...mailchimp], 2);
    expect(((await store.get('SELECT COUNT(DISTINCT contact_id) AS n FROM events')) as { n: number }).n).toBe(2);
    const contactsBefore = new Map(
      ((await store.all('SELECT id, contact_id FROM events')) as { id: number; contact_id: number }[]).map((r) => [
        r.id,
        r.contact_id,
      ]),
    );
    const [eventsBefore, copiesBefore] = [
      await eventPartitions(store, 'events'),
      await eventPartitions(store, 'contact_events'),
    ];
    // The events are spread by identity: the two identities' events sit in their identities' partitions.
    expect(new Set(eventsBefore.values()).size).toBeGreaterThanOrEqual(1);

    // Mailchimp now gives the CRM's email too: one person, the two contacts merge.
    const outcome = await load([contact('mailchimp', 'mc-ada', { email: 'ada@example.com' })], 3);
    expect(outcome.merged).toBe(1);
    const contactsAfter = (await store.all('SELECT id, contact_id FROM events')) as {
      id: number;
      contact_id: number;
    }[];
    expect(new Set(contactsAfter.map((r) => r.contact_id)).size).toBe(1);
    const relabelled = contactsAfter.filter((r) => contactsBefore.get(r.id) !== r.contact_id).length;
    expect(relabelled).toBe(40);

    const [eventsAfter, copiesAfter] = [
      await eventPartitions(store, 'events'),
      await eventPartitions(store, 'contact_events'),
    ];
    expect(eventsAfter.size).toBe(80);
    expect(movedBetween(eventsBefore, eventsAfter)).toBe(0);
    // contact_events, the contact-ordered copy kept by triggers, is keyed by contact: the merged contact's copies
    // follow it to the survivor's partition (all 40, or none when both contacts hash to the same partition). It is
    // derived, and a distributed store would not keep it (docs/SCALING.md).
    expect([0, 40]).toContain(movedBetween(copiesBefore, copiesAfter));
  });

  it('runs as segflow store partition on a new PostgreSQL store, and refuses a SQLite one', async () => {
    // A plain new database, whatever SEGFLOW_TEST_POSTGRES_LAYOUT says.
    const db = await freshDatabase();
    const place = { location: db.url, remove: db.drop };
    let out = '';
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    const file = join(tempDir('segflow-partitioned-'), 'segflow.db');
    let code: number;
    let refused: number;
    try {
      code = await main(['store', 'partition', place.location, '--partitions', '2', '--json']);
      refused = await main(['store', 'partition', file]);
    } finally {
      vi.restoreAllMocks();
    }
    const store = await openStore(place.location);
    opened.push({ store, location: place.location, close: async () => (await store.close(), await place.remove()) });
    expect(code).toBe(0);
    const report = JSON.parse(out) as { store: string; partitioned: { table: string }[]; widened: string[] };
    expect(report.partitioned.map((t) => t.table)).toContain('events');
    expect(report.widened).toContain('events: UNIQUE (source, source_event_id, identity_key)');
    expect(report.store).toContain(':***@');
    expect(out).not.toContain(decodeURIComponent(new URL(place.location).password));
    expect((await partitionedTables(store)).events).toBe(2);
    expect(refused).toBe(1);
    expect(err).toContain('the partitioned layout needs PostgreSQL');
  });
});
