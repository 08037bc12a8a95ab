/**
 * The Salesforce destination: segment membership as CampaignMember rows in a Campaign named after the segment
 * (found by name, created when missing) — create to add, delete by id to remove, through sObject collections of
 * 200 — or, chosen in config, a Contact/Lead field holding the segment names. DUPLICATE_VALUE on add and NOT_FOUND /
 * ENTITY_IS_DELETED on remove are success; UNABLE_TO_LOCK_ROW rows are tried again; other row errors are rejected
 * with Salesforce's code and message while the rest of the batch goes through. People found neither by id nor by
 * email (Contacts, then unconverted Leads) are created as Leads when `createLeads` is set, else skipped with the
 * reason (NOT_IN_SALESFORCE).
 */
import type { Connection, QueryResult } from 'jsforce';
import {
  ConfigError,
  defineDestination,
  RateLimitedError,
  type AccountMembershipBatch,
  type ConnectorContext,
  type ContactIdentity,
  type EraseResult,
  type MemberRef,
  type MembershipBatch,
  type MembershipChange,
  type RowResult,
  type SegmentRef,
} from '../../plugins/index.js';
import {
  checkCanRead,
  chunks,
  classifySalesforceError,
  salesforceSpec,
  SalesforceSession,
  soqlInLists,
  soqlString,
  type SalesforceConfig,
} from './client.js';
import { queryAll } from './source.js';

/** Records per sObject collection call. */
export const COLLECTION_SIZE = 200;
const LOCK_ATTEMPTS = 3;

interface RowOutcome {
  id?: string;
  success: boolean;
  errors: { statusCode?: string; errorCode?: string; message: string }[];
}

const codeOf = (outcome: RowOutcome): string =>
  outcome.errors[0]?.statusCode ?? outcome.errors[0]?.errorCode ?? 'UNKNOWN';
const messageOf = (outcome: RowOutcome): string => outcome.errors[0]?.message ?? 'rejected by Salesforce';

/** One session per context, so a run's calls share one login. */
const sessions = new WeakMap<ConnectorContext, SalesforceSession>();
function sessionFor(config: SalesforceConfig, ctx: ConnectorContext): SalesforceSession {
  let session = sessions.get(ctx);
  if (!session) sessions.set(ctx, (session = new SalesforceSession(config, ctx)));
  return session;
}

/** Campaign ids by segment name, per session. */
const campaigns = new WeakMap<SalesforceSession, Map<string, string>>();

async function findCampaign(
  session: SalesforceSession,
  segment: SegmentRef,
  create: boolean,
): Promise<string | undefined> {
  let known = campaigns.get(session);
  if (!known) campaigns.set(session, (known = new Map()));
  const cached = known.get(segment.name);
  if (cached) return cached;
  const found = await session.call(
    'Campaign.find',
    async (conn) =>
      (await conn.query<{ Id: string }>(
        `SELECT Id FROM Campaign WHERE Name = ${soqlString(segment.name)} ORDER BY CreatedDate ASC, Id ASC LIMIT 1`,
      )) as QueryResult<{ Id: string }>,
  );
  let id = found.records[0]?.Id;
  if (!id && create) {
    const [created] = await writeRows(
      session,
      'Campaign.create',
      [{ Name: segment.name, IsActive: true, Type: 'Other', Status: 'In Progress' }],
      (conn, rows) => conn.create('Campaign', rows) as Promise<RowOutcome[]>,
    );
    if (!created?.success || !created.id)
      throw new Error(
        `Salesforce refused to create campaign "${segment.name}": ${created ? `${codeOf(created)} ${messageOf(created)}` : 'no result'}`,
      );
    id = created.id;
  }
  if (id) known.set(segment.name, id);
  return id;
}

/** Campaigns (by id) known to have the configured member status, per session. */
const statusesReady = new WeakMap<SalesforceSession, Set<string>>();

/**
 * Makes sure the campaign has `label` among its CampaignMemberStatus values, adding it when missing: Salesforce gives
 * a member whose Status is not one of them the campaign's default status instead, without an error.
 */
