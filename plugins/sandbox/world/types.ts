/**
 * The shapes of the synthetic world: people, their presence in each tool, their events and their ground truth.
 */
import type { EmailConsent, EventType } from '../../model/index.js';

/**
 * The tools whose sandboxes render the world's people.
 *
 * @example
 * const tool: WorldTool = 'mailchimp';
 * world.toolIndex(tool);
 */
export type WorldTool = 'hubspot' | 'salesforce' | 'mailchimp';

/**
 * The tools in {@link WorldTool}, in a fixed order.
 *
 * @example
 * for (const tool of WORLD_TOOLS) console.log(tool, world.toolIndex(tool).length);
 */
export const WORLD_TOOLS: readonly WorldTool[] = ['hubspot', 'salesforce', 'mailchimp'];

/**
 * Where an event is recorded: one of the tools, or the website / product (Segment-style events).
 *
 * @example
 * world.events(42).filter((e) => e.tool === 'web'); // page views, sign-ups, web purchases
 */
export type EventTool = WorldTool | 'web';

/**
 * A person's email consent in the world: the four states a tool can actually hold (never `unknown`).
 *
 * @example
 * world.person(42).consent; // 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending'
 */
export type WorldConsent = Exclude<EmailConsent, 'unknown'>;

/**
 * Options of {@link createWorld}.
 *
 * @example
 * createWorld({ seed: 'e2e', people: 2_000, now: '2026-01-01T00:00:00Z', historyDays: 365 });
 */
export interface WorldOptions {
  /** Any string or number; the same seed always gives the same world. */
  seed: string | number;
  /** How many people the world holds (indexes 0 … people − 1). */
  people: number;
  /** The world clock: an ISO string, epoch ms or Date. Default 2026-06-30T00:00:00Z. */
  now?: string | number | Date;
  /**
   * Days of history before the clock (default 730, at least 90): people sign up over it and campaigns go out weekly
   * across it, so a shorter history means fewer events per person (about 64 at 730 days).
   */
  historyDays?: number;
}

/**
 * A person as HubSpot holds them (a contact).
 *
 * @example
 * const hs = world.person(42).tools.hubspot;
 * if (hs && !hs.archived) render({ id: hs.id, email: hs.email, hs_merged_object_ids: hs.mergedIds.join(';') });
 */
export interface HubSpotPresence {
  /** The contact's numeric id, as a string (HubSpot's `hs_object_id`). */
  id: string;
  /** The email as written in HubSpot (its case may differ from the canonical email). */
  email: string;
  /** Ids of contacts that were merged into this one (`hs_merged_object_ids`); empty for most people. */
  mergedIds: string[];
  /** Archived (deleted) in HubSpot: absent from list and search reads unless `archived=true` is asked. */
  archived: boolean;
  /** Creation and last-modified times, epoch ms. `updatedAt` may be shared by many records (a bulk update). */
  createdAt: number;
  updatedAt: number;
  /** HubSpot lifecycle stage: subscriber, lead, marketingqualifiedlead, salesqualifiedlead, opportunity, customer. */
  lifecycleStage: string;
  /** The owner's number, 0 … 4 (a sandbox renders it as its own owner id). */
  owner: number;
}

/**
 * A person as Salesforce holds them: a Lead, a Contact, or a Lead converted to a Contact (both records exist).
 *
 * @example
 * const sf = world.person(42).tools.salesforce;
 * if (sf?.kind === 'lead' && !sf.converted) render({ Id: sf.id, Email: sf.email });
 */
