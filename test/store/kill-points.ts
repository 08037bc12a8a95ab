/**
 * Where the crash test's loader stops for its parent to kill it, counted in the loader's own progress (pages and the
 * statements of a page's transaction) rather than in wall-clock time, so a kill lands at the same point on any machine.
 */
import type { Queryable, Store, Transaction } from '../../core/index.js';

/**
 * A point in the load of page `page`: after `at` statements of its transaction (mid-transaction), once everything is
 * written and before the commit (`commit`), or after the commit and before the next page begins (`committed`).
 */
export interface KillPoint {
  page: number;
  at: number | 'commit' | 'committed';
}

/** The point as one command-line argument, e.g. `7:12` or `7:commit`. */
export function killPointArg(point: KillPoint): string {
  return `${point.page}:${point.at}`;
}

export function parseKillPoint(text: string): KillPoint {
  const [page, at] = text.split(':');
  if (page === undefined || at === undefined || !/^\d+$/.test(page))
    throw new Error(`a kill point looks like 7:12, 7:commit or 7:committed, not "${text}"`);
  if (at === 'commit' || at === 'committed') return { page: Number(page), at };
  if (!/^[1-9]\d*$/.test(at)) throw new Error(`a kill point's statement is a whole number from 1, not "${at}"`);
  return { page: Number(page), at: Number(at) };
}

/** The page a store killed at `point` resumes from: the killed page, unless the kill came after its commit. */
export function resumesFrom(point: KillPoint): number {
  return point.at === 'committed' ? point.page + 1 : point.page;
}

/**
 * The store as `loadPage` uses it, calling `afterStatement(n)` once the n-th statement of each transaction (counted
 * from 1, reads included) has run, still inside the transaction.
 */
export function countingStatements(store: Store, afterStatement: (n: number) => void): Queryable {
  const counted = (tx: Transaction, count: { n: number }): Transaction => {
    const after = <T>(result: T): T => {
      count.n += 1;
      afterStatement(count.n);
      return result;
    };
    const handle: Transaction = {
      ...tx,
      all: async (sql, params) => after(await tx.all(sql, params)),
      get: async (sql, params) => after(await tx.get(sql, params)),
      run: async (sql, params) => after(await tx.run(sql, params)),
      exec: async (sql) => after(await tx.exec(sql)),
      async *iterate(sql, params, batch) {
        yield* tx.iterate(sql, params, batch);
        after(undefined);
      },
      transaction: (fn, options) => tx.transaction(() => fn(handle), options),
    };
    return handle;
  };
  return {
    ...store,
    transaction: (fn, options) => store.transaction((tx) => fn(counted(tx, { n: 0 })), options),
  };
}
