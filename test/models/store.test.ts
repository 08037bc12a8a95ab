import { afterAll, describe, expect, it } from 'vitest';
import type { ContactRecord, EventRecord } from '../../plugins/model/index.js';
import type { AnyPurchaseModelParameters } from '../../core/models/index.js';
import {
  computeFeatures,
  evaluateSegments,
  listModelRuns,
  aliveProbability,
  readModelRun,
  recomputeContacts,
  runModels,
  scoreContacts,
  type ClusterMetrics,
  type Store,
  type SavedClusterModel,
  type ChurnMetrics,
} from '../../core/index.js';
import { contactProfile } from '../../core/views/index.js';
import { tempStore } from '../store/fixtures.js';
import { happened, idOf, load, person } from '../features/fixture.js';
import { reference, referenceInputs } from '../support/reference.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const CURRENCY = { reporting: 'EUR' };
const DAY = 86_400_000;
const day = (daysBeforeNow: number): string => new Date(NOW.getTime() - daysBeforeNow * DAY).toISOString();

/**
 * Four groups of twelve: loyal (a purchase every 14 days for a year, up to last week), lapsed (every 10 days from two
 * years ago until a year ago, then nothing), one-time buyers, and occasional buyers (three purchases, the last one
 * within two months); plus three people who never bought.
 */
function world(): {
  records: (ContactRecord | EventRecord)[];
  purchases: Map<string, number[]>;
  groups: Record<string, string[]>;
} {
  const records: (ContactRecord | EventRecord)[] = [];
  const purchases = new Map<string, number[]>();
  const groups: Record<string, string[]> = { loyal: [], lapsed: [], once: [], occasional: [], never: [] };
  const buy = (who: string, daysAgo: number, value: number): void => {
    records.push(happened(who, 'purchase', day(daysAgo), value, { currency: 'EUR' }));
    purchases.set(who, [...(purchases.get(who) ?? []), daysAgo]);
  };
  for (let i = 0; i < 12; i++) {
    const loyal = `loyal${i}`;
    const lapsed = `lapsed${i}`;
    const once = `once${i}`;
    const occasional = `occasional${i}`;
    for (const [g, who] of [
      ['loyal', loyal],
      ['lapsed', lapsed],
      ['once', once],
      ['occasional', occasional],
    ] as const) {
      records.push(person(who));
      groups[g]!.push(who);
    }
    for (let d = 3 + (i % 5); d < 365; d += 14) buy(loyal, d, 80 + i * 3 + (d % 7));
    for (let d = 365 + i * 2; d < 730; d += 10) buy(lapsed, d, 60 + i + (d % 5));
    buy(once, 20 + i * 25, 40 + i);
    for (const d of [300 + i * 7, 150 + i * 3, 20 + i * 3]) buy(occasional, d, 25 + i + (d % 3));
  }
  for (let i = 0; i < 3; i++) {
    records.push(person(`never${i}`));
    records.push(happened(`never${i}`, 'email_open', day(5 + i)));
    groups.never!.push(`never${i}`);
  }
  return { records, purchases, groups };
}

const MODELS = {
  segments: {
    kind: 'kmeans',
    features: ['days_since_last_purchase', 'frequency_all', 'monetary_all'],
    log1p: ['days_since_last_purchase', 'frequency_all', 'monetary_all'],
    k: '2..6',
    seed: 7,
  },
  // BG/NBD named (auto would choose by holdout, see holdout.test.ts): the checks below rely on its P(alive) = 1 at x = 0.
  churn: { kind: 'churn', model: 'bgnbd', horizon_days: 90 },
};

