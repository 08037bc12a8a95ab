/**
 * The async store's transactions, on every engine: an awaited caller never joins another caller's open transaction,
 * writers queue one at a time (SQLite's BEGIN IMMEDIATE; PostgreSQL's writer lock), a transaction handle works like
 * the store, and the mistakes that would hang (querying the store from inside its own transaction) fail at once with
 * a sentence saying what to do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/index.js';
import { engines, type OpenedStore } from '../support/engines.js';

const opened: OpenedStore[] = [];
const extra: Store[] = [];
afterEach(async () => {
  for (const s of extra.splice(0)) await s.close();
  for (const o of opened.splice(0)) await o.close();
});

const notes = async (s: Store): Promise<number[]> =>
  ((await s.all('SELECT n FROM notes ORDER BY id')) as { n: number }[]).map((r) => r.n);

for (const engine of engines) {
  describe(`store transactions on ${engine.name}`, () => {
    async function notesStore(): Promise<OpenedStore> {
      const o = await engine.open();
      opened.push(o);
      await o.store.exec(`CREATE TABLE notes (id ${o.store.dialect.types.id}, n INTEGER NOT NULL)`);
      return o;
    }

    it('keeps a statement from another caller out of an open transaction that then rolls back', async () => {
      const { store: s } = await notesStore();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const failing = s.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (n) VALUES (1)');
        await gate;
        throw new Error('the page failed');
      });
      // Issued while the transaction is open: it does not run inside it.
      const outside = s.run('INSERT INTO notes (n) VALUES (2)');
      release();
      await expect(failing).rejects.toThrow('the page failed');
      await outside;
      expect(await notes(s)).toEqual([2]);
    });

    it('runs two callers’ transactions one after the other, each committing only its own rows', async () => {
      const { store: s } = await notesStore();
      const write = (n: number) =>
        s.transaction(async (tx) => {
          await tx.run('INSERT INTO notes (n) VALUES (?)', [n]);
          await new Promise((r) => setTimeout(r, 5));
          await tx.run('INSERT INTO notes (n) VALUES (?)', [n * 10]);
        });
      await Promise.all([write(1), write(2), write(3)]);
      const rows = await notes(s);
      // Each transaction's two rows are neighbours: none started writing before the one ahead committed.
      const pairs = [0, 2, 4].map((i) => [rows[i], rows[i + 1]]);
      expect(pairs.map(([a, b]) => (b as number) / (a as number))).toEqual([10, 10, 10]);
      expect(pairs.map(([a]) => a).sort()).toEqual([1, 2, 3]);
    });

    // A second store on the same location takes its locks as another process would (SQLite: its own connection, which
    // waits for the lock off the event loop; PostgreSQL: a pool of its own).
    it('makes a writer in another process wait for the open write transaction, reading its rows once it commits', async () => {
      const { store: s, location } = await notesStore();
      const other = await openStore(location, { migrations: [] });
      extra.push(other);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const first = s.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (n) VALUES (1)');
        entered();
        await gate;
      });
      await inside;
      // Read-then-write in the second process: it must see the first's row, so it waits for its commit.
      const second = other.transaction(async (tx) => {
        const seen = ((await tx.get('SELECT COUNT(*) AS c FROM notes')) as { c: number }).c;
        await tx.run('INSERT INTO notes (n) VALUES (?)', [seen * 100]);
      });
      await new Promise((r) => setTimeout(r, 50));
      release();
      await Promise.all([first, second]);
      expect(await notes(s)).toEqual([1, 100]);
    });

    it('joins the open transaction from a nested one: a failure inside rolls back the whole', async () => {
      const { store: s } = await notesStore();
      await expect(
        s.transaction(async (tx) => {
          await tx.run('INSERT INTO notes (n) VALUES (1)');
          await tx.transaction(async (inner) => {
            await inner.run('INSERT INTO notes (n) VALUES (2)');
            throw new Error('inner failed');
          });
        }),
      ).rejects.toThrow('inner failed');
      expect(await notes(s)).toEqual([]);
    });

    it('refuses a statement on the store from inside its own transaction instead of waiting forever', async () => {
      const { store: s } = await notesStore();
      await expect(
        s.transaction(async () => {
          await s.run('INSERT INTO notes (n) VALUES (1)');
        }),
      ).rejects.toThrow(/use the transaction handle/);
      await s.run('INSERT INTO notes (n) VALUES (2)');
      expect(await notes(s)).toEqual([2]);
    });

    it('refuses a transaction handle used after its transaction ended', async () => {
      const { store: s } = await notesStore();
      const kept = await s.transaction((tx) => tx);
      await expect(kept.run('INSERT INTO notes (n) VALUES (1)')).rejects.toThrow(/has ended/);
    });

    it('tells rollback listeners, and streams a query in batches', async () => {
      const { store: s } = await notesStore();
      let rolledBack = 0;
      s.onRollback(() => rolledBack++);
      await s.transaction(async (tx) => {
        for (let n = 0; n < 2500; n += 500) {
          const values = Array.from({ length: 500 }, (_, i) => n + i);
          await tx.run(`INSERT INTO notes (n) VALUES ${values.map(() => '(?)').join(', ')}`, values);
        }
      });
      await expect(
        s.transaction(() => {
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(rolledBack).toBe(1);
      const sizes: number[] = [];
      let sum = 0;
      for await (const rows of s.iterate('SELECT n FROM notes', [], 1000)) {
        sizes.push(rows.length);
        for (const r of rows as { n: number }[]) sum += r.n;
      }
      expect(sizes).toEqual([1000, 1000, 500]);
      expect(sum).toBe((2499 * 2500) / 2);
    });

    it('gives the id of an inserted row through RETURNING', async () => {
      const { store: s } = await notesStore();
      const first = (await s.get('INSERT INTO notes (n) VALUES (?) RETURNING id', [7])) as { id: number };
      const second = (await s.get('INSERT INTO notes (n) VALUES (?) RETURNING id', [8])) as { id: number };
      expect(second.id).toBe(first.id + 1);
      expect(await s.get('SELECT n FROM notes WHERE id = ?', [second.id])).toEqual({ n: 8 });
    });
  });
}
