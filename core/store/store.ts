import { AsyncLocalStorage } from 'node:async_hooks';
import type { Dialect, RunResult, SqlValue } from './dialect.js';
import type { Driver, DriverConnection, TransactionOptions } from './driver.js';

/** Rows per array that `iterate` yields by default. */
export const ITERATE_BATCH = 1000;

/**
 * What every caller queries through: an open store or one of its transactions, alike, so a function taking a
 * `Queryable` works inside or outside a transaction. Statements are prepared once per SQL text and connection.
 *
 * @example
 * const n = ((await store.get('SELECT COUNT(*) AS n FROM contacts')) as { n: number }).n;
 * await store.transaction(async (tx) => {
 *   await tx.run('UPDATE contacts SET deleted = 1 WHERE id = ?', [id]);
 *   await recordErasure(tx, id); // a function taking a Queryable joins this transaction
 * });
 */
export interface Queryable {
  /**
   * The store's location (a SQLite file path or a PostgreSQL URL, password included: show it through
   * `redactLocation`).
   */
  readonly path: string;
  readonly dialect: Dialect;
  /** True for a transaction handle: its statements run inside the transaction. */
  readonly inTransaction: boolean;
  all(sql: string, params?: readonly SqlValue[]): Promise<unknown[]>;
  /** The first row, or undefined. */
  get(sql: string, params?: readonly SqlValue[]): Promise<unknown>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /** One or more statements without parameters (DDL, scripts). */
  exec(sql: string): Promise<void>;
  /**
   * Streams a query's rows in arrays of up to `batch` (default 1000), so a whole-table read never holds every row nor
   * pays a promise per row. Outside a transaction the stream holds the store's connection until it ends or the loop
   * breaks: do not query the same store inside the loop (collect first, or read inside a transaction and use its handle).
   */
  iterate(sql: string, params?: readonly SqlValue[], batch?: number): AsyncIterable<unknown[]>;
  /**
   * Runs `fn` in one transaction, committing when its promise resolves and rolling back when it rejects. On a
   * transaction handle, joins the open transaction. On the store, waits until no other caller's transaction is open:
   * one awaited caller never joins another's transaction.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T> | T, options?: TransactionOptions): Promise<T>;
  /** Called after a transaction rolls back, so in-memory state derived from the store can be dropped. */
  onRollback(listener: () => void): void;
}

/** A transaction's handle: the same interface as the store; valid until the transaction's callback settles. */
export type Transaction = Queryable;

/**
 * An open store: what `openStore` returns.
 *
 * @example
 * const store = await openStore('segflow.db');
 * try { console.log(await store.all('SELECT id FROM contacts')); } finally { await store.close(); }
 */
export interface Store extends Queryable {
  /** Waits for open transactions and streams to end, then closes the connection. */
  close(): Promise<void>;
}

interface OpenTransaction {
  store: Store;
  open: boolean;
}

/**
 * The transaction the current async call chain runs inside, to refuse a store-level statement that would wait for it.
 * Tracked under the test runner (or with SEGFLOW_CHECK_TRANSACTIONS=1) only: once an AsyncLocalStorage is in use,
 * every promise of the thread pays a hook (Node 20), and the real-time flush on the thread answering HTTP makes tens
 * of promises per message; the misuse it reports is a programming error that the tests catch.
 */
const running =
  process.env.VITEST || process.env.SEGFLOW_CHECK_TRANSACTIONS === '1'
    ? new AsyncLocalStorage<OpenTransaction>()
    : undefined;

/** Wraps an engine's driver and dialect as a Store. */
export function createStore(path: string, driver: Driver, dialect: Dialect): Store {
  const rollbackListeners: (() => void)[] = [];

  function acquire(): DriverConnection | Promise<DriverConnection> {
    const inside = running?.getStore();
    if (inside?.open && inside.store === store) {
      throw new Error(
        'a statement on the store inside its own transaction would wait for that transaction to end: use the transaction handle the callback received',
      );
    }
    return driver.acquire();
  }

  async function using<T>(use: (c: DriverConnection) => T | Promise<T>): Promise<T> {
    const c = await acquire();
    try {
      return await use(c);
    } finally {
      driver.release(c);
    }
  }

  function handle(c: DriverConnection, state: OpenTransaction): Transaction {
    const live = (): DriverConnection => {
      if (!state.open) throw new Error('this transaction has ended: its handle cannot run statements any more');
      return c;
    };
    const tx: Transaction = {
      path,
      dialect,
      inTransaction: true,
      all: async (sql, params = []) => live().all(sql, params),
      get: async (sql, params = []) => live().get(sql, params),
      run: async (sql, params = []) => live().run(sql, params),
      exec: async (sql) => live().exec(sql),
      iterate: (sql, params = [], batch = ITERATE_BATCH) => live().batches(sql, params, batch),
      transaction: async (fn) => {
        live();
        return fn(tx);
      },
      onRollback: (listener) => rollbackListeners.push(listener),
    };
    return tx;
  }

  const store: Store = {
    path,
    dialect,
    inTransaction: false,
    all: (sql, params = []) => using((c) => c.all(sql, params)),
    get: (sql, params = []) => using((c) => c.get(sql, params)),
    run: (sql, params = []) => using((c) => c.run(sql, params)),
    exec: (sql) => using((c) => c.exec(sql)),
    async *iterate(sql, params = [], batch = ITERATE_BATCH) {
      const c = await acquire();
      try {
        yield* c.batches(sql, params, batch);
      } finally {
        driver.release(c);
      }
    },
    async transaction(fn, options = {}) {
      const c = await acquire();
      const state: OpenTransaction = { store, open: true };
      try {
        await driver.begin(c, options);
        try {
          const tx = handle(c, state);
          const result = await (running ? running.run(state, () => fn(tx)) : fn(tx));
          await driver.commit(c);
          return result;
        } catch (error) {
          state.open = false;
          await driver.rollback(c);
          for (const listener of rollbackListeners) listener();
          throw error;
        }
      } finally {
        state.open = false;
        driver.release(c);
      }
    },
    onRollback(listener) {
      rollbackListeners.push(listener);
    },
    close: () => driver.close(),
  };
  return store;
}
