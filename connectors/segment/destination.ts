/**
 * The Segment destination: each membership change becomes an `identify` (the segment as a boolean trait named by
 * its key, the contact's email and the mapped traits and scores) and a `track` of "Segment Entered" or "Segment
 * Exited" with the segment's key and name. Both messageIds derive from the change's own id (one per entry, exit or
 * update), so a replayed delivery is deduplicated by Segment while a genuine re-entry is a new message. An account segment's change
 * becomes a `group` call (the account as the group, the segment as a boolean group trait) sent as one of its members.
 * Segment's tracking API cannot delete people, so there is no `erase`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ConfigError,
  RateLimitedError,
  RejectedRowError,
  classifyByDefault,
  defineDestination,
  reasonOf,
  secret,
  type CheckResult,
  type ConnectorContext,
  type AccountMembershipBatch,
  type AccountMembershipChange,
  type ContactIdentity,
  type MemberRef,
  type MembershipBatch,
  type MembershipChange,
  type RowResult,
  type SegmentRef,
} from '../../plugins/index.js';
import { classifySegmentError, SegmentHttpError, segmentClient } from './client.js';

export const destinationSpec = z.object({
  /** The write key of the Segment source segflow sends as. */
  writeKey: secret(z.string().min(1)),
  /** Tracking API host (no trailing slash); the EU workspace is `https://events.eu1.segmentapis.com`. */
  host: z.string().url().default('https://api.segment.io'),
  /** Profiles API base URL, for `readMembership`. */
  profilesUrl: z.string().url().default('https://profiles.segment.com'),
  /** Profiles API space id and access token; without them readMembership cannot read Segment back. */
  spaceId: z.string().min(1).optional(),
  profilesToken: secret(z.string().min(1)).optional(),
  /**
   * Segment's Public API, to prove the write key: the tracking API answers 200 to any key and drops what it cannot
   * attribute, so only the source's own list of write keys can tell. Without a token and source id, `check` reports
   * the write key as unverified.
   */
  publicApiUrl: z.string().url().default('https://api.segmentapis.com'),
  publicApiToken: secret(z.string().min(1)).optional(),
  /** The id of the Segment source the write key belongs to (in the source's settings, or the Public API). */
  sourceId: z.string().min(1).optional(),
  /** Per-request timeout, ms. */
  timeoutMs: z.number().int().positive().default(10_000),
  /**
   * Send a "Segment Entered" / "Segment Exited" track with each change besides the identify that carries the
   * membership trait (Engage's "Send Track" beside "Send Identify"). `false` sends the identify alone: half the
   * messages, for tools that read membership from traits.
   */
  sendTrack: z.boolean().default(true),
});

export type DestinationConfig = z.infer<typeof destinationSpec>;

/** Segment's largest message, bytes. */
export const EVENT_LIMIT_BYTES = 32 * 1024;
/** How full a request is filled, bytes: 490 KB of estimated bytes (estimates run high), under Segment's 500 KB. */
export const REQUEST_LIMIT_BYTES = 490 * 1024;
/**
 * What the SDK adds to each message after we build it (context.library, _metadata, integrations: 151 bytes on Node 20), with
 * room to spare; the size check counts it so that no message the sandbox or Segment would refuse is sent.
 */
const SDK_OVERHEAD_BYTES = 200;
/** Room in a request body for `{"batch":[…],"writeKey":"…","sentAt":"…"}`. */
const ENVELOPE_BYTES = 512;

export const ENTERED = 'Segment Entered';
export const EXITED = 'Segment Exited';

/**
 * The messageId of one message of a change: derived from the change's id (the planner's, one per entry, exit or
 * update), distinct for the identify and the track. The same change always gives the same ids (a replay is
 * deduplicated), another change other ids.
 *
 * @example
 * messageIdFor('history-81723', 'track'); // 'segflow-3f1c…'
 */
export function messageIdFor(historyId: string, kind: 'identify' | 'track' | 'group'): string {
  return `segflow-${createHash('sha256').update(`${historyId}\u0000${kind}`).digest('hex').slice(0, 40)}`;
}

/** The Segment userId of a contact: the id Segment already knows them by, else segflow's contact id. */
export function userIdOf(change: MembershipChange): string {
  return change.contact.externalIds[0] ?? change.contact.contactId;
}

/**
 * The Segment groupId of an account: the id Segment already knows it by (a group id from calls ingested through
 * segflow's /v1 endpoints), else segflow's account id.
 *
 * @example
 * groupIdOf({ op: 'add', account: { accountId: '7', name: 'Acme', domain: 'acme.example', externalIds: [] } }); // '7'
 */
