/**
 * The Salesforce source: Contacts and Leads (a converted Lead keeps its Contact as a linked id, so it stays one
 * person), and engagement as events — Tasks (calls, emails), Events (meetings), CampaignMember responses, and
 * Opportunities (created; closed-won is a purchase, attributed through contact roles or the account's contacts).
 * Every stream reads incrementally on SystemModstamp ascending with Id breaking ties, pages through
 * `nextRecordsUrl`, and re-reads an overlap on each new run; Contacts and Leads use queryAll so deletes arrive, and
 * an incremental read of them also asks the deleted endpoint, so rows already purged from the recycle bin arrive too.
 */
import type { QueryOptions, QueryResult } from 'jsforce';
import {
  defineSource,
  type ConnectorContext,
  type ContactRecord,
  type AccountRecord,
  type EventRecord,
  type StreamRecord,
  type StreamDefinition,
  type StreamMessage,
  type StreamState,
} from '../../plugins/index.js';
import {
  checkCanRead,
  chunks,
  classifySalesforceError,
  salesforceSpec,
  SalesforceSession,
  soqlString,
  type SalesforceConfig,
} from './client.js';
import { caseStreams } from './cases.js';
import { outboundWebhook } from './webhook.js';

/** A queried row. */
export type SfRecord = Record<string, unknown> & { Id: string; SystemModstamp: string };

/** A stream's checkpoint: the last SystemModstamp read (ISO), and the last Id at it while a read is under way. */
interface SalesforceState extends StreamState {
  cursor?: string | null;
  /** Present on checkpoints inside a run: resume strictly after (cursor, lastId). Absent: re-read the overlap. */
  lastId?: string;
  /** Contacts and Leads: the deleted endpoint's latestDateCovered (ISO) on the last completed read. */
  deletedThrough?: string;
}

const QUERY_BATCH = 2000;
const IN_CHUNK = 200;

interface ObjectRead {
  object: string;
  fields: string[];
  /** queryAll: include rows in the recycle bin (IsDeleted). */
  scanAll: boolean;
  /** Extra WHERE condition ANDed to the cursor window. */
  filter?: string;
}

/**
 * Reads one sObject type in (SystemModstamp, Id) order, one checkpoint per page. A fresh run starts `overlap` ms
 * behind the committed cursor; a run resumed from a checkpoint inside a read continues strictly after its
 * (SystemModstamp, Id), so a page ending inside a tie of equal timestamps loses nothing.
 */
async function* readObject(
  session: SalesforceSession,
  read: ObjectRead,
  state: SalesforceState | undefined,
  overlapMs: number,
  map: (rows: SfRecord[]) => Promise<StreamRecord[]>,
): AsyncGenerator<StreamMessage> {
  const committed = typeof state?.cursor === 'string' ? Date.parse(state.cursor) : undefined;
  const clauses: string[] = [];
  if (committed !== undefined && !Number.isNaN(committed)) {
    const at = new Date(committed).toISOString();
    if (state?.lastId)
      clauses.push(`(SystemModstamp > ${at} OR (SystemModstamp = ${at} AND Id > ${soqlString(state.lastId)}))`);
    else clauses.push(`SystemModstamp >= ${new Date(committed - overlapMs).toISOString()}`);
  }
  if (read.filter) clauses.push(read.filter);
  const fields = [...new Set(['Id', 'SystemModstamp', ...read.fields])];
  const soql = `SELECT ${fields.join(', ')} FROM ${read.object}${clauses.length ? ` WHERE ${clauses.join(' AND ')}` : ''} ORDER BY SystemModstamp ASC, Id ASC`;
  const options: QueryOptions = {
    scanAll: read.scanAll,
    headers: { 'Sforce-Query-Options': `batchSize=${QUERY_BATCH}` },
    autoFetch: false,
    maxFetch: QUERY_BATCH,
    responseTarget: 'QueryResult',
  };
  let page = await session.call(
    `${read.object}.query`,
    async (conn) => (await conn.query<SfRecord>(soql, options)) as QueryResult<SfRecord>,
  );
  let highest = committed !== undefined && !Number.isNaN(committed) ? committed : undefined;
  for (;;) {
    for (const record of await map(page.records)) yield { type: 'record', record };
    const last = page.records.at(-1);
    const lastAt = last ? Date.parse(last.SystemModstamp) : undefined;
    const done = page.done || !page.nextRecordsUrl;
    let checkpoint: SalesforceState;
    if (last && lastAt !== undefined && (highest === undefined || lastAt >= highest)) {
      highest = lastAt;
      checkpoint = done
        ? { cursor: new Date(lastAt).toISOString() }
        : { cursor: new Date(lastAt).toISOString(), lastId: last.Id };
    } else {
      checkpoint = { cursor: highest === undefined ? null : new Date(highest).toISOString() };
    }
    yield { type: 'state', state: checkpoint };
    if (done) return;
    const locator = page.nextRecordsUrl as string;
    page = await session.call(
      `${read.object}.queryMore`,
      async (conn) => (await conn.queryMore<SfRecord>(locator, options)) as QueryResult<SfRecord>,
    );
  }
}

