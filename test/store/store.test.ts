import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
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
import { contact, count, event, tempDir } from './fixtures.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function open(file: string, more: Migration[] = []): Store {
  const store = openStore(file, { migrations: [...migrations, ...more] });
  cleanups.unshift(() => store.close());
  return store;
}
function freshFile(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, 'segflow.db');
}

const page1 = [
  contact('hubspot', '1', { email: 'ada@example.com', first_name: 'Ada' }),
  contact('hubspot', '2', { email: 'grace@example.com' }),
  event('hubspot', 'e1', { externalId: '1' }, 'purchase', '2026-01-01T10:00:00Z', 42),
  event('mailchimp', 'e2', { email: 'GRACE@example.com' }, 'email_open'),
];

describe('the store', () => {
  it('creates every table on first open and records each migration once, in name order', () => {
    const file = freshFile();
    const store = open(file);
    const applied = appliedMigrations(store);
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
      expect(count(store, table)).toBe(0);
    }
    expect(store.statement('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(store.statement('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 });
  });

  it('keeps its data on re-open and applies only migrations added since', () => {
    const file = freshFile();
    const first = open(file);
    loadPage(first, { connection: 'hubspot', stream: 'contacts', records: page1, checkpoint: { after: 'e2' } });
    first.close();
    cleanups.shift();
    const added: Migration = {
      name: '29990101T000000_contacts_score',
      up: () => 'ALTER TABLE contacts ADD COLUMN score REAL',
    };
    const second = open(file, [added]);
    expect(appliedMigrations(second)).toContain(added.name);
    expect(count(second, 'contacts')).toBe(2);
    expect(readCheckpoint(second, 'hubspot', 'contacts')).toEqual({ after: 'e2' });
    second.close();
    cleanups.shift();
    const third = open(file, [added]);
    expect(appliedMigrations(third).filter((n) => n === added.name)).toHaveLength(1);
  });

  it('rolls back a migration that fails, leaving the store as it was', () => {
    const file = freshFile();
    open(file).close();
    cleanups.shift();
    const broken: Migration = {
      name: '29990101T000000_broken',
      up: () => 'CREATE TABLE fine (x INTEGER); SELECT * FROM missing_table',
    };
    expect(() => openStore(file, { migrations: [...migrations, broken] })).toThrow(/missing_table/);
    const store = open(file);
    expect(appliedMigrations(store)).not.toContain(broken.name);
    expect(store.statement("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'fine'").get()).toEqual({ n: 0 });
  });

  it('loads a page idempotently: loading it again changes nothing', () => {
    const store = open(freshFile());
    const first = loadPage(store, { connection: 'hubspot', stream: 'contacts', records: page1, checkpoint: 1 });
    expect(first).toMatchObject({ read: 4, inserted: 4, updated: 0, skipped: 0, merged: 0 });
    const digest = storeDigest(store);
    const again = loadPage(store, { connection: 'hubspot', stream: 'contacts', records: page1, checkpoint: 1 });
    expect(again).toMatchObject({ read: 4, inserted: 0, updated: 0, skipped: 4, merged: 0 });
    expect(storeDigest(store)).toBe(digest);
    expect(count(store, 'events')).toBe(2);
  });

  it('commits nothing of a page whose commit fails, and keeps its per-row errors', () => {
    const store = open(freshFile());
    const runId = startRun(store, 'nightly');
    const records = [...page1, event('hubspot', 'bad', { externalId: '1' }, 'email_open', 'yesterday')];
    expect(() =>
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
    ).toThrow('disk full');
    expect(count(store, 'contacts')).toBe(0);
    expect(count(store, 'events')).toBe(0);
    expect(readCheckpoint(store, 'hubspot', 'contacts')).toBeUndefined();
    expect(readRunErrors(store, runId)).toEqual([
      {
        connection: 'hubspot',
        stream: 'contacts',
        recordKey: 'hubspot:bad',
        reason: 'occurredAt "yesterday" is not a timestamp',
      },
    ]);
    finishRun(store, runId, 'failed', { read: 5 }, 'disk full');
    expect(readRun(store, runId)).toMatchObject({
      job: 'nightly',
      status: 'failed',
      counts: { read: 5 },
      error: 'disk full',
    });
  });

  it("is shared by two connections (as by two processes): each sees the other's commits", () => {
    const file = freshFile();
    const a = open(file);
    const b = open(file);
    loadPage(a, { connection: 'hubspot', stream: 'contacts', records: page1.slice(0, 2), checkpoint: 1 });
    loadPage(b, { connection: 'hubspot', stream: 'contacts', records: page1.slice(2), checkpoint: 2 });
    expect(count(a, 'contacts')).toBe(2);
    expect(count(a, 'events')).toBe(2);
    expect(readCheckpoint(a, 'hubspot', 'contacts')).toBe(2);
    expect(storeDigest(a)).toBe(storeDigest(b));
  });

  it('lets one holder at a time take a job lock until it expires', () => {
    const store = open(freshFile());
    const t0 = new Date('2026-01-01T00:00:00Z');
    expect(acquireJobLock(store, 'nightly', 'worker-1', 60_000, t0)).toBe(true);
    expect(acquireJobLock(store, 'nightly', 'worker-2', 60_000, new Date(t0.getTime() + 30_000))).toBe(false);
    expect(heartbeatJobLock(store, 'nightly', 'worker-1', 60_000, new Date(t0.getTime() + 50_000))).toBe(true);
    expect(acquireJobLock(store, 'nightly', 'worker-2', 60_000, new Date(t0.getTime() + 90_000))).toBe(false);
    expect(acquireJobLock(store, 'nightly', 'worker-2', 60_000, new Date(t0.getTime() + 111_000))).toBe(true);
    expect(heartbeatJobLock(store, 'nightly', 'worker-1', 60_000, new Date(t0.getTime() + 112_000))).toBe(false);
    releaseJobLock(store, 'nightly', 'worker-2');
    expect(acquireJobLock(store, 'nightly', 'worker-1', 60_000, new Date(t0.getTime() + 113_000))).toBe(true);
  });
});
