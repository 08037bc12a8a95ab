import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { createMemoryDestination } from '../../connectors/memory/index.js';
import { listRuns, openStore } from '../../core/index.js';
import { createRegistry, type Logger } from '../../plugins/index.js';
import { startScheduler } from '../../sync/schedule/index.js';
import { tempDir } from '../support/temp.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level}: ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug() {}, info: at('info'), warn: at('warn'), error: at('error') };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the scheduler', () => {
  it('skips the ticks that come while the same job is still running', async () => {
    const logger = recordingLogger();
    let started = 0;
    let active = 0;
    let mostAtOnce = 0;
    let finish: () => void = () => {};
    const scheduler = startScheduler({
      jobs: [{ name: 'nightly', schedule: '* * * * * *', timezone: 'UTC' }],
      logger,
      run: async () => {
        started++;
        active++;
        mostAtOnce = Math.max(mostAtOnce, active);
        await new Promise<void>((resolve) => (finish = resolve));
        active--;
      },
    });
    try {
      await until(() => started === 1, 'the first tick');
      expect(scheduler.status().jobs[0]?.running).toBe(true);
      await until(() => logger.lines.filter((l) => l.includes('tick skipped')).length >= 2, 'two skipped ticks');
      expect(started).toBe(1);
      finish();
      await until(() => started === 2, 'the next tick after the run ended');
      finish();
    } finally {
      await scheduler.stop();
    }
    expect(mostAtOnce).toBe(1);
    expect(scheduler.status().alive).toBe(false);
  });

  it('reads the expression in the job’s time zone', async () => {
    const scheduler = startScheduler({
      jobs: [
        { name: 'tokyo', schedule: '0 2 * * *', timezone: 'Asia/Tokyo' },
        { name: 'kolkata', schedule: '30 9 * * *', timezone: 'Asia/Kolkata' },
      ],
      logger: recordingLogger(),
      run: async () => undefined,
    });
    try {
      const [tokyo, kolkata] = scheduler.status().jobs;
      // 02:00 in Tokyo (UTC+9, no daylight saving) is 17:00 UTC; 09:30 in Kolkata (UTC+5:30) is 04:00 UTC.
      const t = new Date(tokyo!.next!);
      const k = new Date(kolkata!.next!);
      expect([t.getUTCHours(), t.getUTCMinutes()]).toEqual([17, 0]);
      expect([k.getUTCHours(), k.getUTCMinutes()]).toEqual([4, 0]);
      expect(t.getTime()).toBeGreaterThan(Date.now());
      expect(t.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
      expect(tokyo?.running).toBe(false);
    } finally {
      await scheduler.stop();
    }
  });

  it('refuses an invalid expression or time zone, naming the job', () => {
    const run = async () => undefined;
    expect(() =>
      startScheduler({
        jobs: [{ name: 'bad', schedule: 'every day', timezone: 'UTC' }],
        run,
        logger: recordingLogger(),
      }),
    ).toThrow(/job "bad": "every day" is not a cron expression/);
    expect(() =>
      startScheduler({
        jobs: [{ name: 'bad', schedule: '0 2 * * *', timezone: 'Mars/Olympus' }],
        run,
        logger: recordingLogger(),
      }),
    ).toThrow(/job "bad": "Mars\/Olympus" is not a time zone/);
  });
});

describe('two schedulers on one store', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('segflow-schedule-')));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never run a job twice at once, and deliver each member once', async () => {
    writeFileSync(
      join(dir, 'contacts.csv'),
      `id,email,updated_at\n${[0, 1, 2, 3].map((i) => `c${i},p${i}@example.com,2024-01-0${i + 1}T00:00:00Z`).join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'segflow.yaml'),
      `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  shop:
    connector: file
    config:
      source: shop
      contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} }
destinations:
  lists:
    connector: memory
    config: {}
segments:
  - key: everyone
    name: Everyone
    rule: { trait: email, exists: true }
jobs:
  nightly:
    schedule: '* * * * * *'
    steps:
      - read: { sources: [shop], mode: full }
      - compute: {}
      - push: { destination: lists, segments: [everyone], mode: mirror }
`,
    );
    const memory = createMemoryDestination({ batchSize: 1 });
    const write = memory.destination.write.bind(memory.destination);
    // A slow destination: each run takes longer than the one-second tick.
    memory.destination.write = async (batch, config, ctx) => {
      await sleep(400);
      return write(batch, config, ctx);
    };
    const registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
    const config = await loadConfig(join(dir, 'segflow.yaml'), { registry, env: {} });
    const results: JobResult[] = [];
    const schedulers = [0, 1].map((i) =>
      startScheduler({
        jobs: [{ name: 'nightly', schedule: '* * * * * *', timezone: 'UTC' }],
        logger: recordingLogger(),
        run: async (name) => {
          const result = await runJob(config, name, { registry, holder: `scheduler-${i}` });
          results.push(result);
          return result;
        },
      }),
    );
    try {
      await until(
        () =>
          results.filter((r) => r.status === 'locked').length >= 2 &&
          results.filter((r) => r.status === 'succeeded').length >= 2,
        'runs and locked ticks',
      );
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
    }
    const store = await openStore(config.store.path);
    const runs = (await listRuns(store, { job: 'nightly', limit: 100 })).reverse();
    await store.close();
    expect(runs.length).toBe(results.filter((r) => r.status !== 'locked').length);
    for (const [i, run] of runs.entries()) {
      expect(run.status).toBe('succeeded');
      const next = runs[i + 1];
      if (next) expect(next.startedAt >= run.finishedAt!).toBe(true);
    }
    const adds = memory.batches.flatMap((b) => b.changes.filter((c) => c.op === 'add').map((c) => c.contact.email));
    expect(adds.sort()).toEqual(['p0@example.com', 'p1@example.com', 'p2@example.com', 'p3@example.com']);
  }, 30_000);
});
