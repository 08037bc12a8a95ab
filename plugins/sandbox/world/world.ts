/**
 * `createWorld`: the seeded synthetic customer base that every tool's sandbox renders. People, their presence in each
 * tool, their events and their ground truth are all derived on demand from (seed, index), so the world holds no
 * per-person state beyond the cached tool indexes.
 */
import { parseSalesforceId, salesforceId, subscriberHash } from './ids.js';
import { hashSeed, mix32, Rng, streamKey, uniformAt } from './random.js';
import {
  AGE_BAND_WEIGHTS,
  AGE_BANDS,
  B2B_TITLES,
  CATEGORIES,
  COMPANY_SUFFIXES,
  COMPANY_WORDS_A,
  COMPANY_WORDS_B,
  CONSUMER_DOMAINS,
  CONSUMER_TITLES,
  FEMALE_NAMES,
  GENDER_WEIGHTS,
  GENDERS,
  LAST_NAMES,
  MALE_NAMES,
  NONBINARY_NAMES,
  PAGES,
  PLACES,
  TICKET_SUBJECTS,
} from './tables.js';
import type {
  EventTool,
  HubSpotPresence,
  MailchimpMembership,
  Person,
  PersonTools,
  PersonTruth,
  SalesforcePresence,
  World,
  WorldAudience,
  WorldCampaign,
  WorldConsent,
  WorldEvent,
  WorldOptions,
  WorldProcesses,
  WorldTool,
} from './types.js';

const DAY = 86_400_000;
/** The default world clock. */
export const DEFAULT_WORLD_NOW = Date.parse('2026-06-30T00:00:00Z');
/** Days of history before the world clock, by default. */
export const DEFAULT_HISTORY_DAYS = 730;
const NEW_SIGNUP_DAYS = 30;
/** People per company: people `8c … 8c+7` work at company `c`. */
export const COMPANY_SIZE = 8;
/** HubSpot ids: person `i` is contact `HUBSPOT_ID_BASE + i`; merged-away ids start at `HUBSPOT_MERGED_BASE`. */
export const HUBSPOT_ID_BASE = 1_000_001;
export const HUBSPOT_MERGED_BASE = 60_000_001;

/** The fixed process parameters (time unit: days). */
export const WORLD_PROCESSES: WorldProcesses = {
  bgnbd: { r: 0.6, alpha: 45, a: 0.9, b: 3 },
  spend: { p: 6, q: 3.5, gamma: 25 },
  campaignEveryDays: 7,
};

