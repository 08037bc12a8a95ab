import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, storeDump, type DumpLine, type Store } from '../../core/index.js';
import { partitionedPostgres, postgres, sqlite, type StoreLocation } from '../support/engines.js';
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

/**
 * The store's full canonical dump (what storeDigest hashes), one JSON line per row, with only what is known to differ
 * between two runs of the demo made equal:
 * - the HubSpot archived-contacts checkpoint's `reconciledAt`: the moment of its last id reconciliation, read from the
 *   connector context's clock, which is the real one (memberships.entered_at needs nothing: the demo evaluates its
 *   segments at the sandbox world's fixed now);
 * - the record ids the Salesforce sandbox gave campaign members (delivered_state.destination_record_id): assigned in the
 *   order members were sent, which follows contact ids, which follow how the concurrent reads of three sources
 *   interleaved. Which contact is a member, and the delivery's status, stay compared.
 * Everything else (contacts and their identities, traits, every event, checkpoints, memberships, delivered state) must
 * be equal on both engines.
 */
async function normalisedDump(store: Store): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of storeDump(store)) lines.push(JSON.stringify(normalise(line)));
  return lines;
}

function normalise([section, row]: DumpLine): DumpLine {
  if (section === 'delivered') {
    const values = row as readonly unknown[];
    if (values[0] === 'salesforce_campaigns' && values[3] !== null)
      return [section, values.map((v, i) => (i === 3 ? 'campaign member id' : v))];
  }
  if (section === 'checkpoints') {
    const checkpoint = row as { readonly state?: unknown };
    if (typeof checkpoint.state === 'string' && checkpoint.state.includes('"reconciledAt"')) {
      const state = JSON.parse(checkpoint.state) as Record<string, unknown>;
      return [section, { ...checkpoint, state: JSON.stringify({ ...state, reconciledAt: 'reconciled at run time' }) }];
    }
  }
  return [section, row];
}

describe('the demo world on both engines', { timeout: 600_000 }, () => {
  const places: StoreLocation[] = [];
  afterAll(async () => {
    for (const place of places) await place.remove();
  });

  it('gives the same store on SQLite, on PostgreSQL and on its partitioned layout: memberships, deliveries, and the full dump up to run-time values', async () => {
    const results: { members: string[]; delivered: string[]; dump: string[] }[] = [];
    for (const engine of [sqlite, postgres, partitionedPostgres]) {
      const place = await engine.fresh();
      places.push(place);
      const run = demo(place.location);
      expect(run.status, `${engine.name}: ${run.stdout}\n${run.stderr}`).toBe(0);
      const store = await openStore(place.location);
      try {
        results.push({
          members: await memberships(store),
          delivered: await deliveries(store),
          dump: await normalisedDump(store),
        });
      } finally {
        await store.close();
      }
    }
    const [onSqlite, onPostgres, onPartitions] = results as [
      (typeof results)[0],
      (typeof results)[0],
      (typeof results)[0],
    ];
    expect(onSqlite.members.length).toBeGreaterThan(PEOPLE / 2);
    expect(onPostgres.members).toEqual(onSqlite.members);
    expect(onSqlite.delivered.length).toBeGreaterThan(PEOPLE / 2);
    expect(onPostgres.delivered).toEqual(onSqlite.delivered);
    // Lines on one engine only, a few of each side: far more readable than two digests when something differs.
    const sqliteLines = new Set(onSqlite.dump);
    const postgresLines = new Set(onPostgres.dump);
    expect({
      onlyOnSqlite: onSqlite.dump.filter((l) => !postgresLines.has(l)).slice(0, 10),
      onlyOnPostgres: onPostgres.dump.filter((l) => !sqliteLines.has(l)).slice(0, 10),
    }).toEqual({ onlyOnSqlite: [], onlyOnPostgres: [] });
    expect(onPostgres.dump).toEqual(onSqlite.dump);
    // The partitioned layout (docs/SCALING.md's distribution keys as hash partitions) changes nothing either.
    expect(onPartitions.members).toEqual(onSqlite.members);
    expect(onPartitions.delivered).toEqual(onSqlite.delivered);
    expect(onPartitions.dump).toEqual(onSqlite.dump);
  });
});