async function ensureMemberStatus(session: SalesforceSession, campaignId: string, label: string): Promise<void> {
  let ready = statusesReady.get(session);
  if (!ready) statusesReady.set(session, (ready = new Set()));
  if (ready.has(campaignId)) return;
  const found = await session.call(
    'CampaignMemberStatus.find',
    async (conn) =>
      (await conn.query<{ Label: string; SortOrder: number | null }>(
        `SELECT Label, SortOrder FROM CampaignMemberStatus WHERE CampaignId = ${soqlString(campaignId)}`,
      )) as QueryResult<{ Label: string; SortOrder: number | null }>,
  );
  if (!found.records.some((s) => s.Label.toLowerCase() === label.toLowerCase())) {
    const sortOrder = Math.max(0, ...found.records.map((s) => s.SortOrder ?? 0)) + 1;
    const [created] = await writeRows(
      session,
      'CampaignMemberStatus.create',
      [{ CampaignId: campaignId, Label: label, SortOrder: sortOrder, HasResponded: false }],
      (conn, rows) => conn.create('CampaignMemberStatus', rows) as Promise<RowOutcome[]>,
    );
    if (!created || (!created.success && codeOf(created) !== 'DUPLICATE_VALUE'))
      throw new ConfigError(
        `Salesforce refused to add the member status "${label}" to campaign ${campaignId}: ${created ? `${codeOf(created)} ${messageOf(created)}` : 'no result'}`,
        {
          fix: `add "${label}" to the campaign's member statuses in Salesforce, or set membership.memberStatus to one it has`,
        },
      );
  }
  ready.add(campaignId);
}

/** The person id to use for a contact: a Contact id first (a converted lead's contact), else a Lead id. */
function personId(contact: ContactIdentity): string | undefined {
  return (
    contact.externalIds.find((id) => id.startsWith('003')) ?? contact.externalIds.find((id) => id.startsWith('00Q'))
  );
}

/** Finds (or, when the config says so, creates as Leads) the people of `changes` who came without a Salesforce id. */
async function resolvePeople(
  session: SalesforceSession,
  config: SalesforceConfig,
  changes: MembershipChange[],
): Promise<Map<number, string | RowResult>> {
  const resolved = new Map<number, string | RowResult>();
  const byEmail = new Map<string, number[]>();
  changes.forEach((change, index) => {
    const id = personId(change.contact);
    if (id) resolved.set(index, id);
    else if (change.contact.email)
      byEmail.set(change.contact.email.toLowerCase(), [
        ...(byEmail.get(change.contact.email.toLowerCase()) ?? []),
        index,
      ]);
    else
      resolved.set(index, {
        status: 'rejected',
        code: 'NO_IDENTITY',
        reason: 'no Salesforce id and no email to find the person by',
      });
  });
  const emails = [...byEmail.keys()];
  const found = new Map<string, string>();
  for (const list of soqlInLists(emails, COLLECTION_SIZE)) {
    for (const row of await queryAll<{ Email: string }>(
      session,
      'Contact.byEmail',
      `SELECT Id, Email FROM Contact WHERE Email IN (${list}) ORDER BY Id`,
    )) {
      const key = row.Email.trim().toLowerCase();
      if (!found.has(key)) found.set(key, row.Id);
    }
    for (const row of await queryAll<{ Email: string }>(
      session,
      'Lead.byEmail',
      `SELECT Id, Email FROM Lead WHERE Email IN (${list}) AND IsConverted = false ORDER BY Id`,
    )) {
      const key = row.Email.trim().toLowerCase();
      if (!found.has(key)) found.set(key, row.Id);
    }
  }
  const toCreate: string[] = [];
  for (const [email, indexes] of byEmail) {
    const id = found.get(email);
    if (id) indexes.forEach((i) => resolved.set(i, id));
    else if (config.createLeads) toCreate.push(email);
    else
      indexes.forEach((i) =>
        resolved.set(i, {
          status: 'skipped',
          code: 'NOT_IN_SALESFORCE',
          reason: 'not in Salesforce: no Contact or Lead with this email (set createLeads to create them as Leads)',
        }),
      );
  }
  for (const group of chunks(toCreate, COLLECTION_SIZE)) {
    const leads = group.map((email) => {
      const change = changes[(byEmail.get(email) as number[])[0] as number] as MembershipChange;
      const traits = change.traits ?? {};
      const text = (key: string) =>
        typeof traits[key] === 'string' && traits[key] !== '' ? (traits[key] as string) : undefined;
      return {
        Email: change.contact.email,
        FirstName: text('first_name') ?? null,
        LastName: text('last_name') ?? email.split('@')[0] ?? email,
        Company: text('company') ?? config.leadCompany,
      };
    });
    const results = await writeRows(
      session,
      'Lead.create',
      leads,
      (conn, rows) => conn.create('Lead', rows) as Promise<RowOutcome[]>,
    );
    group.forEach((email, k) => {
      const outcome = results[k] as RowOutcome;
      const value: string | RowResult =
        outcome.success && outcome.id
          ? outcome.id
          : { status: 'rejected', code: codeOf(outcome), reason: messageOf(outcome) };
      (byEmail.get(email) ?? []).forEach((i) => resolved.set(i, value));
    });
  }
  return resolved;
}

