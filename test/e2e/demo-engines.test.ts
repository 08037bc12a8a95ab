import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/index.js';
import { postgres, sqlite, type StoreLocation } from '../support/engines.js';
import { tempDir } from '../support/temp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PEOPLE = 300;
const SEED = 'engines';

/** Runs `segflow demo` on a store location from a folder of its own (the sandboxes' saved state lives there). */
function demo(location: string) {
  const cwd = tempDir('segflow-demo-engines-');
  try {
    return spawnSync(
      process.execPath,
      [join(root, 'bin/segflow.js'), 'demo', '--people', String(PEOPLE), '--seed', SEED, '--store', location],
      { cwd, encoding: 'utf8', timeout: 280_000 },
    );
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Contacts named by their identities: the demo reads its sources side by side, so contact ids follow timing. */
const WHO = `(SELECT MIN(i.source || ':' || COALESCE(i.external_id, i.email)) FROM identities i WHERE i.contact_id = x.contact_id)`;

/** Each segment's members. */
async function memberships(store: Store): Promise<string[]> {
  const rows = (await store.all(`SELECT x.segment_key, ${WHO} AS who FROM memberships x`)) as {
    segment_key: string;
    who: string;
  }[];
  return rows.map((r) => `${r.segment_key} ${r.who}`).sort();
}

/**
 * What each destination holds of each segment, and how it went: the tool-assigned record ids are left out (a Salesforce
 * campaign member's id follows the order members were sent in, which follows contact ids).
 */
async function deliveries(store: Store): Promise<string[]> {
  const rows = (await store.all(
    `SELECT x.destination, x.segment_key, ${WHO} AS who, x.status, x.attempts FROM delivered_state x`,
  )) as object[];
  return rows.map((r) => JSON.stringify(r)).sort();
}

describe('the demo world on both engines', { timeout: 600_000 }, () => {
  const places: StoreLocation[] = [];
  afterAll(async () => {
    for (const place of places) await place.remove();
  });

  it('gives the same memberships and deliveries on SQLite and on PostgreSQL', async () => {
    const results: { members: string[]; delivered: string[] }[] = [];
    for (const engine of [sqlite, postgres]) {
      const place = await engine.fresh();
      places.push(place);
      const run = demo(place.location);
      expect(run.status, `${engine.name}: ${run.stdout}\n${run.stderr}`).toBe(0);
      const store = await openStore(place.location);
      try {
        results.push({ members: await memberships(store), delivered: await deliveries(store) });
      } finally {
        await store.close();
      }
    }
    const [onSqlite, onPostgres] = results as [(typeof results)[0], (typeof results)[0]];
    expect(onSqlite.members.length).toBeGreaterThan(PEOPLE / 2);
    expect(onPostgres.members).toEqual(onSqlite.members);
    expect(onSqlite.delivered.length).toBeGreaterThan(PEOPLE / 2);
    expect(onPostgres.delivered).toEqual(onSqlite.delivered);
  });
});
