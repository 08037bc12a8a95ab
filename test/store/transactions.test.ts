/**
 * The async store's transactions on SQLite's one connection: an awaited caller never joins another caller's open
 * transaction, a transaction handle works like the store, and the mistakes that would hang (querying the store from
 * inside its own transaction) fail at once with a sentence saying what to do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../core/index.js';
import { tempStore } from './fixtures.js';

let store: (Store & { file: string }) | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function notesStore(): Promise<Store> {
  store = await tempStore();
  await store.exec('CREATE TABLE notes (n INTEGER NOT NULL)');
  return store;
}

const notes = async (s: Store): Promise<number[]> =>
  ((await s.all('SELECT n FROM notes ORDER BY rowid')) as { n: number }[]).map((r) => r.n);

describe('store transactions', () => {
  it('keeps a statement from another caller out of an open transaction that then rolls back', async () => {
    const s = await notesStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failing = s.transaction(async (tx) => {
      await tx.run('INSERT INTO notes (n) VALUES (1)');
      await gate;
      throw new Error('the page failed');
    });
    // Issued while the transaction is open: it waits for the transaction instead of running inside it.
    const outside = s.run('INSERT INTO notes (n) VALUES (2)');
    release();
    await expect(failing).rejects.toThrow('the page failed');
    await outside;
    expect(await notes(s)).toEqual([2]);
  });

  it('runs two callers’ transactions one after the other, each committing only its own rows', async () => {
    const s = await notesStore();
    const write = (n: number) =>
      s.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (n) VALUES (?)', [n]);
        await new Promise((r) => setTimeout(r, 5));
        await tx.run('INSERT INTO notes (n) VALUES (?)', [n * 10]);
      });
    await Promise.all([write(1), write(2), write(3)]);
    expect(await notes(s)).toEqual([1, 10, 2, 20, 3, 30]);
  });

  it('joins the open transaction from a nested one: a failure inside rolls back the whole', async () => {
    const s = await notesStore();
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
    const s = await notesStore();
    await expect(
      s.transaction(async () => {
        await s.run('INSERT INTO notes (n) VALUES (1)');
      }),
    ).rejects.toThrow(/use the transaction handle/);
    await s.run('INSERT INTO notes (n) VALUES (2)');
    expect(await notes(s)).toEqual([2]);
  });

  it('refuses a transaction handle used after its transaction ended', async () => {
    const s = await notesStore();
    const kept = await s.transaction((tx) => tx);
    await expect(kept.run('INSERT INTO notes (n) VALUES (1)')).rejects.toThrow(/has ended/);
  });

  it('tells rollback listeners, and streams a query in batches', async () => {
    const s = await notesStore();
    let rolledBack = 0;
    s.onRollback(() => rolledBack++);
    await s.transaction(async (tx) => {
      for (let n = 0; n < 2500; n++) await tx.run('INSERT INTO notes (n) VALUES (?)', [n]);
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
});