/**
 * Sends rows through one collection call per 200, trying rows that answered UNABLE_TO_LOCK_ROW again (up to three
 * attempts, with a pause); a lock that persists comes back as the row's outcome.
 */
async function writeRows<T>(
  session: SalesforceSession,
  operation: string,
  rows: T[],
  send: (conn: Connection, rows: T[]) => Promise<RowOutcome[]>,
  ctx?: ConnectorContext,
): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = new Array<RowOutcome>(rows.length);
  let pending = rows.map((_, i) => i);
  for (let attempt = 1; pending.length > 0; attempt++) {
    const locked: number[] = [];
    for (const group of chunks(pending, COLLECTION_SIZE)) {
      const results = await session.call(operation, (conn) =>
        send(
          conn,
          group.map((i) => rows[i] as T),
        ),
      );
      group.forEach((index, k) => {
        const outcome = results[k] ?? {
          success: false,
          errors: [{ statusCode: 'UNKNOWN', message: 'no result for this row' }],
        };
        outcomes[index] = outcome;
        if (!outcome.success && codeOf(outcome) === 'UNABLE_TO_LOCK_ROW' && attempt < LOCK_ATTEMPTS) locked.push(index);
      });
    }
    pending = locked;
    if (pending.length > 0 && ctx) await ctx.clock.sleep(100 * attempt, ctx.signal);
  }
  return outcomes;
}

function rowResult(outcome: RowOutcome, okCodes: readonly string[], id?: string | null): RowResult {
  if (outcome.success)
    return {
      status: 'accepted',
      ...(id !== null && (id ?? outcome.id) ? { destinationRecordId: (id ?? outcome.id) as string } : {}),
    };
  const code = codeOf(outcome);
  if (okCodes.includes(code))
    return { status: 'accepted', ...(typeof id === 'string' ? { destinationRecordId: id } : {}) };
  if (code === 'UNABLE_TO_LOCK_ROW')
    return { status: 'retryable', reason: `UNABLE_TO_LOCK_ROW: ${messageOf(outcome)}` };
  return { status: 'rejected', code, reason: `${code}: ${messageOf(outcome)}` };
}

async function writeCampaign(
  batch: MembershipBatch,
  config: SalesforceConfig,
  ctx: ConnectorContext,
): Promise<RowResult[]> {
  const session = sessionFor(config, ctx);
  const results: (RowResult | undefined)[] = new Array<RowResult | undefined>(batch.changes.length);
  const campaignId =
    (await findCampaign(
      session,
      batch.segment,
      batch.changes.some((c) => c.op === 'add'),
    )) ?? '';
  const adds = batch.changes.map((c, i) => ({ c, i })).filter(({ c }) => c.op === 'add');
  const removes = batch.changes.map((c, i) => ({ c, i })).filter(({ c }) => c.op === 'remove');
  batch.changes.forEach((c, i) => {
    if (c.op === 'update') results[i] = { status: 'accepted' };
  });

  if (adds.length > 0) {
    await ensureMemberStatus(session, campaignId, config.membership.memberStatus);
    const people = await resolvePeople(
      session,
      config,
      adds.map(({ c }) => c),
    );
    const members: { index: number; who: string }[] = [];
    adds.forEach(({ i }, k) => {
      const person = people.get(k);
      if (typeof person === 'string') members.push({ index: i, who: person });
      else results[i] = person ?? { status: 'skipped', code: 'NOT_IN_SALESFORCE', reason: 'not in Salesforce' };
    });
    const rows = members.map(({ who }) => ({
      CampaignId: campaignId,
      [who.startsWith('003') ? 'ContactId' : 'LeadId']: who,
      Status: config.membership.memberStatus,
    }));
    const outcomes = await writeRows(
      session,
      'CampaignMember.create',
      rows,
      (conn, group) => conn.create('CampaignMember', group) as Promise<RowOutcome[]>,
      ctx,
    );
    const duplicates = members.filter(
      (_, k) => codeOf(outcomes[k] as RowOutcome) === 'DUPLICATE_VALUE' && !(outcomes[k] as RowOutcome).success,
    );
    const existing = await memberIds(
      session,
      campaignId,
      duplicates.map((d) => d.who),
    );
    members.forEach(({ index, who }, k) => {
      results[index] = rowResult(
        outcomes[k] as RowOutcome,
        ['DUPLICATE_VALUE'],
        (outcomes[k] as RowOutcome).success ? undefined : existing.get(who.slice(0, 15)),
      );
    });
  }

  if (removes.length > 0) {
    const unresolved = removes.filter(({ c }) => !c.destinationRecordId);
    const found = campaignId
      ? await resolvePeople(
          session,
          { ...config, createLeads: false },
          unresolved.map(({ c }) => c),
        )
      : new Map<number, string | RowResult>();
    const whoOf = new Map<number, string>();
    unresolved.forEach(({ i }, k) => {
      const who = found.get(k);
      if (typeof who === 'string') whoOf.set(i, who);
    });
    const existing = campaignId ? await memberIds(session, campaignId, [...whoOf.values()]) : new Map<string, string>();
    const targets: { index: number; memberId: string }[] = [];
    for (const { c, i } of removes) {
      const who = whoOf.get(i);
      const memberId = c.destinationRecordId ?? (who ? existing.get(who.slice(0, 15)) : undefined);
      if (memberId) targets.push({ index: i, memberId });
      else results[i] = { status: 'accepted' };
    }
    const outcomes = await writeRows(
      session,
      'CampaignMember.delete',
      targets.map((t) => t.memberId),
      (conn, ids) => conn.destroy('CampaignMember', ids) as Promise<RowOutcome[]>,
      ctx,
    );
    targets.forEach(({ index }, k) => {
      results[index] = rowResult(outcomes[k] as RowOutcome, ['NOT_FOUND', 'ENTITY_IS_DELETED'], null);
    });
  }
  return results.map((r) => r ?? { status: 'retryable', reason: 'not written' });
}