export interface SalesforcePresence {
  /** The record a read of this person lands on first: the Contact when there is one, else the Lead. */
  kind: 'contact' | 'lead';
  /** The main id (`contactId` when there is a Contact, else `leadId`), 18 characters. */
  id: string;
  /** The Contact's 18-character id (prefix 003), when there is a Contact. */
  contactId?: string;
  /** The Lead's 18-character id (prefix 00Q), when the person was or is a Lead. */
  leadId?: string;
  /** The Lead was converted: it carries `IsConverted = true` and `ConvertedContactId = contactId`. */
  converted: boolean;
  /** When the Lead was converted, epoch ms. */
  convertedAt?: number;
  /** The Account (prefix 001) of a Contact: one per company. */
  accountId?: string;
  /** The email as written in Salesforce: may differ in case and carry surrounding whitespace. */
  email: string;
  /** Deleted in Salesforce (in the recycle bin: `IsDeleted`, visible to `queryAll` only). */
  deleted: boolean;
  createdAt: number;
  /** `SystemModstamp`, epoch ms; many records may share one value (ties). */
  updatedAt: number;
  owner: number;
}

/**
 * One audience (list) membership in Mailchimp.
 *
 * @example
 * const member = world.person(42).tools.mailchimp?.audiences[0];
 * member && render({ id: member.subscriberHash, email_address: member.email, status: member.status });
 */
export interface MailchimpMembership {
  /** The audience's list id (see {@link World.audiences}). */
  listId: string;
  /** The email as written in Mailchimp (case preserved). */
  email: string;
  /** md5 of the lower-cased email. */
  subscriberHash: string;
  status: WorldConsent | 'archived';
  /** `timestamp_opt`, epoch ms. */
  createdAt: number;
  /** `last_changed`, epoch ms. */
  updatedAt: number;
}

/**
 * A person as Mailchimp holds them: one or two audience memberships.
 *
 * @example
 * world.person(42).tools.mailchimp?.audiences.map((m) => m.listId); // one or two audience ids
 */
export interface MailchimpPresence {
  audiences: MailchimpMembership[];
}

/**
 * Which tools hold a person, and how.
 *
 * @example
 * const { hubspot, salesforce, mailchimp } = world.person(42).tools; // each undefined when absent
 */
export interface PersonTools {
  hubspot?: HubSpotPresence;
  salesforce?: SalesforcePresence;
  mailchimp?: MailchimpPresence;
}

/**
 * A person of the world, as the tools would agree on them (canonical values).
 *
 * @example
 * const p = world.person(42);
 * `${p.firstName} ${p.lastName} <${p.email}> at ${p.company}`;
 */
export interface Person {
  index: number;
  /** A stable id for the person across tools and runs of the same seed. */
  worldId: string;
  firstName: string;
  lastName: string;
  /** The canonical email: trimmed, lower-case. A role address (`info@…`) may be shared by several people. */
  email: string;
  /** The email is a role address shared by colleagues at one company. */
  roleAddress: boolean;
  phone: string;
  company: string;
  /** The company's number; people `8c … 8c+7` work at company `c`. */
  companyIndex: number;
  /** The company's web domain (reserved `.example` domain). */
  domain: string;
  jobTitle: string;
  country: string;
  /** ISO 3166 alpha-2 country code. */
  countryCode: string;
  city: string;
  /** The currency the person's orders are in. */
  currency: string;
  /** A business buyer (meetings, calls, deals in the CRM) rather than a consumer (e-commerce orders). */
  b2b: boolean;
  /** Sign-up time, epoch ms. */
  createdAt: number;
  consent: WorldConsent;
  /** The person's presence in each tool. */
  tools: PersonTools;
}

/**
 * One event of a person, before a sandbox renders it in its tool's shape.
 *
 * @example
 * for (const e of world.events(42)) if (e.type === 'email_open' && e.tool === 'mailchimp') renderOpen(e);
 */
export interface WorldEvent {
  /** Stable for (seed, person, position): `<worldId>-e<n>`. */
  id: string;
  type: EventType;
  /** Epoch ms. */
  at: number;
  /** The tool that records it. */
  tool: EventTool;
  /** Money for purchases and deals; null otherwise. */
  value: number | null;
  /** Currency, discount, category, order id, url, campaign id, subject, status… depending on the type. */
  properties: Record<string, string | number | boolean>;
}

/**
 * What the world knows about a person that no tool shows: the parameters behind their behaviour and its outcome.
 *
 * @example
 * const truth = world.truth(42);
 * expect(segmentMembers('churn_risk').includes(truth.email)).toBe(!truth.alive);
 */
