/**
 * `copyStore` (what `segflow store copy` runs) moves a store between engines: SQLite to PostgreSQL and back gives the
 * same digest, the copy keeps working (new rows get fresh ids), a real-time message accepted before the copy is still a
 * duplicate after it (PostgreSQL's ring of message ids is rebuilt from the copied inbox), and it refuses a non-empty
 * target unless forced, or stores whose migrations differ.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { copyStore, loadPage, migrations, openStore, storeDigest, type Store } from '../../core/index.js';
import { acceptMessages } from '../../core/realtime/index.js';
import { postgres, sqlite, type OpenedStore } from '../support/engines.js';
import { tempDir } from '../support/temp.js';
import { contact, count } from './fixtures.js';
import { CONNECTION, STREAM, checkpointAfter, generatedPage } from './generated-source.js';

const opened: OpenedStore[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});
async function open(engine: typeof sqlite): Promise<Store> {
  const o = await engine.open();
  opened.push(o);
  return o.store;
}

const NOW = new Date('2026-06-01T00:00:00Z');

async function filled(store: Store): Promise<void> {
  for (let page = 0; page < 6; page++) {
    await loadPage(store, {
      connection: CONNECTION,
      stream: STREAM,
      records: generatedPage(page),
      checkpoint: checkpointAfter(page),
      now: NOW,
    });
  }
  const ids = (await store.all('SELECT id FROM contacts ORDER BY id LIMIT 3')) as { id: number }[];
  for (const { id } of ids) {
    await store.run('INSERT INTO memberships (segment_key, contact_id, entered_at) VALUES (?, ?, ?)', [
      'vip',
      id,
      '2026-05-01T00:00:00.000Z',
    ]);
    await store.run(
      `INSERT INTO delivered_state (destination, segment_key, contact_id, status, attempts, mapped_traits) VALUES (?, ?, ?, 'delivered', 1, ?)`,
      ['crm', 'vip', id, '{"tier":"gold"}'],
    );
  }
}

describe('copying a store between engines', () => {
  it('gives the same digest from SQLite to PostgreSQL and back, and the copy takes new rows', async () => {
    const original = await open(sqlite);
    await filled(original);
    const onPostgres = await open(postgres);
    const copied = await copyStore(original, onPostgres);
    expect(copied.events).toBe(await count(original, 'events'));
    expect(await count(onPostgres, 'contact_events')).toBe(await count(original, 'contact_events'));
    const back = await open(sqlite);
    await copyStore(onPostgres, back);
    const digest = await storeDigest(original);
    expect(await storeDigest(onPostgres)).toBe(digest);
    expect(await storeDigest(back)).toBe(digest);

    // Ids go on after the copied ones on PostgreSQL too.
    const before = ((await onPostgres.get('SELECT MAX(id) AS id FROM contacts')) as { id: number }).id;
    await loadPage(onPostgres, {
      connection: 'crm',
      stream: 'contacts',
      records: [contact('crm', 'new-1', { email: 'new@example.com' })],
      checkpoint: 1,
      now: NOW,
    });
    const after = ((await onPostgres.get('SELECT MAX(id) AS id FROM contacts')) as { id: number }).id;
    expect(after).toBe(before + 1);
  });

  it('keeps a real-time messageId a duplicate from PostgreSQL to SQLite and back, and forgets the ids it replaced', async () => {
    /** Whether each message id is new to the store (accepting it if so, at `at`), as the /v1 endpoints ask. */
    const freshAt = (at: Date, store: Store, ...ids: string[]) =>
      acceptMessages(
        store,
        'website',
        'segment',
        ids.map((messageId) => ({ messageId, records: [] })),
        at,
      );
    const fresh = (store: Store, ...ids: string[]) => freshAt(new Date(), store, ...ids);
    const original = await open(postgres);
    await filled(original);
    // Two hours ago: another time partition of the inbox than a resend's now, so only the ring of ids can tell.
    expect(await freshAt(new Date(Date.now() - 2 * 3_600_000), original, 'm-1', 'm-2')).toEqual([true, true]);
    const lite = await open(sqlite);
    await copyStore(original, lite);
    expect(await fresh(lite, 'm-1')).toEqual([false]);
    const back = await open(postgres);
    expect(await fresh(back, 'stale-1')).toEqual([true]);
    await copyStore(lite, back, { force: true });
    expect(await fresh(back, 'm-1', 'm-2', 'stale-1', 'm-3')).toEqual([false, false, true, true]);
    // The ring is engine-only and rebuilt on copy: the digest leaves it out, as it does the inbox.
    expect(await storeDigest(back)).toBe(await storeDigest(original));
  });

  it('refuses a target that holds rows unless forced, then replaces what it held', async () => {
    const from = await open(sqlite);
    await filled(from);
    const to = await open(postgres);
    await loadPage(to, {
      connection: 'crm',
      stream: 'contacts',
      records: [contact('crm', 'stale', { email: 'stale@example.com' })],
      checkpoint: 1,
      now: NOW,
    });
    await expect(copyStore(from, to)).rejects.toThrow(
      /the target store is not empty \(contacts, identities, .*--force/,
    );
    await copyStore(from, to, { force: true });
    expect(await storeDigest(to)).toBe(await storeDigest(from));
  });

  it('refuses stores whose migrations differ', async () => {
    const from = await open(sqlite);
    const place = await postgres.fresh();
    const extra = { name: '29990101T000000_notes', up: () => 'CREATE TABLE notes (n INTEGER)' };
    const to = await openStore(place.location, { migrations: [...migrations, extra] });
    opened.push({ store: to, location: place.location, close: async () => (await to.close(), await place.remove()) });
    await expect(copyStore(from, to)).rejects.toThrow(
      /migrations differ \(only the target has 29990101T000000_notes\)/,
    );
  });

  it('runs as segflow store copy, showing the URL without its password', async () => {
    const from = await sqlite.open();
    opened.push(from);
    await filled(from.store);
    const to = await postgres.fresh();
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const code = await main(['store', 'copy', from.location, to.location]).finally(() => vi.restoreAllMocks());
    const password = decodeURIComponent(new URL(to.location).password);
    const copy = await openStore(to.location);
    opened.push({ store: copy, location: to.location, close: async () => (await copy.close(), await to.remove()) });
    expect(code).toBe(0);
    expect(out).toMatch(/ {2}events: [\d,]+ rows\n/);
    expect(out).toContain(':***@');
    expect(out).not.toContain(password);
    expect(await storeDigest(copy)).toBe(await storeDigest(from.store));
  });

  it('refuses to copy from a SQLite path where no store is, instead of creating an empty one', async () => {
    const to = await postgres.fresh();
    const missing = join(tempDir('segflow-copy-'), 'typo.db');
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    const code = await main(['store', 'copy', missing, to.location]).finally(() => vi.restoreAllMocks());
    await to.remove();
    expect(code).toBe(1);
    expect(err).toContain(`no store at ${missing}: give the path of an existing SQLite store`);
    expect(existsSync(missing)).toBe(false);
  });

  it('prints the copy as JSON with --json, the password left out', async () => {
    const from = await sqlite.open();
    opened.push(from);
    await filled(from.store);
    const to = await postgres.fresh();
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const code = await main(['store', 'copy', from.location, to.location, '--json']).finally(() =>
      vi.restoreAllMocks(),
    );
    await to.remove();
    expect(code).toBe(0);
    const report = JSON.parse(out) as { to: string; tables: Record<string, number>; rows: number };
    expect(report.tables.events).toBe(await count(from.store, 'events'));
    expect(report.rows).toBe(Object.values(report.tables).reduce((a, b) => a + b, 0));
    expect(report.to).toContain(':***@');
    expect(out).not.toContain(decodeURIComponent(new URL(to.location).password));
  });
});
