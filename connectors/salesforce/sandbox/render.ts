/**
 * Renders the shared synthetic world as one Salesforce org: Contacts (with their Accounts, the world's firms), Leads (converted ones
 * pointing at their Contact), Tasks for calls, Events for meetings, Opportunities with contact roles for deals, and
 * Campaigns with CampaignMember responses, and the support tickets of Contacts who are not in HubSpot (their support desk
 * is Salesforce's) as Cases with CaseComments, from the world's voice. Emails are kept as written in Salesforce; ids
 * are the world's.
 */
import { salesforceId, worldVoice, type World, type WorldVoice } from '../../../plugins/sandbox/index.js';
import { defaultMemberStatuses, type Org, type Row } from './org.js';

const DAY = 86_400_000;

/** The campaigns every rendered org has (members drawn from the seed). */
export const WORLD_CAMPAIGNS = ['Spring Webinar', 'Customer Summit', 'Product Launch Newsletter'] as const;

export interface RenderCounts {
  contacts: number;
  leads: number;
  accounts: number;
  tasks: number;
  events: number;
  opportunities: number;
  campaignMembers: number;
  cases: number;
  caseComments: number;
}

/** Fills `org` with the world's Salesforce presence. Deterministic: the same world gives the same org. */
export function renderWorld(org: Org, world: World): RenderCounts {
  const counts: RenderCounts = {
    contacts: 0,
    leads: 0,
    accounts: 0,
    tasks: 0,
    events: 0,
    opportunities: 0,
    campaignMembers: 0,
    cases: 0,
    caseComments: 0,
  };
  const voice = worldVoice(world);
  const support = { case: 0, comment: 0, portalUser: 0 };
  // The org's agents: the owners 1…5 as internal (Standard) users, whose case comments are the agents' replies.
  for (let n = 1; n <= 5; n++)
    org.put('User', {
      ...common(salesforceId('005', n), world.start, world.start),
      Name: `Agent ${n}`,
      UserType: 'Standard',
      IsActive: true,
    });
  const seedHash = hashText(String(world.seed));
  const campaignIds = WORLD_CAMPAIGNS.map((name, k) => {
    const id = salesforceId('701', k + 1);
    const start = world.start + (k + 1) * 120 * DAY;
    org.put('Campaign', {
      ...common(id, start, start),
      Name: name,
      Type: k === 2 ? 'Email' : 'Webinar',
      Status: 'Completed',
      IsActive: true,
      StartDate: start,
      OwnerId: salesforceId('005', 1),
    });
    let status = k * 2;
    for (const row of defaultMemberStatuses(id, start, () => salesforceId('01Y', ++status)))
      org.put('CampaignMemberStatus', row);
    return { id, start };
  });
  let taskN = 0;
  let eventN = 0;
  let oppN = 0;
  let roleN = 0;
  let memberN = 0;
  for (const i of world.toolIndex('salesforce')) {
    const person = world.person(i);
    const sf = person.tools.salesforce;
    if (!sf) continue;
    const owner = salesforceId('005', 1 + sf.owner);
    const optedOut = person.consent === 'unsubscribed';
    if (sf.contactId) {
      const accountId = sf.accountId ?? salesforceId('001', person.companyIndex);
      if (!org.table('Account').has(accountId)) {
        const firm = world.firm(person.companyIndex);
        const account = firm.salesforce;
        counts.accounts++;
        org.put('Account', {
          ...common(accountId, account?.createdAt ?? sf.createdAt, account?.updatedAt ?? sf.createdAt),
          Name: account?.name ?? person.company,
          Website: account?.website ?? null,
          Industry: firm.industry,
          NumberOfEmployees: firm.employees,
          AnnualRevenue: firm.annualRevenue,
          BillingCountry: firm.country,
          OwnerId: owner,
          Segments__c: null,
        });
      }
      const createdAt = sf.converted ? (sf.convertedAt ?? sf.createdAt) : sf.createdAt;
      counts.contacts++;
      org.put('Contact', {
        ...common(sf.contactId, createdAt, Math.max(createdAt, sf.updatedAt)),
        IsDeleted: sf.deleted,
        AccountId: accountId,
        FirstName: person.firstName,
        LastName: person.lastName,
        Email: sf.email,
        Phone: person.phone,
        Title: person.jobTitle,
        MailingCity: person.city,
        MailingCountry: person.country,
        LeadSource: sf.converted ? 'Web' : 'Partner Referral',
        OwnerId: owner,
        HasOptedOutOfEmail: optedOut,
        Segments__c: null,
        Score__c: null,
      });
    }
    if (sf.leadId) {
      const convertedAt = sf.converted ? (sf.convertedAt ?? sf.updatedAt) : null;
      counts.leads++;
      org.put('Lead', {
        ...common(sf.leadId, sf.createdAt, convertedAt ?? sf.updatedAt),
        IsDeleted: sf.deleted && !sf.converted,
        FirstName: person.firstName,
        LastName: person.lastName,
        Email: sf.email,
        Phone: person.phone,
        Company: person.company,
        Title: person.jobTitle,
        City: person.city,
        Country: person.country,
        Status: sf.converted
          ? 'Closed - Converted'
          : draw(seedHash, i, 9100) < 0.5
            ? 'Open - Not Contacted'
            : 'Working - Contacted',
        LeadSource: 'Web',
        OwnerId: owner,
        HasOptedOutOfEmail: optedOut,
        IsConverted: sf.converted,
        ConvertedContactId: sf.converted ? (sf.contactId ?? null) : null,
        ConvertedAccountId: sf.converted ? (sf.accountId ?? null) : null,
        ConvertedDate: convertedAt === null ? null : Math.floor(convertedAt / DAY) * DAY,
        Segments__c: null,
        Score__c: null,
      });
    }
    const whoId = sf.contactId ?? sf.leadId ?? sf.id;
    const deals = new Map<string, Row>();
    let webTickets = false;
    for (const event of world.events(i)) {
      if (event.type === 'support_ticket' && event.tool === 'web') webTickets = true;
      if (event.tool !== 'salesforce') continue;
      const logged = Math.min(world.now - 1, event.at + 60_000);
      if (event.type === 'call') {
        counts.tasks++;
        org.put('Task', {
          ...common(salesforceId('00T', ++taskN), logged, logged),
          WhoId: whoId,
          WhatId: null,
          Subject: String(event.properties.subject ?? 'Call'),
          Status: 'Completed',
          TaskSubtype: 'Call',
          Type: 'Call',
          ActivityDate: Math.floor(event.at / DAY) * DAY,
          CallDurationInSeconds: Number(event.properties.duration_s ?? 0),
          OwnerId: owner,
        });
      } else if (event.type === 'meeting') {
        counts.events++;
        org.put('Event', {
          ...common(salesforceId('00U', ++eventN), logged, logged),
          WhoId: whoId,
          WhatId: null,
          Subject: String(event.properties.subject ?? 'Meeting'),
          Type: 'Meeting',
          ActivityDate: Math.floor(event.at / DAY) * DAY,
          ActivityDateTime: event.at,
          DurationInMinutes: Math.round(Number(event.properties.duration_s ?? 1800) / 60),
          OwnerId: owner,
        });
      } else if ((event.type === 'deal_created' || event.type === 'deal_won') && sf.contactId) {
        const orderId = String(event.properties.order_id ?? event.id);
        let opp = deals.get(orderId);
        if (!opp) {
          const id = salesforceId('006', ++oppN);
          counts.opportunities++;
          opp = org.put('Opportunity', {
            ...common(id, event.at, event.at),
            AccountId: sf.accountId ?? null,
            Name: `${person.company} — ${String(event.properties.category ?? 'order')}`,
            Amount: event.value,
            StageName: 'Prospecting',
            CloseDate: Math.floor((event.at + 30 * DAY) / DAY) * DAY,
            IsClosed: false,
            IsWon: false,
            Type: 'New Business',
            OwnerId: owner,
          });
          deals.set(orderId, opp);
          org.put('OpportunityContactRole', {
            ...common(salesforceId('00K', ++roleN), event.at, event.at),
            OpportunityId: id,
            ContactId: sf.contactId,
            Role: 'Decision Maker',
            IsPrimary: true,
          });
        }
        if (event.type === 'deal_won') {
          Object.assign(opp, {
            StageName: 'Closed Won',
            IsClosed: true,
            IsWon: true,
            Amount: event.value,
            CloseDate: Math.floor(event.at / DAY) * DAY,
            LastModifiedDate: event.at,
            SystemModstamp: event.at,
          });
        }
      }
    }
    if (webTickets && sf.contactId && !sf.deleted && !person.tools.hubspot)
      renderCases(org, voice, i, sf.contactId, sf.accountId ?? null, owner, counts, support);
    campaignIds.forEach((campaign, k) => {
      if (draw(seedHash, i, 9200 + k) >= 0.2) return;
      const at = Math.max(campaign.start, sf.createdAt) + Math.floor(draw(seedHash, i, 9210 + k) * 20 * DAY);
      if (at >= world.now) return;
      const responded = draw(seedHash, i, 9220 + k) < 0.4;
      counts.campaignMembers++;
      org.put('CampaignMember', {
        ...common(salesforceId('00v', ++memberN), at, at),
        IsDeleted: sf.deleted,
        CampaignId: campaign.id,
        ContactId: sf.contactId ?? null,
        LeadId: sf.contactId ? null : (sf.leadId ?? null),
        Status: responded ? 'Responded' : 'Sent',
        HasResponded: responded,
        FirstRespondedDate: responded ? Math.floor(at / DAY) * DAY : null,
      });
    });
  }
  return counts;
}

