/**
 * The Mailchimp destination: segment membership as tags or as named static segments of one audience. Both go
 * through the static-segment members call (500 emails per side per call) — a tag is a static segment underneath —
 * except a batch of a single change in tag mode, which uses the member tags call. Nobody's status is ever changed:
 * contacts missing from the audience are added only when `addMissingAs` says so, with batch subscribe and
 * `update_existing: false`, so an unsubscribed or cleaned member is left exactly as they are. When the push requires
 * email consent, each add is checked against the member's live status on this audience (consent is per audience in
 * Mailchimp, and the store's one consent per contact can lag or come from another audience): an unsubscribed or
 * cleaned member is refused with code `no_consent` and left untagged.
 */
import { z } from 'zod';
import {
  ConfigError,
  defineDestination,
  RateLimitedError,
  normaliseEmail,
  type ConnectorContext,
  type EraseResult,
  type MemberRef,
  type MembershipBatch,
  type RowResult,
  type SegmentRef,
} from '../../plugins/index.js';
import {
  classifyMailchimpError,
  connectionSpec,
  describe,
  MAILCHIMP_BUDGET,
  mailchimpCall,
  problemOf,
  statusOf,
} from './client.js';
import { subscriberHash } from './source.js';

export const destinationSpec = connectionSpec.extend({
  /** The audience (list id) that holds the tags or segments. */
  audienceId: z.string().min(1),
  /** Membership as tags (default) or as named static segments. */
  membershipAs: z.enum(['tags', 'static_segments']).default('tags'),
  /** Put before the segment's name to make the tag or static segment's name. */
  namePrefix: z.string().default(''),
  /**
   * Add contacts missing from the audience, with this status. Omitted (default): they are not added, and their rows
   * come back skipped (not in the audience). Existing members are never touched, whatever their status.
   */
  addMissingAs: z.enum(['subscribed', 'pending', 'transactional']).optional(),
});
export type DestinationConfig = z.infer<typeof destinationSpec>;

/** Emails per side (`members_to_add`, `members_to_remove`) of one static-segment call. */
export const SEGMENT_SIDE_CAP = 500;
/** Members per batch-subscribe call. */
export const BATCH_SUBSCRIBE_CAP = 500;

const segmentIds = new Map<string, number>();

function segmentName(config: DestinationConfig, segment: SegmentRef): string {
  return `${config.namePrefix}${segment.name}`.trim();
}

async function findSegment(
  config: DestinationConfig,
  ctx: ConnectorContext,
  name: string,
): Promise<number | undefined> {
  const key = `${config.basePath}|${config.apiKey}|${config.audienceId}|${name}`;
  const cached = segmentIds.get(key);
  if (cached !== undefined) return cached;
  for (let offset = 0; ;) {
    const page = await mailchimpCall(ctx, config, 'segments.list', (mc) =>
      mc.lists.listSegments(config.audienceId, {
        type: 'static',
        count: 1000,
        offset,
        fields: ['segments.id', 'segments.name', 'total_items'],
      }),
    );
    const found = page.segments.find((s) => s.name === name);
    if (found) {
      segmentIds.set(key, found.id);
      return found.id;
    }
    offset += page.segments.length;
    if (page.segments.length === 0 || offset >= page.total_items) return undefined;
  }
}

async function segmentIdFor(config: DestinationConfig, ctx: ConnectorContext, name: string): Promise<number> {
  const existing = await findSegment(config, ctx, name);
  if (existing !== undefined) return existing;
  const created = await mailchimpCall(ctx, config, 'segments.create', (mc) =>
    mc.lists.createSegment(config.audienceId, { name, static_segment: [] }),
  );
  segmentIds.set(`${config.basePath}|${config.apiKey}|${config.audienceId}|${name}`, created.id);
  return created.id;
}

function forget(config: DestinationConfig, name: string): void {
  segmentIds.delete(`${config.basePath}|${config.apiKey}|${config.audienceId}|${name}`);
}

/** Errors that stop the write (credentials, the day's budget); anything else is confined to the rows it hit. */
function fatal(error: unknown): boolean {
  return error instanceof ConfigError || (error instanceof RateLimitedError && error.scope === 'daily');
}

function failure(error: unknown): RowResult {
  const status = statusOf(error);
  const problem = problemOf(error);
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
    return { status: 'rejected', reason: describe(error), code: problem?.title ?? String(status) };
  }
  return { status: 'retryable', reason: describe(error) };
}

