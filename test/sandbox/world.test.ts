import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWorld, parseSalesforceId, salesforceId } from '../../plugins/sandbox/index.js';
import { EVENT_TYPES, normaliseEmail } from '../../plugins/model/index.js';
import { reference, referenceInputs } from '../support/reference.js';

const DAY = 86_400_000;

describe('the sandbox world', () => {
  it('gives the same people, events and truth for the same seed, and different ones for another seed', () => {
    const a = createWorld({ seed: 'same', people: 5_000 });
    const b = createWorld({ seed: 'same', people: 5_000 });
    const c = createWorld({ seed: 'other', people: 5_000 });
    for (const i of [0, 1, 7, 1234, 4999]) {
      expect(b.person(i)).toEqual(a.person(i));
      expect(b.events(i)).toEqual(a.events(i));
      expect(b.truth(i)).toEqual(a.truth(i));
    }
    expect(Array.from(b.toolIndex('hubspot'))).toEqual(Array.from(a.toolIndex('hubspot')));
    const differing = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((i) => a.person(i).email !== c.person(i).email);
    expect(differing.length).toBeGreaterThan(5);
    expect(Array.from(c.toolIndex('mailchimp'))).not.toEqual(Array.from(a.toolIndex('mailchimp')));
  });

  it('builds any person on demand, independent of the world size (even a trillion people)', () => {
    const million = createWorld({ seed: 's', people: 1_000_000 });
    const twoMillion = createWorld({ seed: 's', people: 2_000_000 });
    expect(million.person(999_999)).toEqual(twoMillion.person(999_999));
    expect(million.person(999_999).index).toBe(999_999);
    const huge = createWorld({ seed: 's', people: 1e12 });
    const last = huge.person(1e12 - 1);
    expect(normaliseEmail(last.email)).toBe(last.email);
    expect(huge.events(1e12 - 1).length).toBeGreaterThan(0);
    expect(() => million.person(1_000_000)).toThrow(RangeError);
  });

  it('overlaps identities across tools, with emails written differently per tool', () => {
    const world = createWorld({ seed: 'overlap', people: 20_000 });
    let inAllThree = 0;
    let differingCase = 0;
    let spaced = 0;
    for (let i = 0; i < world.size; i++) {
      const p = world.person(i);
      const { hubspot, salesforce, mailchimp } = p.tools;
      if (salesforce && salesforce.email !== salesforce.email.trim()) spaced++;
      if (!hubspot || !salesforce || !mailchimp) continue;
      inAllThree++;
      const written = [hubspot.email, salesforce.email, ...mailchimp.audiences.map((m) => m.email)];
      for (const e of written) expect(normaliseEmail(e)).toBe(p.email);
      if (new Set(written).size > 1) differingCase++;
    }
    expect(inAllThree).toBeGreaterThan(1000);
    expect(differingCase).toBeGreaterThan(100);
    expect(spaced).toBeGreaterThan(50);
    const n = world.size;
    expect(world.toolIndex('hubspot').length / n).toBeCloseTo(0.6, 1);
    expect(world.toolIndex('salesforce').length / n).toBeCloseTo(0.4, 1);
    expect(world.toolIndex('mailchimp').length / n).toBeCloseTo(0.5, 1);
  });

  it('keeps converted leads, merged HubSpot contacts and Mailchimp hashes resolvable to the same person', () => {
    const world = createWorld({ seed: 'ids', people: 20_000 });
    let converted = 0;
    let merged = 0;
    let twoAudiences = 0;
    for (const i of world.toolIndex('salesforce')) {
      const sf = world.person(i).tools.salesforce!;
      if (!sf.converted) continue;
      converted++;
      expect(parseSalesforceId(sf.leadId!)?.prefix).toBe('00Q');
      expect(parseSalesforceId(sf.contactId!)?.prefix).toBe('003');
      expect(world.findByToolId('salesforce', sf.leadId!)).toBe(i);
      expect(world.findByToolId('salesforce', sf.contactId!.slice(0, 15))).toBe(i);
      expect(sf.convertedAt).toBeGreaterThanOrEqual(sf.createdAt);
    }
    for (const i of world.toolIndex('hubspot')) {
      const hs = world.person(i).tools.hubspot!;
      expect(world.findByToolId('hubspot', hs.id)).toBe(i);
      for (const id of hs.mergedIds) {
        merged++;
        expect(world.findByToolId('hubspot', id)).toBe(i);
      }
    }
    for (const i of world.toolIndex('mailchimp').slice(0, 3000)) {
      const p = world.person(i);
      const audiences = p.tools.mailchimp!.audiences;
      if (audiences.length === 2) twoAudiences++;
      const md5 = createHash('md5').update(p.email).digest('hex');
      for (const m of audiences) expect(m.subscriberHash).toBe(md5);
      expect(world.findByToolId('mailchimp', md5)).toBe(i);
    }
    expect(converted).toBeGreaterThan(200);
    expect(merged).toBeGreaterThan(100);
    expect(twoAudiences).toBeGreaterThan(300);
    expect(world.findByToolId('hubspot', '42')).toBeUndefined();
    expect(world.findByToolId('salesforce', salesforceId('003', 19_999_999))).toBeUndefined();
  });

  it('shares role addresses between colleagues: several Salesforce records, one HubSpot and Mailchimp record', () => {
    const world = createWorld({ seed: 'roles', people: 20_000 });
    const seen = new Set<string>();
    let shared = 0;
    for (let i = 0; i < world.size; i++) {
      const p = world.person(i);
      if (!p.roleAddress || seen.has(p.email)) continue;
      seen.add(p.email);
      const holders = world.findByEmail(p.email);
      expect(holders).toContain(i);
      for (const h of holders) expect(world.person(h).companyIndex).toBe(p.companyIndex);
      if (holders.length < 2) continue;
      shared++;
      expect(holders.filter((h) => world.isIn(h, 'hubspot')).length).toBeLessThanOrEqual(1);
      expect(holders.filter((h) => world.isIn(h, 'mailchimp')).length).toBeLessThanOrEqual(1);
    }
    expect(shared).toBeGreaterThan(50);
    const nonRole = world.person(world.toolIndex('hubspot')[0]!);
    expect(world.findByEmail(`  ${nonRole.email.toUpperCase()} `)).toEqual(
      nonRole.roleAddress ? expect.any(Array) : [nonRole.index],
    );
  });

  it('orders each tool by updatedAt with ties broken by index, many records sharing a bulk timestamp', () => {
    const world = createWorld({ seed: 'order', people: 10_000 });
    const { indexes, updatedAt } = world.toolOrder('hubspot');
    expect(indexes.length).toBe(world.toolIndex('hubspot').length);
    let ties = 0;
    for (let k = 1; k < indexes.length; k++) {
      expect(updatedAt[k]!).toBeGreaterThanOrEqual(updatedAt[k - 1]!);
      if (updatedAt[k] === updatedAt[k - 1]) {
        ties++;
        expect(indexes[k]!).toBeGreaterThan(indexes[k - 1]!);
      }
    }
    expect(ties).toBeGreaterThan(300);
    for (let k = 0; k < 50; k++) {
      const i = indexes[k * 10]!;
      expect(world.person(i).tools.hubspot!.updatedAt).toBe(updatedAt[k * 10]);
      expect(world.updatedAt(i, 'hubspot')).toBe(updatedAt[k * 10]);
    }
    for (const i of indexes.slice(0, 500)) {
      const hs = world.person(i).tools.hubspot!;
      expect(hs.updatedAt).toBeGreaterThanOrEqual(hs.createdAt);
      expect(hs.updatedAt).toBeLessThan(world.now);
    }
  });

  it('gives every event a canonical type, a unique id, a time inside the world clock, in order', () => {
    const world = createWorld({ seed: 'events', people: 2_000 });
    const ids = new Set<string>();
    const types = new Set<string>();
    const problems: string[] = [];
    const canonical = new Set<string>(EVENT_TYPES);
    for (let i = 0; i < world.size; i++) {
      const p = world.person(i);
      let previous = -Infinity;
      for (const e of world.events(i)) {
        if (!canonical.has(e.type)) problems.push(`${e.id}: type ${e.type}`);
        if (ids.has(e.id)) problems.push(`${e.id}: duplicate id`);
        if (e.at < p.createdAt || e.at >= world.now) problems.push(`${e.id}: outside ${p.createdAt}…${world.now}`);
        if (e.at < previous) problems.push(`${e.id}: out of order`);
        if (e.tool !== 'web' && !p.tools[e.tool]) problems.push(`${e.id}: recorded by ${e.tool}, where ${i} is absent`);
        ids.add(e.id);
        types.add(e.type);
        previous = e.at;
      }
    }
    expect(problems).toEqual([]);
    for (const t of [
      'signup',
      'email_sent',
      'email_open',
      'email_click',
      'email_unsubscribe',
      'email_bounce',
      'page_view',
      'meeting',
      'call',
      'support_ticket',
      'deal_created',
      'deal_won',
      'purchase',
      'form_submit',
    ]) {
      expect(types).toContain(t);
    }
    const newSignups = Array.from({ length: world.size }, (_, i) => world.truth(i)).filter((t) => t.newSignup);
    expect(newSignups.length / world.size).toBeGreaterThan(0.04);
    for (const t of newSignups) expect(world.person(t.index).createdAt).toBeGreaterThanOrEqual(world.now - 30 * DAY);
  });

  it('draws purchase counts from BG/NBD: the mean matches the closed-form expectation (scipy)', () => {
    const world = createWorld({ seed: 'bgnbd', people: 30_000 });
    const T: number[] = [];
    const counts: number[] = [];
    let spend = 0;
    for (let i = 0; i < world.size; i++) {
      const truth = world.truth(i);
      T.push((world.now - world.person(i).createdAt) / DAY);
      counts.push(truth.purchases);
      spend += truth.totalSpend;
      if (i >= 3_000) continue;
      const orders = world.events(i).filter((e) => e.type === 'purchase' || e.type === 'deal_won');
      expect(orders.length).toBe(truth.purchases);
      expect(orders.reduce((s, e) => s + (e.value ?? 0), 0)).toBeCloseTo(truth.totalSpend, 1);
      if (truth.purchases > 0) expect(truth.lastPurchaseAt).toBe(orders[orders.length - 1]!.at);
    }
    const { r, alpha, a, b } = world.processes.bgnbd;
    const days = Math.ceil(Math.max(...T));
    referenceInputs('world-bgnbd', { r, alpha, a, b, days });
    // E[X(t)] (Fader, Hardie and Lee 2005, eq. 9, with scipy's hyp2f1) for t = 0, 1, …, days; linear in between.
    const { expectedByDay } = reference<{ expectedByDay: number[] }>('world-bgnbd');
    const at = (t: number): number => {
      const i = Math.min(Math.floor(t), days - 1);
      return expectedByDay[i]! + (t - i) * (expectedByDay[i + 1]! - expectedByDay[i]!);
    };
    const expected = T.reduce((s, t) => s + at(t), 0) / T.length;
    const mean = counts.reduce((s, x) => s + x, 0) / counts.length;
    const sd = Math.sqrt(counts.reduce((s, x) => s + (x - mean) ** 2, 0) / (counts.length - 1));
    expect(Math.abs(mean - expected)).toBeLessThan(4 * (sd / Math.sqrt(counts.length)));

    // Gamma-Gamma: E[order value] = p·γ / (q − 1).
    const { p, q, gamma } = world.processes.spend;
    const meanValue = spend / counts.reduce((s, x) => s + x, 0);
    expect(meanValue / ((p * gamma) / (q - 1))).toBeGreaterThan(0.9);
    expect(meanValue / ((p * gamma) / (q - 1))).toBeLessThan(1.1);
  });

  it('lets email engagement fall before dropout, and those who never open never open', () => {
    const world = createWorld({ seed: 'decay', people: 20_000 });
    const early = { sent: 0, open: 0 };
    const late = { sent: 0, open: 0 };
    for (let i = 0; i < world.size; i++) {
      const truth = world.truth(i);
      const events = world.events(i);
      if (truth.neverOpens) expect(events.some((e) => e.type === 'email_open')).toBe(false);
      if (truth.dropoutAt === null) continue;
      const opened = new Set(events.filter((e) => e.type === 'email_open').map((e) => e.properties.campaign_id));
      for (const e of events) {
        if (e.type !== 'email_sent') continue;
        const before = truth.dropoutAt - e.at;
        const bucket = before > 180 * DAY ? early : before > 0 && before < 30 * DAY ? late : null;
        if (!bucket) continue;
        bucket.sent++;
        if (opened.has(e.properties.campaign_id)) bucket.open++;
      }
    }
    expect(early.sent).toBeGreaterThan(1000);
    expect(late.sent).toBeGreaterThan(200);
    expect(late.open / late.sent).toBeLessThan(0.6 * (early.open / early.sent));
  });
});
