import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContactRecord, EventRecord } from '../../plugins/model/index.js';
import { loadPage, type Store } from '../../core/index.js';
import { evaluateSegments, holdoutReport, inHoldout } from '../../core/segments/index.js';
import { tempStore } from '../store/fixtures.js';

const ENTRY = new Date('2026-01-01T00:00:00.000Z');
const REPORT = new Date('2026-02-15T00:00:00.000Z'); // 45 days later: every 30-day window has ended
const PEOPLE = 400;
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

const at = (days: number): string => new Date(ENTRY.getTime() + days * 86_400_000).toISOString();

/**
 * Person i buys (i % 4) times in the 30 days after entering, each for 10 + (i % 7) USD (rate 0.5), and person i with
 * i % 3 = 0 is active (opens an email) in the window; everyone also buys once on day 40, outside the window.
 */
function world(): {
  store: Store;
  purchases: Map<number, number>;
  revenue: Map<number, number>;
  churned: Map<number, number>;
} {
  const store = tempStore();
  stores.push(store);
  const records: (ContactRecord | EventRecord)[] = [];
  for (let i = 0; i < PEOPLE; i++)
    records.push({
      kind: 'contact',
      source: 'crm',
      externalId: `p${i}`,
      traits: { email: `p${i}@example.com`, plan: 'pro' },
    });
  loadPage(store, { connection: 'crm', stream: 'contacts', records, checkpoint: null, now: ENTRY });
  evaluateSegments(store, [{ key: 'pro', rule: { trait: 'plan', eq: 'pro' }, holdout: 0.3 }], { now: ENTRY });
  const events: EventRecord[] = [];
  const purchases = new Map<number, number>();
  const revenue = new Map<number, number>();
  const churned = new Map<number, number>();
  const ids = new Map(
    (
      store.statement("SELECT external_id, contact_id FROM identities WHERE source = 'crm'").all() as {
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
  loadPage(store, { connection: 'crm', stream: 'events', records: events, checkpoint: null, now: REPORT });
  return { store, purchases, revenue, churned };
}

function split(values: Map<number, number>): { treated: number[]; control: number[] } {
  const treated: number[] = [];
  const control: number[] = [];
  for (const [id, v] of values) (inHoldout('pro', id, 0.3) ? control : treated).push(v);
  return { treated, control };
}

/** scipy's Student t and normal quantiles, with the closed forms of Welch's and Newcombe's intervals. */
function reference(kind: 'welch' | 'newcombe', a: number[], b: number[]): [number, number] {
  const code = `
import json, sys, math
from scipy import stats
import numpy as np
d = json.load(sys.stdin)
a, b = np.array(d['a'], float), np.array(d['b'], float)
if d['kind'] == 'welch':
    qa, qb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (qa + qb) ** 2 / (qa ** 2 / (len(a) - 1) + qb ** 2 / (len(b) - 1))
    t = stats.t.ppf(0.975, df)
    e = a.mean() - b.mean()
    print(json.dumps([e - t * math.sqrt(qa + qb), e + t * math.sqrt(qa + qb)]))
else:
    z = stats.norm.ppf(0.975)
    def wilson(x, n):
        p = x / n
        c = p + z * z / (2 * n); s = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)); k = 1 + z * z / n
        return (c - s) / k, (c + s) / k
    xa, xb = a.sum(), b.sum(); pa, pb = xa / len(a), xb / len(b)
    la, ua = wilson(xa, len(a)); lb, ub = wilson(xb, len(b))
    print(json.dumps([pa - pb - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2), pa - pb + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)]))
`;
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', code], { input: JSON.stringify({ kind, a, b }) }).toString(),
  ) as [number, number];
}

describe('holdout report: treated against control over the days after entering', () => {
  it('compares revenue per member with Welch’s t interval (scipy’s t quantile), leaving out purchases after the window', () => {
    const { store, revenue } = world();
    const r = holdoutReport(store, 'pro', {
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
    const [low, high] = reference('welch', treated, control);
    expect(r.method).toBe('welch');
    expect(r.difference?.low).toBeCloseTo(low, 8);
    expect(r.difference?.high).toBeCloseTo(high, 8);
  });

  it('compares purchases per member, and churn with Newcombe’s hybrid score interval', () => {
    const { store, purchases, churned } = world();
    const p = holdoutReport(store, 'pro', { outcome: 'purchases', days: 30, now: REPORT });
    const ps = split(purchases);
    const [pl, ph] = reference('welch', ps.treated, ps.control);
    expect(p.difference?.low).toBeCloseTo(pl, 8);
    expect(p.difference?.high).toBeCloseTo(ph, 8);
    const c = holdoutReport(store, 'pro', { outcome: 'churn', days: 30, now: REPORT });
    const cs = split(churned);
    const [cl, ch] = reference('newcombe', cs.treated, cs.control);
    expect(c.method).toBe('newcombe');
    expect(c.treated.mean).toBeCloseTo(cs.treated.reduce((a, b) => a + b, 0) / cs.treated.length, 12);
    expect(c.difference?.low).toBeCloseTo(cl, 8);
    expect(c.difference?.high).toBeCloseTo(ch, 8);
  });

  it('counts members whose window has not ended as pending, not as zero', () => {
    const { store } = world();
    const r = holdoutReport(store, 'pro', {
      outcome: 'purchases',
      days: 30,
      now: new Date(ENTRY.getTime() + 10 * 86_400_000),
    });
    expect(r.treated.members + r.control.members).toBe(0);
    expect(r.treated.pending + r.control.pending).toBe(PEOPLE);
    expect(r.difference).toBeNull();
  });
});