/** CampaignMember ids of the given people in a campaign, keyed by the person's 15-character id. */
async function memberIds(
  session: SalesforceSession,
  campaignId: string,
  people: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const group of chunks(people, COLLECTION_SIZE)) {
    const contacts = group.filter((id) => id.startsWith('003')).map(soqlString);
    const leads = group.filter((id) => id.startsWith('00Q')).map(soqlString);
    const who = [
      contacts.length ? `ContactId IN (${contacts.join(', ')})` : '',
      leads.length ? `LeadId IN (${leads.join(', ')})` : '',
    ]
      .filter(Boolean)
      .join(' OR ');
    if (!who) continue;
    const rows = await queryAll<{ ContactId: string | null; LeadId: string | null }>(
      session,
      'CampaignMember.find',
      `SELECT Id, ContactId, LeadId FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId)} AND (${who}) ORDER BY Id`,
    );
    for (const row of rows) out.set(String(row.ContactId ?? row.LeadId).slice(0, 15), row.Id);
  }
  return out;
}

async function writeField(
  batch: MembershipBatch,
  config: SalesforceConfig,
  ctx: ConnectorContext,
): Promise<RowResult[]> {
  const session = sessionFor(config, ctx);
  const field = config.membership.field;
  const results: (RowResult | undefined)[] = new Array<RowResult | undefined>(batch.changes.length);
  const people = await resolvePeople(
    session,
    config,
    batch.changes.filter((c) => c.op !== 'remove' || personId(c.contact)),
  );
  const targets: { index: number; who: string; op: MembershipChange['op'] }[] = [];
  let k = 0;
  batch.changes.forEach((c, i) => {
    if (c.op === 'remove' && !personId(c.contact)) {
      results[i] = { status: 'accepted' };
      return;
    }
    const person = people.get(k++);
    if (typeof person === 'string') targets.push({ index: i, who: person, op: c.op });
    else results[i] = person ?? { status: 'skipped', code: 'NOT_IN_SALESFORCE', reason: 'not in Salesforce' };
  });
  const current = new Map<string, string>();
  for (const type of ['Contact', 'Lead'] as const) {
    const ids = targets.filter((t) => t.who.startsWith(type === 'Contact' ? '003' : '00Q')).map((t) => t.who);
    for (const group of chunks(ids, COLLECTION_SIZE)) {
      for (const row of await queryAll<Record<string, unknown>>(
        session,
        `${type}.segments`,
        `SELECT Id, ${field} FROM ${type} WHERE Id IN (${group.map(soqlString).join(', ')}) ORDER BY Id`,
      )) {
        current.set(row.Id.slice(0, 15), typeof row[field] === 'string' ? (row[field] as string) : '');
      }
    }
  }
  const updates = targets.map((t) => {
    const names = new Set((current.get(t.who.slice(0, 15)) ?? '').split(';').filter(Boolean));
    if (t.op === 'remove') names.delete(batch.segment.name);
    else names.add(batch.segment.name);
    return {
      Id: t.who,
      type: t.who.startsWith('003') ? 'Contact' : 'Lead',
      [field]: [...names].sort().join(';') || null,
    };
  });
  const outcomes: RowOutcome[] = new Array<RowOutcome>(updates.length);
  for (const type of ['Contact', 'Lead'] as const) {
    const picked = updates.map((u, n) => ({ u, n })).filter(({ u }) => u.type === type);
    const rows = picked.map(({ u }) => {
      const { type: _type, ...rest } = u;
      return rest as { Id: string } & Record<string, unknown>;
    });
    const written = await writeRows(
      session,
      `${type}.segments.update`,
      rows,
      (conn, group) => conn.update(type, group) as unknown as Promise<RowOutcome[]>,
      ctx,
    );
    picked.forEach(({ n }, k) => {
      outcomes[n] = written[k] as RowOutcome;
    });
  }
  targets.forEach(({ index, who, op }, n) => {
    results[index] = rowResult(
      outcomes[n] as RowOutcome,
      op === 'remove' ? ['NOT_FOUND', 'ENTITY_IS_DELETED'] : [],
      who,
    );
  });
  return results.map((r) => r ?? { status: 'retryable', reason: 'not written' });
}

