import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeFeatures, recomputeContacts, type ExpressionFeature } from '../../core/features/index.js';
import { loadPage, type Store } from '../../core/index.js';
import { eraseContact } from '../../core/erasure/index.js';
import { engines } from '../support/engines.js';
import { CURRENCY, NOW, fixtureRecords, happened, idOf, load } from './fixture.js';

type Row = Record<string, unknown>;

const FEATURES: Record<string, ExpressionFeature> = {
  big_orders: { agg: 'count', event: 'purchase', where: { value: { gt: 40 } } },
  shoe_spend_365d: { agg: 'sum', event: 'purchase', where: { category: 'shoes' }, within: '365d' },
  avg_order_raw: { agg: 'avg', event: 'purchase' },
  max_order: { agg: 'max', event: 'purchase' },
  first_feature: { agg: 'first', event: 'feature_used', property: 'feature' },
  last_category: { agg: 'last', event: 'purchase', property: 'category' },
};

async function features(store: Store, who: string): Promise<Row> {
  const row = (await store.get('SELECT * FROM contact_features WHERE contact_id = ?', [await idOf(store, who)])) as Row;
  return { ...row, custom: JSON.parse(row.custom as string) as unknown };
}

describe.each(engines)(
  'features over a hand-computed fixture (now = 2026-03-01, EUR reporting, USD at 0.5, GBP without a rate), on $name',
  (engine) => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await engine.open());
      await load(store, fixtureRecords());
    });
    afterEach(() => close());

    it('counts the GBP purchase out of money and warns once', async () => {
      const run = await computeFeatures(store, { now: NOW, currency: CURRENCY, features: FEATURES });
      expect(run.contacts).toBe(5);
      expect(run.unconvertedPurchases).toBe(1);
      expect(run.warnings).toEqual([expect.stringContaining('1 purchase left out')]);
    });

    it('computes recency, frequency, money, tenure and sign-up for a customer', async () => {
      await computeFeatures(store, { now: NOW, currency: CURRENCY, features: FEATURES });
      expect(await features(store, 'ada')).toMatchObject({
        days_since_last_purchase: 9, // 2026-02-20; the 2026-03-05 purchase is after now
        days_since_last_engagement: 2, // feature use on 2026-02-27
        tenure_days: 424, // first purchase 2025-01-01
        days_since_signup: 106, // signup event 2025-11-15 is earlier than created_at 2025-12-01
        frequency_30d: 1,
        frequency_90d: 2,
        frequency_365d: 3,
        frequency_all: 4,
        monetary_30d: 100,
        monetary_90d: 125, // 100 EUR + 50 USD × 0.5
        monetary_365d: 125, // the GBP purchase has no rate
        monetary_all: 135, // + 10 without a currency: the reporting currency
        avg_order_value: 45, // 135 over the 3 converted purchases
        unconverted_purchases: 1,
      });
    });

    it('computes email counts and rates over 7, 30 and 90 days', async () => {
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      expect(await features(store, 'ada')).toMatchObject({
        emails_sent_7d: 1,
        email_opens_7d: 2,
        email_clicks_7d: 1,
        open_rate_7d: 2,
        click_rate_7d: 1,
        emails_sent_30d: 2,
        open_rate_30d: 1,
        click_rate_30d: 0.5,
        emails_sent_90d: 3,
        email_opens_90d: 3,
        open_rate_90d: 1,
      });
      expect((await features(store, 'ada')).click_rate_90d).toBeCloseTo(1 / 3, 12);
      expect(await features(store, 'cy')).toMatchObject({
        emails_sent_30d: 0,
        open_rate_30d: null,
        click_rate_30d: null,
      });
    });

    it('computes the engagement trend, support contacts, discount share and distinct categories and features', async () => {
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      expect(await features(store, 'ada')).toMatchObject({
        engagement_30d: 6, // purchase 02-20, two opens and a click 02-26, ticket 02-01, feature 02-27
        engagement_prev_30d: 3, // purchase 01-15, open 01-21, feature 01-10
        engagement_trend: 3,
        engagement_change: 1,
        support_contacts_90d: 1,
        support_contacts_all: 2,
        discount_share: 0.5, // discount 5 and 1 out of four purchases
        distinct_categories: 2,
        distinct_features: 2,
      });
      expect(await features(store, 'dee')).toMatchObject({
        discount_share: 1,
        days_since_last_purchase: 180,
        engagement_30d: 0,
      });
    });

    it('leaves purchase features empty for a contact who never bought, and counts sign-up from created_at', async () => {
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      expect(await features(store, 'cy')).toMatchObject({
        days_since_last_purchase: null,
        days_since_last_engagement: null,
        tenure_days: null,
        days_since_signup: 14,
        frequency_all: 0,
        monetary_all: 0,
        avg_order_value: null,
        discount_share: null,
        rfm_recency: null,
        rfm_segment: null,
      });
    });

    it('scores RFM so that ties score the same, and names the segment from the R×F table', async () => {
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      // Four customers: recency days ada 9, bob 0, eve 0, dee 180; frequency 4, 1, 1, 2; money 135, 30, 30, 60.
      // score = 1 + floor(5 × strictly-worse / 4)
      expect(await features(store, 'bob')).toMatchObject({
        rfm_recency: 3,
        rfm_frequency: 1,
        rfm_monetary: 1,
        rfm_score: '311',
        rfm_segment: 'About to Sleep',
      });
      expect(await features(store, 'eve')).toMatchObject({
        rfm_recency: 3,
        rfm_frequency: 1,
        rfm_monetary: 1,
        rfm_segment: 'About to Sleep',
      });
      expect(await features(store, 'ada')).toMatchObject({
        rfm_recency: 2,
        rfm_frequency: 4,
        rfm_monetary: 4,
        rfm_score: '244',
        rfm_segment: 'At Risk',
      });
      expect(await features(store, 'dee')).toMatchObject({
        rfm_recency: 1,
        rfm_frequency: 3,
        rfm_monetary: 3,
        rfm_segment: 'At Risk',
      });
    });

    it('computes expression features from config', async () => {
      await computeFeatures(store, { now: NOW, currency: CURRENCY, features: FEATURES });
      expect((await features(store, 'ada')).custom).toEqual({
        big_orders: 3, // raw values 100, 50, 200 are above 40
        shoe_spend_365d: 300,
        avg_order_raw: 90,
        max_order: 200,
        first_feature: 'export',
        last_category: 'shoes',
      });
      expect((await features(store, 'cy')).custom).toEqual({
        big_orders: 0,
        shoe_spend_365d: null,
        avg_order_raw: null,
        max_order: null,
        first_feature: null,
        last_category: null,
      });
    });

    it('gives the same features from recomputeContacts of the changed contacts as from a full computation', async () => {
      const options = { now: NOW, currency: CURRENCY, features: FEATURES };
      await computeFeatures(store, options);
      await load(store, [
        happened('ada', 'purchase', '2026-02-28T00:00:00Z', 80, { currency: 'USD', category: 'bags' }),
        happened('ada', 'email_open', '2026-02-28T00:00:00Z'),
        happened('dee', 'purchase', '2026-02-27T00:00:00Z', 5, { currency: 'EUR' }),
      ]);
      const changed = [await idOf(store, 'ada'), await idOf(store, 'dee')];
      await recomputeContacts(store, changed, options);
      const RFM = new Set(['rfm_recency', 'rfm_frequency', 'rfm_monetary', 'rfm_score', 'rfm_segment', 'computed_at']);
      const all = async (): Promise<Row[]> =>
        ((await store.all('SELECT * FROM contact_features ORDER BY contact_id')) as Row[]).map((r) =>
          Object.fromEntries(Object.entries(r).filter(([k]) => !RFM.has(k))),
        );
      const incremental = await all();
      // Scored against the breakpoints of the first full run (4 customers): frequency 1, 1, 2, 4; recency days 180, 9, 0, 0.
      expect(await features(store, 'ada')).toMatchObject({
        frequency_all: 5,
        monetary_all: 175,
        distinct_categories: 3,
        days_since_last_purchase: 1,
        rfm_score: '355',
        rfm_segment: 'Loyal',
      });
      expect(await features(store, 'dee')).toMatchObject({
        frequency_all: 3,
        days_since_last_purchase: 2,
        rfm_score: '344',
        rfm_segment: 'Loyal',
      });
      expect(await features(store, 'bob')).toMatchObject({ rfm_score: '311' });
      await computeFeatures(store, options);
      expect(incremental).toEqual(await all());
      // A full run finds new breakpoints: ada is now the best of four on frequency, one customer worse than her.
      expect(await features(store, 'ada')).toMatchObject({ rfm_frequency: 4 });
    });

    // SQLite splits over a second thread with a scratch file, PostgreSQL over a second connection with a scratch table.
    it('computes the same features with the work split in two, and leaves no scratch file or table behind', async () => {
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.message);
      process.on('warning', onWarning);
      const rows = async (): Promise<Row[]> =>
        (await store.all('SELECT * FROM contact_features ORDER BY contact_id')) as Row[];
      const scratch = async (): Promise<unknown> =>
        engine.name === 'sqlite'
          ? readdirSync(dirname(store.path)).sort()
          : await store.get("SELECT to_regclass('features_upper_half') AS t");
      const before = await scratch();
      await computeFeatures(store, { now: NOW, currency: CURRENCY, threads: 1 });
      const one = await rows();
      await computeFeatures(store, { now: NOW, currency: CURRENCY, threads: 2 });
      expect(await rows()).toEqual(one);
      expect(one.length).toBeGreaterThan(3);
      expect(await scratch()).toEqual(before);
      await new Promise((done) => setImmediate(done));
      process.off('warning', onWarning);
      // A failed second thread or connection would fall back to this one with a warning: the split really ran.
      expect(warnings.filter((w) => w.includes('aggregate thread') || w.includes('second connection'))).toEqual([]);
    });

    it("removes an erased contact's features with the contact", async () => {
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      const dee = await idOf(store, 'dee');
      const rows = async (): Promise<unknown> =>
        await store.get('SELECT COUNT(*) AS n FROM contact_features WHERE contact_id = ?', [dee]);
      expect(await rows()).toEqual({ n: 1 });
      await eraseContact(store, dee, { reason: 'erasure request' });
      expect(await rows()).toEqual({ n: 0 });
    });

    it('keeps contact_events in step with events when contacts merge and events are erased', async () => {
      // Events of a shop identity first make their own contact; the shop record with ada's email then merges it into ada.
      await loadPage(store, {
        connection: 'shop',
        stream: 'orders',
        checkpoint: null,
        now: NOW,
        records: [
          {
            kind: 'event',
            source: 'shop',
            sourceEventId: 'o-1',
            type: 'purchase',
            occurredAt: '2026-02-25T00:00:00Z',
            value: 40,
            properties: { currency: 'USD', category: 'scarves', discount: 2 },
            contact: { externalId: 'ada-shop' },
          },
        ],
      });
      const before = await idOf(store, 'ada');
      await loadPage(store, {
        connection: 'shop',
        stream: 'customers',
        checkpoint: null,
        now: NOW,
        records: [{ kind: 'contact', source: 'shop', externalId: 'ada-shop', traits: { email: 'ada@example.com' } }],
      });
      const field = (key: string, type?: 'real'): string => store.dialect.jsonField('properties', key, type);
      const projection = `SELECT contact_id, occurred_at, id AS event_id, type, value,
        CASE WHEN type = 'purchase' THEN ${field('currency')} END AS currency,
        CASE WHEN type = 'purchase' THEN ${field('discount', 'real')} END AS discount,
        CASE type WHEN 'purchase' THEN ${field('category')} WHEN 'feature_used' THEN ${field('feature')} END AS label
      FROM events ORDER BY contact_id, occurred_at, id`;
      const stored =
        'SELECT contact_id, occurred_at, event_id, type, value, currency, discount, label FROM contact_events ORDER BY contact_id, occurred_at, event_id';
      expect(await store.all(stored)).toEqual(await store.all(projection));
      const ada = await idOf(store, 'ada');
      expect(
        await store.get("SELECT COUNT(*) AS n FROM contact_events WHERE contact_id = ? AND label = 'scarves'", [ada]),
      ).toEqual({ n: 1 });
      expect(await store.get("SELECT contact_id FROM identities WHERE source = 'shop'")).toEqual({
        contact_id: ada,
      });
      expect(before).toBe(ada);
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      expect(await features(store, 'ada')).toMatchObject({
        frequency_all: 5,
        monetary_all: 155,
        distinct_categories: 3,
      }); // shoes, hats, scarves // + 40 USD × 0.5
      await store.run("DELETE FROM events WHERE source = 'shop'");
      expect(await store.all(stored)).toEqual(await store.all(projection));
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      expect(await features(store, 'ada')).toMatchObject({ frequency_all: 4, monetary_all: 135 });
    });
  },
);
