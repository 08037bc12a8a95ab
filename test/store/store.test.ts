import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireJobLock,
  appliedMigrations,
  finishRun,
  heartbeatJobLock,
  loadPage,
  migrations,
  openStore,
  readCheckpoint,
  readRun,
  readRunErrors,
  releaseJobLock,
  startRun,
  storeDigest,
  type Migration,
  type Store,
} from '../../core/index.js';
import { engines } from '../support/engines.js';
import { contact, count, event } from './fixtures.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function open(location: string, more: Migration[] = []): Promise<Store> {
  const store = await openStore(location, { migrations: [...migrations, ...more] });
  cleanups.unshift(() => store.close());
  return store;
}

const page1 = [
  contact('hubspot', '1', { email: 'ada@example.com', first_name: 'Ada' }),
  contact('hubspot', '2', { email: 'grace@example.com' }),
  event('hubspot', 'e1', { externalId: '1' }, 'purchase', '2026-01-01T10:00:00Z', 42),
  event('mailchimp', 'e2', { email: 'GRACE@example.com' }, 'email_open'),
];

for (const engine of engines)
  describe(`the store on ${engine.name}`, () => {
    async function freshFile(): Promise<string> {
      const place = await engine.fresh();
      cleanups.push(place.remove);
      return place.location;
    }

    it('creates every table on first open and records each migration once, in name order', async () => {
      const file = await freshFile();
      const store = await open(file);
      const applied = await appliedMigrations(store);
      expect(applied).toEqual(migrations.map((m) => m.name).sort());
      for (const table of [
        'contacts',
        'identities',
        'contact_merges',
        'events',
        'stream_checkpoints',
        'sync_runs',
        'run_errors',
        'job_locks',
        'segment_definitions',
        'memberships',
        'membership_history',
        'delivered_state',
        'suppressions',
      ]) {
        expect(await count(store, table)).toBe(0);
      }
      if (engine.name === 'sqlite') {
        expect(await store.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
        expect(await store.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
      }
    });

    it('keeps its data on re-open and applies only migrations added since', async () => {
      const file = await freshFile();
      const first = await open(file);
      await loadPage(first, { connection: 'hubspot', stream: 'contacts', records: page1, checkpoint: { after: 'e2' } });
      await first.close();
      cleanups.shift();
      const added: Migration = {
        name: '29990101T000000_contacts_score',
        up: (d) => `ALTER TABLE contacts ADD COLUMN score ${d.types.real}`,
      };
      const second = await open(file, [added]);
      expect(await appliedMigrations(second)).toContain(added.name);
      expect(await count(second, 'contacts')).toBe(2);
      expect(await readCheckpoint(second, 'hubspot', 'contacts')).toEqual({ after: 'e2' });
      await second.close();
      cleanups.shift();
      const third = await open(file, [added]);
      expect((await appliedMigrations(third)).filter((n) => n === added.name)).toHaveLength(1);
    });

    it('rolls back a migration that fails, leaving the store as it was', async () => {
      const file = await freshFile();
      await (await open(file)).close();
      cleanups.shift();
      const broken: Migration = {
        name: '29990101T000000_broken',
        up: () => 'CREATE TABLE fine (x INTEGER); SELECT * FROM missing_table',
      };
      await expect(openStore(file, { migrations: [...migrations, broken] })).rejects.toThrow(/missing_table/);
      const store = await open(file);
      expect(await appliedMigrations(store)).not.toContain(broken.name);
      await expect(store.all('SELECT x FROM fine')).rejects.toThrow(/fine/);
    });

    it('loads a page idempotently: loading it again changes nothing', async () => {
      const store = await open(await freshFile());
      const first = await loadPage(store, { connection: 'hubspot', stream: 'contacts', records: page1, checkpoint: 1 });
      expect(first).toMatchObject({ read: 4, inserted: 4, updated: 0, skipped: 0, merged: 0 });
      const digest = await storeDigest(store);
      const again = await loadPage(store, { connection: 'hubspot', stream: 'contacts', records: page1, checkpoint: 1 });
      expect(again).toMatchObject({ read: 4, inserted: 0, updated: 0, skipped: 4, merged: 0 });
      expect(await storeDigest(store)).toBe(digest);
      expect(await count(store, 'events')).toBe(2);
    });

    it('stores event text exactly as read (quotes, backslashes, braces, NULL-like words) and keeps the first of a repeated event', async () => {
      const store = await open(await freshFile());
      const awkward = ['say "hi"', 'C:\\path\\', '{a,b}', 'NULL', '', 'é ✓ \n tab\t'];
      const records = [
        ...awkward.map((text, i) => ({
          ...event('shop', `odd-${i}`, { email: 'ada@example.com' }, 'page_view'),
          properties: { url: text },
        })),
        { ...event('shop', 'odd-0', { email: 'ada@example.com' }, 'page_view'), properties: { url: 'second copy' } },
      ];
      const result = await loadPage(store, { connection: 'shop', stream: 'events', records, checkpoint: 1 });
      expect(result).toMatchObject({ skipped: 1 });
      const rows = (await store.all(
        "SELECT source_event_id, properties FROM events WHERE source_event_id LIKE 'odd-%' ORDER BY source_event_id",
      )) as { source_event_id: string; properties: string }[];
      expect(rows.map((r) => JSON.parse(r.properties).url)).toEqual(awkward);
      expect(await count(store, 'contact_events')).toBe(awkward.length);
    });

    it('keeps contact_events in step when events are updated or deleted in bulk, and ignores updates of other columns', async () => {
      const store = await open(await freshFile());
      const records = [0, 1, 2].map((i) => ({
        ...event('shop', `o${i}`, { email: 'ada@example.com' }, 'purchase', `2026-01-0${i + 1}T10:00:00Z`, 10 + i),
        properties: { category: `c${i}` },
      }));
      await loadPage(store, { connection: 'shop', stream: 'orders', records, checkpoint: 1 });
      const derived = () =>
        store.all('SELECT occurred_at, type, value, label FROM contact_events ORDER BY occurred_at') as Promise<
          { occurred_at: string; type: string; value: number; label: string }[]
        >;
      const before = await derived();
      await store.run("UPDATE events SET loaded_at = '2030-01-01T00:00:00.000Z'");
      expect(await derived()).toEqual(before);
      await store.run(
        `UPDATE events SET properties = '{"category":"changed"}', value = value * 2 WHERE source_event_id IN ('o0', 'o1')`,
      );
      expect((await derived()).map((r) => [r.value, r.label])).toEqual([
        [20, 'changed'],
        [22, 'changed'],
        [12, 'c2'],
      ]);
      await store.run("DELETE FROM events WHERE source_event_id <> 'o1'");
      expect((await derived()).map((r) => r.label)).toEqual(['changed']);
    });

    it('commits nothing of a page whose commit fails, and keeps its per-row errors', async () => {
      const store = await open(await freshFile());
      const runId = await startRun(store, 'nightly');
      const records = [...page1, event('hubspot', 'bad', { externalId: '1' }, 'email_open', 'yesterday')];
      await expect(
        loadPage(store, {
          connection: 'hubspot',
          stream: 'contacts',
          records,
          checkpoint: 1,
          runId,
          beforeCommit: () => {
            throw new Error('disk full');
          },
        }),
      ).rejects.toThrow('disk full');
      expect(await count(store, 'contacts')).toBe(0);
      expect(await count(store, 'events')).toBe(0);
      expect(await readCheckpoint(store, 'hubspot', 'contacts')).toBeUndefined();
      expect(await readRunErrors(store, runId)).toEqual([
        {
          connection: 'hubspot',
          stream: 'contacts',
          recordKey: 'hubspot:bad',
          reason: 'occurredAt "yesterday" is not a timestamp',
        },
      ]);
      await finishRun(store, runId, 'failed', { read: 5 }, 'disk full');
      expect(await readRun(store, runId)).toMatchObject({
        job: 'nightly',
        status: 'failed',
        counts: { read: 5 },
        error: 'disk full',
      });
    });

    it("is shared by two connections (as by two processes): each sees the other's commits", async () => {
      const file = await freshFile();
      const a = await open(file);
      const b = await open(file);
      await loadPage(a, { connection: 'hubspot', stream: 'contacts', records: page1.slice(0, 2), checkpoint: 1 });
      await loadPage(b, { connection: 'hubspot', stream: 'contacts', records: page1.slice(2), checkpoint: 2 });
      expect(await count(a, 'contacts')).toBe(2);
      expect(await count(a, 'events')).toBe(2);
      expect(await readCheckpoint(a, 'hubspot', 'contacts')).toBe(2);
      expect(await storeDigest(a)).toBe(await storeDigest(b));
    });

    it('lets one holder at a time take a job lock until it expires', async () => {
      const store = await open(await freshFile());
      const t0 = new Date('2026-01-01T00:00:00Z');
      expect(await acquireJobLock(store, 'nightly', 'worker-1', 60_000, t0)).toBe(true);
      expect(await acquireJobLock(store, 'nightly', 'worker-2', 60_000, new Date(t0.getTime() + 30_000))).toBe(false);
      expect(await heartbeatJobLock(store, 'nightly', 'worker-1', 60_000, new Date(t0.getTime() + 50_000))).toBe(true);
      expect(await acquireJobLock(store, 'nightly', 'worker-2', 60_000, new Date(t0.getTime() + 90_000))).toBe(false);
      expect(await acquireJobLock(store, 'nightly', 'worker-2', 60_000, new Date(t0.getTime() + 111_000))).toBe(true);
      expect(await heartbeatJobLock(store, 'nightly', 'worker-1', 60_000, new Date(t0.getTime() + 112_000))).toBe(
        false,
      );
      await releaseJobLock(store, 'nightly', 'worker-2');
      expect(await acquireJobLock(store, 'nightly', 'worker-1', 60_000, new Date(t0.getTime() + 113_000))).toBe(true);
    });
  });