const hasErrorCode = (error: unknown, code: string): boolean => {
  for (let e: unknown = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const { errorCode, name, details } = e as {
      errorCode?: unknown;
      name?: unknown;
      details?: { errorCode?: unknown };
    };
    if (errorCode === code || name === code || details?.errorCode === code) return true;
  }
  return false;
};

/** How far back the deleted endpoint answers (30 days), less an hour for clock skew between us and the org. */
const DELETED_REACH_MS = 30 * 86_400_000 - 3_600_000;
/** How far past our clock the deleted window reaches, for an org clock running ahead. */
const DELETED_AHEAD_MS = 60_000;

/**
 * Reads Contacts or Leads with queryAll, then — on an incremental read — the ids the deleted endpoint lists since
 * the last completed read (30 days back at most). Ids queryAll can still see were read as IsDeleted rows; the rest
 * were purged from the recycle bin, and come through as deleted records with only their deletion time.
 */
async function* readPeople(
  session: SalesforceSession,
  read: ObjectRead,
  mode: 'full_refresh' | 'incremental',
  state: SalesforceState | undefined,
  overlapMs: number,
  map: (rows: SfRecord[]) => Promise<ContactRecord[]>,
  ctx: ConnectorContext,
): AsyncGenerator<StreamMessage> {
  const incoming = mode === 'incremental' ? state : undefined;
  const since =
    typeof incoming?.deletedThrough === 'string'
      ? Date.parse(incoming.deletedThrough)
      : typeof incoming?.cursor === 'string'
        ? Date.parse(incoming.cursor)
        : Number.NaN;
  const carried = Number.isNaN(since) ? {} : { deletedThrough: new Date(since).toISOString() };
  const seen = new Set<string>();
  let last: SalesforceState = { cursor: null };
  for await (const message of readObject(session, read, incoming, overlapMs, async (rows) => {
    for (const row of rows) seen.add(row.Id);
    return map(rows);
  })) {
    if (message.type === 'state') {
      last = { ...(message.state as SalesforceState), ...carried };
      yield { type: 'state', state: last };
    } else yield message;
  }
  if (Number.isNaN(since)) return;
  const end = new Date(Math.max(Date.now(), since) + DELETED_AHEAD_MS);
  const listDeleted = (start: number) =>
    session.call(`${read.object}.deleted`, (conn) => conn.sobject(read.object).deleted(new Date(start), end));
  let deleted: Awaited<ReturnType<typeof listDeleted>>;
  try {
    deleted = await listDeleted(since - overlapMs);
  } catch (error) {
    // The org keeps 30 days of deletions; its clock (not ours) decides, so the window is only cut when it says so.
    if (!hasErrorCode(error, 'INVALID_REPLICATION_DATE')) throw error;
    const reach = Date.now() - DELETED_REACH_MS;
    ctx.logger.warn(
      `Salesforce keeps deleted ${read.object} ids for 30 days only; rows purged before ${new Date(reach).toISOString()} were not seen as deleted`,
      { connection: ctx.connection },
    );
    deleted = await listDeleted(Math.max(since - overlapMs, reach));
  }
  const unseen = deleted.deletedRecords.filter((d) => !seen.has(d.id));
  const inBin = new Set<string>();
  for (const ids of chunks(
    unseen.map((d) => d.id),
    IN_CHUNK,
  )) {
    const soql = `SELECT Id FROM ${read.object} WHERE Id IN (${ids.map(soqlString).join(', ')})`;
    const found = await session.call(
      `${read.object}.queryAll`,
      async (conn) => (await conn.query<{ Id: string }>(soql, { scanAll: true })) as QueryResult<{ Id: string }>,
    );
    for (const row of found.records) inBin.add(row.Id);
  }
  for (const gone of unseen) {
    if (inBin.has(gone.id)) continue;
    const record: ContactRecord = {
      kind: 'contact',
      source: 'salesforce',
      externalId: gone.id,
      traits: { updated_at: iso(gone.deletedDate) },
      deleted: true,
      raw: { Id: gone.id, IsDeleted: true, deletedDate: gone.deletedDate, purged: true },
    };
    yield { type: 'record', record };
  }
  const covered = Date.parse(deleted.latestDateCovered);
  yield {
    type: 'state',
    state: {
      ...last,
      deletedThrough: new Date(Number.isNaN(covered) ? end.getTime() : Math.min(covered, end.getTime())).toISOString(),
    },
  };
}

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const iso = (value: unknown): string | null => {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};
/** A Salesforce date or datetime as ISO, or null. */
export const sfIso = iso;
const rawOf = (row: Record<string, unknown>): Record<string, unknown> => {
  const { attributes: _attributes, ...rest } = row;
  return rest;
};
const isPerson = (id: unknown): id is string =>
  typeof id === 'string' && (id.startsWith('003') || id.startsWith('00Q'));

