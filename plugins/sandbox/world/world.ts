/**
 * `createWorld`: the seeded synthetic customer base that every tool's sandbox renders. People, their presence in each
 * tool, their events and their ground truth are all derived on demand from (seed, index), so the world holds no
 * per-person state beyond the cached tool indexes. The parts live beside this file: basis.ts (options, clock, seeded
 * draws), people.ts (identities and presence), behaviour.ts (purchases and engagement), tools.ts (each tool's view),
 * campaigns.ts, events.ts, truth.ts and lookups.ts (indexes and look-ups).
 */
import { BIT, worldBasis } from './basis.js';
export { HUBSPOT_COMPANY_BASE } from './firms.js';
import { behaviours, type Behaviour } from './behaviour.js';
import { worldAudiences, worldCampaigns } from './campaigns.js';
import { eventGenerator } from './events.js';
import { firmCount, firmOf } from './firms.js';
import { worldLookups } from './lookups.js';
import { population, type Identity } from './people.js';
import { toolViews } from './tools.js';
import { personTruth } from './truth.js';
import type { Person, World, WorldOptions } from './types.js';

export {
  COMPANY_SIZE,
  DEFAULT_HISTORY_DAYS,
  DEFAULT_WORLD_NOW,
  HUBSPOT_ID_BASE,
  HUBSPOT_MERGED_BASE,
  WORLD_PROCESSES,
} from './basis.js';

/**
 * Creates the seeded synthetic customer world. Nothing is generated up front: `person(i)`, `events(i)` and
 * `truth(i)` are computed in O(1) from (seed, i), and `toolIndex(tool)` scans presence only (1M people in well under
 * a few seconds), so a world of millions costs a few typed arrays.
 *
 * About 40% of people are business buyers (meetings, calls, CRM deals), the rest consumers (e-commerce orders).
 * Presence overlaps: ~60% HubSpot, ~40% Salesforce (mostly business buyers), ~50% Mailchimp; emails are written
 * with different case in each tool (and sometimes surrounding spaces in Salesforce). Hard cases: role addresses
 * (`info@…`) shared by colleagues (several Salesforce records, one HubSpot/Mailchimp record), merged HubSpot
 * contacts, converted Salesforce leads, archived and deleted records, people on two Mailchimp audiences.
 *
 * @example
 * const world = createWorld({ seed: 'demo', people: 10_000 });
 * for (const i of world.toolIndex('hubspot')) {
 *   const contact = world.person(i).tools.hubspot!; // { id, email, mergedIds, archived, updatedAt, … }
 * }
 * world.truth(42).alive; // ground truth for end-to-end checks
 */
export function createWorld(options: WorldOptions): World {
  const basis = worldBasis(options);
  const { check } = basis;
  const audiences = worldAudiences(basis);
  const campaigns = worldCampaigns(basis);
  const pop = population(basis);
  const { identity, createdAtOf, presenceBits, updatedAtOf, isB2b, companyOf, worldIdOf } = pop;
  const { behaviour, spendOf } = behaviours(basis);
  const tools = toolViews(basis, pop, audiences);
  const generateEvents = eventGenerator(basis, audiences, campaigns);

  const personFrom = (i: number, id: Identity, b?: Behaviour): Person => {
    const createdAt = createdAtOf(i);
    const purchases = b ? b.purchaseTimes.length : behaviour(i, id.consent, createdAt).purchaseTimes.length;
    return {
      index: i,
      worldId: worldIdOf(i),
      firstName: id.firstName,
      lastName: id.lastName,
      email: id.email,
      roleAddress: id.roleAddress,
      phone: id.phone,
      company: id.company,
      companyIndex: companyOf(i),
      domain: id.domain,
      jobTitle: id.jobTitle,
      country: id.country,
      countryCode: id.countryCode,
      city: id.city,
      currency: id.currency,
      b2b: isB2b(i),
      createdAt,
      consent: id.consent,
      tools: tools(i, id, createdAt, purchases),
    };
  };

  const person = (i: number): Person => {
    check(i);
    return personFrom(i, identity(i));
  };

  return {
    seed: basis.seed,
    size: basis.people,
    now: basis.now,
    start: basis.start,
    processes: basis.proc,
    audiences,
    campaigns,
    person,
    events: (i) => {
      check(i);
      const id = identity(i);
      const b = behaviour(i, id.consent, createdAtOf(i));
      return generateEvents(i, id, b, personFrom(i, id, b), spendOf(i, b));
    },
    truth: (i) => {
      check(i);
      const id = identity(i);
      const createdAt = createdAtOf(i);
      const b = behaviour(i, id.consent, createdAt);
      const spend = spendOf(i, b);
      return personTruth(basis, {
        index: i,
        worldId: worldIdOf(i),
        id,
        b2b: isB2b(i),
        createdAt,
        behaviour: b,
        spend,
        tools: tools(i, id, createdAt, b.purchaseTimes.length),
      });
    },
    isIn: (i, tool) => {
      check(i);
      return (presenceBits(i) & BIT[tool]) !== 0;
    },
    updatedAt: (i, tool) => {
      check(i);
      return presenceBits(i) & BIT[tool] ? updatedAtOf(i, tool) : undefined;
    },
    ...worldLookups(basis, pop, person),
    firms: firmCount(basis),
    firm: (c) => firmOf(basis, person, c),
  };
}
