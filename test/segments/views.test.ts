import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeFeatures } from '../../core/features/index.js';
import type { Store } from '../../core/index.js';
import { eraseContact } from '../../core/erasure/index.js';
import { writeOutputs } from '../../core/models/run/store.js';
import { queueForDestinations } from '../../core/realtime/index.js';
import { evaluateSegments, type SegmentDefinition } from '../../core/segments/index.js';
import {
  contactProfile,
  migrationBetween,
  modelOutputHistogram,
  modelOutputSummaries,
  segmentMembersPage,
  segmentProfile,
} from '../../core/views/index.js';
import { engines } from '../support/engines.js';
import { CURRENCY, NOW, fixtureRecords, idOf, load, storeOn } from '../features/fixture.js';

const LATER = new Date('2026-03-10T00:00:00.000Z');
const segments = (countries: string[]): SegmentDefinition[] => [
  { key: 'fr', rule: { trait: 'country', in: countries } },
  { key: 'buyers', rule: { feature: 'frequency_all', gt: 0 } },
];

describe.each(engines)('what the console reads about segments, models and contacts, on $name', (engine) => {
  let store: Store;
  beforeEach(async () => {
    store = await storeOn(engine);
    await load(store, fixtureRecords());
    await computeFeatures(store, { now: NOW, currency: CURRENCY });
    await evaluateSegments(store, segments(['FR']), { now: NOW });
  });
  afterEach(() => store.close());

  it('finds members by email or name whatever the case, a page at a time', async () => {
    const page = await segmentMembersPage(store, 'fr', { q: 'ADA@', limit: 10, offset: 0 });
    expect(page.total).toBe(1);
    expect(page.members.map((m) => m.email)).toEqual(['ada@example.com']);
    const all = await segmentMembersPage(store, 'fr', { limit: 1, offset: 1 });
    expect(all.total).toBe(2);
    expect(all.members.map((m) => m.email)).toEqual(['cy@example.com']);
  });

  it('profiles a segment against the base and counts movement between two moments', async () => {
    const profile = await segmentProfile(store, 'buyers');
    expect(profile.members).toBe(4);
    expect(profile.consent.reduce((n, c) => n + c.members, 0)).toBe(4);
    await evaluateSegments(store, segments(['DE']), { now: LATER });
    const cells = await migrationBetween(store, NOW.toISOString(), LATER.toISOString(), ['fr']);
    // ada and cy left fr, bob entered it.
    expect(cells.reduce((n, c) => n + c.contacts, 0)).toBe(3);
  });

  it('counts no move between overlapping segments for contacts who stayed in both', async () => {
    await evaluateSegments(store, segments(['DE']), { now: LATER });
    const cells = await migrationBetween(store, NOW.toISOString(), LATER.toISOString(), ['fr', 'buyers']);
    // every buyer stayed a buyer (features did not change); fr's leavers and joiners did not come from or go to buyers
    expect(cells.find((c) => c.from === 'buyers' && c.to === 'buyers')?.contacts).toBe(4);
    expect(cells.filter((c) => c.from !== c.to && c.from !== null && c.to !== null)).toEqual([]);
    expect(cells.filter((c) => c.from === 'fr' && c.to === null)[0]?.contacts).toBe(2);
    expect(cells.filter((c) => c.from === null && c.to === 'fr')[0]?.contacts).toBe(1);
  });

  it('summarises model outputs, bins their values and shows them on the contact', async () => {
    const insert =
      "INSERT INTO model_outputs (contact_id, model, output, value, label, computed_at) VALUES (?, 'churn', ?, ?, ?, '2026-03-01')";
    for (const [who, risk] of [
      ['ada', 0.1],
      ['bob', 0.5],
      ['cy', 0.95],
    ] as const) {
      await store.run(insert, [await idOf(store, who), 'risk', risk, null]);
      await store.run(insert, [await idOf(store, who), 'tier', null, risk > 0.4 ? 'at risk' : 'safe']);
    }
    const [risk, tier] = await modelOutputSummaries(store, 'churn');
    expect(risk).toMatchObject({ output: 'risk', contacts: 3, min: 0.1, max: 0.95 });
    expect(tier?.labels).toEqual([
      { label: 'at risk', contacts: 2 },
      { label: 'safe', contacts: 1 },
    ]);
    const bins = await modelOutputHistogram(store, 'churn', 'risk', { bins: 4, min: 0, max: 1 });
    expect(bins.map((b) => b.contacts)).toEqual([1, 0, 1, 1]);
    const ada = await contactProfile(store, await idOf(store, 'ada'));
    expect(ada?.modelOutputs.map((o) => o.output).sort()).toEqual(['risk', 'tier']);
  });

  it('writes the outputs of a model run in bulk, and a rescore replaces only the rescored contacts', async () => {
    const ids = await Promise.all(['ada', 'bob', 'cy'].map((who) => idOf(store, who)));
    const run = { id: 1, version: 1 };
    await writeOutputs(store, 'churn', run, ids, [{ output: 'risk', values: [0.2, 0.4, null] }], NOW, true);
    await writeOutputs(
      store,
      'churn',
      { id: 2, version: 2 },
      ids.slice(1),
      [{ output: 'risk', values: [0.9, 0.7] }],
      NOW,
      false,
    );
    expect(
      await store.all(
        "SELECT contact_id, value, model_version FROM model_outputs WHERE model = 'churn' ORDER BY contact_id",
      ),
    ).toEqual([
      { contact_id: ids[0], value: 0.2, model_version: 1 },
      { contact_id: ids[1], value: 0.9, model_version: 2 },
      { contact_id: ids[2], value: 0.7, model_version: 2 },
    ]);
  });

  it('erases a contact from every table keyed by contact, the real-time queue too', async () => {
    const ada = await idOf(store, 'ada');
    await queueForDestinations(store, [{ contactId: ada, receivedAt: NOW.toISOString() }], ['cdp']);
    const erased = await eraseContact(store, ada, { reason: 'test', now: NOW });
    expect(erased?.removed).toMatchObject({ realtime_pending: 1 });
    expect(await store.get('SELECT COUNT(*) AS n FROM realtime_pending')).toEqual({ n: 0 });
  });
});