export function groupIdOf(change: AccountMembershipChange): string {
  return change.account.externalIds[0] ?? change.account.accountId;
}

interface PlannedMessage {
  row: number;
  kind: 'identify' | 'track' | 'group';
  userId: string;
  groupId?: string;
  messageId: string;
  /** ISO time, one string per write: the SDK serialises a Date again for each message, twice (size check, request). */
  timestamp: string;
  traits?: Record<string, unknown>;
  event?: string;
  properties?: Record<string, unknown>;
  bytes: number;
}

/** The bytes of `{"type":…,"userId":…,"messageId":…,"timestamp":…,<last>:…}` as sent, given its JSON parts. */
function jsonBytes(type: string, userIdJson: string, messageId: string, rest: string): number {
  // {"type":"<type>","userId":<userId>,"messageId":"<id>","timestamp":"<24-character ISO time>",<rest>}
  return 52 + type.length + Buffer.byteLength(userIdJson) + messageId.length + 24 + Buffer.byteLength(rest);
}

/** Plans a change's messages, or says why it cannot be sent. */
function plan(
  segment: SegmentRef,
  change: MembershipChange,
  row: number,
  now: string,
  sendTrack: boolean,
): PlannedMessage[] | { reason: string; code: string } {
  const userId = userIdOf(change);
  // Without a history row id the change cannot be deduplicated; a fresh id never loses a genuine change.
  const historyId = change.messageId ?? `${segment.key}:${change.contact.contactId}:${change.op}:${randomUUID()}`;
  const member = change.op !== 'remove';
  const traits: Record<string, unknown> = {
    ...(change.traits ?? {}),
    ...(change.contact.email ? { email: change.contact.email } : {}),
    [segment.key]: member,
  };
  // Sized from its parts (the same bytes as the whole message's JSON), not by serialising the message again.
  const userIdJson = JSON.stringify(userId);
  const identifyId = messageIdFor(historyId, 'identify');
  const identify: PlannedMessage = {
    row,
    kind: 'identify',
    userId,
    messageId: identifyId,
    timestamp: now,
    traits,
    bytes: jsonBytes('identify', userIdJson, identifyId, `"traits":${JSON.stringify(traits)}`) + SDK_OVERHEAD_BYTES,
  };
  const messages: PlannedMessage[] = [identify];
  if (sendTrack && change.op !== 'update') {
    const event = member ? ENTERED : EXITED;
    const properties = { segment_key: segment.key, segment_name: segment.name };
    const trackId = messageIdFor(historyId, 'track');
    messages.push({
      row,
      kind: 'track',
      userId,
      messageId: trackId,
      timestamp: now,
      event,
      properties,
      bytes:
        jsonBytes(
          'track',
          userIdJson,
          trackId,
          `"event":${JSON.stringify(event)},"properties":${JSON.stringify(properties)}`,
        ) + SDK_OVERHEAD_BYTES,
    });
  }
  for (const message of messages) {
    if (message.bytes > EVENT_LIMIT_BYTES) {
      return {
        reason: `the ${message.kind} for user ${userId} is about ${message.bytes} bytes; Segment refuses messages over 32 KB (${EVENT_LIMIT_BYTES} bytes) — map fewer or shorter traits`,
        code: 'EVENT_TOO_LARGE',
      };
    }
  }
  return messages;
}

/** What an accepted group call records, so that the exit is sent for the same group as the same member. */
function deliveredGroup(groupId: string, userId: string): string {
  return JSON.stringify([groupId, userId]);
}

function groupOfDelivery(id: string | undefined): { groupId: string; userId: string } | undefined {
  if (id === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(id);
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string')
      return { groupId: parsed[0], userId: parsed[1] };
  } catch {
    // not one of ours: no recorded member
  }
  return undefined;
}

