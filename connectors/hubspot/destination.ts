/**
 * The HubSpot destination: segment membership as Lists v3 MANUAL lists (found by name, created when missing),
 * changed with memberships add-and-remove, 100 ids per call; contacts missing in HubSpot optionally created by batch
 * upsert on email, else skipped (with the reason) as not in HubSpot; optionally a contact property (created when
 * missing) written from the change's traits.
 */
import {
  ConfigError,
  RateLimitedError,
  defineDestination,
  type AccountMembershipBatch,
  type ConnectorContext,
  type MemberRef,
  type MembershipBatch,
  type RowResult,
  type SegmentRef,
} from '../../plugins/index.js';
import {
  checkHubSpot,
  classifyHubSpotError,
  connectionFor,
  HUBSPOT_BUDGET,
  hubspotMessage,
  hubspotSpec,
  statusOf,
  type HubSpotConfig,
} from './client.js';

/** HubSpot's batch cap, and the ids per membership call the sandbox holds it to. */
const BATCH = 100;
const listIds = new WeakMap<HubSpotConfig, Map<string, string>>();
const propertiesReady = new WeakMap<HubSpotConfig, Set<string>>();

function listName(segment: SegmentRef, config: HubSpotConfig): string {
  return config.lists[segment.key] ?? `${config.listPrefix}${segment.name}`;
}

