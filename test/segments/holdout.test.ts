import { afterEach, describe, expect, it } from 'vitest';
import type { ContactRecord, EventRecord } from '../../plugins/model/index.js';
import { loadPage, type Store } from '../../core/index.js';
import { evaluateSegments, holdoutReport, inHoldout } from '../../core/segments/index.js';
import { engines, type TestEngine } from '../support/engines.js';
import { storeOn } from '../features/fixture.js';
import { reference as committedReference, referenceInputs } from '../support/reference.js';

const ENTRY = new Date('2026-01-01T00:00:00.000Z');
const REPORT = new Date('2026-02-15T00:00:00.000Z'); // 45 days later: every 30-day window has ended
const PEOPLE = 400;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const at = (days: number): string => new Date(ENTRY.getTime() + days * 86_400_000).toISOString();

/**
 * Person i buys (i % 4) times in the 30 days after entering, each for 10 + (i % 7) USD (rate 0.5), and person i with
 * i % 3 = 0 is active (opens an email) in the window; everyone also buys once on day 40, outside the window.
 */
async function world(engine: TestEngine): Promise<{
  store: Store;
  purchases: Map<number, number>;
  revenue: Map<number, number>;
  churned: Map<number, number>;
}> {
  const store = await storeOn(engine);
  stores.push(store);
  const records: (ContactRecord | EventRecord)[] = [];
  for (let i = 0; i < PEOPLE; i++)
    records.push({
      kind: 'contact',
      source: 'crm',
      externalId: `p${i}`,
      traits: { email: `p${i}@example.com`, plan: 'pro' },
    });
  await loadPage(store, { connection: 'crm', stream: 'contacts', records, checkpoint: null, now: ENTRY });
  await evaluateSegments(store, [{ key: 'pro', rule: { trait: 'plan', eq: 'pro' }, holdout: 0.3 }], { now: ENTRY });
  const events: EventRecord[] = [];
  const purchases = new Map<number, number>();
  const revenue = new Map<number, number>();
  const churned = new Map<number, number>();
  const ids = new Map(
    (
      (await store.all("SELECT external_id, contact_id FROM identities WHERE source = 'crm'")) as {
        external_id: string;
        contact_id: number;
      }[]
    ).map((r) => [r.external_id, r.contact_id]),
  );
  for (let i = 0; i < PEOPLE; i++) {
    const id = ids.get(`p${i}`) as number;
    const event = (n: string, type: EventRecord['type'], day: number, value?: number): EventRecord => ({
      kind: 'event',
      source: 'crm',
      sourceEventId: `p${i}-${n}`,
      type,
      occurredAt: at(day),
      contact: { externalId: `p${i}` },
      ...(value === undefined ? {} : { value, properties: { currency: 'USD' } }),
    });
    for (let k = 0; k < i % 4; k++) events.push(event(`buy-${k}`, 'purchase', 1 + k * 5, 10 + (i % 7)));
    if (i % 3 === 0) events.push(event('open', 'email_open', 12));
    events.push(event('late', 'purchase', 40, 99));
    purchases.set(id, i % 4);
    revenue.set(id, (i % 4) * (10 + (i % 7)) * 0.5);
    churned.set(id, i % 4 === 0 && i % 3 !== 0 ? 1 : 0);
  }
  await loadPage(store, { connection: 'crm', stream: 'events', records: events, checkpoint: null, now: REPORT });
  return { store, purchases, revenue, churned };
}

function split(values: Map<number, number>): { treated: number[]; control: number[] } {
  const treated: number[] = [];
  const control: number[] = [];
  for (const [id, v] of values) (inHoldout('pro', id, 0.3) ? control : treated).push(v);
  return { treated, control };
}

/**
 * Welch's interval with scipy's Student t quantile, or Newcombe's hybrid score interval with scipy's normal quantile, of
 * treated against control (test/fixtures/reference/regenerate.py, from the groups this test hands it).
 */
function reference(
  name: 'revenue' | 'purchases' | 'churn',
  method: 'welch' | 'newcombe',
  groups: { treated: number[]; control: number[] },
): [number, number] {
  referenceInputs(`holdout-${name}`, { method, ...groups });
  return committedReference<Record<string, [number, number]>>('holdout')[name] ?? [NaN, NaN];
}

describe.each(engines)('holdout report: treated against control over the days after entering, on $name', (engine) => {
  it('compares revenue per member with Welch’s t interval (scipy’s t quantile), leaving out purchases after the window', async () => {
    const { store, revenue } = await world(engine);
    const r = await holdoutReport(store, 'pro', {
      outcome: 'revenue',
      days: 30,
      now: REPORT,
      currency: { reporting: 'EUR', rates: { USD: 0.5 } },
    });
    const { treated, control } = split(revenue);
    expect(control.length).toBeGreaterThan(80);
    expect(r.treated.members).toBe(treated.length);
    expect(r.control.members).toBe(control.length);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.treated.mean).toBeCloseTo(mean(treated), 9);
    expect(r.control.mean).toBeCloseTo(mean(control), 9);
    const [low, high] = reference('revenue', 'welch', { treated, control });
    expect(r.method).toBe('welch');
    expect(r.difference?.low).toBeCloseTo(low, 8);
    expect(r.difference?.high).toBeCloseTo(high, 8);
  });

  it('compares purchases per member, and churn with Newcombe’s hybrid score interval', async () => {
    const { store, purchases, churned } = await world(engine);
    const p = await holdoutReport(store, 'pro', { outcome: 'purchases', days: 30, now: REPORT });
    const ps = split(purchases);
    const cs = split(churned);
    const [pl, ph] = reference('purchases', 'welch', ps);
    const [cl, ch] = reference('churn', 'newcombe', cs);
    expect(p.difference?.low).toBeCloseTo(pl, 8);
    expect(p.difference?.high).toBeCloseTo(ph, 8);
    const c = await holdoutReport(store, 'pro', { outcome: 'churn', days: 30, now: REPORT });
    expect(c.method).toBe('newcombe');
    expect(c.treated.mean).toBeCloseTo(cs.treated.reduce((a, b) => a + b, 0) / cs.treated.length, 12);
    expect(c.difference?.low).toBeCloseTo(cl, 8);
    expect(c.difference?.high).toBeCloseTo(ch, 8);
  });

  it('counts members whose window has not ended as pending, not as zero', async () => {
    const { store } = await world(engine);
    const r = await holdoutReport(store, 'pro', {
      outcome: 'purchases',
      days: 30,
      now: new Date(ENTRY.getTime() + 10 * 86_400_000),
    });
    expect(r.treated.members + r.control.members).toBe(0);
    expect(r.treated.pending + r.control.pending).toBe(PEOPLE);
    expect(r.difference).toBeNull();
  });
});