const SHARE = {
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

const S = {
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

const PLACE_WEIGHTS = PLACES.map((p) => p.weight);
const BIT: Record<WorldTool, number> = { hubspot: 1, salesforce: 2, mailchimp: 4 };

interface Identity {
  firstName: string;
  lastName: string;
  email: string;
  roleAddress: boolean;
  gender: PersonTruth['gender'];
  ageBand: string;
  phone: string;
  company: string;
  domain: string;
  jobTitle: string;
  country: string;
  countryCode: string;
  city: string;
  currency: string;
  consent: WorldConsent;
  owner: number;
}

interface Behaviour {
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
  const start = now - historyDays * DAY;
  const bulkUpdateAt = now - 45 * DAY;
  const seedHash = hashSeed(seed);
  const seedTag = seedHash.toString(36);
  const proc = WORLD_PROCESSES;

  const u = (i: number, stream: number) => uniformAt(seedHash, i, stream);
  const rng = (i: number, stream: number) => new Rng(streamKey(seedHash, i, stream));

  const audiences: WorldAudience[] = [
    { id: hex10(seedHash, 1), name: 'Newsletter' },
    { id: hex10(seedHash, 2), name: 'Product updates' },
  ];
  const campaigns: WorldCampaign[] = [];
  for (let k = 0, at = start + 15 * 3_600_000; at < now; k++, at += proc.campaignEveryDays * DAY) {
    const r = rng(k, S.Campaign);
    campaigns.push({
      index: k,
      mailchimpId: hex10(seedHash, 1000 + k),
      hubspotId: String(5_000_001 + k),
      sentAt: at,
      subject: `${r.pick(['Weekly picks', 'New arrivals', 'Last chance', 'Members only', 'Tips & news'])} #${k + 1}`,
    });
  }

  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= people) {
      throw new RangeError(`world has people 0…${people - 1}, asked for ${String(i)}`);
    }
  };

  const isB2b = (i: number) => u(i, S.B2b) < SHARE.b2b;
  const companyOf = (i: number) => Math.floor(i / COMPANY_SIZE);
  const isRoleAddress = (i: number) =>
    isB2b(i) &&
    uniformAt(seedHash, companyOf(i), S.CompanyRole) < SHARE.roleCompany &&
    u(i, S.Role) < SHARE.roleAmongB2b;
  /** A role address shared with an earlier colleague: HubSpot and Mailchimp keep one record per email. */
  const isRoleFollower = (i: number) => {
    if (!isRoleAddress(i)) return false;
    for (let j = companyOf(i) * COMPANY_SIZE; j < i; j++) if (isRoleAddress(j)) return true;
    return false;
  };
  const presenceBits = (i: number) => {
    const follower = isRoleFollower(i);
    let bits = 0;
    if (!follower && u(i, S.Hubspot) < SHARE.hubspot) bits |= BIT.hubspot;
    if (u(i, S.Salesforce) < (isB2b(i) ? SHARE.salesforceB2b : SHARE.salesforceConsumer)) bits |= BIT.salesforce;
    if (!follower && u(i, S.Mailchimp) < SHARE.mailchimp) bits |= BIT.mailchimp;
    return bits;
  };
  const createdAtOf = (i: number) => {
    const v = u(i, S.Created);
    const t =
      v < SHARE.newSignup
        ? now - NEW_SIGNUP_DAYS * DAY + (v / SHARE.newSignup) * NEW_SIGNUP_DAYS * DAY
        : start + ((v - SHARE.newSignup) / (1 - SHARE.newSignup)) * (historyDays - NEW_SIGNUP_DAYS) * DAY;
    return Math.floor(t / 1000) * 1000;
  };
  const updatedStream: Record<WorldTool, number> = {
    hubspot: S.UpdatedHubspot,
    salesforce: S.UpdatedSalesforce,
    mailchimp: S.UpdatedMailchimp,
  };
  const updatedAtOf = (i: number, tool: WorldTool) => {
    const created = createdAtOf(i);
    const v = u(i, updatedStream[tool]);
    if (v < SHARE.bulkUpdate && created <= bulkUpdateAt) return bulkUpdateAt;
    const w = v < SHARE.bulkUpdate ? v / SHARE.bulkUpdate : (v - SHARE.bulkUpdate) / (1 - SHARE.bulkUpdate);
    return Math.min(now - 1000, Math.floor((created + w * (now - created)) / 1000) * 1000);
  };

  const identity = (i: number): Identity => {
    const r = rng(i, S.Identity);
    const b2b = isB2b(i);
    const gender = r.weighted(GENDERS, GENDER_WEIGHTS);
    const firstName = r.pick(gender === 'female' ? FEMALE_NAMES : gender === 'male' ? MALE_NAMES : NONBINARY_NAMES);
    const lastName = r.pick(LAST_NAMES);
    const ageBand = r.weighted(AGE_BANDS, AGE_BAND_WEIGHTS);
    const place = r.weighted(PLACES, PLACE_WEIGHTS);
    const city = r.pick(place.cities);
    const jobTitle = r.pick(b2b ? B2B_TITLES : CONSUMER_TITLES);
    const consent = r.weighted<WorldConsent>(['subscribed', 'unsubscribed', 'cleaned', 'pending'], [72, 17, 6, 5]);
    const owner = r.int(5);
    const phone = `+${place.dial} ${String(200 + r.int(800))} ${String(1_000_000 + r.int(9_000_000))}`;
    const c = companyOf(i);
    const cr = rng(c, S.Company);
    const wordA = cr.pick(COMPANY_WORDS_A);
    const wordB = cr.pick(COMPANY_WORDS_B);
    const company = `${wordA}${wordB} ${cr.pick(COMPANY_SUFFIXES)}`;
    const domain = `${(wordA + wordB).toLowerCase()}${c}.example`;
    const f = asciiName(firstName);
    const l = asciiName(lastName);
    const roleAddress = isRoleAddress(i);
    let email: string;
    if (roleAddress) email = `info@${domain}`;
    else if (b2b) email = `${f}.${l}${i % COMPANY_SIZE === 0 ? '' : String(i % COMPANY_SIZE)}@${domain}`;
    else {
      const style = r.int(3);
      const local = style === 0 ? `${f}.${l}` : style === 1 ? `${f}${l}` : `${f.charAt(0)}${l}`;
      email = `${local}.${i}@${r.pick(CONSUMER_DOMAINS)}`;
    }
    return {
      firstName,
      lastName,
      email,
      roleAddress,
      gender,
      ageBand,
      phone,
      company,
      domain,
      jobTitle,
      country: place.country,
      countryCode: place.code,
      city,
      currency: place.currency,
      consent,
      owner,
    };
  };

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

  const spendOf = (i: number, b: Behaviour) => {
    const r = rng(i, S.Spend);
    return b.purchaseTimes.map(() => {
      const value = Math.round(r.gamma(proc.spend.p, 1 / b.nu) * 100) / 100;
      const discounted = r.chance(b.discountBuyer ? 0.85 : 0.15);
      const discount = discounted ? r.pick([0.1, 0.15, 0.2, 0.25, 0.3]) : 0;
      const category = r.chance(0.6) ? b.favouriteCategory : r.pick(CATEGORIES);
      return { value, discount, category };
    });
  };

  const tools = (i: number, id: Identity, createdAt: number, purchases: number): PersonTools => {
    const bits = presenceBits(i);
    const r = rng(i, S.Tools);
    const out: PersonTools = {};
    const b2b = isB2b(i);
    if (bits & BIT.hubspot) {
      const mergedIds: string[] = [];
      if (r.chance(0.03)) {
        mergedIds.push(String(HUBSPOT_MERGED_BASE + 2 * i));
        if (r.chance(0.2)) mergedIds.push(String(HUBSPOT_MERGED_BASE + 2 * i + 1));
      }
      const stage =
        purchases > 0
          ? 'customer'
          : b2b
            ? r.pick(['lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity'])
            : id.consent === 'subscribed'
              ? 'subscriber'
              : 'lead';
      const hubspot: HubSpotPresence = {
        id: String(HUBSPOT_ID_BASE + i),
        email: writeEmail(id.email, r.weighted(['lower', 'title', 'upper'] as const, [70, 25, 5])),
        mergedIds,
        archived: r.chance(0.015),
        createdAt,
        updatedAt: updatedAtOf(i, 'hubspot'),
        lifecycleStage: stage,
        owner: id.owner,
      };
      out.hubspot = hubspot;
    }
    if (bits & BIT.salesforce) {
      const updatedAt = updatedAtOf(i, 'salesforce');
      const isContact = r.chance(0.55);
      const converted = !isContact && r.chance(0.3);
      const style = r.weighted(['lower', 'title', 'spaced'] as const, [75, 15, 10]);
      const sf: SalesforcePresence = {
        kind: isContact || converted ? 'contact' : 'lead',
        id: isContact || converted ? salesforceId('003', i) : salesforceId('00Q', i),
        converted,
        email: writeEmail(id.email, style),
        deleted: r.chance(0.01),
        createdAt,
        updatedAt,
        owner: id.owner,
      };
      if (isContact || converted) {
        sf.contactId = salesforceId('003', i);
        sf.accountId = salesforceId('001', companyOf(i));
      }
      if (!isContact) sf.leadId = salesforceId('00Q', i);
      if (converted) sf.convertedAt = Math.floor(createdAt + r.next() * (updatedAt - createdAt));
      out.salesforce = sf;
    }
    if (bits & BIT.mailchimp) {
      const updatedAt = updatedAtOf(i, 'mailchimp');
      const written = writeEmail(id.email, r.weighted(['lower', 'title'] as const, [80, 20]));
      const hash = subscriberHash(id.email);
      const onMain = r.chance(0.85);
      const onSecond = !onMain || r.chance(0.3);
      const archived = r.chance(0.01);
      const memberships: MailchimpMembership[] = [];
      const member = (listId: string, status: MailchimpMembership['status']): MailchimpMembership => ({
        listId,
        email: written,
        subscriberHash: hash,
        status,
        createdAt,
        updatedAt,
      });
      if (onMain) memberships.push(member(audiences[0]!.id, archived ? 'archived' : id.consent));
      if (onSecond) {
        const status: WorldConsent =
          id.consent === 'cleaned' || id.consent === 'pending'
            ? id.consent
            : r.chance(0.7)
              ? 'subscribed'
              : 'unsubscribed';
        memberships.push(member(audiences[1]!.id, status));
      }
      out.mailchimp = { audiences: memberships };
    }
    return out;
  };

  const worldIdOf = (i: number) => `wp-${seedTag}-${i}`;

  const person = (i: number): Person => {
    check(i);
    return personFrom(i, identity(i));
  };

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

  const truth = (i: number): PersonTruth => {
    check(i);
    const id = identity(i);
    const createdAt = createdAtOf(i);
    const b = behaviour(i, id.consent, createdAt);
    const spend = spendOf(i, b);
    const totalSpend = Math.round(spend.reduce((s, o) => s + o.value, 0) * 100) / 100;
    return {
      index: i,
      worldId: worldIdOf(i),
      email: id.email,
      roleAddress: id.roleAddress,
      b2b: isB2b(i),
      tools: tools(i, id, createdAt, b.purchaseTimes.length),
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
  };

  const events = (i: number): WorldEvent[] => {
    check(i);
    const id = identity(i);
    const b = behaviour(i, id.consent, createdAtOf(i));
    const p = personFrom(i, id, b);
    const spend = spendOf(i, b);
    const wid = p.worldId;
    const list: Omit<WorldEvent, 'id'>[] = [];
    const add = (
      type: WorldEvent['type'],
      at: number,
      tool: EventTool,
      value: number | null,
      properties: WorldEvent['properties'],
    ) => {
      if (at < now) list.push({ type, at: Math.floor(at), tool, value, properties });
    };
    /** Engagement relative to dropout: full until `decayMs` before it, then falling linearly, then a trickle. */
    const engagement = (t: number) => {
      if (b.dropoutAt === null) return 1;
      if (t >= b.dropoutAt) return 0.08;
      return Math.min(1, Math.max(0.08, (b.dropoutAt - t) / b.decayMs));
    };
    const { hubspot, salesforce, mailchimp } = p.tools;
    const crm: EventTool | null = salesforce ? 'salesforce' : hubspot ? 'hubspot' : null;

    add('signup', p.createdAt, 'web', null, { url: 'https://shop.example/signup' });
    if (hubspot)
      add('form_submit', p.createdAt + 60_000, 'hubspot', null, { form: 'signup', url: 'https://shop.example/signup' });

    b.purchaseTimes.forEach((at, k) => {
      const order = spend[k]!;
      const props = {
        currency: p.currency,
        discount: order.discount,
        category: order.category,
        order_id: `${wid}-o${k}`,
      };
      if (p.b2b && crm) {
        const opened = Math.max(p.createdAt, at - (7 + (mix32(streamKey(seedHash, i, 100 + k)) % 24)) * DAY);
        add('deal_created', opened, crm, order.value, { ...props, stage: 'open' });
        add('deal_won', at, crm, order.value, { ...props, stage: 'closedwon' });
      } else {
        const tool: EventTool = mailchimp ? 'mailchimp' : hubspot ? 'hubspot' : 'web';
        add('purchase', at, tool, order.value, props);
      }
    });

    const mainMember = mailchimp?.audiences.find((m) => m.listId === audiences[0]!.id && m.status !== 'archived');
    const emailTool: EventTool | null = mainMember ? 'mailchimp' : hubspot ? 'hubspot' : null;
    if (emailTool && id.consent !== 'pending') {
      const r = rng(i, S.Email);
      const stopAt = b.consentChangedAt ?? now;
      let last: WorldCampaign | undefined;
      for (const c of campaigns) {
        if (c.sentAt < p.createdAt) continue;
        if (c.sentAt >= stopAt) break;
        last = c;
        const campaign = emailTool === 'mailchimp' ? c.mailchimpId : c.hubspotId;
        const sentAt = c.sentAt + r.int(3_600_000);
        add('email_sent', sentAt, emailTool, null, { campaign_id: campaign, subject: c.subject });
        if (r.chance(b.openProbability * engagement(sentAt))) {
          const openedAt = sentAt + r.exponential(1 / 6) * 3_600_000;
          add('email_open', openedAt, emailTool, null, { campaign_id: campaign });
          if (r.chance(b.clickProbability)) {
            const url = `https://shop.example${r.pick(PAGES)}?utm_campaign=${campaign}`;
            add('email_click', openedAt + r.int(600_000), emailTool, null, { campaign_id: campaign, url });
          }
        }
      }
      if (b.consentChangedAt !== null && last) {
        const campaign = emailTool === 'mailchimp' ? last.mailchimpId : last.hubspotId;
        if (id.consent === 'unsubscribed')
          add('email_unsubscribe', b.consentChangedAt, emailTool, null, { campaign_id: campaign });
        else add('email_bounce', b.consentChangedAt, emailTool, null, { campaign_id: campaign, bounce_type: 'hard' });
      }
    }

    const web = rng(i, S.Web);
    for (
      let t = p.createdAt + web.exponential(0.05) * DAY, n = 0;
      t < now && n < 2000;
      t += web.exponential(0.05) * DAY, n++
    ) {
      if (web.chance(engagement(t)))
        add('page_view', t, 'web', null, { url: `https://shop.example${web.pick(PAGES)}` });
    }

    if (p.b2b && crm) {
      const r = rng(i, S.Crm);
      for (
        let t = p.createdAt + r.exponential(1 / 30) * DAY, n = 0;
        t < now && n < 500;
        t += r.exponential(1 / 30) * DAY, n++
      ) {
        if (!r.chance(engagement(t))) continue;
        const call = r.chance(0.6);
        add(call ? 'call' : 'meeting', t, crm, null, {
          subject: call ? 'Follow-up call' : r.pick(['Demo', 'Quarterly review', 'Discovery meeting']),
          duration_s: 300 + r.int(3300),
        });
      }
    }

    const s = rng(i, S.Support);
    for (let t = p.createdAt + s.exponential(1 / 180) * DAY; t < now; t += s.exponential(1 / 180) * DAY) {
      const status = t < now - 14 * DAY ? 'closed' : s.pick(['open', 'pending']);
      add('support_ticket', t, hubspot ? 'hubspot' : 'web', null, { subject: s.pick(TICKET_SUBJECTS), status });
    }

    list.sort((x, y) => x.at - y.at);
    return list.map((e, n) => ({ id: `${wid}-e${n}`, ...e }));
  };

  const indexes = new Map<WorldTool, Int32Array>();
  const buildIndexes = () => {
    const counts = { hubspot: 0, salesforce: 0, mailchimp: 0 };
    const bits = new Uint8Array(people);
    for (let i = 0; i < people; i++) {
      const b = presenceBits(i);
      bits[i] = b;
      if (b & 1) counts.hubspot++;
      if (b & 2) counts.salesforce++;
      if (b & 4) counts.mailchimp++;
    }
    for (const tool of ['hubspot', 'salesforce', 'mailchimp'] as const) {
      const out = new Int32Array(counts[tool]);
      let k = 0;
      for (let i = 0; i < people; i++) if (bits[i]! & BIT[tool]) out[k++] = i;
      indexes.set(tool, out);
    }
  };
  const toolIndex = (tool: WorldTool) => {
    if (!indexes.has(tool)) buildIndexes();
    return indexes.get(tool)!;
  };

  const orders = new Map<WorldTool, { indexes: Int32Array; updatedAt: Float64Array }>();
  const toolOrder = (tool: WorldTool) => {
    let order = orders.get(tool);
    if (!order) {
      const idx = toolIndex(tool);
      const times = new Float64Array(people);
      for (const i of idx) times[i] = updatedAtOf(i, tool);
      const sorted = Int32Array.from(idx).sort((a, b) => times[a]! - times[b]! || a - b);
      const updatedAt = new Float64Array(sorted.length);
      for (let k = 0; k < sorted.length; k++) updatedAt[k] = times[sorted[k]!]!;
      order = { indexes: sorted, updatedAt };
      orders.set(tool, order);
    }
    return order;
  };

  let byHash: Map<string, number> | undefined;
  let byEmail: Map<string, number | number[]> | undefined;

  const findByToolId = (tool: WorldTool, rawId: string): number | undefined => {
    const toolId = rawId.trim();
    if (tool === 'hubspot') {
      if (!/^\d+$/.test(toolId)) return undefined;
      const n = Number(toolId);
      if (n >= HUBSPOT_MERGED_BASE) {
        const i = Math.floor((n - HUBSPOT_MERGED_BASE) / 2);
        if (i >= people) return undefined;
        return person(i).tools.hubspot?.mergedIds.includes(toolId) ? i : undefined;
      }
      const i = n - HUBSPOT_ID_BASE;
      return i >= 0 && i < people && presenceBits(i) & BIT.hubspot ? i : undefined;
    }
    if (tool === 'salesforce') {
      const parsed = parseSalesforceId(toolId);
      if (!parsed || parsed.n >= people || !(presenceBits(parsed.n) & BIT.salesforce)) return undefined;
      const sf = person(parsed.n).tools.salesforce;
      const own = parsed.prefix === '003' ? sf?.contactId : parsed.prefix === '00Q' ? sf?.leadId : undefined;
      return own !== undefined && own.startsWith(toolId.slice(0, 15)) ? parsed.n : undefined;
    }
    if (!byHash) {
      byHash = new Map();
      for (const i of toolIndex('mailchimp')) byHash.set(subscriberHash(identity(i).email), i);
    }
    return byHash.get(toolId.toLowerCase());
  };

  const findByEmail = (email: string): number[] => {
    if (!byEmail) {
      byEmail = new Map();
      for (let i = 0; i < people; i++) {
        const e = identity(i).email;
        const seen = byEmail.get(e);
        if (seen === undefined) byEmail.set(e, i);
        else if (typeof seen === 'number') byEmail.set(e, [seen, i]);
        else seen.push(i);
      }
    }
    const hit = byEmail.get(email.trim().toLowerCase());
    return hit === undefined ? [] : typeof hit === 'number' ? [hit] : [...hit];
  };

  return {
    seed,
    size: people,
    now,
    start,
    processes: proc,
    audiences,
    campaigns,
    person,
    events,
    truth,
    isIn: (i, tool) => {
      check(i);
      return (presenceBits(i) & BIT[tool]) !== 0;
    },
    toolIndex,
    toolOrder,
    updatedAt: (i, tool) => {
      check(i);
      return presenceBits(i) & BIT[tool] ? updatedAtOf(i, tool) : undefined;
    },
    findByToolId,
    findByEmail,
  };
}

function hex10(seedHash: number, n: number): string {
  const a = mix32(seedHash ^ mix32(n * 0x9e3779b1 + 17))
    .toString(16)
    .padStart(8, '0');
  const b = mix32(seedHash ^ mix32(n * 0x85ebca6b + 91))
    .toString(16)
    .padStart(8, '0');
  return (a + b).slice(0, 10);
}

const asciiNames = new Map<string, string>();
function asciiName(name: string): string {
  let ascii = asciiNames.get(name);
  if (ascii === undefined) {
    ascii = name
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase();
    asciiNames.set(name, ascii);
  }
  return ascii;
}

/** Renders a canonical email as a tool holds it: a different case, or surrounding whitespace. */
function writeEmail(email: string, style: 'lower' | 'title' | 'upper' | 'spaced'): string {
  switch (style) {
    case 'lower':
      return email;
    case 'upper':
      return email.toUpperCase();
    case 'spaced':
      return ` ${email}  `;
    case 'title': {
      const [local = '', domain = ''] = email.split('@');
      const cap = (s: string) =>
        s.replace(/(^|[.\-_])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
      return `${cap(local)}@${cap(domain)}`;
    }
  }
}
