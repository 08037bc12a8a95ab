/** A person's ground truth: who they are in each tool and the process parameters behind their behaviour. */
import { DAY, NEW_SIGNUP_DAYS, type WorldBasis } from './basis.js';
import type { Behaviour, Order } from './behaviour.js';
import type { Identity } from './people.js';
import type { PersonTools, PersonTruth } from './types.js';

/** What a person's truth is read from: what the world already derived of them. */
export interface TruthInput {
  index: number;
  worldId: string;
  id: Identity;
  b2b: boolean;
  createdAt: number;
  behaviour: Behaviour;
  spend: Order[];
  tools: PersonTools;
}

/** A person's ground truth, for end-to-end checks against the truth rather than against our own SQL. */
export function personTruth(basis: WorldBasis, input: TruthInput): PersonTruth {
  const { now, proc } = basis;
  const { id, behaviour: b, spend, createdAt } = input;
  const totalSpend = Math.round(spend.reduce((s, o) => s + o.value, 0) * 100) / 100;
  return {
    index: input.index,
    worldId: input.worldId,
    email: id.email,
    roleAddress: id.roleAddress,
    b2b: input.b2b,
    tools: input.tools,
    gender: id.gender,
    ageBand: id.ageBand,
    consent: id.consent,
    consentChangedAt: b.consentChangedAt,
    newSignup: createdAt >= now - NEW_SIGNUP_DAYS * DAY,
    lambda: b.lambda,
    p: b.p,
    alive: b.dropoutAt === null,
    dropoutAt: b.dropoutAt,
    churned: b.dropoutAt !== null,
    purchases: b.purchaseTimes.length,
    totalSpend,
    firstPurchaseAt: b.purchaseTimes[0] ?? null,
    lastPurchaseAt: b.purchaseTimes[b.purchaseTimes.length - 1] ?? null,
    meanOrderValue: proc.spend.p / b.nu,
    discountBuyer: b.discountBuyer,
    favouriteCategory: b.favouriteCategory,
    openProbability: b.openProbability,
    clickProbability: b.clickProbability,
    neverOpens: b.neverOpens,
    decayMs: b.decayMs,
  };
}