describe('models over the store (runModels)', async () => {
  const store: Store = await tempStore();
  const { records, purchases, groups } = world();
  await load(store, records);
  await computeFeatures(store, { now: NOW, currency: CURRENCY });
  const reports = await runModels(store, MODELS, { now: NOW, currency: CURRENCY });
  const byIdOf = async (): Promise<Map<number, string>> =>
    new Map(
      await Promise.all(
        Object.values(groups)
          .flat()
          .map(async (who): Promise<[number, string]> => [await idOf(store, who), who]),
      ),
    );
  const names = async (ids: number[]): Promise<string[]> => {
    const byId = await byIdOf();
    return ids.map((id) => byId.get(id) ?? '?').sort();
  };
  afterAll(() => store.close());

  it('reports both models as succeeded, the churn model with the BG/NBD its config names', async () => {
    expect(reports.map((r) => [r.model, r.status, r.contacts])).toEqual([
      ['segments', 'succeeded', 48],
      ['churn', 'succeeded', 48],
    ]);
    const churn = (await readModelRun(store, reports[1]!.runId))!;
    expect((churn.metrics as unknown as ChurnMetrics).model).toBe('bgnbd');
    expect((churn.metrics as unknown as ChurnMetrics).reason).toBe('BG/NBD: set in the config');
  });

  it('writes a cluster per buyer to model_outputs, the same partition scikit-learn finds, with names from the profiles', async () => {
    const run = (await readModelRun(store, reports[0]!.runId))!;
    const metrics = run.metrics as unknown as ClusterMetrics;
    const saved = run.saved as unknown as SavedClusterModel;
    const rows = (await store.all(
      "SELECT contact_id, value, label FROM model_outputs WHERE model = 'segments' AND output = 'cluster' ORDER BY contact_id",
    )) as { contact_id: number; value: number; label: string }[];
    expect(rows).toHaveLength(48);
    expect((await names(rows.map((r) => r.contact_id))).some((n) => n.startsWith('never'))).toBe(false);
    expect(metrics.skipped).toEqual({ days_since_last_purchase: 3 });
    for (const r of rows) expect(r.label).toBe(metrics.profiles[r.value]!.name);
    expect(saved.names).toEqual(metrics.profiles.map((p) => p.name));
    // The prepared matrix, rebuilt here from the features and the saved transformation, clustered by scikit-learn.
    const features = (await store.all(
      'SELECT days_since_last_purchase AS r, frequency_all AS f, monetary_all AS m FROM contact_features WHERE days_since_last_purchase IS NOT NULL ORDER BY contact_id',
    )) as { r: number; f: number; m: number }[];
    const p = saved.preparation;
    const values = new Float64Array(features.length * 3);
    features.forEach((row, i) =>
      [row.r, row.f, row.m].forEach((v, j) => (values[i * 3 + j] = (Math.log1p(v) - p.means[j]!) / p.scales[j]!)),
    );
    referenceInputs('store-kmeans', { k: metrics.k, values });
    // scikit-learn: KMeans(n_clusters=k, n_init=10, random_state=0).fit(values).labels_
    const theirs = reference<number[]>('store-kmeans');
    const pairs = new Set(rows.map((r, i) => `${r.value}:${theirs[i]}`));
    expect(pairs.size).toBe(metrics.k);
    // Loyal and lapsed buyers never share a cluster.
    const clusterOf = new Map(rows.map((r) => [r.contact_id, r.value]));
    const loyal = new Set(await Promise.all(groups.loyal!.map(async (w) => clusterOf.get(await idOf(store, w)))));
    const lapsed = new Set(await Promise.all(groups.lapsed!.map(async (w) => clusterOf.get(await idOf(store, w)))));
    expect([...loyal].filter((c) => lapsed.has(c))).toEqual([]);
  });

  it('stores the run with per-k inertia and silhouette, the choice and its reasons, profiles and the saved model', async () => {
    const list = await listModelRuns(store, { model: 'segments' });
    expect(list.map((r) => [r.model, r.kind, r.version, r.status])).toEqual([['segments', 'kmeans', 1, 'succeeded']]);
    const run = (await readModelRun(store, list[0]!.id))!;
    const metrics = run.metrics as unknown as ClusterMetrics;
    expect(metrics.sweep!.map((s) => s.k)).toEqual([2, 3, 4, 5, 6]);
    for (const s of metrics.sweep!) expect(s.silhouette).toBeGreaterThan(-1);
    expect(metrics.choice!.reasons.join(' ')).toMatch(/elbow/);
    expect(metrics.profiles.reduce((s, p) => s + p.size, 0)).toBe(48);
    expect((run.saved as unknown as SavedClusterModel).centroids).toHaveLength(metrics.k * 3);
    expect(run.params).toMatchObject({ kind: 'kmeans', features: MODELS.segments.features });
    expect((await listModelRuns(store)).map((r) => r.model)).toEqual(['churn', 'segments']);
  });

  it('selects the lapsed buyers with the rule model: churn.risk gt 0.7', async () => {
    await evaluateSegments(store, [{ key: 'at_risk', rule: { model: 'churn.risk', gt: 0.7 } }], {
      now: NOW,
      models: ['churn'],
    });
    const members = (await store.all("SELECT contact_id FROM memberships WHERE segment_key = 'at_risk'")) as {
      contact_id: number;
    }[];
    expect(await names(members.map((m) => m.contact_id))).toEqual([...groups.lapsed!].sort());
  });

  it('stores P(alive) as the fitted model computes it from each customer’s purchase days', async () => {
    const metrics = (await readModelRun(store, reports[1]!.runId))!.metrics as unknown as ChurnMetrics;
    const params = { model: metrics.model, ...metrics.purchaseModel } as unknown as AnyPurchaseModelParameters;
    for (const who of ['loyal3', 'lapsed5', 'once2', 'occasional7']) {
      const days = [...new Set(purchases.get(who)!)].sort((a, b) => b - a); // days before now, oldest first
      const x = days.length - 1;
      const tx = (days[0]! - days[days.length - 1]!) / 7;
      const T = days[0]! / 7;
      const stored = (await store.get(
        "SELECT value FROM model_outputs WHERE model = 'churn' AND output = 'p_alive' AND contact_id = ?",
        [await idOf(store, who)],
      )) as { value: number };
      expect(stored.value).toBeCloseTo(aliveProbability(params, x, tx, T), 12);
      const by = await store.get(
        "SELECT label FROM model_outputs WHERE model = 'churn' AND output = 'scored_by' AND contact_id = ?",
        [await idOf(store, who)],
      );
      expect(by).toEqual({ label: metrics.model });
    }
    const once = (await store.get(
      "SELECT value FROM model_outputs WHERE model = 'churn' AND output = 'risk' AND contact_id = ?",
      [await idOf(store, 'once0')],
    )) as { value: number };
    expect(once.value).toBe(0);
    const clv = (await store.get(
      "SELECT COUNT(*) AS n FROM model_outputs WHERE model = 'churn' AND output = 'clv' AND value > 0",
    )) as { n: number };
    expect(clv.n).toBe(48);
  });

  it('assigns a new contact to the nearest saved centroid, computed here from the saved preparation', async () => {
    await load(store, [
      person('newcomer'),
      ...[2, 16, 30, 44, 58, 72, 86, 100].map((d) => happened('newcomer', 'purchase', day(d), 95, { currency: 'EUR' })),
    ]);
    const id = await idOf(store, 'newcomer');
    await recomputeContacts(store, [id], { now: NOW, currency: CURRENCY });
    const [score] = await scoreContacts(store, 'segments', [id], { now: NOW });
    const saved = (await readModelRun(store, reports[0]!.runId))!.saved as unknown as SavedClusterModel;
    const f = (await store.get(
      'SELECT days_since_last_purchase AS r, frequency_all AS f, monetary_all AS m FROM contact_features WHERE contact_id = ?',
      [id],
    )) as { r: number; f: number; m: number };
    const point = [f.r, f.f, f.m].map(
      (v, j) => (Math.log1p(v) - saved.preparation.means[j]!) / saved.preparation.scales[j]!,
    );
    const distances = Array.from({ length: saved.k }, (_, c) =>
      point.reduce((s, v, j) => s + (v - saved.centroids[c * 3 + j]!) ** 2, 0),
    );
    const nearest = distances.indexOf(Math.min(...distances));
    expect(score).toEqual({ contactId: id, value: nearest, label: saved.names[nearest], version: 1 });
    const stored = await store.get(
      "SELECT value, label, model_version, run_id FROM model_outputs WHERE model = 'segments' AND output = 'cluster' AND contact_id = ?",
      [id],
    );
    expect(stored).toEqual({
      value: nearest,
      label: saved.names[nearest],
      model_version: 1,
      run_id: reports[0]!.runId,
    });
  });

  it('counts contacts that changed cluster on the next run, as version 2', async () => {
    // loyal0 stops buying: a year later, as the lapsed did.
    const later = new Date(NOW.getTime() + 400 * DAY);
    await computeFeatures(store, { now: later, currency: CURRENCY });
    const [again] = await runModels(store, MODELS, { now: later, only: ['segments'], currency: CURRENCY });
    expect(again).toMatchObject({ model: 'segments', version: 2, status: 'succeeded' });
    const run = (await readModelRun(store, again!.runId))!;
    const changed = run.metrics.changed as {
      changed: number;
      compared: number;
      moves: { from: string; to: string; contacts: number }[];
    };
    expect(changed.compared).toBe(49);
    expect(changed.changed).toBe(again!.changed);
    expect(changed.moves.reduce((s, m) => s + m.contacts, 0)).toBe(changed.changed);
  });

  it('stamps every score with the run and model version that wrote it, as the contact profile shows', async () => {
    const runs = (await listModelRuns(store)).filter((r) => r.status === 'succeeded');
    const latest = (model: string) => runs.filter((r) => r.model === model).sort((a, b) => b.version - a.version)[0]!;
    expect(latest('segments').version).toBe(2);
    const stamps = await store.all(
      'SELECT model, model_version AS version, run_id AS runId, COUNT(*) AS n FROM model_outputs GROUP BY model, model_version, run_id ORDER BY model',
    );
    expect(stamps).toEqual([
      { model: 'churn', version: 1, runId: latest('churn').id, n: expect.any(Number) },
      { model: 'segments', version: 2, runId: latest('segments').id, n: 49 },
    ]);
    const profile = (await contactProfile(store, await idOf(store, 'loyal0')))!;
    const shown = profile.modelOutputs.map((o) => [o.model, o.output, o.version, o.runId]);
    expect(shown).toContainEqual(['segments', 'cluster', 2, latest('segments').id]);
    expect(shown).toContainEqual(['churn', 'risk', 1, latest('churn').id]);
  });

  it('refuses a wrong setting naming models.<name>.<field> and the fix, before running anything', async () => {
    const before = (await listModelRuns(store)).length;
    await expect(
      runModels(store, { segments: { kind: 'kmeans', features: ['frequency_all'], k: 'lots' } }),
    ).rejects.toThrow(/models\.segments\.k: .*2\.\.10/);
    await expect(runModels(store, { churn: { kind: 'bgnbd', horizon: 90 } })).rejects.toThrow(
      /models\.churn\.horizon: unknown setting/,
    );
    await expect(runModels(store, { x: { kind: 'neural' } })).rejects.toThrow(/models\.x\.kind: unknown kind "neural"/);
    await expect(
      runModels(store, { segments: { kind: 'kmeans', features: ['frequency_all'], log1p: ['monetary_all'] } }),
    ).rejects.toThrow(/models\.segments\.log1p: "monetary_all" is not among the features/);
    expect((await listModelRuns(store)).length).toBe(before);
  });

  it('records a model that fails at run time as failed, and still runs the others', async () => {
    const out = await runModels(
      store,
      { bad: { kind: 'kmeans', features: ['no_such_feature'] }, churn: MODELS.churn },
      { now: NOW, currency: CURRENCY },
    );
    expect(out.map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expect(out[0]!.error).toMatch(/models\.bad\.features: unknown feature "no_such_feature"/);
    expect((await listModelRuns(store, { model: 'bad' }))[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/no_such_feature/),
    });
  });
});
