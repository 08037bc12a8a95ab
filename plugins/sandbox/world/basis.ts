/**
 * What every part of the world is drawn from: the validated options (size, clock, history), the seed's hash, the
 * fixed process parameters, and the seeded draws each part takes from its own numbered stream, so that no part's
 * draws depend on another's.
 */
import { hashSeed, Rng, streamKey, uniformAt } from './random.js';
import type { WorldOptions, WorldProcesses, WorldTool } from './types.js';

export const DAY = 86_400_000;
/**
 * The default world clock.
 *
 * @example
 * new Date(DEFAULT_WORLD_NOW).toISOString(); // '2026-06-30T00:00:00.000Z'
 */
export const DEFAULT_WORLD_NOW = Date.parse('2026-06-30T00:00:00Z');
/**
 * Days of history before the world clock, by default.
 *
 * @example
 * createWorld({ seed: 's', people: 10 }).start === DEFAULT_WORLD_NOW - DEFAULT_HISTORY_DAYS * 86_400_000; // true
 */
export const DEFAULT_HISTORY_DAYS = 730;
/** New sign-ups arrive over the last this many days. */
export const NEW_SIGNUP_DAYS = 30;
/**
 * People per company: people `8c … 8c+7` work at company `c`.
 *
 * @example
 * world.person(17).companyIndex === Math.floor(17 / COMPANY_SIZE); // true
 */
export const COMPANY_SIZE = 8;
/**
 * HubSpot ids: person `i` is contact `HUBSPOT_ID_BASE + i`; merged-away ids start at `HUBSPOT_MERGED_BASE`.
 *
 * @example
 * world.person(42).tools.hubspot?.id; // String(HUBSPOT_ID_BASE + 42) when in HubSpot
 */
export const HUBSPOT_ID_BASE = 1_000_001;
/**
 * Merged-away HubSpot ids: person `i`'s are `HUBSPOT_MERGED_BASE + 2i` and `+ 2i + 1`.
 *
 * @example
 * world.findByToolId('hubspot', String(HUBSPOT_MERGED_BASE + 2 * 42)); // 42 when that id was merged into person 42
 */
export const HUBSPOT_MERGED_BASE = 60_000_001;

/**
 * The fixed process parameters (time unit: days).
 *
 * @example
 * const { bgnbd, spend } = WORLD_PROCESSES; // the BG/NBD and Gamma-Gamma parameters people are drawn from
 */
export const WORLD_PROCESSES: WorldProcesses = {
  bgnbd: { r: 0.6, alpha: 45, a: 0.9, b: 3 },
  spend: { p: 6, q: 3.5, gamma: 25 },
  campaignEveryDays: 7,
};

/** Shares of the population: business buyers, role addresses, presence in each tool, new sign-ups, bulk updates. */
export const SHARE = {
  b2b: 0.4,
  roleCompany: 0.15,
  roleAmongB2b: 0.5,
  hubspot: 0.6,
  salesforceB2b: 0.75,
  salesforceConsumer: 0.15,
  mailchimp: 0.5,
  newSignup: 0.07,
  bulkUpdate: 0.1,
} as const;

/** The random stream of each draw; a number once given never changes meaning, or every seed's world changes. */
export const S = {
  B2b: 1,
  Role: 2,
  CompanyRole: 3,
  Hubspot: 4,
  Salesforce: 5,
  Mailchimp: 6,
  Created: 7,
  UpdatedHubspot: 8,
  UpdatedSalesforce: 9,
  UpdatedMailchimp: 10,
  Identity: 11,
  Company: 12,
  Tools: 13,
  Behaviour: 14,
  Purchases: 15,
  Spend: 16,
  Email: 17,
  Web: 18,
  Crm: 19,
  Support: 20,
  Campaign: 21,
} as const;

/** A tool's bit in a person's presence bits. */
export const BIT: Record<WorldTool, number> = { hubspot: 1, salesforce: 2, mailchimp: 4 };

/** The validated options and the seeded draws every part of the world takes. */
export interface WorldBasis {
  seed: string | number;
  people: number;
  now: number;
  start: number;
  historyDays: number;
  /** The day many records of every tool were updated at once (a bulk import), 45 days before the clock. */
  bulkUpdateAt: number;
  seedHash: number;
  seedTag: string;
  proc: WorldProcesses;
  /** A uniform draw in [0, 1) for person (or company, campaign) `i` on `stream`. */
  u(i: number, stream: number): number;
  /** A generator for a sequence of draws of `i` on `stream`. */
  rng(i: number, stream: number): Rng;
  /** Throws a RangeError unless `i` is a person of this world. */
  check(i: number): void;
}

/** Validates the options and sets up the draws. */
export function worldBasis(options: WorldOptions): WorldBasis {
  const { seed, people } = options;
  if (!Number.isSafeInteger(people) || people < 0) {
    throw new Error(`createWorld: people must be a non-negative integer, got ${String(people)}`);
  }
  const now = options.now === undefined ? DEFAULT_WORLD_NOW : new Date(options.now).getTime();
  if (!Number.isFinite(now)) throw new Error(`createWorld: now is not a valid date: ${String(options.now)}`);
  const historyDays = options.historyDays ?? DEFAULT_HISTORY_DAYS;
  if (!Number.isInteger(historyDays) || historyDays < 90) {
    throw new Error(`createWorld: historyDays must be an integer of at least 90, got ${String(options.historyDays)}`);
  }
  const seedHash = hashSeed(seed);
  return {
    seed,
    people,
    now,
    start: now - historyDays * DAY,
    historyDays,
    bulkUpdateAt: now - 45 * DAY,
    seedHash,
    seedTag: seedHash.toString(36),
    proc: WORLD_PROCESSES,
    u: (i, stream) => uniformAt(seedHash, i, stream),
    rng: (i, stream) => new Rng(streamKey(seedHash, i, stream)),
    check: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= people) {
        throw new RangeError(`world has people 0…${people - 1}, asked for ${String(i)}`);
      }
    },
  };
}
