/**
 * The partitioned inbox on a store several processes share: step workers split the inbox shards between them and
 * load every message once; a worker whose lease was taken over cannot commit; a time partition is dropped whole once
 * its messages are loaded and past the retention. Then two `serve` processes on one store, one SIGKILLed while it
 * steps: every accepted message is stored once, and old partitions are dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type SegmentSandbox } from '../../connectors/segment/index.js';
import { openStore, type Queryable } from '../../core/index.js';
import {
  acceptMessages,
  dropLoadedPartitions,
  fencedByShards,
  INBOX_SHARDS,
  InboxLeaseLostError,
  leaseShards,
  partOf,
  type InboxLayout,
  type InboxMessage,
} from '../../core/realtime/index.js';
import { runStep, type StepInput } from '../../sync/realtime/index.js';
import { shardedSteps } from '../../sync/realtime/step.js';
import { engines } from '../support/engines.js';
import { basic, tempDir, WRITE_KEY, writeConfig } from './fixture.js';

const input: StepInput = { segments: [], destinations: [] };

/** A message about person `who`: their identify (with email) and a page view, under messageId `id`. */
function message(id: string, who: number, at = new Date()): InboxMessage {
  return {
    messageId: id,
    records: [
      {
        kind: 'contact',
        source: 'tracking',
        externalId: `u${who}`,
        traits: { email: `u${who}@example.com` },
      },
      {
        kind: 'event',
        source: 'tracking',
        sourceEventId: id,
        type: 'page_view',
        occurredAt: at.toISOString(),
        contact: { externalId: `u${who}` },
      },
    ],
  };
}

/** One-minute partitions kept one minute: a test sees several partitions come and go. */
const layout: InboxLayout = { partitionMs: 60_000, retentionMs: 60_000 };

/** Five messages received at `at` (people 1 to 5), accepted and loaded. */
async function fiveLoaded(store: Queryable, at: Date): Promise<void> {
  const five = [1, 2, 3, 4, 5].map((i) => message(`old-${i}`, i, at));
  await acceptMessages(store, 'website', 'segment', five, at, layout);
  await runStep(store, input, at);
}

const count = async (store: Queryable, sql: string, params: unknown[] = []): Promise<number> =>
  Number(((await store.get(sql, params as never)) as { n: number }).n);

