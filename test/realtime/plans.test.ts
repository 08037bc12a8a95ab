/**
 * The real-time path reads by key on a store as users have it: SQLite without statistics, since segflow never runs
 * ANALYZE. Every statement run to start (joining what write keys kept apart), accept messages, step, flush and clean up
 * the inbox is recorded and planned again with EXPLAIN QUERY PLAN; none may read a table that grows with the customers
 * or their messages from end to end, and every read of the waiting messages goes through their own index.
 * PostgreSQL is left out: it analyzes its tables itself (autovacuum).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryDestination } from '../../connectors/memory/index.js';
import { openStore, type Queryable, type SegmentDefinition, type SqlValue } from '../../core/index.js';
import {
  acceptMessages,
  clearPending,
  dropLoadedPartitions,
  INBOX_SHARDS,
  joinWriteKeyIds,
  pendingContacts,
  pendingSummary,
} from '../../core/realtime/index.js';
import { createContext } from '../../plugins/index.js';
import type { EventRecord } from '../../plugins/model/index.js';
import { computeAll } from '../../sync/compute/index.js';
import { pushSegments } from '../../sync/index.js';
import { runStep } from '../../sync/realtime/index.js';
import { identifiedOnWebsite, quiet, tempDir } from './fixture.js';

/** Tables whose rows grow with the customer base or the messages kept (queues of waiting work are not among them). */
const GROWING = new Set([
  'contacts',
  'identities',
  'events',
  'contact_events',
  'contact_features',
  'contact_voice',
  'memberships',
  'membership_history',
  'delivered_state',
  'realtime_inbox',
  'segment_holdout_members',
]);
const SEGMENTS: SegmentDefinition[] = [
  { key: 'visited_today', rule: { event: 'page_view', within: '1d' } },
  { key: 'buyers', rule: { event: 'purchase', within: '30d' } },
];

/** `store` with every statement's text noted in `seen`, inside transactions too. */
function recording(store: Queryable, seen: Set<string>): Queryable {
  const note = (sql: string): string => (seen.add(sql), sql);
  return {
    path: store.path,
    dialect: store.dialect,
    inTransaction: store.inTransaction,
    all: (sql, params) => store.all(note(sql), params),
    get: (sql, params) => store.get(note(sql), params),
    run: (sql, params) => store.run(note(sql), params),
    exec: (sql) => store.exec(sql),
    iterate: (sql, params, batch) => store.iterate(note(sql), params, batch),
    transaction: (fn, options) => store.transaction((tx) => fn(recording(tx, seen)), options),
    onRollback: (listener) => store.onRollback(listener),
  };
}

/** How SQLite plans `sql` (every parameter bound to NULL), one line per step. */
async function planOf(store: Queryable, sql: string): Promise<string[]> {
  const params = (sql.match(/\?/g) ?? []).map((): SqlValue => null);
  return ((await store.all(`EXPLAIN QUERY PLAN ${sql}`, params)) as { detail: string }[]).map((r) => r.detail);
}

/** The plan lines of `sql` that read a growing table whole (a scan, but of a partial index, which holds few rows). */
async function growingScans(store: Queryable, sql: string, partial: ReadonlySet<string>): Promise<string[]> {
  // A plan names a table by its alias: map each alias back (an alias used for two tables counts as both).
  const tables = new Map<string, Set<string>>();
  for (const [, table, alias] of sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    const name = (table as string).toLowerCase();
    for (const key of [name, alias?.toLowerCase()].filter((k) => k !== undefined)) {
      tables.set(key, (tables.get(key) ?? new Set()).add(name));
    }
  }
  const plan = await planOf(store, sql);
  // A subquery's rows are scanned under its own alias, which may also name a table elsewhere in the statement.
  const subqueries = new Set(plan.flatMap((line) => /^(?:CO-ROUTINE|MATERIALIZE) (\w+)/.exec(line)?.[1] ?? []));
  return plan.filter((line) => {
    const scan = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(line);
    if (!scan || subqueries.has(scan[1] as string)) return false;
    const read = tables.get((scan[1] as string).toLowerCase()) ?? new Set([scan[1] as string]);
    return [...read].some((t) => GROWING.has(t)) && !(scan[2] !== undefined && partial.has(scan[2]));
  });
}