/** The list's id, found by name or created as a MANUAL contact list. */
async function listFor(
  segment: SegmentRef,
  config: HubSpotConfig,
  ctx: ConnectorContext,
  create: boolean,
  objectTypeId: '0-1' | '0-2' = '0-1',
): Promise<string | undefined> {
  let cache = listIds.get(config);
  if (!cache) listIds.set(config, (cache = new Map()));
  const name = listName(segment, config);
  const key = `${objectTypeId}:${name}`;
  const known = cache.get(key);
  if (known) return known;
  const connection = connectionFor(config);
  let id: string | undefined;
  try {
    const found = await connection.run(ctx, 'lists.get_by_name', (client) =>
      client.crm.lists.listsApi.getByName(name, objectTypeId),
    );
    id = found.list.listId;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  if (!id && create) {
    const created = await connection.run(ctx, 'lists.create', (client) =>
      client.crm.lists.listsApi.create({ name, objectTypeId, processingType: 'MANUAL' }),
    );
    id = created.list.listId;
    ctx.logger.info('HubSpot list created', { connection: ctx.connection, list: name, listId: id });
  }
  if (id) cache.set(key, id);
  return id;
}

async function ensureProperty(name: string, config: HubSpotConfig, ctx: ConnectorContext): Promise<void> {
  let ready = propertiesReady.get(config);
  if (!ready) propertiesReady.set(config, (ready = new Set()));
  if (ready.has(name)) return;
  const connection = connectionFor(config);
  try {
    await connection.run(ctx, 'properties.get', (client) => client.crm.properties.coreApi.getByName('contacts', name));
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    await connection.run(ctx, 'properties.create', (client) =>
      client.crm.properties.coreApi.create('contacts', {
        name,
        label: name,
        type: 'string' as never,
        fieldType: 'text' as never,
        groupName: 'contactinformation',
      }),
    );
  }
  ready.add(name);
}

/**
 * Rows that failed as a whole call: retryable when the failure is passing, rejected with HubSpot's message otherwise.
 * A refused token or scope (401/403) is no row's fault: it is thrown, so the run fails and the rows stay pending.
 */
function failedRow(error: unknown): RowResult {
  if (error instanceof ConfigError || (error instanceof RateLimitedError && error.scope === 'daily')) throw error;
  const status = statusOf(error);
  const message = hubspotMessage(error);
  if (status === undefined || status === 429 || status >= 500) return { status: 'retryable', reason: message };
  return { status: 'rejected', reason: message, code: String(status) };
}

/** What HubSpot accepts as an email, checked before sending: one invalid address would fail the whole batch. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Creates (or finds) contacts by email through batch upsert, answering per lower-cased email the contact id or the
 * row's result. HubSpot validates the whole request and fails it with a 400 naming only the first offender, writing
 * nothing; so a 400 rejects the row it names (or, naming none, splits the batch in two) and sends the rest again, and
 * every valid row is written whatever its neighbours.
 */
async function upsertByEmail(
  emails: string[],
  config: HubSpotConfig,
  ctx: ConnectorContext,
): Promise<Map<string, string | RowResult>> {
  const out = new Map<string, string | RowResult>();
  const valid: string[] = [];
  for (const email of emails) {
    const key = email.toLowerCase();
    if (out.has(key) || valid.includes(key)) continue;
    if (EMAIL.test(email)) valid.push(key);
    else out.set(key, { status: 'rejected', reason: `"${email}" is not a valid email address`, code: 'INVALID_EMAIL' });
  }
  const connection = connectionFor(config);
  const send = async (group: string[]): Promise<void> => {
    if (group.length === 0) return;
    try {
      const response = await connection.run(ctx, 'contacts.upsert', (client) =>
        client.crm.contacts.batchApi.upsert({
          inputs: group.map((email) => ({ idProperty: 'email', id: email, properties: { email } })),
        }),
      );
      for (const result of response.results) out.set(String(result.properties.email ?? '').toLowerCase(), result.id);
      const errors = 'errors' in response ? (response.errors ?? []) : [];
      for (const email of group) {
        if (out.has(email)) continue;
        const error = errors.find((e) =>
          `${JSON.stringify(e.context ?? {})} ${e.message}`.toLowerCase().includes(email),
        );
        out.set(email, {
          status: 'rejected',
          reason: error?.message ?? 'HubSpot did not create the contact',
          code: error?.category ?? 'VALIDATION_ERROR',
        });
      }
    } catch (error) {
      if (statusOf(error) !== 400) {
        for (const email of group) out.set(email, failedRow(error));
        return;
      }
      const named = /Email address (\S+) is invalid/.exec(hubspotMessage(error))?.[1]?.toLowerCase();
      const culprit = group.length === 1 ? group[0] : named && group.includes(named) ? named : undefined;
      if (culprit) {
        out.set(culprit, failedRow(error));
        await send(group.filter((email) => email !== culprit));
        return;
      }
      const half = Math.ceil(group.length / 2);
      await send(group.slice(0, half));
      await send(group.slice(half));
    }
  };
  await send(valid);
  return out;
}

async function write(batch: MembershipBatch, config: HubSpotConfig, ctx: ConnectorContext): Promise<RowResult[]> {
  const connection = connectionFor(config);
  const results: (RowResult | undefined)[] = batch.changes.map(() => undefined);
  // A remove also finds the contact by the id its add was accepted with: one created by email has no HubSpot id in
  // the store until the next read, and its exit must still leave the list.
  const ids: (string | undefined)[] = batch.changes.map(
    (change) => change.contact.externalIds[0] ?? (change.op === 'remove' ? change.destinationRecordId : undefined),
  );

  const missing = batch.changes.map((change, i) => ({ change, i })).filter(({ i }) => !ids[i]);
  if (missing.length > 0 && config.createMissingContacts) {
    const byEmail = missing.filter(({ change }) => change.op !== 'remove' && change.contact.email);
    const upserted = await upsertByEmail(
      byEmail.map(({ change }) => change.contact.email as string),
      config,
      ctx,
    );
    for (const { change, i } of byEmail) {
      const outcome = upserted.get((change.contact.email as string).toLowerCase());
      if (typeof outcome === 'string') ids[i] = outcome;
      else results[i] = outcome ?? { status: 'rejected', reason: 'HubSpot did not create the contact' };
    }
  }
  batch.changes.forEach((change, i) => {
    if (results[i] || ids[i]) return;
    results[i] =
      change.op === 'remove'
        ? { status: 'accepted' }
        : {
            status: 'skipped',
            reason: 'not in HubSpot: the contact has no HubSpot id (set createMissingContacts to create it by email)',
            code: 'NOT_IN_HUBSPOT',
          };
  });

  if (config.segmentProperty) {
    const property = config.segmentProperty;
    const updates = batch.changes
      .map((change, i) => ({ change, i }))
      .filter(({ change, i }) => !results[i] && ids[i] && change.traits && property in change.traits);
    if (updates.length > 0) {
      try {
        await ensureProperty(property, config, ctx);
        const response = await connection.run(ctx, 'contacts.update', (client) =>
          client.crm.contacts.batchApi.update({
            inputs: updates.map(({ change, i }) => ({
              id: ids[i] as string,
              properties: { [property]: String(change.traits?.[property] ?? '') },
            })),
          }),
        );
        const errors = 'errors' in response ? (response.errors ?? []) : [];
        for (const { i } of updates) {
          const error = errors.find((e) => (e.context?.ids ?? []).includes(ids[i] as string));
          if (error && batch.changes[i]?.op === 'update')
            results[i] = { status: 'rejected', reason: error.message, code: error.category };
        }
      } catch (error) {
        for (const { i, change } of updates) if (change.op === 'update') results[i] = failedRow(error);
      }
    }
  }

  const membership = batch.changes
    .map((change, i) => ({ change, i }))
    .filter(({ change, i }) => !results[i] && change.op !== 'update');
  batch.changes.forEach((change, i) => {
    if (!results[i] && change.op === 'update')
      results[i] = { status: 'accepted', destinationRecordId: ids[i] as string };
  });
  if (membership.length > 0) {
    try {
      const listId = await listFor(batch.segment, config, ctx, true);
      for (let start = 0; start < membership.length; start += BATCH) {
        const slice = membership.slice(start, start + BATCH);
        const recordIdsToAdd = slice.filter(({ change }) => change.op === 'add').map(({ i }) => ids[i] as string);
        const recordIdsToRemove = slice.filter(({ change }) => change.op === 'remove').map(({ i }) => ids[i] as string);
        const response = await connection.run(ctx, 'lists.add_and_remove', (client) =>
          client.crm.lists.membershipsApi.addAndRemove(listId as string, { recordIdsToAdd, recordIdsToRemove }),
        );
        const missingIds = new Set(response.recordIdsMissing ?? []);
        for (const { change, i } of slice) {
          const id = ids[i] as string;
          results[i] =
            change.op === 'add' && missingIds.has(id)
              ? {
                  status: 'skipped',
                  reason: `not in HubSpot: no contact ${id} (deleted or merged away?)`,
                  code: 'OBJECT_NOT_FOUND',
                }
              : { status: 'accepted', destinationRecordId: id };
        }
      }
    } catch (error) {
      for (const { i } of membership) results[i] ??= failedRow(error);
    }
  }
  return results.map((r) => r ?? { status: 'retryable', reason: 'not written' });
}

async function readMembership(segment: SegmentRef, config: HubSpotConfig, ctx: ConnectorContext): Promise<MemberRef[]> {
  const listId = await listFor(segment, config, ctx, false);
  if (!listId) return [];
  const connection = connectionFor(config);
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await connection.run(ctx, 'lists.memberships', (client) =>
      client.crm.lists.membershipsApi.getPage(listId, after, undefined, 250),
    );
    ids.push(...page.results.map((r) => String(r.recordId)));
    after = page.paging?.next?.after;
  } while (after);
  const emails = new Map<string, string | null>();
  for (let start = 0; start < ids.length; start += BATCH) {
    const slice = ids.slice(start, start + BATCH);
    const response = await connection.run(ctx, 'contacts.read', (client) =>
      client.crm.contacts.batchApi.read({
        inputs: slice.map((id) => ({ id })),
        properties: ['email'],
        propertiesWithHistory: [],
      }),
    );
    for (const contact of response.results) emails.set(contact.id, contact.properties.email ?? null);
  }
  return ids.map((id) => ({ externalId: id, email: emails.get(id) ?? null, destinationRecordId: id }));
}

