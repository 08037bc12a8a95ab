/**
 * The store engines the store-touching suites run on, as Kysely's tests loop over dialects:
 *
 * @example
 * for (const engine of engines) {
 *   describe(engine.name, () => {
 *     it('loads a page', async () => {
 *       const { store, close } = await engine.open();
 *       try { ... } finally { await close(); }
 *     });
 *   });
 * }
 *
 * SQLite gets a file in a fresh temp folder; PostgreSQL a fresh database on the test server (see postgres.ts),
 * dropped on close, so tests stay isolated and parallel-safe.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { storeSectionOf } from '../../config/schema.js';
import { openStore, partitionStore, type OpenStoreOptions, type Store } from '../../core/index.js';
import { freshDatabase } from './postgres.js';
import { tempDir } from './temp.js';

/** An empty store location, and how to remove it (the file's folder, or the database). */
export interface StoreLocation {
  location: string;
  remove(): Promise<void>;
}

/** An opened store on a fresh location; `close()` closes it and removes the location. */
export interface OpenedStore {
  store: Store;
  location: string;
  close(): Promise<void>;
}

export interface TestEngine {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty location (nothing opened yet): for tests that open, close and reopen, or hand it to a child. */
  fresh(): Promise<StoreLocation>;
  /** A migrated store on a fresh location. */
  open(options?: OpenStoreOptions): Promise<OpenedStore>;
}

async function opened(place: StoreLocation, options: OpenStoreOptions): Promise<OpenedStore> {
  let store: Store;
  try {
    store = await openStore(place.location, options);
  } catch (error) {
    await place.remove();
    throw error;
  }
  return {
    store,
    location: place.location,
    async close() {
      await store.close();
      await place.remove();
    },
  };
}

export const sqlite: TestEngine = {
  name: 'sqlite',
  fresh() {
    const dir = tempDir('segflow-store-');
    return Promise.resolve({
      location: join(dir, 'segflow.db'),
      remove: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    });
  },
  async open(options = {}) {
    return opened(await this.fresh(), options);
  },
};

/** Partitions per table of the partitioned layout in tests: a few, so that rows of one test spread over several. */
const TEST_PARTITIONS = 4;

/**
 * PostgreSQL; with `partitioned`, every store is made in the partitioned layout (core/store/partition.ts: the
 * per-contact tables hash-partitioned on their distribution keys) before the test sees it.
 */
function postgresEngine(partitioned: boolean): TestEngine {
  return {
    name: 'postgres',
    async fresh() {
      if (!partitioned) {
        const db = await freshDatabase();
        return { location: db.url, remove: db.drop };
      }
      const db = await freshDatabase(true);
      try {
        const store = await openStore(db.url);
        await partitionStore(store, { partitions: TEST_PARTITIONS }).finally(() => store.close());
      } catch (error) {
        await db.drop();
        throw error;
      }
      return { location: db.url, remove: db.drop };
    },
    async open(options = {}) {
      if (partitioned && options.migrations === undefined) return opened(await this.fresh(), options);
      // A copy of the run's migrated template when every migration is wanted: migrating anew costs ~0.3 s.
      const db = await freshDatabase(options.migrations === undefined);
      return opened({ location: db.url, remove: db.drop }, options);
    },
  };
}

/**
 * `SEGFLOW_TEST_POSTGRES_LAYOUT=partitioned` runs every suite's PostgreSQL stores in the partitioned layout (the
 * distribution design of docs/SCALING.md, tested without Citus).
 */
export const POSTGRES_LAYOUT = 'SEGFLOW_TEST_POSTGRES_LAYOUT';

export const postgres: TestEngine = postgresEngine(process.env[POSTGRES_LAYOUT] === 'partitioned');

/** PostgreSQL in the partitioned layout, whatever SEGFLOW_TEST_POSTGRES_LAYOUT says. */
export const partitionedPostgres: TestEngine = postgresEngine(true);

/** Every engine, SQLite first. */
export const engines: readonly TestEngine[] = [sqlite, postgres];

/**
 * The `store:` section of a test config naming `location` (a SQLite file or a PostgreSQL URL), as YAML.
 *
 * @example
 * writeFileSync(file, `store: ${storeYaml(place.location)}\nsegments: []\n`);
 */
export function storeYaml(location: string): string {
  return JSON.stringify(storeSectionOf(location));
}