/** Plans an account change's group call, or says why it cannot be sent. */
function planGroup(
  segment: SegmentRef,
  change: AccountMembershipChange,
  row: number,
  now: string,
): PlannedMessage | { reason: string; code: string } {
  const recorded = change.op === 'remove' ? groupOfDelivery(change.destinationRecordId) : undefined;
  const member = change.member;
  const userId = recorded?.userId ?? (member ? (member.externalIds[0] ?? member.contactId) : undefined);
  if (userId === undefined) {
    return {
      reason: `account ${change.account.accountId} has no member to send the group call as (Segment needs a userId)`,
      code: 'NO_MEMBER',
    };
  }
  const groupId = recorded?.groupId ?? groupIdOf(change);
  const historyId =
    change.messageId ?? `${segment.key}:account:${change.account.accountId}:${change.op}:${randomUUID()}`;
  const traits: Record<string, unknown> = {
    ...(change.account.name ? { name: change.account.name } : {}),
    ...(change.account.domain ? { website: change.account.domain } : {}),
    [segment.key]: change.op === 'add',
  };
  const message: PlannedMessage = {
    row,
    kind: 'group',
    userId,
    groupId,
    messageId: messageIdFor(historyId, 'group'),
    timestamp: now,
    traits,
    bytes: 0,
  };
  const { row: _row, kind, bytes: _bytes, ...body } = message;
  message.bytes = Buffer.byteLength(JSON.stringify({ type: kind, ...body })) + SDK_OVERHEAD_BYTES;
  if (message.bytes > EVENT_LIMIT_BYTES) {
    return {
      reason: `the group call for group ${groupId} is about ${message.bytes} bytes; Segment refuses messages over 32 KB`,
      code: 'EVENT_TOO_LARGE',
    };
  }
  return message;
}

