/**
 * The store digest is engine-neutral: the same records loaded into SQLite and into PostgreSQL digest equal, and the
 * digest does not depend on how an engine spells JSON or timestamps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadPage, storeDigest, type Store } from '../../core/index.js';
import { engines, sqlite, type OpenedStore } from '../support/engines.js';
import { CONNECTION, PAGES, STREAM, checkpointAfter, generatedPage } from './generated-source.js';

const opened: OpenedStore[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

const NOW = new Date('2026-06-01T00:00:00Z');

async function loadGenerated(store: Store, pages: number): Promise<void> {
  for (let page = 0; page < pages; page++) {
    await loadPage(store, {
      connection: CONNECTION,
      stream: STREAM,
      records: generatedPage(page),
      checkpoint: checkpointAfter(page),
      now: NOW,
    });
  }
}

describe('the store digest', () => {
  it('is the same on every engine for the same records (merges, links and duplicates included)', async () => {
    const digests: string[] = [];
    for (const engine of engines) {
      const o = await engine.open();
      opened.push(o);
      await loadGenerated(o.store, Math.min(PAGES, 8));
      digests.push(await storeDigest(o.store));
    }
    expect(new Set(digests).size).toBe(1);
  });

  it('reads JSON as canonical JSON and timestamps as UTC instants, whatever their spelling', async () => {
    const [a, b] = [await sqlite.open(), await sqlite.open()];
    opened.push(a, b);
    const load = (store: Store, occurredAt: string) =>
      loadPage(store, {
        connection: 'shop',
        stream: 'orders',
        records: [
          { kind: 'contact', source: 'shop', externalId: 'c1', traits: { email: 'ada@example.com' } },
          {
            kind: 'event',
            source: 'shop',
            sourceEventId: 'o1',
            type: 'purchase',
            occurredAt,
            contact: { externalId: 'c1' },
            value: 5,
          },
        ],
        checkpoint: { after: 'o1' },
        now: NOW,
      });
    await load(a.store, '2026-01-01T10:00:00Z');
    await load(b.store, '2026-01-01T10:00:00Z');
    // Another engine's spelling of the same document and instant.
    await b.store.run(
      `UPDATE events SET properties = '{ "b": 1, "a": [1, 2] }', occurred_at = '2026-01-01T11:00:00.000+01:00'`,
    );
    await a.store.run(`UPDATE events SET properties = '{"a":[1,2],"b":1}'`);
    expect(await storeDigest(b.store)).toBe(await storeDigest(a.store));
  });
});
