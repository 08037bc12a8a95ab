import { afterEach, describe, expect, it } from 'vitest';
import { computeFeatures, recomputeContacts } from '../../core/features/index.js';
import { evaluateSegments, inHoldout, previewSegment, type SegmentDefinition } from '../../core/segments/index.js';
import type { Store } from '../../core/index.js';
import { engines, type TestEngine } from '../support/engines.js';
import { CURRENCY, NOW, fixtureRecords, happened, idOf, load, storeOn } from '../features/fixture.js';

const PEOPLE = ['ada', 'bob', 'cy', 'dee', 'eve'];
const LATER = new Date('2026-04-10T00:00:00.000Z');
const LATER_SAME_DAY = new Date('2026-03-01T06:00:00.000Z');
const stores: Store[] = [];

async function fixtureStore(engine: TestEngine): Promise<Store> {
  const store = await storeOn(engine);
  stores.push(store);
  await load(store, fixtureRecords());
  await computeFeatures(store, { now: NOW, currency: CURRENCY });
  return store;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function memberNames(store: Store, key: string, table = 'memberships'): Promise<string[]> {
  const names = new Map(
    await Promise.all(PEOPLE.map(async (p): Promise<[number, string]> => [await idOf(store, p), p])),
  );
  return ((await store.all(`SELECT contact_id FROM ${table} WHERE segment_key = ?`, [key])) as { contact_id: number }[])
    .map((r) => names.get(r.contact_id) ?? '?')
    .sort();
}

const fr = (countries: string[]): SegmentDefinition => ({ key: 'fr', rule: { trait: 'country', in: countries } });
const buyers: SegmentDefinition = { key: 'buyers_30d', rule: { event: 'purchase', within: '30d' } };

describe.each(engines)('evaluating segments records membership over time, on $name', (engine) => {
  it('reports size and entries on a first run, with history at the segment version', async () => {
    const store = await fixtureStore(engine);
    const report = await evaluateSegments(store, [fr(['FR']), buyers], { now: NOW });
    expect(report.segments).toEqual([
      {
        key: 'fr',
        version: 1,
        size: 2,
        control: 0,
        entered: 2,
        exited: 0,
        stability: null,
        changedShare: 1,
        drift: false,
      },
      {
        key: 'buyers_30d',
        version: 1,
        size: 3,
        control: 0,
        entered: 3,
        exited: 0,
        stability: null,
        changedShare: 1,
        drift: false,
      },
    ]);
    expect(report.driftAlerts).toEqual([]);
    expect(await memberNames(store, 'buyers_30d')).toEqual(['ada', 'bob', 'eve']);
    const history = await store.all(
      "SELECT segment_version, entered_at, exited_at FROM membership_history WHERE segment_key = 'fr'",
    );
    expect(history).toEqual([
      { segment_version: 1, entered_at: NOW.toISOString(), exited_at: null },
      { segment_version: 1, entered_at: NOW.toISOString(), exited_at: null },
    ]);
  });

  it('records exits, a new version, stability, the migration matrix and a drift alert on the next run', async () => {
    const store = await fixtureStore(engine);
    await evaluateSegments(store, [fr(['FR']), buyers], { now: NOW });
    // 2026-04-10: every purchase is older than 30 days, and the fr rule now also takes DE (bob)
    const report = await evaluateSegments(store, [fr(['FR', 'DE']), buyers], { now: LATER });
    expect(report.segments[0]).toMatchObject({
      key: 'fr',
      version: 2,
      size: 3,
      entered: 1,
      exited: 0,
      stability: 1,
      drift: false,
    });
    expect(report.segments[0]?.changedShare).toBeCloseTo(1 / 3, 12);
    expect(report.segments[1]).toEqual({
      key: 'buyers_30d',
      version: 1,
      size: 0,
      control: 0,
      entered: 0,
      exited: 3,
      stability: 0,
      changedShare: 1,
      drift: true,
    });
    expect(report.driftAlerts).toEqual([
      expect.stringContaining('segment buyers_30d: 100% of its members moved at once'),
    ]);
    const sortKey = (m: { from: string | null; to: string | null }) => `${m.from ?? '~'}>${m.to ?? '~'}`;
    expect([...report.migrations].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))).toEqual([
      { from: 'buyers_30d', to: 'fr', contacts: 2 }, // ada (also stayed in fr) and bob
      { from: 'buyers_30d', to: null, contacts: 1 }, // eve
      { from: 'fr', to: 'fr', contacts: 2 }, // ada, cy
    ]);
    const bob = await store.get(
      "SELECT segment_version, entered_at FROM membership_history WHERE segment_key = 'fr' AND contact_id = ?",
      [await idOf(store, 'bob')],
    );
    expect(bob).toEqual({ segment_version: 2, entered_at: LATER.toISOString() });
    const exits = await store.all("SELECT exited_at FROM membership_history WHERE segment_key = 'buyers_30d'");
    expect(exits).toEqual(Array(3).fill({ exited_at: LATER.toISOString() }));
    const flagged = await store.all('SELECT drift_alert FROM segment_runs ORDER BY id');
    expect(flagged).toEqual([{ drift_alert: 0 }, { drift_alert: 1 }]);
  });

  it('honours a configured drift share', async () => {
    const store = await fixtureStore(engine);
    await evaluateSegments(store, [fr(['FR'])], { now: NOW });
    const report = await evaluateSegments(store, [fr(['FR', 'DE'])], { now: NOW, driftShare: 0.3 });
    expect(report.segments[0]?.drift).toBe(true);
  });

  it('splits a holdout by a deterministic hash, records it as control and never as a member', async () => {
    const store = await fixtureStore(engine);
    const everyone: SegmentDefinition = { key: 'everyone', rule: { trait: 'email', exists: true }, holdout: 0.4 };
    const report = await evaluateSegments(store, [everyone], { now: NOW });
    const ids = await Promise.all(PEOPLE.map((p) => idOf(store, p)));
    const control = PEOPLE.filter((_, i) => inHoldout('everyone', ids[i]!, 0.4));
    expect(await memberNames(store, 'everyone', 'segment_holdout_members')).toEqual(control);
    expect(await memberNames(store, 'everyone')).toEqual(PEOPLE.filter((p) => !control.includes(p)));
    expect(report.segments[0]).toMatchObject({ size: 5 - control.length, control: control.length });
    await evaluateSegments(store, [everyone], { now: NOW });
    expect(await memberNames(store, 'everyone', 'segment_holdout_members')).toEqual(control);
  });

  it('writes nothing on a second full run when nothing changed: no history rows, same entry times', async () => {
    const store = await fixtureStore(engine);
    const segments: SegmentDefinition[] = [
      fr(['FR']),
      buyers,
      { key: 'everyone', rule: { trait: 'email', exists: true }, holdout: 0.4 },
      { key: 'french_buyers', rule: { all: [{ in_segment: 'fr' }, { in_segment: 'buyers_30d' }] } },
    ];
    const state = async () => ({
      members: await store.all('SELECT segment_key, contact_id, entered_at FROM memberships ORDER BY 1, 2'),
      history: await store.all(
        'SELECT id, segment_key, contact_id, segment_version, entered_at, exited_at FROM membership_history ORDER BY id',
      ),
      control: await store.all('SELECT segment_key, contact_id, entered_at FROM segment_holdout_members ORDER BY 1, 2'),
      controlHistory: await store.all('SELECT * FROM segment_holdout_history ORDER BY id'),
    });
    const first = await evaluateSegments(store, segments, { now: NOW });
    const written = await state();
    await computeFeatures(store, { now: NOW, currency: CURRENCY });
    const second = await evaluateSegments(store, segments, { now: LATER_SAME_DAY });
    expect(await state()).toEqual(written);
    expect(second.segments.map((s) => [s.key, s.size, s.control, s.entered, s.exited, s.stability])).toEqual(
      first.segments.map((s) => [s.key, s.size, s.control, 0, 0, s.size === 0 ? null : 1]),
    );
    expect(first.segments.find((s) => s.key === 'french_buyers')?.size).toBeGreaterThan(0);
    expect(first.segments.find((s) => s.key === 'everyone')?.control).toBeGreaterThan(0);
  });

  it('holds out the configured share of a large id range, evenly', () => {
    let held = 0;
    for (let id = 1; id <= 100_000; id++) if (inHoldout('vip', id, 0.1)) held++;
    expect(Math.abs(held / 100_000 - 0.1)).toBeLessThan(0.002);
  });

  it('previews a count and a sample without saving anything', async () => {
    const store = await fixtureStore(engine);
    const preview = await previewSegment(store, 'buyers_30d', [buyers], { now: NOW, sample: 2 });
    expect(preview.count).toBe(3);
    expect(preview.sample.map((s) => s.email)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(await store.get('SELECT COUNT(*) AS n FROM memberships')).toEqual({ n: 0 });
  });
});