/**
 * An account segment as a MANUAL company list (object type 0-2) named like a contact segment's list: companies enter
 * and leave it by id; an account without a HubSpot company is skipped, a company gone from the portal is skipped on add
 * and accepted on remove.
 */
async function writeAccounts(
  batch: AccountMembershipBatch,
  config: HubSpotConfig,
  ctx: ConnectorContext,
): Promise<RowResult[]> {
  const connection = connectionFor(config);
  const ids = batch.changes.map((change) => change.destinationRecordId ?? change.account.externalIds[0]);
  const results: (RowResult | undefined)[] = batch.changes.map((change, i) =>
    ids[i]
      ? undefined
      : change.op === 'remove'
        ? { status: 'accepted' }
        : { status: 'skipped', reason: 'not in HubSpot: the account has no HubSpot company', code: 'NOT_IN_HUBSPOT' },
  );
  const pending = batch.changes.map((change, i) => ({ change, i })).filter(({ i }) => !results[i]);
  if (pending.length === 0) return results as RowResult[];
  try {
    const listId = (await listFor(batch.segment, config, ctx, true, '0-2')) as string;
    for (let start = 0; start < pending.length; start += BATCH) {
      const slice = pending.slice(start, start + BATCH);
      const recordIdsToAdd = slice.filter(({ change }) => change.op === 'add').map(({ i }) => ids[i] as string);
      const recordIdsToRemove = slice.filter(({ change }) => change.op === 'remove').map(({ i }) => ids[i] as string);
      const response = await connection.run(ctx, 'company_lists.add_and_remove', (client) =>
        client.crm.lists.membershipsApi.addAndRemove(listId, { recordIdsToAdd, recordIdsToRemove }),
      );
      const missingIds = new Set(response.recordIdsMissing ?? []);
      for (const { change, i } of slice) {
        const id = ids[i] as string;
        results[i] =
          change.op === 'add' && missingIds.has(id)
            ? { status: 'skipped', reason: `not in HubSpot: no company ${id}`, code: 'OBJECT_NOT_FOUND' }
            : { status: 'accepted', destinationRecordId: id };
      }
    }
  } catch (error) {
    for (const { i } of pending) results[i] ??= failedRow(error);
  }
  return results.map((r) => r ?? { status: 'retryable', reason: 'not written' });
}

