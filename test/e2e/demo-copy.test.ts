/**
 * `segflow store copy` on the demo's own store: the demo run on SQLite, copied to PostgreSQL and back to a new SQLite
 * file by the command, gives the same digest at every step (issue #21), and the full dump says which rows differ if
 * one ever does. The demo world is small (120 people) so the test stays well under a minute.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, storeDigest, storeDump } from '../../core/index.js';
import { postgres, sqlite, type StoreLocation } from '../support/engines.js';
import { tempDir } from '../support/temp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PEOPLE = 120;

/** Runs `segflow <args>` from a folder of its own (the demo's sandboxes save their state there). */
function segflow(args: string[]) {
  const cwd = tempDir('segflow-demo-copy-');
  try {
    return spawnSync(process.execPath, [join(root, 'bin/segflow.js'), ...args], {
      cwd,
      encoding: 'utf8',
      timeout: 180_000,
    });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The store's digest and its canonical dump, one JSON line per row. */
async function contents(location: string): Promise<{ digest: string; dump: string[]; events: number }> {
  const store = await openStore(location);
  try {
    const dump: string[] = [];
    for await (const line of storeDump(store)) dump.push(JSON.stringify(line));
    const events = ((await store.get('SELECT COUNT(*) AS n FROM events')) as { n: number }).n;
    return { digest: await storeDigest(store), dump, events };
  } finally {
    await store.close();
  }
}

describe("segflow store copy on the demo's store", { timeout: 300_000 }, () => {
  const places: StoreLocation[] = [];
  afterAll(async () => {
    for (const place of places) await place.remove();
  });

  it('gives the same digest from SQLite to PostgreSQL and back to SQLite', async () => {
    const [demoStore, onPostgres, back] = [await sqlite.fresh(), await postgres.fresh(), await sqlite.fresh()];
    places.push(demoStore, onPostgres, back);
    const demo = segflow(['demo', '--people', String(PEOPLE), '--seed', 'copy', '--store', demoStore.location]);
    expect(demo.status, `${demo.stdout}\n${demo.stderr}`).toBe(0);
    const there = segflow(['store', 'copy', demoStore.location, onPostgres.location]);
    expect(there.status, `${there.stdout}\n${there.stderr}`).toBe(0);
    const home = segflow(['store', 'copy', onPostgres.location, back.location]);
    expect(home.status, `${home.stdout}\n${home.stderr}`).toBe(0);

    const [original, copied, returned] = [
      await contents(demoStore.location),
      await contents(onPostgres.location),
      await contents(back.location),
    ];
    // The demo filled the store: contacts from three tools, their events, segment members and deliveries.
    expect(original.events).toBeGreaterThan(PEOPLE);
    for (const section of ['contacts', 'events', 'memberships', 'delivered'])
      expect(
        original.dump.some((line) => line.startsWith(`["${section}"`)),
        section,
      ).toBe(true);
    // Rows on one side only, a few of each: far more readable than two digests when something differs.
    const differences = (a: string[], b: string[]) => {
      const inB = new Set(b);
      const inA = new Set(a);
      return {
        onlyBefore: a.filter((l) => !inB.has(l)).slice(0, 10),
        onlyAfter: b.filter((l) => !inA.has(l)).slice(0, 10),
      };
    };
    expect(differences(original.dump, copied.dump)).toEqual({ onlyBefore: [], onlyAfter: [] });
    expect(differences(original.dump, returned.dump)).toEqual({ onlyBefore: [], onlyAfter: [] });
    expect(copied.digest).toBe(original.digest);
    expect(returned.digest).toBe(original.digest);
  });
});