export interface PersonTruth {
  index: number;
  worldId: string;
  email: string;
  roleAddress: boolean;
  b2b: boolean;
  tools: PersonTools;
  /** Protected-attribute-like traits for fairness audits; tools never show them unless a sandbox opts in. */
  gender: 'female' | 'male' | 'nonbinary';
  ageBand: string;
  consent: WorldConsent;
  /** When an unsubscribed person unsubscribed, or a cleaned address bounced, epoch ms. */
  consentChangedAt: number | null;
  /** Signed up in the 30 days before `world.now`. */
  newSignup: boolean;
  /** BG/NBD purchase rate, purchases per day while alive. */
  lambda: number;
  /** BG/NBD probability of dropping out after each purchase. */
  p: number;
  /** Still alive (not dropped out) at `world.now`. */
  alive: boolean;
  /** When the person dropped out, epoch ms; null while alive. */
  dropoutAt: number | null;
  /** Same as `!alive`: churned before `world.now`. */
  churned: boolean;
  /** Purchases (orders or won deals) between sign-up and `world.now`. */
  purchases: number;
  totalSpend: number;
  firstPurchaseAt: number | null;
  lastPurchaseAt: number | null;
  /** Gamma-Gamma: the person's mean order value (p / ν). */
  meanOrderValue: number;
  /** Buys mostly with a discount (most of their purchases carry one). */
  discountBuyer: boolean;
  /** The category most of their purchases fall in. */
  favouriteCategory: string;
  /** Chance of opening a campaign at full engagement (0 for those who never open). */
  openProbability: number;
  /** Chance of clicking an opened campaign. */
  clickProbability: number;
  neverOpens: boolean;
  /** Engagement starts to fall this long before dropout, in ms. */
  decayMs: number;
}

/**
 * Parameters of the processes the world draws behaviour from; fixed, so tests can use closed forms.
 *
 * @example
 * const { r, alpha } = world.processes.bgnbd; // expected purchases in t days: BG/NBD's closed form
 */
export interface WorldProcesses {
  /** BG/NBD: λ ~ Gamma(shape r, rate α) per day; p ~ Beta(a, b). */
  bgnbd: { r: number; alpha: number; a: number; b: number };
  /** Gamma-Gamma spend: ν ~ Gamma(shape q, rate γ); each order value ~ Gamma(shape p, rate ν). */
  spend: { p: number; q: number; gamma: number };
  /** Days between two campaign sends. */
  campaignEveryDays: number;
}

/**
 * A weekly email campaign of the world (sent to subscribed people in Mailchimp, or as HubSpot marketing email).
 *
 * @example
 * for (const c of world.campaigns) render({ id: c.mailchimpId, sentAt: new Date(c.sentAt), subject: c.subject });
 */
export interface WorldCampaign {
  /** The campaign's number, 0 … */
  index: number;
  /** The Mailchimp campaign id (10 hex characters). */
  mailchimpId: string;
  /** The HubSpot marketing email campaign id (numeric string). */
  hubspotId: string;
  sentAt: number;
  subject: string;
}

/**
 * A Mailchimp audience of the world.
 *
 * @example
 * world.audiences.map((a) => ({ id: a.id, name: a.name })); // the Mailchimp lists
 */
export interface WorldAudience {
  id: string;
  name: string;
}

/**
 * A firm as HubSpot holds it: a company associated with the firm's business buyers who are in HubSpot.
 *
 * @example
 * const hs = world.firm(3).hubspot;
 * if (hs) render({ id: hs.id, name: hs.name, domain: hs.domain, hs_additional_domains: hs.additionalDomains.join(';') });
 */
export interface HubSpotCompany {
  /** The company's numeric id, as a string. */
  id: string;
  name: string;
  /** The primary domain: the firm's own, or (for some firms) a group domain with the own one among the additional. */
  domain: string;
  /** `hs_additional_domains`. */
  additionalDomains: string[];
  createdAt: number;
  updatedAt: number;
  /** The people (indexes) the company is associated with. */
  memberIndexes: number[];
}

