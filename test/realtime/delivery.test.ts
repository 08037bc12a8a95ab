/**
 * End to end: an event in over /v1 → the contact recomputed → the membership change delivered to the Segment sandbox
 * within seconds, through the same delivered state as the scheduled push (which then sends nothing); and a server
 * SIGKILLed between accept and flush delivers after restart, exactly once as the sandbox's raw requests show.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob } from '../../sync/index.js';
import type { Config } from '../../config/index.js';
import { ENTERED, startSandbox, type SegmentSandbox } from '../../connectors/segment/index.js';
import { findContactByExternalId, openStore } from '../../core/index.js';
import { createRegistry } from '../../plugins/index.js';
import type { ServerDeps } from '../../server/deps.js';
import { ingestRoutes, startRealtime } from '../../server/ingest/index.js';
import { engines, type StoreLocation } from '../support/engines.js';
import { basic, depsOf, rawMessages, tempDir, until, WRITE_KEY, writeConfig } from './fixture.js';

let dir: string;
let sandbox: SegmentSandbox;
let config: Config;
let place: StoreLocation;

afterEach(async () => {
  await sandbox.close();
  await place.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** An identify with the buyer's email (what the destination addresses them by), then their purchase. */
const purchase = (userId: string, messageId: string) =>
  JSON.stringify({
    batch: [
      { type: 'identify', userId, messageId: `${messageId}-identify`, traits: { email: `${userId}@example.com` } },
      {
        type: 'track',
        userId,
        event: 'Order Completed',
        messageId,
        timestamp: new Date().toISOString(),
        properties: { revenue: 25, currency: 'USD' },
      },
    ],
  });

const entered = () => rawMessages(sandbox).filter((m) => m.type === 'track' && m.event === ENTERED);

for (const engine of engines)
  describe(`on ${engine.name}`, () => {
    beforeEach(async () => {
      dir = tempDir();
      sandbox = await startSandbox({ seed: 'realtime' });
      place = await engine.fresh();
      config = await writeConfig(dir, sandbox, place.location);
    });

    describe('an event in, a membership change out', () => {
      let deps: ServerDeps;
      afterEach(() => deps.store.close());

      it('a purchase puts the buyer in "buyers" at Segment within seconds; the scheduled push then sends nothing more', async () => {
        deps = await depsOf(config);
        const realtime = await startRealtime(deps, { tickMs: 50, flushMs: 200 });
        try {
          const res = await ingestRoutes(deps).request('/v1/batch', {
            method: 'POST',
            body: purchase('u1', 'order-1'),
            headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' },
          });
          expect(res.status).toBe(200);
          const page = await ingestRoutes(deps).request('/v1/page', {
            method: 'POST',
            body: JSON.stringify({
              userId: 'u2',
              messageId: 'page-1',
              properties: { url: 'https://shop.example.com/' },
            }),
            headers: { authorization: basic(WRITE_KEY) },
          });
          expect(page.status).toBe(200);
          await until('Segment Entered at the sandbox', () => entered().length > 0);
          // The page view may be loaded in a later step than the purchase (steps run as events arrive).
          await until(
            'the browser loaded',
            async () => (await findContactByExternalId(deps.store, 'tracking', 'u2')) !== undefined,
          );
        } finally {
          await realtime.stop();
        }
        const buyer = await findContactByExternalId(deps.store, 'tracking', 'u1');
        const browser = await findContactByExternalId(deps.store, 'tracking', 'u2');
        expect(buyer).toBeDefined();
        expect(browser).toBeDefined();
        expect(entered().map((m) => m.userId)).toEqual([String(buyer?.id)]);
        expect(sandbox.workspace.profile(String(buyer?.id))?.traits).toMatchObject({ buyers: true });

        const scheduled = await runJob(config, 'nightly', { registry: createRegistry(BUILTIN_CONNECTORS) });
        expect(scheduled.status).toBe('succeeded');
        const push = scheduled.steps.find((s) => s.kind === 'push');
        expect(push?.kind === 'push' && push.outcome.segments[0]?.added).toBe(0);
        expect(entered()).toHaveLength(1);
      });
    });

    describe('a crash between accept and flush', () => {
      const children: ChildProcess[] = [];
      afterEach(() => {
        for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });

      async function serveChild(flushMs: number): Promise<{ child: ChildProcess; url: string }> {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'test/realtime/serve-child.ts', config.file, String(flushMs)],
          {
            env: { ...process.env, SEGFLOW_WRITE_KEY_WEBSITE: WRITE_KEY },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        children.push(child);
        const lines = createInterface({ input: child.stdout! });
        const port = await new Promise<number>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
          lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
        });
        return { child, url: `http://127.0.0.1:${port}` };
      }

      const queued = async (): Promise<number> => {
        const store = await openStore(config.store.path);
        try {
          return (
            (await store.get("SELECT COUNT(*) AS n FROM realtime_pending WHERE destination = 'cdp'")) as { n: number }
          ).n;
        } finally {
          await store.close();
        }
      };

      it('the accepted purchase is delivered after restart, exactly once', async () => {
        // A flush window far longer than the test: the first server accepts and recomputes but never flushes.
        const first = await serveChild(600_000);
        const res = await fetch(`${first.url}/v1/batch`, {
          method: 'POST',
          body: purchase('u9', 'order-9'),
          headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' },
        });
        expect(res.status).toBe(200);
        await until('the change queued for the destination', async () => (await queued()) === 1);
        first.child.kill('SIGKILL');
        await new Promise((r) => first.child.once('exit', r));
        expect(rawMessages(sandbox)).toHaveLength(0);

        const second = await serveChild(100);
        await until('Segment Entered at the sandbox', () => entered().length > 0);
        await until('the queue emptied', async () => (await queued()) === 0);
        // The client retries the request it never got an answer for: a duplicate, not a second purchase.
        const retry = await fetch(`${second.url}/v1/batch`, {
          method: 'POST',
          body: purchase('u9', 'order-9'),
          headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' },
        });
        expect(((await retry.json()) as { duplicates: number }).duplicates).toBe(2);
        await new Promise((r) => setTimeout(r, 500));
        second.child.kill('SIGTERM');
        expect(entered()).toHaveLength(1);
        expect(rawMessages(sandbox).filter((m) => m.type === 'identify')).toHaveLength(1);
      }, 120_000);
    });
  });