const CONTACT_FIELDS = [
  'IsDeleted',
  'AccountId',
  'FirstName',
  'LastName',
  'Email',
  'Phone',
  'Title',
  'MailingCity',
  'MailingCountry',
  'OwnerId',
  'HasOptedOutOfEmail',
  'LeadSource',
  'CreatedDate',
  'LastModifiedDate',
];
const LEAD_FIELDS = [
  'IsDeleted',
  'FirstName',
  'LastName',
  'Email',
  'Phone',
  'Company',
  'Title',
  'City',
  'Country',
  'Status',
  'OwnerId',
  'HasOptedOutOfEmail',
  'LeadSource',
  'IsConverted',
  'ConvertedContactId',
  'ConvertedAccountId',
  'ConvertedDate',
  'CreatedDate',
  'LastModifiedDate',
];

function extraTraits(row: Record<string, unknown>, fields: string[]): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const field of fields) {
    const value = row[field];
    out[field] = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
  }
  return out;
}

/**
 * A stream of people (Contacts or Leads): read with queryAll and, incrementally, the deleted walk; `recordsOf`
 * maps each page of rows to contact records.
 */
function peopleStream(
  config: SalesforceConfig,
  name: 'contacts' | 'leads',
  read: ObjectRead,
  recordsOf: (session: SalesforceSession) => (rows: SfRecord[]) => Promise<ContactRecord[]>,
): StreamDefinition<SalesforceConfig> {
  return {
    name,
    recordKind: 'contact',
    primaryKey: 'externalId',
    cursorField: 'raw.SystemModstamp',
    modes: ['full_refresh', 'incremental'],
    overlap: config.overlapMs,
    async *read(request, ctx) {
      const session = new SalesforceSession(request.config, ctx);
      yield* readPeople(
        session,
        read,
        request.mode,
        request.state as SalesforceState | undefined,
        config.overlapMs,
        recordsOf(session),
        ctx,
      );
    },
  };
}

/** The traits Contacts and Leads share, their own ones, and the row's deletion and raw fields. */
function personRecord(
  row: SfRecord,
  extraFields: string[],
  own: { company: string | null; city: string | null; country: string | null; lifecycle_stage: string },
  linkedIds: string[] | undefined,
  accountId: unknown,
): ContactRecord {
  return {
    kind: 'contact',
    source: 'salesforce',
    externalId: row.Id,
    traits: {
      ...extraTraits(row, extraFields),
      email: str(row.Email),
      first_name: str(row.FirstName),
      last_name: str(row.LastName),
      phone: str(row.Phone),
      company: own.company,
      job_title: str(row.Title),
      city: own.city,
      country: own.country,
      lifecycle_stage: own.lifecycle_stage,
      owner: str(row.OwnerId),
      created_at: iso(row.CreatedDate),
      updated_at: iso(row.LastModifiedDate),
      email_consent: row.HasOptedOutOfEmail === true ? 'unsubscribed' : 'unknown',
    },
    ...(linkedIds ? { linkedIds } : {}),
    accountIds: typeof accountId === 'string' && accountId !== '' ? [accountId] : [],
    ...(row.IsDeleted === true ? { deleted: true } : {}),
    raw: rawOf(row),
  };
}