/**
 * A firm as Salesforce holds it: an Account holding the firm's Contacts.
 *
 * @example
 * const sf = world.firm(3).salesforce;
 * if (sf) render({ Id: sf.id, Name: sf.name, Website: sf.website });
 */
export interface SalesforceAccount {
  /** The Account's 18-character id (prefix 001). */
  id: string;
  /** The name, possibly written differently from HubSpot's (upper-cased, without its legal suffix). */
  name: string;
  /** The website as typed: a bare domain, `www.` and the domain, or a URL. */
  website: string;
  createdAt: number;
  updatedAt: number;
  /** The people (indexes) with a Contact on this Account. */
  memberIndexes: number[];
}

/**
 * A firm of the world: the company people `8c … 8c+7` work at, and how each CRM holds it. The truth accounts are
 * checked against: one firm, one account, whatever the tools call it.
 *
 * @example
 * const firm = world.firm(3);
 * firm.hubspot?.id; firm.salesforce?.id; firm.memberIndexes; // both tools' records of one firm, and its people
 */
export interface Firm {
  index: number;
  /** The canonical name and domain. */
  name: string;
  domain: string;
  industry: string;
  employees: number;
  annualRevenue: number;
  country: string;
  /** The people associated with the firm in any tool, ascending. */
  memberIndexes: number[];
  hubspot?: HubSpotCompany;
  salesforce?: SalesforceAccount;
}

/**
 * The synthetic customer world several sandboxes render: see {@link createWorld}.
 *
 * @example
 * const world = createWorld({ seed: 'demo', people: 10_000 });
 * const i = world.findByEmail('ada.lovelace.7@example.net')[0];
 * if (i !== undefined) world.truth(i).alive;
 */
export interface World {
  readonly seed: string | number;
  /** The number of people. */
  readonly size: number;
  /** The world clock: nothing happens after it. Epoch ms. */
  readonly now: number;
  /** History begins here (two years before `now`). Epoch ms. */
  readonly start: number;
  /** The parameters behind behaviour (for closed-form checks). */
  readonly processes: WorldProcesses;
  /** The Mailchimp audiences: `[0]` the newsletter every Mailchimp person is most likely on, `[1]` product updates. */
  readonly audiences: readonly WorldAudience[];
  /** The email campaigns sent between `start` and `now`, oldest first. */
  readonly campaigns: readonly WorldCampaign[];
  /** Person `i`, built on demand in O(1). Throws a RangeError outside 0 … size − 1. */
  person(i: number): Person;
  /** Person `i`'s events, ascending by time, built on demand. */
  events(i: number): WorldEvent[];
  /** Person `i`'s ground truth. */
  truth(i: number): PersonTruth;
  /** Whether person `i` is in `tool`, without building the person (cheap). */
  isIn(i: number, tool: WorldTool): boolean;
  /** Indexes of the people present in `tool` (archived and deleted records included), ascending. Built once, cached. */
  toolIndex(tool: WorldTool): Int32Array;
  /**
   * Indexes of the people in `tool` ordered by that tool's `updatedAt`, ties broken by index; with the matching
   * times. For incremental reads with cursors. Built once, cached.
   */
  toolOrder(tool: WorldTool): { indexes: Int32Array; updatedAt: Float64Array };
  /** The tool's `updatedAt` of person `i`'s record (epoch ms), or undefined if they are not in it. */
  updatedAt(i: number, tool: WorldTool): number | undefined;
  /**
   * The person behind a tool id: a HubSpot id (merged ids too), a Salesforce Contact or Lead id (15 or 18
   * characters), or a Mailchimp subscriber hash. Undefined when unknown.
   */
  findByToolId(tool: WorldTool, id: string): number | undefined;
  /** The people whose canonical email is `email` (trimmed and lower-cased first); several for a role address. */
  findByEmail(email: string): number[];
  /** How many firms there are (firm `c` employs people `8c … 8c+7`). */
  readonly firms: number;
  /** Firm `c`, built on demand from its people. Throws a RangeError outside 0 … firms − 1. */
  firm(c: number): Firm;
}