async function readAccountMembership(
  segment: SegmentRef,
  config: HubSpotConfig,
  ctx: ConnectorContext,
): Promise<MemberRef[]> {
  const listId = await listFor(segment, config, ctx, false, '0-2');
  if (!listId) return [];
  const out: MemberRef[] = [];
  let after: string | undefined;
  do {
    const page = await connectionFor(config).run(ctx, 'company_lists.memberships', (client) =>
      client.crm.lists.membershipsApi.getPage(listId, after, undefined, 250),
    );
    out.push(...page.results.map((r) => ({ email: null, externalId: String(r.recordId) })));
    after = page.paging?.next?.after;
  } while (after);
  return out;
}

/**
 * The HubSpot destination.
 *
 * @example
 * await destination.write({ segment: { key: 'vip', name: 'VIP' }, changes }, config, ctx);
 */
export const destination = defineDestination({
  name: 'hubspot',
  spec: hubspotSpec,
  batchSize: BATCH,
  rateBudget: HUBSPOT_BUDGET,
  classifyError: classifyHubSpotError,
  check: checkHubSpot,
  write,
  readMembership,
  writeAccounts,
  readAccountMembership,
  async erase(identities, config, ctx) {
    const connection = connectionFor(config);
    const out = [];
    for (const identity of identities) {
      const id = identity.externalIds[0];
      const input = id
        ? { objectId: id }
        : identity.email
          ? { objectId: identity.email, idProperty: 'email' }
          : undefined;
      if (!input) {
        out.push({ status: 'not_found' as const });
        continue;
      }
      try {
        await connection.run(ctx, 'contacts.gdpr_delete', (client) => client.crm.contacts.basicApi.purge(input));
        out.push({ status: 'erased' as const });
      } catch (error) {
        out.push(
          statusOf(error) === 404
            ? { status: 'not_found' as const }
            : { status: 'failed' as const, reason: hubspotMessage(error) },
        );
      }
    }
    return out;
  },
});