for (const engine of engines)
  describe(`on ${engine.name}`, () => {
    it('two step workers split the shards and load every message once; one past its lease cannot commit', async () => {
      const { store, location, close } = await engine.open();
      const other = await openStore(location);
      try {
        const first = await leaseShards(store, 'step:a', 60_000);
        expect(first.shards).toHaveLength(INBOX_SHARDS);
        // b finds every shard held; a, seeing b, gives half back at its next renewal, and b takes them.
        expect((await leaseShards(other, 'step:b', 60_000)).shards).toHaveLength(0);
        const a = await leaseShards(store, 'step:a', 60_000);
        const b = await leaseShards(other, 'step:b', 60_000);
        const shardsOf = (l: typeof a) => l.shards.map((s) => s.shard);
        expect(shardsOf(a)).toHaveLength(INBOX_SHARDS / 2);
        expect([...shardsOf(a), ...shardsOf(b)].sort((x, y) => x - y)).toEqual(
          Array.from({ length: INBOX_SHARDS }, (_, i) => i),
        );

        await acceptMessages(
          store,
          'website',
          'segment',
          Array.from({ length: 40 }, (_, i) => message(`m-${i}`, i)),
        );
        const stepA = await runStep(fencedByShards(store, a), input, new Date(), shardsOf(a));
        const stepB = await runStep(fencedByShards(other, b), input, new Date(), shardsOf(b));
        expect(stepA.messages).toBeGreaterThan(0);
        expect(stepB.messages).toBeGreaterThan(0);
        expect(stepA.messages + stepB.messages).toBe(40);
        expect(await count(store, "SELECT COUNT(*) AS n FROM events WHERE source = 'tracking'")).toBe(40);

        // a stops renewing; its lease runs out and b takes every shard (new fencing tokens).
        const lapsed = await leaseShards(store, 'step:a', 1);
        await new Promise((r) => setTimeout(r, 5));
        const taken = await leaseShards(other, 'step:b', 60_000);
        expect(taken.shards).toHaveLength(INBOX_SHARDS);
        await acceptMessages(
          store,
          'website',
          'segment',
          Array.from({ length: 40 }, (_, i) => message(`n-${i}`, i)),
        );
        await expect(runStep(fencedByShards(store, lapsed), input, new Date(), shardsOf(lapsed))).rejects.toThrow(
          InboxLeaseLostError,
        );
        expect(await count(store, 'SELECT COUNT(*) AS n FROM realtime_inbox WHERE loaded_at IS NULL')).toBe(40);
        const stepTaken = await runStep(fencedByShards(other, taken), input, new Date(), shardsOf(taken));
        expect(stepTaken.messages).toBe(40);
        expect(await count(store, "SELECT COUNT(*) AS n FROM events WHERE source = 'tracking'")).toBe(80);
      } finally {
        await other.close();
        await close();
      }
    });

    it('drops a time partition whole once its messages are loaded and past the retention', async () => {
      const { store, close } = await engine.open();
      try {
        const t0 = new Date('2026-12-06T10:00:30.000Z');
        const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);
        await acceptMessages(store, 'website', 'segment', [message('old-1', 1), message('old-2', 2)], t0, layout);
        await runStep(store, input, t0);
        await acceptMessages(store, 'website', 'segment', [message('later-1', 3)], minutes(2), layout);
        await acceptMessages(store, 'website', 'segment', [message('now-1', 4)], minutes(5), layout);

        // At minute 5: the first part is loaded and old (dropped); minute 2's still waits (kept); minute 5's is current.
        expect(await dropLoadedPartitions(store, layout, minutes(5))).toEqual({
          dropped: [partOf(t0, layout.partitionMs)],
          more: false,
        });
        const left = async () =>
          (
            (await store.all('SELECT message_id FROM realtime_inbox ORDER BY message_id')) as { message_id: string }[]
          ).map((r) => r.message_id);
        expect(await left()).toEqual(['later-1', 'now-1']);
        if (engine.name === 'postgres')
          expect(
            await count(
              store,
              `SELECT COUNT(*) AS n FROM realtime_inbox_p${String(partOf(t0, 60_000)).padStart(2, '0')}`,
            ),
          ).toBe(0);

        await runStep(store, input, minutes(5));
        expect(await dropLoadedPartitions(store, layout, minutes(5))).toEqual({
          dropped: [partOf(minutes(2), layout.partitionMs)],
          more: false,
        });
        expect(await left()).toEqual(['now-1']);
        // Past the retention a resent message is new to the inbox, but its event is still stored once.
        expect(await acceptMessages(store, 'website', 'segment', [message('old-1', 1)], minutes(5), layout)).toEqual([
          true,
        ]);
        await runStep(store, input, minutes(5));
        expect(await count(store, "SELECT COUNT(*) AS n FROM events WHERE source_event_id = 'old-1'")).toBe(1);
      } finally {
        await close();
      }
    });

    it('deletes a due partition at most maxRows rows per call on SQLite (PostgreSQL truncates it whole)', async () => {
      const { store, close } = await engine.open();
      try {
        const t0 = new Date('2026-12-06T10:00:30.000Z');
        const later = new Date(t0.getTime() + 5 * 60_000);
        await fiveLoaded(store, t0);
        const kept = () => count(store, 'SELECT COUNT(*) AS n FROM realtime_inbox');
        const drop = () => dropLoadedPartitions(store, layout, later, { maxRows: 2 });
        const part = partOf(t0, layout.partitionMs);
        // PostgreSQL truncates the partition whole, whatever its rows; SQLite deletes two rows per call.
        if (engine.name === 'postgres') expect(await drop()).toEqual({ dropped: [part], more: false });
        else
          expect([await drop(), await drop(), await drop()]).toEqual([
            { dropped: [], more: true },
            { dropped: [], more: true },
            { dropped: [part], more: false },
          ]);
        expect(await kept()).toBe(0);
        expect(await drop()).toEqual({ dropped: [], more: false });
      } finally {
        await close();
      }
    });

    it('a step worker goes on deleting a due partition at its next steps, dropRows at a time', async () => {
      const { store, close } = await engine.open();
      try {
        // Three hours ago: past the retention, and 20 one-minute parts away from the current one on the ring of 32.
        const t0 = new Date(Date.now() - 3 * 3_600_000);
        await fiveLoaded(store, t0);
        const steps = shardedSteps(store, { ...input, layout, dropRows: 2 }, 'step:test');
        const kept: number[] = [];
        for (let i = 0; i < 3; i++) {
          await steps.step(new Date());
          kept.push(await count(store, 'SELECT COUNT(*) AS n FROM realtime_inbox'));
        }
        await steps.release();
        expect(kept).toEqual(engine.name === 'postgres' ? [0, 0, 0] : [3, 1, 0]);
      } finally {
        await close();
      }
    });

    describe('two serve processes on one store', () => {
      const children: ChildProcess[] = [];
      let sandbox: SegmentSandbox | undefined;
      let dir: string | undefined;
      const stopChildren = async (): Promise<void> => {
        for (const child of children.splice(0))
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
            await new Promise((r) => child.once('exit', r));
          }
      };
      afterEach(async () => {
        await stopChildren();
        await sandbox?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('a server SIGKILLed while it steps loses nothing and doubles nothing; old partitions are dropped', async () => {
        dir = tempDir();
        sandbox = await startSandbox({ seed: 'partitions' });
        const place = await engine.fresh();
        try {
          const config = await writeConfig(dir, sandbox, place.location);
          // Two-second partitions kept two seconds: the test sees partitions dropped while it runs.
          writeFileSync(
            config.file,
            readFileSync(config.file, 'utf8').replace(
              'server:\n',
              'server:\n  tracking: { inbox: { partition: 2s, retention: 2s } }\n',
            ),
          );
          await openStore(place.location).then((s) => s.close());
          const serveChild = async (): Promise<{ child: ChildProcess; url: string }> => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', 'test/realtime/serve-child.ts', config.file, '200'],
              { env: { ...process.env, SEGFLOW_WRITE_KEY_WEBSITE: WRITE_KEY }, stdio: ['ignore', 'pipe', 'inherit'] },
            );
            children.push(child);
            const lines = createInterface({ input: child.stdout! });
            const port = await new Promise<number>((resolve, reject) => {
              child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
              lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
            });
            return { child, url: `http://127.0.0.1:${port}` };
          };
          const [one, two] = await Promise.all([serveChild(), serveChild()]);
          const store = await openStore(place.location);
          try {
            let sent = 0;
            const unanswered: number[] = [];
            // A batch of `n` page views from message `from` on; one the server did not answer is kept for a resend.
            const post = async (url: string, from: number, n = 25): Promise<void> => {
              const batch = Array.from({ length: n }, (_, i) => ({
                type: 'track',
                userId: `p${(from + i) % 97}`,
                event: 'Product Viewed',
                messageId: `k-${from + i}`,
              }));
              try {
                const res = await fetch(`${url}/v1/batch`, {
                  method: 'POST',
                  body: JSON.stringify({ batch }),
                  headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' },
                });
                if (!res.ok) unanswered.push(from);
              } catch {
                unanswered.push(from);
              }
            };
            // Both servers' step workers lease shards: the second to start gets its half at the first's next renewal.
            const holders = () =>
              count(store, 'SELECT COUNT(DISTINCT holder) AS n FROM realtime_inbox_leases WHERE holder IS NOT NULL');
            const leased = Date.now() + 30_000;
            while ((await holders()) < 2 && Date.now() < leased) await new Promise((r) => setTimeout(r, 100));
            expect(await holders()).toBe(2);
            // Both servers take traffic and step until `one` is killed mid-run.
            for (let round = 0; round < 20; round++) {
              await Promise.all([post(one.url, sent), post(two.url, sent + 25)]);
              sent += 50;
              if (round === 10) one.child.kill('SIGKILL');
            }
            for (let round = 0; round < 10; round++) {
              await post(two.url, sent);
              sent += 25;
            }
            // Clients resend what was not answered (the killed server may have stored it anyway: then a duplicate).
            for (const from of unanswered.splice(0)) await post(two.url, from);
            expect(unanswered).toEqual([]);
            const stored = () =>
              count(store, "SELECT COUNT(DISTINCT source_event_id) AS n FROM events WHERE source_event_id LIKE 'k-%'");
            const end = Date.now() + 60_000;
            while ((await stored()) < sent && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
            expect(await stored()).toBe(sent);
            expect(await count(store, "SELECT COUNT(*) AS n FROM events WHERE source_event_id LIKE 'k-%'")).toBe(sent);
            expect(await count(store, 'SELECT COUNT(*) AS n FROM realtime_inbox WHERE loaded_at IS NULL')).toBe(0);
            // The survivor took the killed server's shards over.
            expect(await holders()).toBe(1);
            // The first messages' partitions are loaded and past the two seconds: dropped whole, soon.
            const first = () => count(store, "SELECT COUNT(*) AS n FROM realtime_inbox WHERE message_id = 'k-0'");
            const until = Date.now() + 30_000;
            while ((await first()) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
            expect(await first()).toBe(0);
          } finally {
            await store.close();
          }
        } finally {
          await stopChildren();
          await place.remove();
        }
      }, 180_000);
    });
  });