function contactsStream(config: SalesforceConfig): StreamDefinition<SalesforceConfig> {
  const read = { object: 'Contact', fields: [...CONTACT_FIELDS, ...config.contactFields], scanAll: true };
  return peopleStream(config, 'contacts', read, (session) => {
    const accounts = new Map<string, string | null>();
    return async (rows) => {
      const missing = [
        ...new Set(
          rows.map((r) => r.AccountId).filter((id): id is string => typeof id === 'string' && !accounts.has(id)),
        ),
      ];
      for (const ids of chunks(missing, IN_CHUNK)) {
        const result = await session.call(
          'Account.query',
          async (conn) =>
            (await conn.query<{ Id: string; Name: string }>(
              `SELECT Id, Name FROM Account WHERE Id IN (${ids.map(soqlString).join(', ')})`,
            )) as QueryResult<{ Id: string; Name: string }>,
        );
        for (const account of result.records) accounts.set(account.Id, account.Name);
        for (const id of ids) if (!accounts.has(id)) accounts.set(id, null);
      }
      return rows.map((row) =>
        personRecord(
          row,
          config.contactFields,
          {
            company: typeof row.AccountId === 'string' ? (accounts.get(row.AccountId) ?? null) : null,
            city: str(row.MailingCity),
            country: str(row.MailingCountry),
            lifecycle_stage: 'contact',
          },
          undefined,
          row.AccountId,
        ),
      );
    };
  });
}

function leadsStream(config: SalesforceConfig): StreamDefinition<SalesforceConfig> {
  const read = { object: 'Lead', fields: [...LEAD_FIELDS, ...config.leadFields], scanAll: true };
  return peopleStream(
    config,
    'leads',
    read,
    () => async (rows) =>
      rows.map((row) => {
        const converted = row.IsConverted === true && typeof row.ConvertedContactId === 'string';
        return personRecord(
          row,
          config.leadFields,
          {
            company: str(row.Company),
            city: str(row.City),
            country: str(row.Country),
            lifecycle_stage: converted ? 'converted_lead' : `lead: ${str(row.Status) ?? 'open'}`,
          },
          converted ? [row.ConvertedContactId as string] : undefined,
          converted ? row.ConvertedAccountId : undefined,
        );
      }),
  );
}

const ACCOUNT_FIELDS = [
  'IsDeleted',
  'Name',
  'Website',
  'Industry',
  'NumberOfEmployees',
  'AnnualRevenue',
  'BillingCountry',
  'OwnerId',
  'CreatedDate',
  'LastModifiedDate',
];

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * Accounts: one account record per Account, matched to other tools' companies by its Website's domain. Members come
 * from the people streams (a Contact's AccountId, a converted Lead's ConvertedAccountId), so this stream states none.
 * queryAll, so an Account moved to the recycle bin arrives as deleted.
 */
function accountsStream(config: SalesforceConfig): StreamDefinition<SalesforceConfig> {
  return {
    name: 'accounts',
    recordKind: 'account',
    primaryKey: 'externalId',
    cursorField: 'raw.SystemModstamp',
    modes: ['full_refresh', 'incremental'],
    overlap: config.overlapMs,
    async *read(request, ctx) {
      const session = new SalesforceSession(request.config, ctx);
      yield* readObject(
        session,
        { object: 'Account', fields: ACCOUNT_FIELDS, scanAll: true },
        request.mode === 'incremental' ? (request.state as SalesforceState | undefined) : undefined,
        config.overlapMs,
        async (rows) =>
          rows.map((row): AccountRecord => ({
            kind: 'account',
            source: 'salesforce',
            externalId: row.Id,
            traits: {
              name: str(row.Name),
              website: str(row.Website),
              industry: str(row.Industry),
              employees: num(row.NumberOfEmployees),
              annual_revenue: num(row.AnnualRevenue),
              country: str(row.BillingCountry),
              owner: str(row.OwnerId),
              created_at: iso(row.CreatedDate),
              updated_at: iso(row.LastModifiedDate),
            },
            ...(row.IsDeleted === true ? { deleted: true } : {}),
            raw: rawOf(row),
          })),
      );
    },
  };
}

