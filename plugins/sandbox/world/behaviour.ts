/**
 * How people behave, drawn from known processes: purchases from BG/NBD (a rate and a dropout chance per person),
 * order values from Gamma-Gamma, discount-driven buyers, and email engagement that decays before dropout.
 */
import { DAY, S, type WorldBasis } from './basis.js';
import { CATEGORIES } from './tables.js';
import type { WorldConsent } from './types.js';

/** A person's behaviour: their process parameters and the purchases drawn from them. */
export interface Behaviour {
  lambda: number;
  p: number;
  nu: number;
  discountBuyer: boolean;
  favouriteCategory: string;
  neverOpens: boolean;
  openProbability: number;
  clickProbability: number;
  decayMs: number;
  consentChangedAt: number | null;
  purchaseTimes: number[];
  dropoutAt: number | null;
}

/** One order: its value, discount and category. */
export interface Order {
  value: number;
  discount: number;
  category: string;
}

/** The behaviour of the people of the world `basis` describes. */
export interface Behaviours {
  behaviour(i: number, consent: WorldConsent, createdAt: number): Behaviour;
  /** The orders of `b.purchaseTimes`, in the same order. */
  spendOf(i: number, b: Behaviour): Order[];
}

/** Behaviour drawn from the world's processes. */
export function behaviours(basis: WorldBasis): Behaviours {
  const { now, proc, rng } = basis;

  const behaviour = (i: number, consent: WorldConsent, createdAt: number): Behaviour => {
    const r = rng(i, S.Behaviour);
    const lambda = r.gamma(proc.bgnbd.r, 1 / proc.bgnbd.alpha);
    const p = r.beta(proc.bgnbd.a, proc.bgnbd.b);
    const nu = r.gamma(proc.spend.q, 1 / proc.spend.gamma);
    const discountBuyer = r.chance(0.15);
    const favouriteCategory = r.pick(CATEGORIES);
    const neverOpens = r.chance(0.15);
    const openProbability = neverOpens ? 0 : r.beta(2, 3);
    const clickProbability = r.beta(2, 6);
    const decayMs = (60 + r.next() * 90) * DAY;
    const changeAt = createdAt + r.next() * (now - createdAt);
    const consentChangedAt = consent === 'unsubscribed' || consent === 'cleaned' ? Math.floor(changeAt) : null;

    const pr = rng(i, S.Purchases);
    const purchaseTimes: number[] = [];
    let dropoutAt: number | null = null;
    let t = createdAt;
    while (purchaseTimes.length < 5000) {
      t += pr.exponential(lambda) * DAY;
      if (!(t < now)) break;
      const at = Math.floor(t);
      purchaseTimes.push(at);
      if (pr.chance(p)) {
        dropoutAt = at;
        break;
      }
    }
    return {
      lambda,
      p,
      nu,
      discountBuyer,
      favouriteCategory,
      neverOpens,
      openProbability,
      clickProbability,
      decayMs,
      consentChangedAt,
      purchaseTimes,
      dropoutAt,
    };
  };

  const spendOf = (i: number, b: Behaviour): Order[] => {
    const r = rng(i, S.Spend);
    return b.purchaseTimes.map(() => {
      const value = Math.round(r.gamma(proc.spend.p, 1 / b.nu) * 100) / 100;
      const discounted = r.chance(b.discountBuyer ? 0.85 : 0.15);
      const discount = discounted ? r.pick([0.1, 0.15, 0.2, 0.25, 0.3]) : 0;
      const category = r.chance(0.6) ? b.favouriteCategory : r.pick(CATEGORIES);
      return { value, discount, category };
    });
  };

  return { behaviour, spendOf };
}
