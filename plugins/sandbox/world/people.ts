/**
 * Who the people are: business buyer or consumer, company, role addresses shared by colleagues, which tools hold
 * them, when they signed up and when each tool last updated them, and their identity (name, email, place, consent).
 */
import { BIT, COMPANY_SIZE, DAY, NEW_SIGNUP_DAYS, S, SHARE, type WorldBasis } from './basis.js';
import {
  AGE_BAND_WEIGHTS,
  AGE_BANDS,
  B2B_TITLES,
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
  PLACES,
} from './tables.js';
import type { PersonTruth, WorldConsent, WorldTool } from './types.js';

const PLACE_WEIGHTS = PLACES.map((p) => p.weight);

/** A person's identity: what every tool may hold about them, before each tool writes it its own way. */
export interface Identity {
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

/** The people of a world, each derived from (seed, index) on demand. */
export interface Population {
  isB2b(i: number): boolean;
  companyOf(i: number): number;
  /** The tools person `i` is in, as {@link BIT}s. */
  presenceBits(i: number): number;
  createdAtOf(i: number): number;
  updatedAtOf(i: number, tool: WorldTool): number;
  identity(i: number): Identity;
  worldIdOf(i: number): string;
}

/** The people of the world `basis` describes. */
export function population(basis: WorldBasis): Population {
  const { seedTag, now, start, historyDays, bulkUpdateAt, u, rng } = basis;

  const isB2b = (i: number) => u(i, S.B2b) < SHARE.b2b;
  const companyOf = (i: number) => Math.floor(i / COMPANY_SIZE);
  const isRoleAddress = (i: number) =>
    isB2b(i) && u(companyOf(i), S.CompanyRole) < SHARE.roleCompany && u(i, S.Role) < SHARE.roleAmongB2b;
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

  return {
    isB2b,
    companyOf,
    presenceBits,
    createdAtOf,
    updatedAtOf,
    identity,
    worldIdOf: (i) => `wp-${seedTag}-${i}`,
  };
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