const CASE_STATUS: Record<string, string> = { open: 'New', pending: 'Working', closed: 'Closed' };

/**
 * Person `index`'s tickets as Cases of their Contact (the opening message as `Description`) and the later messages as
 * public CaseComments: an agent's by the Case owner, the customer's by their own portal user (created on first use).
 * A comment bumps its Case's SystemModstamp, so a Case is modified when its last message was written.
 */
function renderCases(
  org: Org,
  voice: WorldVoice,
  index: number,
  contactId: string,
  accountId: string | null,
  owner: string,
  counts: RenderCounts,
  ids: { case: number; comment: number; portalUser: number },
): void {
  let portalUser: string | null = null;
  for (const ticket of voice.tickets(index)) {
    const caseId = salesforceId('500', ++ids.case);
    const closed = ticket.status === 'closed';
    counts.cases++;
    org.put('Case', {
      ...common(caseId, Math.round(ticket.createdAt), Math.round(ticket.updatedAt)),
      ContactId: contactId,
      AccountId: accountId,
      Subject: ticket.subject,
      Description: ticket.messages[0]?.text ?? null,
      Status: CASE_STATUS[ticket.status] ?? 'New',
      Priority: 'Medium',
      Origin: 'Web',
      IsClosed: closed,
      ClosedDate: closed ? Math.round(ticket.updatedAt) : null,
      OwnerId: owner,
    });
    for (const message of ticket.messages.slice(1)) {
      let author = owner;
      if (message.author === 'customer') {
        if (!portalUser) {
          portalUser = salesforceId('005', 100_000 + ++ids.portalUser);
          org.put('User', {
            ...common(portalUser, Math.round(ticket.createdAt), Math.round(ticket.createdAt)),
            Name: `Customer ${contactId}`,
            UserType: 'CspLitePortal',
            IsActive: true,
          });
        }
        author = portalUser;
      }
      const at = Math.round(message.at);
      counts.caseComments++;
      org.put('CaseComment', {
        ...common(salesforceId('00a', ++ids.comment), at, at),
        ParentId: caseId,
        CommentBody: message.text,
        IsPublished: true,
        CreatedById: author,
      });
    }
  }
}

function common(id: string, createdAt: number, modifiedAt: number): Row {
  return { Id: id, IsDeleted: false, CreatedDate: createdAt, LastModifiedDate: modifiedAt, SystemModstamp: modifiedAt };
}

/** A uniform draw in [0, 1) for (seed, person, purpose): the org's own choices (campaign membership, lead status). */
function draw(seedHash: number, index: number, purpose: number): number {
  let h = seedHash ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(purpose + 1, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