/** One canonical event of a queried row (its SystemModstamp kept as the stream's cursor). */
export function event(
  row: SfRecord,
  id: string,
  type: EventRecord['type'],
  occurredAt: string | null,
  who: string,
  value: number | null,
  properties: Record<string, unknown>,
): EventRecord {
  return {
    kind: 'event',
    source: 'salesforce',
    sourceEventId: id,
    type,
    occurredAt: occurredAt ?? (iso(row.SystemModstamp) as string),
    contact: { externalId: who },
    value,
    properties: { ...properties, SystemModstamp: row.SystemModstamp },
  };
}

/** A stream of events read from one sObject type on SystemModstamp. */
export function eventStream(
  config: SalesforceConfig,
  name: string,
  read: ObjectRead,
  map: (rows: SfRecord[], session: SalesforceSession, ctx: ConnectorContext) => Promise<EventRecord[]>,
): StreamDefinition<SalesforceConfig> {
  return {
    name,
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'properties.SystemModstamp',
    modes: ['full_refresh', 'incremental'],
    overlap: config.overlapMs,
    async *read(request, ctx) {
      const session = new SalesforceSession(request.config, ctx);
      yield* readObject(
        session,
        read,
        request.mode === 'incremental' ? (request.state as SalesforceState | undefined) : undefined,
        config.overlapMs,
        (rows) => map(rows, session, ctx),
      );
    },
  };
}

function engagementStreams(config: SalesforceConfig): StreamDefinition<SalesforceConfig>[] {
  const tasks = eventStream(
    config,
    'tasks',
    {
      object: 'Task',
      fields: [
        'WhoId',
        'Subject',
        'Status',
        'TaskSubtype',
        'Type',
        'ActivityDate',
        'CallDurationInSeconds',
        'CreatedDate',
      ],
      scanAll: false,
    },
    async (rows) =>
      rows
        .filter((row) => isPerson(row.WhoId))
        .map((row) => {
          const subtype = str(row.TaskSubtype) ?? str(row.Type);
          const type = subtype === 'Call' ? 'call' : subtype === 'Email' ? 'email_sent' : 'custom';
          return event(row, row.Id, type, iso(row.ActivityDate) ?? iso(row.CreatedDate), row.WhoId as string, null, {
            ...(type === 'custom' ? { name: 'task' } : {}),
            subject: row.Subject ?? null,
            status: row.Status ?? null,
            duration_s: row.CallDurationInSeconds ?? null,
          });
        }),
  );
  const meetings = eventStream(
    config,
    'meetings',
    {
      object: 'Event',
      fields: ['WhoId', 'Subject', 'Type', 'ActivityDate', 'ActivityDateTime', 'DurationInMinutes', 'CreatedDate'],
      scanAll: false,
    },
    async (rows) =>
      rows
        .filter((row) => isPerson(row.WhoId))
        .map((row) =>
          event(row, row.Id, 'meeting', iso(row.ActivityDateTime) ?? iso(row.ActivityDate), row.WhoId as string, null, {
            subject: row.Subject ?? null,
            duration_min: row.DurationInMinutes ?? null,
          }),
        ),
  );
  const responses = eventStream(
    config,
    'campaign_responses',
    {
      object: 'CampaignMember',
      fields: ['CampaignId', 'ContactId', 'LeadId', 'Status', 'HasResponded', 'FirstRespondedDate', 'CreatedDate'],
      scanAll: false,
      filter: 'HasResponded = true',
    },
    async (rows) =>
      rows
        .filter((row) => isPerson(row.ContactId ?? row.LeadId))
        .map((row) =>
          event(
            row,
            row.Id,
            'custom',
            iso(row.FirstRespondedDate) ?? iso(row.CreatedDate),
            (row.ContactId ?? row.LeadId) as string,
            null,
            {
              name: 'campaign_response',
              campaign_id: row.CampaignId,
              status: row.Status ?? null,
            },
          ),
        ),
  );
  const opportunities = eventStream(
    config,
    'opportunities',
    {
      object: 'Opportunity',
      fields: ['AccountId', 'Name', 'Amount', 'StageName', 'CloseDate', 'IsClosed', 'IsWon', 'CreatedDate'],
      scanAll: false,
    },
    async (rows, session) => {
      const people = await opportunityPeople(session, rows);
      const out: EventRecord[] = [];
      for (const row of rows) {
        const amount = typeof row.Amount === 'number' ? row.Amount : null;
        const properties = {
          opportunity_id: row.Id,
          name: row.Name ?? null,
          stage: row.StageName ?? null,
          close_date: row.CloseDate ?? null,
        };
        for (const contactId of people.get(row.Id) ?? []) {
          out.push(
            event(
              row,
              `${row.Id}:created:${contactId}`,
              'deal_created',
              iso(row.CreatedDate),
              contactId,
              amount,
              properties,
            ),
          );
          if (row.IsWon === true) {
            out.push(
              event(row, `${row.Id}:won:${contactId}`, 'purchase', iso(row.CloseDate), contactId, amount, {
                ...properties,
                order_id: row.Id,
              }),
            );
          }
        }
      }
      return out;
    },
  );
  return [tasks, meetings, responses, opportunities];
}