/** Statuses on an audience that mean "do not add": the member opted out, or the address bounced for good. */
const NO_CONSENT = new Set(['unsubscribed', 'cleaned']);

/** Members per page of a status listing (Mailchimp's largest `count`). */
const STATUS_PAGE = 1000;

/**
 * Each add's live status on the audience; `undefined` when the address is not on it or is on it with consent, an
 * error when the read failed. Mailchimp has no bulk lookup by hash, so there are two ways: one read per member, or
 * listing the audience's unsubscribed and cleaned members (1,000 a page). The first page of each listing says how
 * many pages the rest would take; the cheaper way is taken.
 */
async function statusesOn(
  config: DestinationConfig,
  ctx: ConnectorContext,
  rows: Row[],
): Promise<(string | undefined | { error: unknown })[]> {
  if (rows.length > NO_CONSENT.size) {
    const refused = await refusingMembers(config, ctx, rows.length - NO_CONSENT.size);
    if (refused) return rows.map((row) => refused.get(row.hash));
  }
  return Promise.all(
    rows.map(async (row) => {
      try {
        const member = await mailchimpCall(ctx, config, 'members.get', (mc) =>
          mc.lists.getListMember(config.audienceId, row.hash, { fields: ['status'] }),
        );
        return member.status;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        return { error };
      }
    }),
  );
}

/**
 * The audience's unsubscribed and cleaned members by hash, or `undefined` when listing them would take more than
 * `maxCalls` further calls (or a listing failed: the per-member reads then report each row's own error).
 */
async function refusingMembers(
  config: DestinationConfig,
  ctx: ConnectorContext,
  maxCalls: number,
): Promise<Map<string, string> | undefined> {
  const kept = refusingKept.get(ctx);
  if (kept && kept.audienceId === config.audienceId && ctx.clock.now() - kept.at < REFUSING_KEPT_MS)
    return kept.refused;
  const at = ctx.clock.now();
  const refused = await listRefusing(config, ctx, maxCalls);
  if (refused) refusingKept.set(ctx, { audienceId: config.audienceId, at, refused });
  return refused;
}

/**
 * A push's batches share one listing of the refusing members for up to a minute: a million-person push was listing
 * the audience's unsubscribed members again for each batch of 1,000. An unsubscribe later than the listing is seen
 * by the next listing, as it would be seen by the next push.
 */
const REFUSING_KEPT_MS = 60_000;
const refusingKept = new WeakMap<ConnectorContext, { audienceId: string; at: number; refused: Map<string, string> }>();

async function listRefusing(
  config: DestinationConfig,
  ctx: ConnectorContext,
  maxCalls: number,
): Promise<Map<string, string> | undefined> {
  const page = (status: string, offset: number) =>
    mailchimpCall(ctx, config, 'members.list', (mc) =>
      mc.lists.getListMembersInfo(config.audienceId, {
        status,
        count: STATUS_PAGE,
        offset,
        fields: ['members.id', 'members.status', 'total_items'],
      }),
    );
  try {
    const statuses = [...NO_CONSENT];
    const firsts = await Promise.all(statuses.map((status) => page(status, 0)));
    const rest = statuses.flatMap((status, k) => {
      const offsets: number[] = [];
      for (let offset = STATUS_PAGE; offset < (firsts[k]?.total_items ?? 0); offset += STATUS_PAGE)
        offsets.push(offset);
      return offsets.map((offset) => ({ status, offset }));
    });
    if (rest.length > maxCalls) return undefined;
    const pages = [...firsts, ...(await Promise.all(rest.map(({ status, offset }) => page(status, offset))))];
    return new Map(pages.flatMap((p) => p.members.map((m) => [m.id, m.status] as [string, string])));
  } catch (error) {
    if (fatal(error)) throw error;
    return undefined;
  }
}

interface Row {
  index: number;
  op: 'add' | 'remove';
  email: string;
  hash: string;
}

/**
 * The Mailchimp destination.
 *
 * @example
 * await destination.write({ segment: { key: 'vip', name: 'VIP' }, changes }, destinationSpec.parse({ apiKey, audienceId }), ctx);
 */
