/**
 * A real-time step recomputes the contacts its messages touched; the compute marks (`compute_dirty`) its own load made
 * for them are cleared with that recompute, so the next scheduled compute does not recompute them again and still
 * leaves what a full compute leaves. A mark another write made (which a running compute may have read) stays, and so
 * does a mark made after the step. On both engines.
 */
import { describe, expect, it } from 'vitest';
import { commitCompute, loadPage, planCompute, type SegmentDefinition, type Store } from '../../core/index.js';
import { acceptMessages, type InboxMessage } from '../../core/realtime/index.js';
import type { EventRecord } from '../../plugins/model/index.js';
import { computeAll, type ComputeReport } from '../../sync/compute/index.js';
import { runStep, type StepInput } from '../../sync/realtime/index.js';
import { engines } from '../support/engines.js';
import { identifiedOnWebsite } from './fixture.js';

const T = Date.parse('2026-03-01T00:00:00.000Z');
const HOUR = 3_600_000;
const SEGMENTS: SegmentDefinition[] = [
  { key: 'visited_today', rule: { event: 'page_view', within: '1d' } },
  { key: 'buyers', rule: { event: 'purchase', within: '30d' } },
];
const input: StepInput = { segments: SEGMENTS, destinations: ['cdp'] };
const PEOPLE = ['ada', 'bob', 'cy'];

let serial = 0;
function pageView(who: string, at: number): EventRecord {
  serial += 1;
  return {
    kind: 'event',
    source: 'tracking',
    sourceEventId: `view-${serial}`,
    type: 'page_view',
    occurredAt: new Date(at).toISOString(),
    contact: { externalId: who },
  };
}

/** A page view of `who` arriving over /v1 at `at`. */
async function arrives(store: Store, who: string, at: number): Promise<void> {
  const view = pageView(who, at);
  const message: InboxMessage = { messageId: view.sourceEventId, records: [view] };
  await acceptMessages(store, 'website', 'segment', [message], new Date(at));
}

/** The website knows everyone (an identify each), and a full compute has run at T. */
async function seeded(store: Store): Promise<void> {
  await identifiedOnWebsite(store, PEOPLE, new Date(T - HOUR));
  await compute(store, T);
}

async function compute(store: Store, now: number, mode?: 'full'): Promise<ComputeReport> {
  return await computeAll(store, {
    storePath: store.path,
    now: new Date(now).toISOString(),
    segments: SEGMENTS,
    ...(mode ? { mode } : {}),
  });
}

async function idOf(store: Store, who: string): Promise<number> {
  const row = (await store.get("SELECT contact_id FROM identities WHERE source = 'tracking' AND external_id = ?", [
    who,
  ])) as { contact_id: number };
  return Number(row.contact_id);
}

async function marks(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const who of PEOPLE) {
    const row = (await store.get('SELECT marks FROM compute_dirty WHERE contact_id = ?', [await idOf(store, who)])) as
      { marks: number } | undefined;
    if (row) out[who] = Number(row.marks);
  }
  return out;
}

/** What users see of a compute: features (but when they were computed) and memberships. */
async function outcome(store: Store): Promise<unknown> {
  const features = (
    (await store.all('SELECT * FROM contact_features ORDER BY contact_id')) as Record<string, unknown>[]
  ).map(({ computed_at: _at, ...rest }) => rest);
  const members = await store.all(
    'SELECT segment_key, contact_id, entered_at FROM memberships ORDER BY segment_key, contact_id',
  );
  return { features, members };
}

for (const engine of engines)
  describe(`on ${engine.name}`, () => {
    it('a step clears the marks its load made; the next compute redoes nothing and equals a full one', async () => {
      const { store, close } = await engine.open();
      try {
        await seeded(store);
        expect(await marks(store)).toEqual({});
        await arrives(store, 'ada', T + HOUR);
        await arrives(store, 'bob', T + HOUR);
        const step = await runStep(store, input, new Date(T + HOUR));
        expect(step).toMatchObject({ messages: 2, contacts: 2 });
        // Recomputed by the step (ada and bob visited today), and nothing left for the scheduled compute.
        expect(await marks(store)).toEqual({});
        const visited = (await store.all(
          "SELECT contact_id FROM memberships WHERE segment_key = 'visited_today' ORDER BY contact_id",
        )) as { contact_id: number }[];
        expect(visited.map((r) => Number(r.contact_id))).toEqual([await idOf(store, 'ada'), await idOf(store, 'bob')]);

        const report = await compute(store, T + 2 * HOUR);
        expect(report.scope).toMatchObject({ mode: 'incremental', dirty: 0 });
        const seen = await outcome(store);
        await compute(store, T + 2 * HOUR, 'full');
        expect(await outcome(store)).toEqual(seen);
      } finally {
        await close();
      }
    });

    it('keeps a mark another write made before the step, which a running compute may have read', async () => {
      const { store, close } = await engine.open();
      try {
        await seeded(store);
        // A scheduled sync brings a page view of ada: marked. A compute starts and reads that mark.
        await loadPage(store, {
          connection: 'crm',
          stream: 'events',
          records: [pageView('ada', T + HOUR)],
          checkpoint: null,
          now: new Date(T + HOUR),
        });
        expect(await marks(store)).toEqual({ ada: 1 });
        const now = new Date(T + 2 * HOUR);
        const plan = await planCompute(store, { now, fingerprints: { features: 'f', segments: 's' } });

        // Meanwhile the step loads and recomputes ada and cy: only cy's mark (its own) is cleared.
        await arrives(store, 'ada', T + 2 * HOUR);
        await arrives(store, 'cy', T + 2 * HOUR);
        await runStep(store, input, now);
        expect(await marks(store)).toEqual({ ada: 2 });

        // The compute commits: it clears the mark it read only if nothing marked ada since (here the step did).
        await store.transaction((tx) => commitCompute(tx, plan));
        expect(await marks(store)).toEqual({ ada: 2 });

        // A write after the step marks again, and that mark stays for the next compute.
        await loadPage(store, {
          connection: 'crm',
          stream: 'events',
          records: [pageView('cy', T + 3 * HOUR)],
          checkpoint: null,
          now: new Date(T + 3 * HOUR),
        });
        expect(await marks(store)).toEqual({ ada: 2, cy: 1 });
      } finally {
        await close();
      }
    });

    it('clears nothing when the last compute is later than the step clock', async () => {
      const { store, close } = await engine.open();
      try {
        await seeded(store);
        await arrives(store, 'bob', T - HOUR);
        // The step's clock is behind the last compute's "as of": the compute's next window scan starts after it.
        await runStep(store, input, new Date(T - HOUR));
        expect(await marks(store)).toEqual({ bob: 1 });
        const report = await compute(store, T + HOUR);
        expect(report.scope).toMatchObject({ mode: 'incremental', dirty: 1 });
        expect(await marks(store)).toEqual({});
      } finally {
        await close();
      }
    });
  });
