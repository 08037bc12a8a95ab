import { describe, expect, it } from 'vitest';
import {
  compileAccountSegments,
  compileSegments,
  computeAccountFeatures,
  loadPage,
  SegmentRuleError,
  type AccountSegmentDefinition,
  type SegmentDefinition,
} from '../../core/index.js';
import type { AccountCondition, RuleCondition } from '../../core/segments/grammar.js';
import type { StreamRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';
import { seeded } from '../store/fixtures.js';

const NOW = new Date('2026-06-30T00:00:00Z');
const DAY = 86_400_000;
const PLANS = ['free', 'pro', 'ent'];
const INDUSTRIES = ['Software', 'Retail', 'Healthcare'];

interface Person {
  id: string;
  plan?: string;
  seats?: number;
  /** Last engagement, ms before NOW; undefined when none. */
  engagedAgo?: number;
}
interface Firm {
  id: string;
  industry?: string;
  employees?: number;
  members: string[];
}

/** A randomised world: people with optional traits and engagement, firms with optional traits and some members. */
function randomWorld(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const people: Person[] = Array.from({ length: 40 }, (_, i) => ({
    id: `p${i}`,
    ...(random() < 0.8 ? { plan: pick(PLANS) } : {}),
    ...(random() < 0.8 ? { seats: 1 + Math.floor(random() * 50) } : {}),
    ...(random() < 0.6 ? { engagedAgo: Math.floor(random() * 60) * DAY + 3_600_000 } : {}),
  }));
  const firms: Firm[] = Array.from({ length: 10 }, (_, k) => ({
    id: `f${k}`,
    ...(random() < 0.8 ? { industry: pick(INDUSTRIES) } : {}),
    ...(random() < 0.8 ? { employees: 10 * (1 + Math.floor(random() * 100)) } : {}),
    members: people.filter(() => random() < 0.15).map((p) => p.id),
  }));
  return { people, firms };
}

function records({ people, firms }: ReturnType<typeof randomWorld>): StreamRecord[] {
  return [
    ...people.map((p): StreamRecord => ({
      kind: 'contact',
      source: 'crm',
      externalId: p.id,
      traits: {
        email: `${p.id}@example.com`,
        ...(p.plan ? { plan: p.plan } : {}),
        ...(p.seats ? { seats: p.seats } : {}),
      },
    })),
    ...people
      .filter((p) => p.engagedAgo !== undefined)
      .map((p): StreamRecord => ({
        kind: 'event',
        source: 'crm',
        sourceEventId: `open-${p.id}`,
        type: 'email_open',
        occurredAt: new Date(NOW.getTime() - (p.engagedAgo as number)).toISOString(),
        contact: { externalId: p.id },
      })),
    ...firms.map((f): StreamRecord => ({
      kind: 'account',
      source: 'crm',
      externalId: f.id,
      traits: {
        name: `Firm ${f.id}`,
        domain: `${f.id}.example`,
        ...(f.industry ? { industry: f.industry } : {}),
        ...(f.employees ? { employees: f.employees } : {}),
      },
      members: f.members,
    })),
  ];
}

/** Random rules: contact conditions that read their accounts, and account conditions that read their members. */
function ruleMaker(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (n: number) => Math.floor(random() * n);
  const contactRule = (depth: number): RuleCondition => {
    const r = random();
    if (depth > 0 && r < 0.25) {
      const items = Array.from({ length: 1 + int(3) }, () => contactRule(depth - 1));
      return random() < 0.5 ? { all: items } : { any: items };
    }
    if (depth > 0 && r < 0.35) return { not: contactRule(depth - 1) };
    if (depth > 0 && r < 0.6) return { account: accountRule(depth - 1, false) };
    if (r < 0.75) return { trait: 'plan', eq: pick(PLANS) };
    if (r < 0.9) return { trait: 'seats', gte: 1 + int(50) };
    return { event: 'email_open', within: `${1 + int(50)}d` };
  };
  const accountRule = (depth: number, members: boolean): AccountCondition => {
    const r = random();
    if (depth > 0 && r < 0.2) {
      const items = Array.from({ length: 1 + int(3) }, () => accountRule(depth - 1, members));
      return random() < 0.5 ? { all: items } : { any: items };
    }
    if (depth > 0 && r < 0.3) return { not: accountRule(depth - 1, members) };
    if (members && r < 0.45) return { members: contactRule(0), count: { gte: 1 + int(3) } };
    if (members && r < 0.55) return { all_members: contactRule(0) };
    if (r < 0.65) return { trait: 'industry', eq: pick(INDUSTRIES) };
    if (r < 0.75) return { trait: 'employees', lt: 10 * (1 + int(100)) };
    if (r < 0.87) return { feature: 'members', gte: int(5) };
    return { feature: 'engaged_members_30d', gte: int(3) };
  };
  return { contactRule, accountRule };
}

/** The brute-force truth: SQL's NULLs are false here, and every NOT of the compiled rules treats unknown as false. */
function evaluator({ people, firms }: ReturnType<typeof randomWorld>) {
  const person = new Map(people.map((p) => [p.id, p]));
  const accountsOf = (id: string) => firms.filter((f) => f.members.includes(id));
  const engaged = (p: Person, days: number) => p.engagedAgo !== undefined && p.engagedAgo < days * DAY;
  const contact = (p: Person, rule: RuleCondition): boolean => {
    if ('all' in rule) return rule.all.every((r) => contact(p, r));
    if ('any' in rule) return rule.any.some((r) => contact(p, r));
    if ('not' in rule) return !contact(p, rule.not);
    if ('account' in rule) return accountsOf(p.id).some((f) => account(f, rule.account));
    if ('event' in rule) return engaged(p, Number(String(rule.within).replace('d', '')));
    if ('trait' in rule && rule.trait === 'plan') return p.plan !== undefined && p.plan === rule.eq;
    if ('trait' in rule && rule.trait === 'seats') return p.seats !== undefined && p.seats >= Number(rule.gte);
    throw new Error(`unexpected rule ${JSON.stringify(rule)}`);
  };
  const account = (f: Firm, rule: AccountCondition): boolean => {
    const members = f.members.map((id) => person.get(id) as Person);
    if ('all' in rule) return rule.all.every((r) => account(f, r));
    if ('any' in rule) return rule.any.some((r) => account(f, r));
    if ('not' in rule) return !account(f, rule.not);
    if ('members' in rule)
      return members.filter((p) => contact(p, rule.members)).length >= Number((rule.count as { gte: number }).gte);
    if ('all_members' in rule) return members.length > 0 && members.every((p) => contact(p, rule.all_members));
    if (rule.trait === 'industry') return f.industry !== undefined && f.industry === rule.eq;
    if (rule.trait === 'employees') return f.employees !== undefined && f.employees < Number(rule.lt);
    if (rule.feature === 'members') return members.length >= Number(rule.gte);
    if (rule.feature === 'engaged_members_30d') return members.filter((p) => engaged(p, 30)).length >= Number(rule.gte);
    throw new Error(`unexpected account rule ${JSON.stringify(rule)}`);
  };
  return { contact, account };
}

for (const engine of engines) {
  describe(`rules mixing contact and account conditions (${engine.name})`, () => {
    it(
      'match a brute-force evaluation on randomised worlds, each rule one parameterised query',
      { timeout: 120_000 },
      async () => {
        let informative = 0;
        let accountInformative = 0;
        for (const seed of [1, 2, 3]) {
          const random = seeded(280 + seed);
          const world = randomWorld(random);
          const { contactRule, accountRule } = ruleMaker(random);
          const truth = evaluator(world);
          const { store, close } = await engine.open();
          try {
            await loadPage(store, { connection: 'crm', stream: 'all', records: records(world), checkpoint: null });
            await computeAccountFeatures(store, NOW);
            const idOf = new Map(
              (
                (await store.all("SELECT external_id, contact_id FROM identities WHERE source = 'crm'")) as {
                  external_id: string;
                  contact_id: number;
                }[]
              ).map((r) => [Number(r.contact_id), r.external_id]),
            );
            const accountIdOf = new Map(
              (
                (await store.all("SELECT external_id, account_id FROM account_identities WHERE source = 'crm'")) as {
                  external_id: string;
                  account_id: number;
                }[]
              ).map((r) => [Number(r.account_id), r.external_id]),
            );

            const segments: SegmentDefinition[] = Array.from({ length: 40 }, (_, i) => ({
              key: `r${i}`,
              rule: contactRule(3),
            }));
            const compiled = compileSegments(segments, { now: NOW, dialect: store.dialect });
            for (const segment of compiled) {
              expect(segment.sql).not.toMatch(/'(free|pro|ent|Software|Retail|Healthcare)'/);
              const got = ((await store.all(segment.sql, segment.params)) as { contact_id: number }[])
                .map((r) => idOf.get(Number(r.contact_id)))
                .sort();
              const want = world.people
                .filter((p) => truth.contact(p, segment.definition.rule))
                .map((p) => p.id)
                .sort();
              expect(got, `seed ${seed}, ${JSON.stringify(segment.definition.rule)}`).toEqual(want);
              if (want.length > 0 && want.length < world.people.length) informative++;
            }

            const accountSegments: AccountSegmentDefinition[] = Array.from({ length: 40 }, (_, i) => ({
              key: `a${i}`,
              rule: accountRule(3, true),
            }));
            for (const segment of compileAccountSegments(accountSegments, [], { now: NOW, dialect: store.dialect })) {
              const got = ((await store.all(segment.sql, segment.params)) as { account_id: number }[])
                .map((r) => accountIdOf.get(Number(r.account_id)))
                .sort();
              const want = world.firms
                .filter((f) => truth.account(f, segment.definition.rule))
                .map((f) => f.id)
                .sort();
              expect(got, `seed ${seed}, ${JSON.stringify(segment.definition.rule)}`).toEqual(want);
              if (want.length > 0 && want.length < world.firms.length) accountInformative++;
            }
          } finally {
            await close();
          }
        }
        // The random rules split the worlds (neither nobody nor everybody) often enough to mean something.
        expect(informative).toBeGreaterThan(40);
        expect(accountInformative).toBeGreaterThan(40);
      },
    );
  });
}

describe('account rule mistakes', () => {
  it('names an unknown account feature and a misplaced key with where they were written', () => {
    const attempt = () =>
      compileSegments([
        {
          key: 'x',
          rule: {
            account: { any: [{ feature: 'revenue_7d', gt: 1 }, { members: { trait: 'a', eq: 1 }, cnt: 2 } as never] },
          },
        },
      ]);
    expect(attempt).toThrow(SegmentRuleError);
    expect(attempt).toThrow(/unknown account feature "revenue_7d" \(expected one of members, engaged_members_30d/);
    expect(attempt).toThrow(/rule\.account\.any\[1\]\.cnt: unknown key "cnt" beside members/);
  });
});
