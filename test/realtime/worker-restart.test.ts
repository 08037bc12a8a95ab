/**
 * A real-time step worker that stops is started again: `segflow serve` keeps loading and delivering what it accepts
 * once its worker can run, instead of answering 200s while nothing moves until someone restarts the process. The log
 * says why the worker stopped, and /health says real time is restarting meanwhile. SQLite only: the worker here stops
 * because its store's file cannot be opened for a moment, which has no PostgreSQL counterpart.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { ENTERED, startSandbox, type SegmentSandbox } from '../../connectors/segment/index.js';
import type { Logger } from '../../plugins/index.js';
import type { ServerDeps } from '../../server/deps.js';
import { createServer } from '../../server/app.js';
import { ingestRoutes, startRealtime } from '../../server/ingest/index.js';
import { basic, depsOf, rawMessages, tempDir, until, WRITE_KEY, writeConfig } from './fixture.js';

let dir: string | undefined;
let sandbox: SegmentSandbox | undefined;
let deps: ServerDeps | undefined;
afterEach(async () => {
  await deps?.store.close();
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a step worker that could not open its store is started again and delivers what was accepted meanwhile', async () => {
  dir = tempDir();
  sandbox = await startSandbox({ seed: 'worker-restart' });
  const config = await writeConfig(dir, sandbox);
  const errors: { message: string; fields: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message, fields = {}) => void errors.push({ message, fields }),
  };
  deps = await depsOf(config, logger);
  const file = config.store.path;
  // The server holds the store open; the worker opens it by its name, where a folder now stands for a moment.
  renameSync(file, `${file}.away`);
  mkdirSync(file);
  const realtime = await startRealtime(deps, { tickMs: 50, flushMs: 200 });
  let stopped: (typeof errors)[number] | undefined;
  const app = createServer({ ...deps, realtime });
  try {
    await expect(realtime.ready).rejects.toThrow(/cannot open the store/);
    stopped = errors.find((e) => e.message.includes('step worker stopped'));
    expect(stopped?.fields.reason).toContain(file);
    const health = async () => (await (await app.request('/health')).json()) as { status: string; realtime: string };
    expect(await health()).toMatchObject({ status: 'ok', realtime: 'restarting' });

    // Accepted meanwhile: committed by the server's own thread.
    const res = await ingestRoutes(deps).request('/v1/batch', {
      method: 'POST',
      body: JSON.stringify({
        batch: [
          { type: 'identify', userId: 'u1', messageId: 'm-identify', traits: { email: 'u1@example.com' } },
          {
            type: 'track',
            userId: 'u1',
            event: 'Order Completed',
            messageId: 'm-order',
            properties: { revenue: 25, currency: 'USD' },
          },
        ],
      }),
      headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);

    rmSync(file, { recursive: true });
    renameSync(`${file}.away`, file);
    await until('Segment Entered at the sandbox', () =>
      rawMessages(sandbox!).some((m) => m.type === 'track' && m.event === ENTERED),
    );
    expect(await health()).toMatchObject({ status: 'ok', realtime: 'running' });
  } finally {
    await realtime.stop();
  }
  expect(rawMessages(sandbox).filter((m) => m.event === ENTERED)).toHaveLength(1);
  // Started again a second after it stopped (and, on a machine slow to answer the POST, two more after that).
  expect(stopped?.fields.inMs).toBe(1000);
});