describe('the real-time path on a SQLite store without statistics', () => {
  it('reads by key to start, accept, step, flush and clean up the inbox: no statement scans a growing table', async () => {
    const store = await openStore(join(tempDir(), 'segflow.db'));
    try {
      const T = Date.parse('2026-03-01T00:00:00.000Z');
      const people = ['ada', 'bob', 'cy'];
      await identifiedOnWebsite(store, people, new Date(T));
      await computeAll(store, { storePath: store.path, now: new Date(T).toISOString(), segments: SEGMENTS });
      expect(await store.get("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).toBeUndefined();

      const seen = new Set<string>();
      const recorded = recording(store, seen);
      const now = new Date(T + 3_600_000);
      /** `who` buys (the first) or views a page, over /v1. */
      const arrive = async (who: string, i: number): Promise<void> => {
        const event: EventRecord = {
          kind: 'event',
          source: 'tracking',
          sourceEventId: `m${i}`,
          type: i === 0 ? 'purchase' : 'page_view',
          occurredAt: now.toISOString(),
          contact: { externalId: who },
          ...(i === 0 ? { value: 25 } : {}),
        };
        await acceptMessages(
          recorded,
          'website',
          'segment',
          [{ messageId: event.sourceEventId, records: [event] }],
          now,
        );
      };
      const input = { segments: SEGMENTS, destinations: ['cdp'] };
      // As the pipeline steps (over the shards its worker leased), then as a caller without shards.
      await arrive('ada', 0);
      await arrive('bob', 1);
      // What every start does first: join what write keys kept apart (the messages still waiting among them).
      await joinWriteKeyIds(recorded, ['website', 'server'], 'tracking');
      const shards = Array.from({ length: INBOX_SHARDS }, (_, shard) => shard);
      expect(await runStep(recorded, input, now, shards)).toMatchObject({ messages: 2, contacts: 2 });
      await arrive('cy', 2);
      expect(await runStep(recorded, input, now)).toMatchObject({ messages: 1, contacts: 1 });
      const memory = createMemoryDestination({ batchSize: 10 });
      expect((await pendingSummary(recorded, 'cdp')).contacts).toBe(3);
      const queued = await pendingContacts(recorded, 'cdp', 1000);
      const outcome = await pushSegments({
        store: recorded,
        destination: memory.destination,
        config: {},
        ctx: createContext({ connection: 'cdp', logger: quiet }),
        connection: 'cdp',
        segments: SEGMENTS.map((s) => s.key),
        mode: 'mirror',
        maxRetries: 1,
        contacts: queued.map((c) => c.contactId),
      });
      expect(outcome.status).toBe('succeeded');
      expect(memory.batches.flatMap((b) => b.changes).length).toBe(3);
      await clearPending(recorded, 'cdp', queued);
      // Three days on, their hour is past the retention: its rows are deleted.
      expect((await dropLoadedPartitions(recorded, undefined, new Date(T + 3 * 86_400_000))).dropped).toHaveLength(1);

      const partial = new Set(
        (
          (await store.all("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")) as {
            name: string;
          }[]
        ).map((r) => r.name),
      );
      expect(partial).toContain('realtime_inbox_waiting');
      const scans: string[] = [];
      for (const sql of seen) {
        for (const line of await growingScans(store, sql, partial))
          scans.push(`${line}  ←  ${sql.replace(/\s+/g, ' ')}`);
      }
      expect(seen.size).toBeGreaterThan(20);
      expect(scans).toEqual([]);
      // The waiting messages are read by their own index: any other reads every message kept, loaded or not.
      const waitingReads = [...seen].filter((sql) => /FROM realtime_inbox\b[^;]*\bloaded_at IS NULL/.test(sql));
      expect(waitingReads.length).toBeGreaterThanOrEqual(3);
      const offIndex: string[] = [];
      for (const sql of waitingReads) {
        const plan = await planOf(store, sql);
        if (
          !plan.some((line) =>
            /^(SCAN|SEARCH) realtime_inbox USING (COVERING )?INDEX realtime_inbox_waiting\b/.test(line),
          )
        )
          offIndex.push(`${plan.join(' | ')}  ←  ${sql.replace(/\s+/g, ' ')}`);
      }
      expect(offIndex).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