/**
 * An account segment as a field on the Account holding the names of the account segments it is in (semicolon-separated,
 * like the Contact/Lead field mode; Salesforce's CampaignMember takes people, not Accounts). An account without a
 * Salesforce Account is skipped; an Account deleted since is accepted on remove.
 */
async function writeAccounts(
  batch: AccountMembershipBatch,
  config: SalesforceConfig,
  ctx: ConnectorContext,
): Promise<RowResult[]> {
  const session = sessionFor(config, ctx);
  const field = config.membership.accountField;
  const ids = batch.changes.map((change) => change.destinationRecordId ?? change.account.externalIds[0]);
  const results: (RowResult | undefined)[] = batch.changes.map((change, i) =>
    ids[i]
      ? undefined
      : change.op === 'remove'
        ? { status: 'accepted' }
        : { status: 'skipped', code: 'NOT_IN_SALESFORCE', reason: 'not in Salesforce: the account has no Account' },
  );
  const targets = batch.changes.map((change, i) => ({ change, i })).filter(({ i }) => !results[i]);
  const current = new Map<string, string>();
  for (const group of chunks(
    targets.map(({ i }) => ids[i] as string),
    COLLECTION_SIZE,
  )) {
    for (const row of await queryAll<Record<string, unknown>>(
      session,
      'Account.segments',
      `SELECT Id, ${field} FROM Account WHERE Id IN (${group.map(soqlString).join(', ')}) ORDER BY Id`,
    ))
      current.set(row.Id.slice(0, 15), typeof row[field] === 'string' ? (row[field] as string) : '');
  }
  const rows = targets.map(({ change, i }) => {
    const id = ids[i] as string;
    const names = new Set((current.get(id.slice(0, 15)) ?? '').split(';').filter(Boolean));
    if (change.op === 'remove') names.delete(batch.segment.name);
    else names.add(batch.segment.name);
    return { Id: id, [field]: [...names].sort().join(';') || null };
  });
  const outcomes = await writeRows(
    session,
    'Account.segments.update',
    rows,
    (conn, group) => conn.update('Account', group) as unknown as Promise<RowOutcome[]>,
    ctx,
  );
  targets.forEach(({ change, i }, n) => {
    results[i] = rowResult(
      outcomes[n] as RowOutcome,
      change.op === 'remove' ? ['NOT_FOUND', 'ENTITY_IS_DELETED'] : [],
      ids[i] as string,
    );
  });
  return results.map((r) => r ?? { status: 'retryable', reason: 'not written' });
}

/**
 * The Salesforce destination.
 *
 * @example
 * await destination.write({ segment: { key: 'vip', name: 'VIP' }, changes }, config, ctx);
 */
