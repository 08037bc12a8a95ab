/**
 * The real-time inbox's clean-up on SQLite: an hour of loaded messages past the retention (full scale 1,000,000, an
 * hour at 278 events/s; random message ids, as real ones are) is dropped the way a step worker drops it, DROP_ROWS
 * rows per step with the step worker's checkpoint every fourth step, each call holding the write lock while it runs,
 * beside the one DELETE of the whole hour that segflow ran before ee00cca (on a copy of the same store). Also the
 * once-a-minute search for the parts that still hold waiting messages, among all those kept, as written before
 * 3f8e911 and now. The store has no statistics, as no segflow store does.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../core/index.js';
import { DEFAULT_INBOX_LAYOUT, dropLoadedPartitions, INBOX_SHARDS, partOf } from '../core/realtime/index.js';
import { DROP_ROWS } from '../sync/realtime/step.js';
import { checkpointWal } from '../sync/realtime/wal.js';
import { percentile, timed } from './report.js';
import type { Benchmark } from './run.js';

const HOUR = 3_600_000;

/** `n` loaded messages received over the hour that began 26 hours before `now` (past the default 24 h retention). */
async function keptHour(store: Store, n: number, now: Date): Promise<number> {
  const start = Math.floor((now.getTime() - 26 * HOUR) / HOUR) * HOUR;
  const part = partOf(new Date(start), DEFAULT_INBOX_LAYOUT.partitionMs);
  await store.transaction(async (tx) => {
    await tx.run(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO realtime_inbox (connection, message_id, kind, records, received_at, loaded_at, part, shard)
       SELECT 'website', lower(hex(randomblob(16))), 'segment', '[]',
         strftime('%Y-%m-%dT%H:%M:%fZ', ?, '+' || (i * 3599.0 / ?) || ' seconds'), ?, ?, i % ?
       FROM n`,
      [n, new Date(start).toISOString(), n, new Date(start + HOUR).toISOString(), part, INBOX_SHARDS],
    );
  });
  return part;
}

const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const kept = toy ? 5_000 : 1_000_000;
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-inbox-'));
    try {
      const now = new Date();
      const path = join(dir, 'segflow.db');
      let store = await openStore(path);
      log(`keeping ${kept} loaded messages in the hour 26 h ago`);
      const part = await keptHour(store, kept, now);
      await store.close();
      copyFileSync(path, join(dir, 'before.db'));

      // The parts that still hold waiting messages, among every kept one: the query before 3f8e911, and now.
      const before = await openStore(join(dir, 'before.db'));
      const [, waitingOld] = await timed(() =>
        before.all('SELECT DISTINCT part FROM realtime_inbox WHERE loaded_at IS NULL'),
      );
      const [, waitingNow] = await timed(() =>
        before.all('SELECT DISTINCT +part AS part FROM realtime_inbox WHERE loaded_at IS NULL'),
      );
      // Before ee00cca: the whole hour in one DELETE, holding the write lock throughout.
      log('deleting the hour in one statement (a copy of the store)');
      const wholeCpuAtStart = process.cpuUsage();
      const [, whole] = await timed(() =>
        before.transaction((tx) => tx.run('DELETE FROM realtime_inbox WHERE part = ?', [part])),
      );
      await checkpointWal(before);
      const wholeCpu = process.cpuUsage(wholeCpuAtStart);
      await before.close();

      log(`deleting the hour ${DROP_ROWS} rows per call, as a step worker does`);
      store = await openStore(path);
      // As the step worker: autocheckpoint off, and a checkpoint of its own every fourth step (once a second).
      await store.exec('PRAGMA wal_autocheckpoint = 0');
      const calls: number[] = [];
      const cpuAtStart = process.cpuUsage();
      for (;;) {
        const [{ more }, took] = await timed(() =>
          dropLoadedPartitions(store, DEFAULT_INBOX_LAYOUT, now, { maxRows: DROP_ROWS }),
        );
        calls.push(took);
        if (calls.length % 4 === 0) await checkpointWal(store);
        if (!more) break;
      }
      await checkpointWal(store);
      const cpu = process.cpuUsage(cpuAtStart);
      const left = (await store.get('SELECT COUNT(*) AS n FROM realtime_inbox')) as { n: number };
      await store.close();
      const total = calls.reduce((a, b) => a + b, 0);
      const perRow = (used: NodeJS.CpuUsage) => `${((used.user + used.system) / kept).toFixed(1)} µs`;
      return [
        `${kept.toLocaleString('en')} loaded messages kept in one hour's partition past the retention (random 32-hex message ids), on SQLite without statistics; ${toy ? 'toy scale' : 'full scale'}. Machine: 2 cores, load average ${loadavg()[0]!.toFixed(1)} at the end.`,
        '',
        '| measure | value |',
        '| --- | --- |',
        `| one DELETE of the hour (segflow before ee00cca): the write lock held, every accept and step waiting | ${ms(whole)} |`,
        `| ${DROP_ROWS.toLocaleString('en')} rows per call (a step worker's clean-up, one call per step): calls / write lock held per call p50 / p99 / max | ${calls.length} / ${ms(percentile(calls, 0.5))} / ${ms(percentile(calls, 0.99))} / ${ms(Math.max(...calls))} |`,
        `| CPU per row deleted, checkpoints included: one DELETE / ${DROP_ROWS.toLocaleString('en')} per call | ${perRow(wholeCpu)} / ${perRow(cpu)} (the calls' wall time in all: ${ms(total)}) |`,
        `| messages left after the last call | ${Number(left.n)} |`,
        `| the parts still holding waiting messages, found among every kept one: \`DISTINCT part\` (before 3f8e911) / \`DISTINCT +part\` (now) | ${ms(waitingOld)} / ${ms(waitingNow)} |`,
      ].join('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
