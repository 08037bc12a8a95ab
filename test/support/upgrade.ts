import { expect } from 'vitest';
import { migrations, openStore, planPush, type PlannedChange, type Store } from '../../core/index.js';
import type { TestEngine } from './engines.js';

/** The two stores of a migration's upgrade test, and `done` to close and remove them both. */
export interface UpgradeStores {
  /** Made by every migration but the one tested, given `before`'s data, then opened again: the upgrade has run. */
  upgraded: Store;
  /** Made with every migration from the start. */
  current: Store;
  done(): Promise<void>;
}

/**
 * Sets up a migration's upgrade test on one engine: a store made without `migration` and filled by `before` (which
 * may also check it still has the old shape), opened again so the upgrade runs (checked: the migration is recorded),
 * beside a store that had every migration from the start.
 *
 * @example
 * const { upgraded, current, done } = await upgradeBeside(engine, '20261207T040000_x', (old) => load(old, 1));
 */
export async function upgradeBeside(
  engine: TestEngine,
  migration: string,
  before: (old: Store) => Promise<void>,
): Promise<UpgradeStores> {
  const places = [await engine.fresh(), await engine.fresh()] as const;
  const opened: Store[] = [];
  const done = async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const place of places) await place.remove();
  };
  try {
    const old = await openStore(places[0].location, { migrations: migrations.filter((m) => m.name !== migration) });
    opened.push(old);
    await before(old);
    await opened.pop()?.close();
    const upgraded = await openStore(places[0].location);
    opened.push(upgraded);
    const current = await openStore(places[1].location);
    opened.push(current);
    expect(await upgraded.all('SELECT name FROM schema_migrations WHERE name = ?', [migration])).toHaveLength(1);
    return { upgraded, current, done };
  } catch (error) {
    await done();
    throw error;
  }
}

/** Whether the store has an index of that name, as the engine's catalogue lists it. */
export async function hasIndex(store: Store, name: string): Promise<boolean> {
  const sql =
    store.dialect.name === 'postgres'
      ? 'SELECT 1 FROM pg_indexes WHERE indexname = ?'
      : "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?";
  return (await store.all(sql, [name])).length > 0;
}

/** The store's contact ids, in order. */
export async function contactIds(store: Store): Promise<number[]> {
  return ((await store.all('SELECT id FROM contacts ORDER BY id')) as { id: number }[]).map((r) => Number(r.id));
}

/** The changes a mirror push of `segment` to the destination `cdp` plans, every contact of the store looked up by id. */
export async function plannedChanges(store: Store, segment: string): Promise<PlannedChange[]> {
  const [plan] = await planPush(store, {
    destination: 'cdp',
    segments: [segment],
    mode: 'mirror',
    maxRetries: 1,
    contacts: await contactIds(store),
  });
  return plan?.changes ?? [];
}
