import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  claimTask,
  enqueueTasks,
  fencedByTask,
  finishTask,
  heartbeatTask,
  leaseOf,
  listTasks,
  loadPage,
  releaseTask,
  requestCancel,
  settleRequestSlot,
  SLOT_HOLD_MS,
  startRun,
  takeRequestSlot,
  TaskLeaseLostError,
  thisProcess,
  type LeaseProcess,
  type Store,
} from '../../core/index.js';
import { engines } from '../support/engines.js';

/** A process of this host that has exited, as its lease would have recorded it. */
function deadProcess(): LeaseProcess {
  const child = spawnSync(process.execPath, [
    '-e',
    'process.stdout.write(require("fs").readFileSync("/proc/self/stat", "utf8"))',
  ]);
  const stat = child.stdout.toString();
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { host: thisProcess().host, pid: Number(stat.split(' ')[0]), started: fields[19] ?? null };
}

const t0 = new Date('2026-01-01T00:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

/** A run of job `nightly` with two reads, a compute and two pushes. */
async function nightly(store: Store): Promise<number> {
  const runId = await startRun(store, 'nightly');
  await enqueueTasks(store, runId, 'nightly', [
    { step: 0, kind: 'read', spec: { source: 'shop', stream: 'contacts' } },
    { step: 0, kind: 'read', spec: { source: 'shop', stream: 'events' } },
    { step: 1, kind: 'compute', spec: {} },
    { step: 2, kind: 'push', spec: { destination: 'crm', segment: 'a' } },
    { step: 2, kind: 'push', spec: { destination: 'crm', segment: 'b' } },
  ]);
  return runId;
}

const page = (n: number) => ({
  connection: 'shop',
  stream: 'contacts',
  records: [{ kind: 'contact' as const, source: 'shop', externalId: `c${n}`, traits: { email: `p${n}@example.com` } }],
  checkpoint: n,
});

for (const engine of engines) {
  describe(`job tasks (${engine.name})`, () => {
    it('are claimed step by step: the compute only once both reads finished, the pushes after it', async () => {
      const { store, close } = await engine.open();
      try {
        await nightly(store);
        const a = (await claimTask(store, 'w1', 60_000, t0))!;
        const b = (await claimTask(store, 'w2', 60_000, t0))!;
        expect([a.kind, b.kind]).toEqual(['read', 'read']);
        expect(a.id).not.toBe(b.id);
        expect(await claimTask(store, 'w3', 60_000, t0)).toBeUndefined();
        expect(await finishTask(store, leaseOf(a), 'succeeded', { rows: 1 })).toBe(true);
        expect(await claimTask(store, 'w3', 60_000, t0)).toBeUndefined();
        expect(await finishTask(store, leaseOf(b), 'succeeded', { rows: 2 })).toBe(true);
        const compute = (await claimTask(store, 'w3', 60_000, t0))!;
        expect(compute.kind).toBe('compute');
        expect(await claimTask(store, 'w1', 60_000, t0)).toBeUndefined();
        expect(await finishTask(store, leaseOf(compute), 'succeeded', {})).toBe(true);
        const pushes = [await claimTask(store, 'w1', 60_000, t0), await claimTask(store, 'w2', 60_000, t0)];
        expect(pushes.map((p) => p?.spec)).toEqual([
          { destination: 'crm', segment: 'a' },
          { destination: 'crm', segment: 'b' },
        ]);
      } finally {
        await close();
      }
    });

    it('of a sliced compute: the slices side by side after the prepare task, the segments task only after every slice', async () => {
      const { store, close } = await engine.open();
      try {
        const runId = await startRun(store, 'nightly');
        await enqueueTasks(store, runId, 'nightly', [
          { step: 0, stage: 0, kind: 'compute', spec: { part: 'prepare' } },
          { step: 0, stage: 1, kind: 'compute', spec: { part: 'features', slice: 0 } },
          { step: 0, stage: 1, kind: 'compute', spec: { part: 'features', slice: 1 } },
          { step: 0, stage: 2, kind: 'compute', spec: { part: 'segments' } },
          { step: 1, kind: 'push', spec: { destination: 'crm', segment: 'a' } },
        ]);
        const prepare = (await claimTask(store, 'w1', 60_000, t0))!;
        expect(prepare.spec).toEqual({ part: 'prepare' });
        expect(await claimTask(store, 'w2', 60_000, t0)).toBeUndefined();
        await finishTask(store, leaseOf(prepare), 'succeeded', { plan: {} });
        const slices = [(await claimTask(store, 'w1', 60_000, t0))!, (await claimTask(store, 'w2', 60_000, t0))!];
        expect(slices.map((t) => t.spec)).toEqual([
          { part: 'features', slice: 0 },
          { part: 'features', slice: 1 },
        ]);
        await finishTask(store, leaseOf(slices[0]!), 'succeeded', {});
        expect(await claimTask(store, 'w1', 60_000, t0)).toBeUndefined();
        // A slice that fails fails the segments task and the push in the same transaction: nothing can claim them.
        await finishTask(store, leaseOf(slices[1]!), 'failed', null, 'the slice failed');
        expect(await claimTask(store, 'w1', 60_000, t0)).toBeUndefined();
        expect((await listTasks(store, runId)).map((t) => [t.stage, t.status, t.error])).toEqual([
          [0, 'succeeded', null],
          [1, 'succeeded', null],
          [1, 'failed', 'the slice failed'],
          [2, 'failed', 'not computed: a compute task before it failed'],
          [0, 'failed', 'not pushed: the compute step before it failed'],
        ]);
      } finally {
        await close();
      }
    });

    it('claimed at the same moment by many workers, each task goes to one of them', async () => {
      const { store, close } = await engine.open();
      try {
        const runId = await startRun(store, 'wide');
        await enqueueTasks(
          store,
          runId,
          'wide',
          Array.from({ length: 12 }, (_, i) => ({ step: 0, kind: 'read' as const, spec: { stream: `s${i}` } })),
        );
        const claims = await Promise.all(Array.from({ length: 16 }, (_, i) => claimTask(store, `w${i}`, 60_000, t0)));
        const ids = claims.filter((c) => c !== undefined).map((c) => c.id);
        expect(ids).toHaveLength(12);
        expect(new Set(ids).size).toBe(12);
      } finally {
        await close();
      }
    });

    it('are re-claimed once their lease expires, and the late holder can neither commit nor finish', async () => {
      const { store, close } = await engine.open();
      try {
        await nightly(store);
        const first = (await claimTask(store, 'paused', 10_000, t0))!;
        expect(await heartbeatTask(store, leaseOf(first), 10_000, later(5_000))).toBe(true);
        // Still held (heartbeat at 5 s, lease to 15 s): the other worker gets the other read.
        expect((await claimTask(store, 'other', 10_000, later(12_000)))?.id).not.toBe(first.id);
        const again = (await claimTask(store, 'other', 10_000, later(16_000)))!;
        expect(again.id).toBe(first.id);
        expect(again.fence).toBe(first.fence + 1);
        expect(again.attempts).toBe(2);
        await expect(loadPage(fencedByTask(store, leaseOf(first)), page(1))).rejects.toThrow(TaskLeaseLostError);
        expect(await store.get('SELECT COUNT(*) AS n FROM identities')).toEqual({ n: 0 });
        expect(await heartbeatTask(store, leaseOf(first), 10_000, later(17_000))).toBe(false);
        expect(await finishTask(store, leaseOf(first), 'succeeded', {})).toBe(false);
        await loadPage(fencedByTask(store, leaseOf(again)), page(1));
        expect(await finishTask(store, leaseOf(again), 'succeeded', {})).toBe(true);
        const task = (await listTasks(store, first.runId)).find((t) => t.id === first.id)!;
        expect([task.status, task.holder]).toEqual(['succeeded', 'other']);
      } finally {
        await close();
      }
    });

    it('held by a dead process on this host are re-claimed at once', async () => {
      const { store, close } = await engine.open();
      try {
        await nightly(store);
        const dead = (await claimTask(store, 'killed', 600_000, t0, deadProcess()))!;
        expect((await claimTask(store, 'next', 600_000, later(1000)))?.id).toBe(dead.id);
        const live = (await claimTask(store, 'live', 600_000, later(1000)))!;
        expect(live.id).not.toBe(dead.id);
        // The live holder keeps its task.
        expect(await claimTask(store, 'other', 600_000, later(2000))).toBeUndefined();
      } finally {
        await close();
      }
    });

    it('given back by a stopping worker are claimed by the next; a run asked to cancel gives out none', async () => {
      const { store, close } = await engine.open();
      try {
        const runId = await nightly(store);
        const task = (await claimTask(store, 'stopping', 600_000, t0))!;
        expect(await releaseTask(store, leaseOf(task))).toBe(true);
        expect((await claimTask(store, 'next', 600_000, t0))?.id).toBe(task.id);
        await requestCancel(store, runId);
        expect(await claimTask(store, 'next', 600_000, t0)).toBeUndefined();
      } finally {
        await close();
      }
    });
  });

  describe(`shared rate budgets (${engine.name})`, () => {
    const budget = { key: 'hubspot:crm', requests: 100, intervalMs: 10_000 };
    /** The most requests in any window of the interval (a window includes its end, not its start). */
    const busiest = (times: number[]): number => {
      let most = 0;
      for (let i = 0, j = 0; j < times.length; j++) {
        while (times[j]! - times[i]! >= budget.intervalMs) i++;
        most = Math.max(most, j - i + 1);
      }
      return most;
    };

    it('admit at most the limit in any rolling window, whoever asks, and the whole limit over time', async () => {
      const { store, close } = await engine.open();
      try {
        // Three callers asking every 100 ms for 40 s of the budget's clock; each request answered at once.
        const admitted: number[] = [];
        for (let t = 0; t < 40_000; t += 100) {
          for (let caller = 0; caller < 3; caller++) {
            const taken = await takeRequestSlot(store, budget, t0.getTime() + t);
            if (!('slot' in taken)) continue;
            admitted.push(t);
            await settleRequestSlot(store, budget, taken, t0.getTime() + t);
          }
        }
        expect(busiest(admitted)).toBe(100);
        // Four windows' worth, all of it.
        expect(admitted.length).toBe(400);
        // Asked until refused, a caller is told how long to wait, and admitted then.
        const late = t0.getTime() + 43_300;
        let refused: { waitMs: number } | undefined;
        for (let n = 0; refused === undefined && n <= 100; n++) {
          const taken = await takeRequestSlot(store, budget, late);
          if ('slot' in taken) await settleRequestSlot(store, budget, taken, late);
          else refused = taken;
        }
        expect(refused?.waitMs).toBeGreaterThan(0);
        expect(await takeRequestSlot(store, budget, late + refused!.waitMs)).toHaveProperty('slot');
      } finally {
        await close();
      }
    });

    it('keep only the slots their traffic needs under a high limit', async () => {
      const { store, close } = await engine.open();
      try {
        const high = { ...budget, requests: 1_000_000 };
        for (let n = 0; n < 5; n++) {
          const taken = await takeRequestSlot(store, high, t0.getTime() + n);
          if ('slot' in taken) await settleRequestSlot(store, high, taken, t0.getTime() + n);
        }
        expect(await store.get('SELECT COUNT(*) AS n FROM rate_budget_slots')).toEqual({ n: 5 });
      } finally {
        await close();
      }
    });

    it('count a request from when its answer came back, and hold the slot of one never answered', async () => {
      const { store, close } = await engine.open();
      try {
        const small = { ...budget, requests: 2 };
        const at = (ms: number) => t0.getTime() + ms;
        const slow = await takeRequestSlot(store, small, at(0));
        const quick = await takeRequestSlot(store, small, at(0));
        if (!('slot' in slow) || !('slot' in quick)) throw new Error('expected two slots');
        // The quick request was answered at once; the slow one reached the tool late and was answered at 3 s.
        await settleRequestSlot(store, small, quick, at(0));
        expect(await takeRequestSlot(store, small, at(9_000))).not.toHaveProperty('slot');
        await settleRequestSlot(store, small, slow, at(3_000));
        const next = await takeRequestSlot(store, small, at(10_001));
        expect(next).toHaveProperty('slot', quick.slot);
        // The slow one's slot frees one interval after its answer, not after its admission.
        expect(await takeRequestSlot(store, small, at(12_000))).toEqual({ waitMs: 1_001 });
        expect(await takeRequestSlot(store, small, at(13_001))).toHaveProperty('slot', slow.slot);
        // Neither of these two is settled (their process died): each slot is held for SLOT_HOLD_MS, then free an
        // interval later.
        const freed = 10_001 + SLOT_HOLD_MS + small.intervalMs;
        expect(await takeRequestSlot(store, small, at(freed - 1))).not.toHaveProperty('slot');
        expect(await takeRequestSlot(store, small, at(freed))).toHaveProperty('slot', quick.slot);
      } finally {
        await close();
      }
    });
  });
}