export const destination = defineDestination({
  name: 'salesforce',
  spec: salesforceSpec,
  batchSize: COLLECTION_SIZE,
  rateBudget: { concurrency: 4 },
  classifyError: classifySalesforceError,
  check: (config, ctx) => checkCanRead(sessionFor(config, ctx), 'Campaign'),
  async write(batch, config, ctx) {
    try {
      return config.membership.mode === 'field'
        ? await writeField(batch, config, ctx)
        : await writeCampaign(batch, config, ctx);
    } catch (error) {
      if (error instanceof RateLimitedError && error.scope === 'daily') {
        ctx.logger.error('Salesforce daily API limit reached: writes to this org stop for this run', {
          connection: ctx.connection,
        });
      }
      throw error;
    }
  },
  writeAccounts,
  async readAccountMembership(segment, config, ctx): Promise<MemberRef[]> {
    const field = config.membership.accountField;
    const rows = await queryAll<Record<string, unknown>>(
      sessionFor(config, ctx),
      'Account.segments',
      `SELECT Id, ${field} FROM Account WHERE ${field} != null ORDER BY Id`,
    );
    return rows
      .filter((row) =>
        String(row[field] ?? '')
          .split(';')
          .includes(segment.name),
      )
      .map((row) => ({ email: null, externalId: row.Id }));
  },
  async readMembership(segment, config, ctx): Promise<MemberRef[]> {
    const session = sessionFor(config, ctx);
    if (config.membership.mode === 'field') {
      const out: MemberRef[] = [];
      for (const type of ['Contact', 'Lead'] as const) {
        const select = `SELECT Id, Email, ${config.membership.field} FROM ${type}`;
        // A Long Text Area field (the usual type for a list of segments) cannot be filtered: read every row then.
        const rows = await queryAll<Record<string, unknown>>(
          session,
          `${type}.segments`,
          `${select} WHERE ${config.membership.field} != null ORDER BY Id`,
        ).catch((error: unknown) => {
          if (!/can not be filtered/.test(String((error as Error | null)?.message))) throw error;
          return queryAll<Record<string, unknown>>(session, `${type}.segments`, `${select} ORDER BY Id`);
        });
        for (const row of rows) {
          const names = String(row[config.membership.field] ?? '').split(';');
          if (names.includes(segment.name))
            out.push({ email: typeof row.Email === 'string' ? row.Email : null, externalId: row.Id });
        }
      }
      return out;
    }
    const campaignId = await findCampaign(session, segment, false);
    if (!campaignId) return [];
    const members = await queryAll<{ ContactId: string | null; LeadId: string | null }>(
      session,
      'CampaignMember.list',
      `SELECT Id, ContactId, LeadId FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId)} ORDER BY Id`,
    );
    const emails = new Map<string, string | null>();
    for (const type of ['Contact', 'Lead'] as const) {
      const ids = members
        .map((m) => (type === 'Contact' ? m.ContactId : m.LeadId))
        .filter((id): id is string => typeof id === 'string');
      for (const group of chunks(ids, COLLECTION_SIZE)) {
        for (const row of await queryAll<{ Email: string | null }>(
          session,
          `${type}.emails`,
          `SELECT Id, Email FROM ${type} WHERE Id IN (${group.map(soqlString).join(', ')}) ORDER BY Id`,
        )) {
          emails.set(row.Id.slice(0, 15), row.Email);
        }
      }
    }
    return members.map((m) => {
      const who = (m.ContactId ?? m.LeadId) as string;
      return { email: emails.get(who.slice(0, 15)) ?? null, externalId: who, destinationRecordId: m.Id };
    });
  },
  async erase(identities, config, ctx): Promise<EraseResult[]> {
    const session = sessionFor(config, ctx);
    const ids = identities.map((identity) =>
      identity.externalIds.filter((id) => id.startsWith('003') || id.startsWith('00Q')),
    );
    const flat = [...new Set(ids.flat())];
    const outcomes = await writeRows(
      session,
      'person.delete',
      flat,
      (conn, group) => conn.destroy('Contact', group) as Promise<RowOutcome[]>,
      ctx,
    );
    const byId = new Map(flat.map((id, k) => [id, outcomes[k] as RowOutcome]));
    return ids.map((list): EraseResult => {
      if (list.length === 0) return { status: 'not_found' };
      const results = list.map((id) => byId.get(id));
      const failed = results.find((r) => r && !r.success && !['NOT_FOUND', 'ENTITY_IS_DELETED'].includes(codeOf(r)));
      if (failed) return { status: 'failed', reason: `${codeOf(failed)}: ${messageOf(failed)}` };
      return results.some((r) => r?.success) ? { status: 'erased' } : { status: 'not_found' };
    });
  },
});