export const destination = defineDestination({
  name: 'mailchimp',
  spec: destinationSpec,
  batchSize: 2 * SEGMENT_SIDE_CAP,
  rateBudget: MAILCHIMP_BUDGET,
  classifyError: classifyMailchimpError,
  async check(config, ctx) {
    try {
      await mailchimpCall(ctx, config, 'lists.get', (mc) => mc.lists.getList(config.audienceId));
      return { ok: true };
    } catch (error) {
      if (statusOf(error) === 404)
        return { ok: false, reason: `audience ${config.audienceId} does not exist in this Mailchimp account` };
      return { ok: false, reason: `Mailchimp: ${describe(error)}` };
    }
  },

  async write(batch: MembershipBatch, config, ctx): Promise<RowResult[]> {
    const results: (RowResult | undefined)[] = new Array<RowResult | undefined>(batch.changes.length);
    const latest = new Map<string, Row>();
    batch.changes.forEach((change, index) => {
      const email = normaliseEmail(change.contact.email);
      if (!email) {
        results[index] = {
          status: 'rejected',
          reason: `no valid email for contact ${change.contact.contactId}`,
          code: 'invalid_email',
        };
        return;
      }
      const row: Row = { index, op: change.op === 'remove' ? 'remove' : 'add', email, hash: subscriberHash(email) };
      const previous = latest.get(email);
      // The last change of a contact in a batch is the one that counts; earlier ones share its outcome.
      if (previous) results[previous.index] = undefined;
      latest.set(email, row);
    });
    const rows = [...latest.values()];
    const settle = (row: Row, result: RowResult) => {
      results[row.index] = result;
    };
    const name = segmentName(config, batch.segment);

    let adds = rows.filter((r) => r.op === 'add');
    const removes = rows.filter((r) => r.op === 'remove');

    if (batch.requireConsent === 'email' && adds.length > 0) {
      const statuses = await statusesOn(config, ctx, adds);
      const kept: Row[] = [];
      adds.forEach((row, k) => {
        const status = statuses[k];
        if (typeof status === 'object') {
          if (fatal(status.error)) throw status.error;
          settle(row, failure(status.error));
        } else if (status !== undefined && NO_CONSENT.has(status)) {
          settle(row, {
            status: 'rejected',
            reason: `${row.email} is ${status} on audience ${config.audienceId}`,
            code: 'no_consent',
          });
        } else kept.push(row);
      });
      adds = kept;
    }

    if (config.addMissingAs && adds.length > 0) {
      const status = config.addMissingAs;
      const refused = new Set<string>();
      for (let k = 0; k < adds.length; k += BATCH_SUBSCRIBE_CAP) {
        const chunk = adds.slice(k, k + BATCH_SUBSCRIBE_CAP);
        try {
          const result = await mailchimpCall(ctx, config, 'members.batch_subscribe', (mc) =>
            mc.lists.batchListMembers(config.audienceId, {
              members: chunk.map((r) => ({ email_address: r.email, status })),
              update_existing: false,
            }),
          );
          for (const e of result.errors ?? []) {
            if (e.error_code === 'ERROR_CONTACT_EXISTS') continue;
            const row = chunk.find((r) => r.email === normaliseEmail(e.email_address));
            if (!row) continue;
            settle(row, { status: 'rejected', reason: e.error, code: e.error_code ?? 'ERROR_GENERIC' });
            refused.add(row.email);
          }
        } catch (error) {
          if (fatal(error)) throw error;
          for (const row of chunk) settle(row, failure(error));
          for (const row of chunk) refused.add(row.email);
        }
      }
      adds = adds.filter((r) => !refused.has(r.email));
    }

    if (config.membershipAs === 'tags' && adds.length + removes.length === 1) {
      const row = (adds[0] ?? removes[0]) as Row;
      try {
        await mailchimpCall(ctx, config, 'members.tags', (mc) =>
          mc.lists.updateListMemberTags(config.audienceId, row.hash, {
            tags: [{ name, status: row.op === 'add' ? 'active' : 'inactive' }],
          }),
        );
        settle(row, { status: 'accepted', destinationRecordId: row.hash });
      } catch (error) {
        if (fatal(error)) throw error;
        if (statusOf(error) === 404) {
          settle(
            row,
            row.op === 'remove'
              ? { status: 'accepted' }
              : {
                  status: 'skipped',
                  reason: `not in Mailchimp: ${row.email} is not a member of audience ${config.audienceId} (set addMissingAs to add them)`,
                  code: 'not_in_audience',
                },
          );
        } else settle(row, failure(error));
      }
      return fill(results);
    }

    if (adds.length + removes.length > 0) {
      let segmentId: number;
      try {
        segmentId = await segmentIdFor(config, ctx, name);
      } catch (error) {
        if (fatal(error)) throw error;
        for (const row of [...adds, ...removes]) settle(row, failure(error));
        return fill(results);
      }
      const calls = Math.ceil(Math.max(adds.length, removes.length) / SEGMENT_SIDE_CAP);
      for (let k = 0; k < calls; k++) {
        const toAdd = adds.slice(k * SEGMENT_SIDE_CAP, (k + 1) * SEGMENT_SIDE_CAP);
        const toRemove = removes.slice(k * SEGMENT_SIDE_CAP, (k + 1) * SEGMENT_SIDE_CAP);
        const body = {
          ...(toAdd.length > 0 ? { members_to_add: toAdd.map((r) => r.email) } : {}),
          ...(toRemove.length > 0 ? { members_to_remove: toRemove.map((r) => r.email) } : {}),
        };
        try {
          let result;
          try {
            result = await mailchimpCall(ctx, config, 'segments.members', (mc) =>
              mc.lists.batchSegmentMembers(body, config.audienceId, segmentId),
            );
          } catch (error) {
            if (statusOf(error) !== 404) throw error;
            // The segment was deleted in Mailchimp since we looked it up: find or create it again, once.
            forget(config, name);
            segmentId = await segmentIdFor(config, ctx, name);
            result = await mailchimpCall(ctx, config, 'segments.members', (mc) =>
              mc.lists.batchSegmentMembers(body, config.audienceId, segmentId),
            );
          }
          const refused = new Map<string, string>();
          for (const e of result.errors ?? [])
            for (const email of e.email_addresses ?? []) refused.set(normaliseEmail(email) ?? email, e.error);
          for (const row of toAdd) {
            const reason = refused.get(row.email);
            settle(
              row,
              reason === undefined
                ? { status: 'accepted', destinationRecordId: row.hash }
                : {
                    status: 'skipped',
                    reason: `not in Mailchimp: ${row.email} is not a member of audience ${config.audienceId} (Mailchimp: ${reason})`,
                    code: 'not_in_audience',
                  },
            );
          }
          // Removing someone the audience does not hold leaves the segment as wanted: success.
          for (const row of toRemove) settle(row, { status: 'accepted' });
        } catch (error) {
          if (fatal(error)) throw error;
          for (const row of [...toAdd, ...toRemove]) settle(row, failure(error));
        }
      }
    }
    return fill(results);

    function fill(partial: (RowResult | undefined)[]): RowResult[] {
      return batch.changes.map((change, index) => {
        const own = partial[index];
        if (own) return own;
        const email = normaliseEmail(change.contact.email);
        const last = email ? latest.get(email) : undefined;
        return (last && partial[last.index]) ?? { status: 'retryable', reason: 'not written' };
      });
    }
  },

  async readMembership(segment, config, ctx): Promise<MemberRef[]> {
    const segmentId = await findSegment(config, ctx, segmentName(config, segment));
    if (segmentId === undefined) return [];
    const members: MemberRef[] = [];
    for (let offset = 0; ;) {
      const page = await mailchimpCall(ctx, config, 'segments.members.list', (mc) =>
        mc.lists.getSegmentMembersList(config.audienceId, segmentId, {
          count: 1000,
          offset,
          include_cleaned: true,
          include_unsubscribed: true,
          include_transactional: true,
          fields: ['members.id', 'members.email_address', 'total_items'],
        }),
      );
      for (const m of page.members)
        members.push({ email: m.email_address, externalId: m.id, destinationRecordId: m.id });
      offset += page.members.length;
      if (page.members.length === 0 || offset >= page.total_items) return members;
    }
  },

  async erase(identities, config, ctx): Promise<EraseResult[]> {
    return Promise.all(
      identities.map(async (identity): Promise<EraseResult> => {
        const email = normaliseEmail(identity.email);
        const hash = email ? subscriberHash(email) : identity.externalIds[0];
        if (!hash) return { status: 'not_found' };
        try {
          await mailchimpCall(ctx, config, 'members.delete_permanent', (mc) =>
            mc.lists.deleteListMemberPermanent(config.audienceId, hash),
          );
          return { status: 'erased' };
        } catch (error) {
          if (statusOf(error) === 404) return { status: 'not_found' };
          if (fatal(error)) throw error;
          return { status: 'failed', reason: describe(error) };
        }
      }),
    );
  },
});