describe.each(engines)('incremental evaluation, on $name', (engine) => {
  const segments: SegmentDefinition[] = [
    fr(['FR']),
    buyers,
    { key: 'big', rule: { feature: 'monetary_all', gte: 100 } },
    { key: 'engaged', rule: { event: 'email_open', count: { gte: 1 }, within: '30d' } },
    { key: 'quiet_buyers', rule: { all: [{ in_segment: 'big' }, { not: { in_segment: 'engaged' } }] } },
  ];

  it('gives the same membership and history as a full run after some contacts get new events', async () => {
    const incremental = await fixtureStore(engine);
    const full = await fixtureStore(engine);
    for (const store of [incremental, full]) await evaluateSegments(store, segments, { now: NOW });
    const news = () => [
      happened('cy', 'purchase', '2026-02-27T00:00:00Z', 150, { currency: 'EUR' }),
      happened('ada', 'email_open', '2026-02-28T00:00:00Z'),
      happened('bob', 'purchase', '2026-02-28T13:00:00Z', 90, { currency: 'EUR' }),
    ];
    await load(incremental, news());
    await load(full, news());
    const touched = await Promise.all(['cy', 'ada', 'bob'].map((p) => idOf(incremental, p)));
    await recomputeContacts(incremental, touched, { now: NOW, currency: CURRENCY });
    await evaluateSegments(incremental, segments, { now: NOW, contacts: touched });
    await computeFeatures(full, { now: NOW, currency: CURRENCY });
    await evaluateSegments(full, segments, { now: NOW });
    const state = async (store: Store) => ({
      members: await store.all('SELECT segment_key, contact_id, entered_at FROM memberships ORDER BY 1, 2'),
      history: await store.all(
        'SELECT segment_key, contact_id, segment_version, entered_at, exited_at FROM membership_history ORDER BY 1, 2, 4',
      ),
    });
    expect(await state(incremental)).toEqual(await state(full));
    expect(await memberNames(full, 'big')).toEqual(['ada', 'bob', 'cy']);
  });
});
