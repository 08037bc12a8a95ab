/**
 * A scheduled computation runs below the real-time path: its compute worker thread (and the threads it starts) at a
 * lower CPU priority, while the thread answering HTTP and the real-time step worker keep theirs, read from /proc as
 * the OS schedules them.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { generate } from '../../bench/segments.js';
import type { Config } from '../../config/index.js';
import { BACKGROUND_NICE, openStore } from '../../core/index.js';
import { startRealtime } from '../../server/ingest/index.js';
import { computeInWorker } from '../../sync/compute/index.js';
import { depsOf, tempDir, writeConfig } from './fixture.js';

let dir: string;
let config: Config;

beforeEach(async () => {
  dir = tempDir();
  config = await writeConfig(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Each thread of this process and its nice value (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceByThread(): Map<string, number> {
  const threads = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, Number(fields[16]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

// A test process already at or below the background priority (run under `nice`) has no lower priority to show.
it.runIf(process.platform === 'linux' && getPriority(0) < BACKGROUND_NICE)(
  'a scheduled compute runs at a lower priority than the HTTP thread and the real-time step worker',
  async () => {
    const seed = await openStore(config.store.path);
    await generate(seed, 5000, 50_000);
    await seed.close();
    const deps = await depsOf(config);
    const realtime = await startRealtime(deps);
    try {
      await realtime.ready;
      const realtimeThreads = niceByThread();
      const samples: Map<string, number>[] = [];
      const sampler = setInterval(() => samples.push(niceByThread()), 2);
      const report = await computeInWorker(
        { storePath: config.store.path, now: new Date().toISOString(), segments: config.segments },
        { onPhase: () => samples.push(niceByThread()) },
      ).finally(() => clearInterval(sampler));

      expect(report.contacts).toBe(5000);
      const computeNice = samples.flatMap((s) =>
        [...s].filter(([tid]) => !realtimeThreads.has(tid)).map(([, nice]) => nice),
      );
      expect(computeNice).toContain(BACKGROUND_NICE);
      // Every thread that was there before the compute (this one, the step worker, Node's own) kept its priority.
      for (const sample of samples) {
        for (const [tid, nice] of sample) if (realtimeThreads.has(tid)) expect(nice).toBe(realtimeThreads.get(tid));
      }
      expect([...realtimeThreads.values()].every((nice) => nice < BACKGROUND_NICE)).toBe(true);
    } finally {
      await realtime.stop();
      await deps.store.close();
    }
  },
);