/** The contacts behind each opportunity: its contact roles, or else every contact of its account. */
async function opportunityPeople(session: SalesforceSession, rows: SfRecord[]): Promise<Map<string, string[]>> {
  const people = new Map<string, string[]>();
  for (const ids of chunks(
    rows.map((r) => r.Id),
    IN_CHUNK,
  )) {
    const roles = await queryAll<{ OpportunityId: string; ContactId: string | null }>(
      session,
      'OpportunityContactRole.query',
      `SELECT Id, OpportunityId, ContactId FROM OpportunityContactRole WHERE OpportunityId IN (${ids.map(soqlString).join(', ')}) ORDER BY Id`,
    );
    for (const role of roles) {
      if (!role.ContactId) continue;
      const list = people.get(role.OpportunityId) ?? [];
      if (!list.includes(role.ContactId)) list.push(role.ContactId);
      people.set(role.OpportunityId, list);
    }
  }
  const orphans = rows.filter((r) => !people.has(r.Id) && typeof r.AccountId === 'string');
  const accounts = [...new Set(orphans.map((r) => r.AccountId as string))];
  const byAccount = new Map<string, string[]>();
  for (const ids of chunks(accounts, IN_CHUNK)) {
    const contacts = await queryAll<{ Id: string; AccountId: string }>(
      session,
      'Contact.byAccount',
      `SELECT Id, AccountId FROM Contact WHERE AccountId IN (${ids.map(soqlString).join(', ')}) ORDER BY Id`,
    );
    for (const contact of contacts)
      byAccount.set(contact.AccountId, [...(byAccount.get(contact.AccountId) ?? []), contact.Id]);
  }
  for (const row of orphans) people.set(row.Id, byAccount.get(row.AccountId as string) ?? []);
  return people;
}

/** Every row of a query, following nextRecordsUrl, each page one request through the session. */
export async function queryAll<T extends Record<string, unknown>>(
  session: SalesforceSession,
  operation: string,
  soql: string,
): Promise<(T & { Id: string })[]> {
  let page = await session.call(
    operation,
    async (conn) => (await conn.query<T & { Id: string }>(soql)) as QueryResult<T & { Id: string }>,
  );
  const rows = [...page.records];
  while (!page.done && page.nextRecordsUrl) {
    const locator = page.nextRecordsUrl;
    page = await session.call(
      `${operation}.more`,
      async (conn) => (await conn.queryMore<T & { Id: string }>(locator)) as QueryResult<T & { Id: string }>,
    );
    rows.push(...page.records);
  }
  return rows;
}

/**
 * The Salesforce source.
 *
 * @example
 * for await (const message of source.streams(config)[0].read({ config, mode: 'incremental', state }, ctx)) { … }
 */
export const source = defineSource({
  name: 'salesforce',
  spec: salesforceSpec,
  rateBudget: { concurrency: 4 },
  classifyError: classifySalesforceError,
  check: (config, ctx) => checkCanRead(new SalesforceSession(config, ctx), 'Contact'),
  streams: (config) => [
    contactsStream(config),
    leadsStream(config),
    ...engagementStreams(config),
    accountsStream(config),
    ...caseStreams(config),
  ],
  webhook: outboundWebhook,
});