/** Splits messages into request-sized chunks (by real JSON bytes, since the SDK's own estimate undercounts). */
function chunk(messages: PlannedMessage[]): PlannedMessage[][] {
  const chunks: PlannedMessage[][] = [];
  let current: PlannedMessage[] = [];
  let size = ENVELOPE_BYTES;
  for (const message of messages) {
    if (current.length > 0 && size + message.bytes + 1 > REQUEST_LIMIT_BYTES) {
      chunks.push(current);
      current = [];
      size = ENVELOPE_BYTES;
    }
    current.push(message);
    size += message.bytes + 1;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends one chunk through its own SDK instance (one request) and resolves each message's delivery error. Outcomes
 * come from the SDK's per-message events rather than callbacks, which the SDK holds back at least 300 ms each; every
 * message's event is emitted before `closeAndFlush` resolves, so they are read from an array afterwards.
 */
async function send(
  config: DestinationConfig,
  ctx: ConnectorContext,
  messages: PlannedMessage[],
): Promise<(unknown | undefined)[]> {
  const analytics = segmentClient(
    { writeKey: config.writeKey, host: config.host, timeoutMs: config.timeoutMs, flushAt: messages.length },
    ctx,
  );
  // Each message's outcome, by its position; the SDK emits every one before closeAndFlush resolves.
  const unsettled = Symbol('unsettled');
  const outcomes: unknown[] = new Array<unknown>(messages.length).fill(unsettled);
  const position = new Map<string, number>();
  messages.forEach((message, i) => position.set(message.messageId, i));
  const settle = (delivery: { event?: { messageId?: string | undefined } } | undefined, error: unknown) => {
    const at = position.get(delivery?.event?.messageId ?? '');
    if (at !== undefined && outcomes[at] === unsettled) outcomes[at] = error;
  };
  const delivered = (delivery: { event?: { messageId?: string | undefined } } | undefined) =>
    settle(delivery, undefined);
  analytics.on('identify', delivered);
  analytics.on('track', delivered);
  analytics.on('group', delivered);
  analytics.on('error', (failure) => {
    const { ctx: delivery, reason } = failure as {
      ctx?: { event?: { messageId?: string | undefined } };
      reason?: unknown;
    };
    settle(delivery, reason ?? new Error('delivery failed'));
  });
  for (const message of messages) {
    const common = { userId: message.userId, messageId: message.messageId, timestamp: message.timestamp };
    if (message.kind === 'identify') analytics.identify({ ...common, traits: message.traits ?? {} });
    else if (message.kind === 'group')
      analytics.group({ ...common, groupId: message.groupId ?? '', traits: message.traits ?? {} });
    else analytics.track({ ...common, event: message.event ?? ENTERED, properties: message.properties ?? {} });
  }
  await analytics.closeAndFlush({ timeout: 0 });
  return outcomes.map((outcome) =>
    outcome === unsettled ? new Error('the SDK reported no delivery outcome') : outcome,
  );
}

function rowOutcome(errors: unknown[]): RowResult | ConfigError {
  const failed = errors.filter((e) => e !== undefined);
  if (failed.length === 0) return { status: 'accepted' };
  const error = classifySegmentError(failed[0]) ?? classifyByDefault(failed[0]);
  if (error instanceof ConfigError) return error;
  if (error instanceof RejectedRowError) return { status: 'rejected', reason: error.message, code: 'SEGMENT_REJECTED' };
  if (error instanceof RateLimitedError) return { status: 'retryable', reason: error.message };
  return { status: 'retryable', reason: error.message };
}

async function write(batch: MembershipBatch, config: DestinationConfig, ctx: ConnectorContext): Promise<RowResult[]> {
  const now = new Date(ctx.clock.now()).toISOString();
  const results: (RowResult | undefined)[] = new Array<RowResult | undefined>(batch.changes.length);
  const messages: PlannedMessage[] = [];
  batch.changes.forEach((change, row) => {
    const planned = plan(batch.segment, change, row, now, config.sendTrack);
    if (Array.isArray(planned)) messages.push(...planned);
    else results[row] = { status: 'rejected', ...planned };
  });
  return deliver(messages, results, config, ctx);
}

/**
 * An account segment's changes as `group` calls: the account is the group (`groupIdOf`), the segment a boolean group
 * trait beside the account's name and website, sent as one of its members; an exit goes to the group and member its
 * entry was sent as. An account without members cannot be sent (rejected, offered again once it has one).
 */
async function writeAccounts(
  batch: AccountMembershipBatch,
  config: DestinationConfig,
  ctx: ConnectorContext,
): Promise<RowResult[]> {
  const now = new Date(ctx.clock.now()).toISOString();
  const results: (RowResult | undefined)[] = new Array<RowResult | undefined>(batch.changes.length);
  const messages: PlannedMessage[] = [];
  batch.changes.forEach((change, row) => {
    const planned = planGroup(batch.segment, change, row, now);
    if ('kind' in planned) messages.push(planned);
    else results[row] = { status: 'rejected', ...planned };
  });
  const delivered = await deliver(messages, results, config, ctx);
  return delivered.map((result, row) => {
    const message = messages.find((m) => m.row === row);
    return result.status === 'accepted' && message
      ? { status: 'accepted', destinationRecordId: deliveredGroup(message.groupId ?? '', message.userId) }
      : result;
  });
}

/** Sends planned messages in request-sized chunks and fills in each row's outcome. */
async function deliver(
  messages: PlannedMessage[],
  results: (RowResult | undefined)[],
  config: DestinationConfig,
  ctx: ConnectorContext,
): Promise<RowResult[]> {
  const errorsByRow = new Map<number, unknown[]>();
  const chunks = chunk(messages);
  const delivered = await Promise.all(chunks.map((messagesOfChunk) => send(config, ctx, messagesOfChunk)));
  chunks.forEach((messagesOfChunk, c) => {
    messagesOfChunk.forEach((message, m) => {
      const list = errorsByRow.get(message.row) ?? [];
      list.push(delivered[c]?.[m]);
      errorsByRow.set(message.row, list);
    });
  });
  let configError: ConfigError | undefined;
  for (const [row, errors] of errorsByRow) {
    const outcome = rowOutcome(errors);
    if (outcome instanceof ConfigError) configError ??= outcome;
    else results[row] = outcome;
  }
  if (configError) throw configError;
  return results.map((result) => result ?? { status: 'retryable', reason: 'no delivery outcome from the SDK' });
}

interface ProfileTraits {
  traits?: Record<string, unknown>;
}

async function profilesGet<T>(
  config: DestinationConfig,
  ctx: ConnectorContext,
  operation: string,
  path: string,
): Promise<T> {
  if (!config.spaceId || !config.profilesToken) {
    throw new ConfigError(
      "reading Segment back needs spaceId and profilesToken (Segment's tracking API is write-only)",
      {
        fix: 'set spaceId and profilesToken to a Profiles API space and access token',
      },
    );
  }
  const url = `${config.profilesUrl.replace(/\/+$/, '')}/v1/spaces/${encodeURIComponent(config.spaceId)}${path}`;
  const authorization = `Basic ${Buffer.from(`${config.profilesToken}:`).toString('base64')}`;
  return ctx.call(operation, async (signal) => {
    const response = await fetch(url, {
      headers: { authorization },
      signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
    });
    const text = await response.text();
    if (!response.ok) throw new SegmentHttpError(response.status, text, response.headers);
    return JSON.parse(text) as T;
  });
}

/** Why `readMembership` cannot answer for Segment, and what reads Segment back instead. */
export const MEMBERSHIP_READ_BACK =
  "Segment cannot list a segment's members: its Profile API reads one profile at a time " +
  '(GET /v1/spaces/{space}/collections/users/profiles/user_id:{id}/traits). Read given people back with ' +
  'readProfilesMembership; segflow reconciles Segment from its delivered state.';

async function readMembership(): Promise<MemberRef[]> {
  throw new Error(MEMBERSHIP_READ_BACK);
}

/**
 * Reads back which of `people` Segment holds in `segment`, one Profile API request per person (the segment's boolean
 * trait, asked for by name with `include`); a person Segment has no profile for is not a member.
 *
 * @example
 * const held = await readProfilesMembership({ key: 'vip', name: 'VIP' }, people, config, ctx);
 */
export async function readProfilesMembership(
  segment: SegmentRef,
  people: readonly ContactIdentity[],
  config: DestinationConfig,
  ctx: ConnectorContext,
): Promise<MemberRef[]> {
  const members: MemberRef[] = [];
  const include = new URLSearchParams({ include: `${segment.key},email` });
  for (const person of people) {
    const userId = person.externalIds[0] ?? person.contactId;
    let traits: Record<string, unknown> | undefined;
    try {
      ({ traits } = await profilesGet<ProfileTraits>(
        config,
        ctx,
        'profiles.traits',
        `/collections/users/profiles/user_id:${encodeURIComponent(userId)}/traits?${include}`,
      ));
    } catch (error) {
      if (httpStatusOf(error) === 404) continue;
      throw error;
    }
    if (traits?.[segment.key] !== true) continue;
    const email = traits.email;
    members.push({ externalId: userId, email: typeof email === 'string' ? email : null });
  }
  return members;
}

function httpStatusOf(error: unknown): number | undefined {
  const answer = error instanceof SegmentHttpError ? error : (error as { cause?: unknown } | null)?.cause;
  return answer instanceof SegmentHttpError ? answer.status : undefined;
}

/** The write keys of the configured source, from Segment's Public API. */
async function sourceWriteKeys(config: DestinationConfig, ctx: ConnectorContext): Promise<string[]> {
  const url = `${config.publicApiUrl.replace(/\/+$/, '')}/sources/${encodeURIComponent(config.sourceId ?? '')}`;
  return ctx.call('check.source', async (signal) => {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${config.publicApiToken ?? ''}` },
      signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
    });
    const text = await response.text();
    if (!response.ok) throw new SegmentHttpError(response.status, text, response.headers);
    const body = JSON.parse(text) as { data?: { source?: { writeKeys?: unknown } } };
    const keys = body.data?.source?.writeKeys;
    return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
  });
}

const UNVERIFIED =
  'write key unverified: Segment answers 200 to any write key and drops what a wrong one sends; set publicApiToken ' +
  'and sourceId to check it against the source';

async function check(config: DestinationConfig, ctx: ConnectorContext): Promise<CheckResult> {
  try {
    await ctx.call('check', async (signal) => {
      const response = await fetch(`${config.host.replace(/\/+$/, '')}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${config.writeKey}:`).toString('base64')}`,
        },
        body: JSON.stringify({ batch: [], sentAt: new Date(ctx.clock.now()).toISOString() }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
      });
      const text = await response.text();
      if (!response.ok) throw new SegmentHttpError(response.status, text, response.headers);
    });
    if (config.spaceId && config.profilesToken) {
      // A real per-profile route: a wrong token answers 401/403; a profile nobody has answers 404, which is fine.
      await profilesGet(config, ctx, 'check', '/collections/users/profiles/user_id:segflow-check/traits').catch(
        (error: unknown) => {
          if (httpStatusOf(error) === 404) return;
          throw error;
        },
      );
    }
    if (!config.publicApiToken || !config.sourceId) {
      ctx.logger.warn(UNVERIFIED, { connection: ctx.connection });
      return { ok: true, warning: UNVERIFIED };
    }
    const keys = await sourceWriteKeys(config, ctx).catch((error: unknown) => {
      const status = httpStatusOf(error);
      if (status === 401 || status === 403) throw new Error(`Segment's Public API refused the token (${status})`);
      throw error;
    });
    if (!keys.includes(config.writeKey)) {
      return {
        ok: false,
        reason: `the write key is not one of source ${config.sourceId}'s write keys (Segment would answer 200 and drop every message)`,
      };
    }
    return { ok: true };
  } catch (error) {
    const classified = classifySegmentError(error) ?? error;
    return { ok: false, reason: reasonOf(classified) };
  }
}

/**
 * The Segment destination.
 *
 * @example
 * const rows = await destination.write({ segment: { key: 'vip', name: 'VIP' }, changes }, config, ctx);
 */
export const destination = defineDestination({
  name: 'segment',
  spec: destinationSpec,
  // 2,000 changes are up to 4,000 messages: a handful of full 480 KB requests per write.
  batchSize: 2000,
  rateBudget: { requests: 500, intervalMs: 1000, concurrency: 4 },
  classifyError: classifySegmentError,
  check,
  write,
  readMembership,
  writeAccounts,
  createsAccounts: true,
});
